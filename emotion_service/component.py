"""The emotion service as a servicekit Component: runtime, servicers, start-up and shut-down.

servicekit's :class:`~servicekit.server.ServiceHost` binds the port, keeps health NOT_SERVING while
:meth:`EmotionComponent.start` loads and warms the model, then flips it to SERVING.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from emotion_service.kserve import KServeServicer
from emotion_service.loading import BackendFactory
from emotion_service.metrics import EmotionMetrics
from emotion_service.runtime import DevicePreprocessorFactory, EmotionRuntime
from emotion_service.service import SERVICE_NAME, EmotionServicer
from emotion_service.settings import EmotionSettings
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2_grpc
from servicekit.pb.inference import grpc_service_pb2_grpc
from servicekit.server import ServicerRegistration
from servicekit.settings import ServerSettings, settings_as

KSERVE_SERVICE_NAME = "inference.GRPCInferenceService"


class EmotionComponent:
    """Serves EmotionService (and KServe v2 unless disabled) from one runtime and one set of batchers."""

    name = "emotion"

    def __init__(
        self,
        settings: EmotionSettings,
        registry: CollectorRegistry | None = None,
        *,
        backend_factory: BackendFactory | None = None,
        device_preprocessor: tuple[str, DevicePreprocessorFactory] | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = EmotionMetrics(self.registry)
        self.runtime = EmotionRuntime(
            settings, self.metrics, backend_factory=backend_factory, device_preprocessor=device_preprocessor
        )
        registrations = [
            ServicerRegistration(
                SERVICE_NAME,
                emotion_pb2_grpc.add_EmotionServiceServicer_to_server,
                EmotionServicer(self.runtime),
                EmotionServicer.ACCESS,
            )
        ]
        if settings.kserve:
            registrations.append(
                ServicerRegistration(
                    KSERVE_SERVICE_NAME,
                    grpc_service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server,
                    KServeServicer(self.runtime),
                    KServeServicer.ACCESS,
                )
            )
        self._registrations = tuple(registrations)

    def registrations(self) -> Sequence[ServicerRegistration]:
        """The native service and, when enabled, KServe v2."""
        return self._registrations

    async def start(self) -> None:
        """Load the bundle, build and warm the backends, start the batchers."""
        await self.runtime.load()

    async def stop(self) -> None:
        """Finish queued work and release the thread pools."""
        await self.runtime.close()


def build_component(settings: ServerSettings, registry: CollectorRegistry) -> EmotionComponent:
    """The factory :func:`servicekit.server.run_service` calls."""
    return EmotionComponent(settings_as(settings, EmotionSettings), registry)
