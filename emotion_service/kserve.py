"""KServe v2 / Open Inference Protocol (``inference.GRPCInferenceService``) for the emotion model.

The model is served under one name (``emotion`` by default), version ``1``:

* input ``pixel_values``: FP32 ``[-1, 3, H, W]``, already preprocessed exactly as
  ``GetModelInfo.preprocessing`` says (the same tensor the ONNX model takes);
* output ``probabilities``: FP32 ``[-1, num_labels]``, the softmax over the bundle's labels in
  id order (logits are not exposed: every consumer here wants probabilities, and they are what the
  native API returns).

Rows of every request go through the same dynamic batcher as the native API's faces. A request may
choose a loaded precision with the string parameter ``precision`` (an emoflux extension; default:
the server's default precision). Outputs are always returned as ``raw_output_contents``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from importlib import metadata
from typing import ClassVar

import grpc

from emotion_service.kserve_wire import (
    MODEL_VERSION,
    check_outputs,
    infer_response_to_pb,
    model_config_to_pb,
    model_metadata_to_pb,
    pixels_from_pb,
    precision_from_pb,
    statistics_to_pb,
)
from emotion_service.runtime import EmotionRuntime
from emotion_service.streaming import answer_concurrently
from servicekit.auth import AccessPolicy, Role
from servicekit.errors import NotFound
from servicekit.pb.inference import grpc_service_pb2 as kpb
from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc
from servicekit.rpc import call_deadline, in_band_error

log = logging.getLogger("emoflux.emotion.kserve")

SERVER_NAME = "emoflux-emotion"
EXTENSIONS = ("model_configuration", "statistics")


def _server_version() -> str:
    try:
        return metadata.version("emoflux")
    except metadata.PackageNotFoundError:
        return "0"


def check_model(runtime: EmotionRuntime, name: str, version: str) -> None:
    """NOT_FOUND unless ``name``/``version`` is the served model (an empty version means the latest)."""
    served = runtime.settings.kserve_model_name
    if name != served:
        raise NotFound(f"model {name!r} is not served here; the only model is {served!r}")
    if version not in ("", MODEL_VERSION):
        raise NotFound(f"model {name!r} has no version {version!r}; available versions: [{MODEL_VERSION!r}]")


class KServeServicer(kpb_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    """The KServe v2 servicer: converters in :mod:`emotion_service.kserve_wire`, inference in the runtime."""

    # Inference and model introspection only: nothing here changes server state.
    ACCESS: ClassVar[AccessPolicy] = {
        method: Role.READ
        for method in (
            "ServerLive",
            "ServerReady",
            "ModelReady",
            "ServerMetadata",
            "ModelMetadata",
            "ModelInfer",
            "ModelStreamInfer",
            "ModelConfig",
            "ModelStatistics",
        )
    }

    def __init__(self, runtime: EmotionRuntime) -> None:
        self.runtime = runtime

    @property
    def model_name(self) -> str:
        """The served model name."""
        return self.runtime.settings.kserve_model_name

    def _input_shape(self) -> tuple[int, int, int]:
        prep = self.runtime.bundle.preprocessing
        return (3, prep.height, prep.width)

    # -- health and metadata ---------------------------------------------------------------------------
    async def ServerLive(
        self, request: kpb.ServerLiveRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ServerLiveResponse:
        """The process is up."""
        return kpb.ServerLiveResponse(live=True)

    async def ServerReady(
        self, request: kpb.ServerReadyRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ServerReadyResponse:
        """Ready once the model is loaded and warmed, until shutdown starts."""
        return kpb.ServerReadyResponse(ready=self.runtime.ready)

    async def ModelReady(
        self, request: kpb.ModelReadyRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelReadyResponse:
        """Ready state of the served model; NOT_FOUND for any other name or version."""
        check_model(self.runtime, request.name, request.version)
        return kpb.ModelReadyResponse(ready=self.runtime.ready)

    async def ServerMetadata(
        self, request: kpb.ServerMetadataRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ServerMetadataResponse:
        """Server name, version and the supported extensions (statistics included)."""
        return kpb.ServerMetadataResponse(name=SERVER_NAME, version=_server_version(), extensions=list(EXTENSIONS))

    async def ModelMetadata(
        self, request: kpb.ModelMetadataRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelMetadataResponse:
        """Input ``pixel_values`` FP32 [-1, 3, H, W] and output ``probabilities`` FP32 [-1, num_labels]."""
        check_model(self.runtime, request.name, request.version)
        runtime = self.runtime
        return model_metadata_to_pb(
            self.model_name, runtime.settings.backend, self._input_shape(), runtime.bundle.num_labels
        )

    async def ModelConfig(
        self, request: kpb.ModelConfigRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelConfigResponse:
        """The model configuration in Triton's format: batching limits, inputs and outputs without the batch dim."""
        check_model(self.runtime, request.name, request.version)
        runtime = self.runtime
        providers = runtime.backends[runtime.default_precision].providers
        config = model_config_to_pb(runtime.settings, providers, self._input_shape(), runtime.bundle.num_labels)
        return kpb.ModelConfigResponse(config=config)

    async def ModelStatistics(
        self, request: kpb.ModelStatisticsRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelStatisticsResponse:
        """Cumulative counts and durations of the model (both APIs), per batch size too."""
        if request.name or request.version:
            check_model(self.runtime, request.name or self.model_name, request.version)
        stats = statistics_to_pb(self.model_name, self.runtime.stats.snapshot())
        return kpb.ModelStatisticsResponse(model_stats=[stats])

    # -- inference -------------------------------------------------------------------------------------
    async def _infer(self, request: kpb.ModelInferRequest, context: grpc.aio.ServicerContext) -> kpb.ModelInferResponse:
        runtime = self.runtime
        with runtime.observe("kserve"):
            check_model(runtime, request.model_name, request.model_version)
            pixels = pixels_from_pb(request)
            check_outputs(request)
            result = await runtime.infer_tensor(
                pixels, precision=precision_from_pb(request), deadline=call_deadline(context)
            )
        return infer_response_to_pb(request, result, self.model_name)

    async def ModelInfer(
        self, request: kpb.ModelInferRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelInferResponse:
        """Run ``pixel_values`` through the shared batcher; return ``probabilities`` as raw FP32."""
        return await self._infer(request, context)

    async def _stream_item(
        self, request: kpb.ModelInferRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelStreamInferResponse:
        try:
            return kpb.ModelStreamInferResponse(infer_response=await self._infer(request, context))
        except Exception as exc:  # reported in-band; the stream goes on
            code, message = in_band_error(exc, log, f"stream request {request.id!r}")
            return kpb.ModelStreamInferResponse(
                error_message=f"{code.name}: {message}",
                infer_response=kpb.ModelInferResponse(model_name=request.model_name, id=request.id),
            )

    async def ModelStreamInfer(
        self, request_iterator: AsyncIterator[kpb.ModelInferRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[kpb.ModelStreamInferResponse]:
        """Infer each streamed request concurrently; responses carry the request ``id``; errors are in-band."""
        stream = answer_concurrently(
            request_iterator,
            lambda request: self._stream_item(request, context),
            max_outstanding=self.runtime.settings.max_queue_size,
        )
        async for response in stream:
            yield response
