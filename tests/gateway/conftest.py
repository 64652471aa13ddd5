from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from PIL import Image

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from servicekit.server import ServiceHost
from servicekit.settings import ServerSettings
from tests.gateway.canned import CannedComponent, CannedServicers
from tests.gateway.services import OPEN_ACCESS


@dataclass
class CannedStack:
    gateway: GatewayComponent
    servicers: CannedServicers
    host: ServiceHost

    @property
    def url(self) -> str:
        return self.gateway.url


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _hub_client_online(monkeypatch: pytest.MonkeyPatch) -> None:
    """``make`` exports HF_HUB_OFFLINE=1, which makes huggingface_hub's InferenceClient refuse every URL,
    even the gateway on loopback: these tests talk only to 127.0.0.1, so lift it for them."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
async def canned() -> AsyncIterator[CannedStack]:
    """The gateway on port 0 in front of a real gRPC server serving canned emotion + image answers."""
    component = CannedComponent()
    host = ServiceHost(ServerSettings(access_log=False), component)
    await host.start()
    await host.wait_ready(10)
    address = f"127.0.0.1:{host.port}"
    settings = GatewaySettings(
        **OPEN_ACCESS,
        port=0,
        emotion_addresses=address,
        image_addresses=address,
        classify_timeout_seconds=1.0,
        max_body_bytes=256 * 1024,
        access_log=False,
    )
    gateway = GatewayComponent(settings)
    await gateway.start()
    yield CannedStack(gateway, component.servicers, host)
    await gateway.stop()
    await host.stop(grace=0)
