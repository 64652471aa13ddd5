"""A test-only gRPC service (raw-bytes generic handlers) to exercise servicekit without any model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import grpc

from servicekit import errors
from servicekit.auth import Role
from servicekit.server import ServicerRegistration

SERVICE = "emoflux.test.v1.EchoService"
# Write echoes like Echo but needs the write role: authorisation tests call it.
ACCESS = {
    "Echo": Role.READ,
    "Fail": Role.READ,
    "Slow": Role.READ,
    "Stream": Role.READ,
    "Hold": Role.READ,
    "Write": Role.WRITE,
}

_ERRORS: dict[bytes, Exception] = {
    b"invalid": errors.InvalidInput("images[0]: 5000x5000 pixels exceeds max_pixels_per_image 4194304"),
    b"overloaded": errors.Overloaded("queue full"),
    b"missing": errors.NotFound("model 'nope' not found"),
    b"notready": errors.NotReady("loading"),
    b"crash": ValueError("secret internal detail"),
}


class EchoComponent:
    """Echo / Write / Fail / Slow / Stream / Hold methods; start() can be held to observe NOT_SERVING."""

    name = "echo"

    def __init__(self, hold_start: bool = False) -> None:
        self.release_start = asyncio.Event()
        if not hold_start:
            self.release_start.set()
        self.stopped = False
        self.holding = 0
        """Hold calls the server is running now (each waits for ``release_held``)."""
        self.release_held = asyncio.Event()

    async def _echo(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return request

    async def _fail(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise _ERRORS[request]

    async def _slow(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await asyncio.sleep(float(request.decode()))
        return b"done"

    async def _hold(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        self.holding += 1
        try:
            await self.release_held.wait()
        finally:
            self.holding -= 1
        return request

    async def _stream(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        for i in range(int(request.decode())):
            yield str(i).encode()
        raise errors.InvalidInput("stream ended with an error")

    def registrations(self) -> Sequence[ServicerRegistration]:
        handlers = {
            "Echo": grpc.unary_unary_rpc_method_handler(self._echo),
            "Write": grpc.unary_unary_rpc_method_handler(self._echo),
            "Fail": grpc.unary_unary_rpc_method_handler(self._fail),
            "Slow": grpc.unary_unary_rpc_method_handler(self._slow),
            "Stream": grpc.unary_stream_rpc_method_handler(self._stream),
            "Hold": grpc.unary_unary_rpc_method_handler(self._hold),
        }
        generic = grpc.method_handlers_generic_handler(SERVICE, handlers)
        return [
            ServicerRegistration(SERVICE, lambda _s, server: server.add_generic_rpc_handlers((generic,)), self, ACCESS)
        ]

    async def start(self) -> None:
        await self.release_start.wait()

    async def stop(self) -> None:
        self.stopped = True


def method(channel: grpc.aio.Channel, name: str) -> grpc.aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(f"/{SERVICE}/{name}")
