"""TLS and mTLS round trips with certificates generated in the test; plaintext is refused."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from servicekit.channels import ClientTLS, open_channel
from servicekit.server import ServiceHost
from servicekit.settings import ServerSettings
from tests.servicekit.echo import EchoComponent, method
from tests.servicekit.pki import make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def _serve(settings: ServerSettings) -> ServiceHost:
    host = ServiceHost(settings, EchoComponent())
    await host.start()
    await host.wait_ready(5)
    return host


async def test_tls_round_trip_and_plaintext_refused(pki: dict[str, Path]) -> None:
    host = await _serve(ServerSettings(tls_cert=pki["server_cert"], tls_key=pki["server_key"]))
    try:
        address = f"127.0.0.1:{host.port}"
        async with open_channel(address, tls=ClientTLS(ca=pki["ca"], server_name="localhost")) as channel:
            assert await method(channel, "Echo")(b"secure", timeout=5) == b"secure"
        async with grpc.aio.insecure_channel(address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await method(channel, "Echo")(b"plain", timeout=3)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await host.stop(grace=0)


async def test_mtls_requires_client_certificate(pki: dict[str, Path]) -> None:
    host = await _serve(ServerSettings(tls_cert=pki["server_cert"], tls_key=pki["server_key"], tls_client_ca=pki["ca"]))
    try:
        address = f"127.0.0.1:{host.port}"
        with_cert = ClientTLS(ca=pki["ca"], cert=pki["client_cert"], key=pki["client_key"], server_name="localhost")
        async with open_channel(address, tls=with_cert) as channel:
            assert await method(channel, "Echo")(b"mutual", timeout=5) == b"mutual"
        async with open_channel(address, tls=ClientTLS(ca=pki["ca"], server_name="localhost")) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await method(channel, "Echo")(b"anonymous", timeout=3)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await host.stop(grace=0)
