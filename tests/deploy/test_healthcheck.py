"""deploy/healthcheck.py, run as the container runs it, against a real server: SERVING, NOT_SERVING, down;
and its --http form, as the gateway's compose healthcheck runs it, against a real gateway."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from deploy import validate
from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from servicekit.server import ServiceHost
from servicekit.settings import ServerSettings
from tests.gateway.canned import CannedComponent

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py"


class HeldComponent(CannedComponent):
    """Start-up waits until released, so health stays NOT_SERVING meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def start(self) -> None:
        await self.release.wait()


async def _probe(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    return int(process.returncode or 0), stderr.decode()


async def test_probe_follows_the_health_service() -> None:
    component = HeldComponent()
    host = ServiceHost(ServerSettings(access_log=False), component)
    await host.start()
    address = f"127.0.0.1:{host.port}"
    try:
        code, message = await _probe(address)
        assert code == 1 and "NOT_SERVING" in message
        component.release.set()
        await host.wait_ready(10)
        assert (await _probe(address))[0] == 0
        assert (await _probe(address, "--service", "emoflux.emotion.v1.EmotionService"))[0] == 0
        code, message = await _probe(address, "--service", "emoflux.nope.v1.Nope")
        assert code == 1 and "NOT_FOUND" in message
    finally:
        await host.stop(grace=0)
    code, message = await _probe(address, "--timeout", "1")
    assert code == 1 and "UNAVAILABLE" in message


async def test_http_probe_is_the_gateways_own_health_not_its_upstreams() -> None:
    """The compose healthcheck's URL, on a gateway whose upstreams are down: healthy, while /health is 503."""
    compose = validate.load_yaml(SCRIPT.parents[1] / "docker-compose.yml")
    _, path = validate.gateway_probe(compose["services"]["gateway"]) or (0, "")
    gateway = GatewayComponent(
        GatewaySettings(port=0, emotion_addresses="127.0.0.1:1", image_addresses="127.0.0.1:1", access_log=False)
    )
    await gateway.start()
    url = f"{gateway.url}{path}"
    try:
        assert await _probe("--http", url) == (0, "")
        async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/health") as response:
            assert response.status == 503
        code, message = await _probe("--http", f"{gateway.url}/health")
        assert code == 1 and "HTTP 503" in message
    finally:
        await gateway.stop()
    code, message = await _probe("--http", url, "--timeout", "1")
    assert code == 1 and "refused" in message.lower()
