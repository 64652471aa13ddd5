"""Clients of the emotion and image services, with deadlines on every call.

Both use :func:`servicekit.channels.open_channel` (round-robin over a comma-separated address list,
retries of UNAVAILABLE). A service that cannot be reached raises :class:`ServiceUnavailable`, which
probes turn into "unavailable" evidence; any other status propagates as ``grpc.aio.AioRpcError``
because it is an answer the probe may judge.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import grpc

from servicekit.channels import address_is_serving, is_serving, open_channel, split_addresses
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc

# Statuses that mean "nobody answered", not "the service answered no".
_UNREACHABLE = frozenset({grpc.StatusCode.UNAVAILABLE})


class ServiceUnavailable(Exception):
    """The service could not be reached (not listening, draining, or still loading)."""

    def __init__(self, service: str, address: str, detail: str) -> None:
        super().__init__(f"{service} service at {address} is unavailable: {detail}")
        self.service = service
        self.address = address
        self.detail = detail


class _Client:
    service = "service"
    health_name = ""

    def __init__(self, addresses: str, rpc_timeout: float) -> None:
        self.addresses = addresses
        self.rpc_timeout = rpc_timeout
        self._channel = open_channel(addresses)

    def _unavailable(self, error: grpc.aio.AioRpcError) -> ServiceUnavailable:
        # gRPC's text goes on to name every backend it tried; its first clause says what matters.
        reason = (error.details() or "").split(";")[0]
        return ServiceUnavailable(self.service, self.addresses, f"{error.code().name}: {reason}")

    async def _call(self, method: Any, request: Any, timeout: float | None) -> Any:
        try:
            return await method(request, timeout=self.rpc_timeout if timeout is None else timeout)
        except grpc.aio.AioRpcError as error:
            if error.code() in _UNREACHABLE:
                raise self._unavailable(error) from None
            raise

    async def serving(self, timeout: float = 2.0) -> bool:
        """True when the service's health check answers SERVING."""
        return await is_serving(self._channel, self.health_name, timeout)

    async def replica_health(self, timeout: float = 2.0) -> dict[str, bool]:
        """SERVING or not for each address of a multi-address upstream, each checked on its own channel.

        The balanced channel's retries hide a dead replica; this is how its loss becomes visible.
        """
        addresses = split_addresses(self.addresses)
        results = await asyncio.gather(*(address_is_serving(a, self.health_name, timeout) for a in addresses))
        return dict(zip(addresses, results, strict=True))

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close()


class EmotionClient(_Client):
    """Calls to ``emoflux.emotion.v1.EmotionService``."""

    service = "emotion"
    health_name = "emoflux.emotion.v1.EmotionService"

    def __init__(self, addresses: str, rpc_timeout: float) -> None:
        super().__init__(addresses, rpc_timeout)
        self._stub = emotion_pb2_grpc.EmotionServiceStub(self._channel)

    async def model_info(self, timeout: float | None = None) -> emotion_pb2.GetModelInfoResponse:
        """Describe the served model."""
        reply: emotion_pb2.GetModelInfoResponse = await self._call(
            self._stub.GetModelInfo, emotion_pb2.GetModelInfoRequest(), timeout
        )
        return reply

    async def classify(
        self,
        images: Sequence[bytes],
        *,
        face_mode: int = emotion_pb2.FACE_MODE_WHOLE,
        precision: str = "",
        threshold: float = 0.0,
        top_k: int = 0,
        timeout: float | None = None,
    ) -> emotion_pb2.ClassifyResponse:
        """Classify encoded images (results in input order)."""
        request = emotion_pb2.ClassifyRequest(
            images=[emotion_pb2.Image(data=data) for data in images],
            face_mode=face_mode,  # type: ignore[arg-type]
            precision=precision,
            threshold=threshold,
            top_k=top_k,
        )
        reply: emotion_pb2.ClassifyResponse = await self._call(self._stub.Classify, request, timeout)
        return reply


class ImageClient(_Client):
    """Calls to ``emoflux.image.v1.ImageService``."""

    service = "image"
    health_name = "emoflux.image.v1.ImageService"

    def __init__(self, addresses: str, rpc_timeout: float) -> None:
        super().__init__(addresses, rpc_timeout)
        self._stub = image_pb2_grpc.ImageServiceStub(self._channel)

    async def list_variants(self, timeout: float | None = None) -> image_pb2.ListVariantsResponse:
        """The variants the server knows."""
        reply: image_pb2.ListVariantsResponse = await self._call(
            self._stub.ListVariants, image_pb2.ListVariantsRequest(), timeout
        )
        return reply

    async def generate(
        self, request: image_pb2.GenerateRequest, timeout: float | None = None
    ) -> image_pb2.GenerateResponse:
        """Generate images and wait for all of them."""
        reply: image_pb2.GenerateResponse = await self._call(self._stub.Generate, request, timeout)
        return reply

    async def generate_stream(
        self, request: image_pb2.GenerateStreamRequest, timeout: float | None = None
    ) -> AsyncIterator[image_pb2.GenerateStreamResponse]:
        """Generate with progress events, yielded as they arrive."""
        call = self._stub.GenerateStream(request, timeout=self.rpc_timeout if timeout is None else timeout)
        try:
            async for event in call:
                yield event
        except grpc.aio.AioRpcError as error:
            if error.code() in _UNREACHABLE:
                raise self._unavailable(error) from None
            raise
        finally:
            call.cancel()


class ServiceClients:
    """The two upstream clients a ranker uses."""

    def __init__(self, emotion_addresses: str, image_addresses: str, rpc_timeout: float) -> None:
        self.emotion = EmotionClient(emotion_addresses, rpc_timeout)
        self.image = ImageClient(image_addresses, rpc_timeout)

    def all(self) -> Iterable[_Client]:
        """Both clients."""
        return (self.emotion, self.image)

    async def close(self) -> None:
        """Close both channels."""
        for client in self.all():
            with contextlib.suppress(Exception):
                await client.close()
