"""The gateway's gRPC channels to emotion_service and image_service, and their health."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.settings import GatewaySettings
from servicekit.channels import open_channel
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2_grpc
from servicekit.pb.emoflux.image.v1 import image_pb2_grpc
from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc

EMOTION_SERVICE = "emoflux.emotion.v1.EmotionService"
IMAGE_SERVICE = "emoflux.image.v1.ImageService"


class Upstreams:
    """One balanced channel per service (round-robin over its addresses, retries on UNAVAILABLE)."""

    def __init__(self, settings: GatewaySettings) -> None:
        tls = settings.client_tls()
        self._emotion_channel = open_channel(
            settings.emotion_addresses, tls=tls, max_message_bytes=settings.max_message_bytes
        )
        self._image_channel = open_channel(
            settings.image_addresses, tls=tls, max_message_bytes=settings.max_message_bytes
        )
        self.emotion = emotion_pb2_grpc.EmotionServiceStub(self._emotion_channel)
        self.image = image_pb2_grpc.ImageServiceStub(self._image_channel)
        # The emotion service's KServe v2 servicer, behind the Open Inference Protocol's REST face.
        self.inference = kpb_grpc.GRPCInferenceServiceStub(self._emotion_channel)
        self._health = {
            EMOTION_SERVICE: health_pb2_grpc.HealthStub(self._emotion_channel),
            IMAGE_SERVICE: health_pb2_grpc.HealthStub(self._image_channel),
        }

    async def health(self, timeout: float = 2.0) -> dict[str, str]:
        """Each upstream service's health status name (SERVING, NOT_SERVING, UNAVAILABLE, ...)."""
        statuses: dict[str, str] = {}
        for service, stub in self._health.items():
            try:
                response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
                statuses[service] = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
            except grpc.aio.AioRpcError as exc:
                statuses[service] = exc.code().name
        return statuses

    async def close(self) -> None:
        """Close both channels."""
        await self._emotion_channel.close()
        await self._image_channel.close()
