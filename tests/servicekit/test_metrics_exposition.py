"""/metrics of every service: prometheus_client's own server and exposition, the standard collectors included."""

from __future__ import annotations

import asyncio
import gzip
import urllib.request

import aiohttp

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from servicekit.server import ServiceHost

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return dict(response.headers), response.read()


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exposed")


async def test_grpc_service_metrics_carry_process_and_platform_series(echo_host: ServiceHost) -> None:
    url = f"http://127.0.0.1:{echo_host.metrics_port}/metrics"
    _, body = await asyncio.to_thread(_get, url)
    text = body.decode()
    assert _value(text, "process_resident_memory_bytes") > 1024 * 1024
    assert _value(text, "process_cpu_seconds_total") > 0
    assert _value(text, "process_open_fds") > 0
    assert 'python_info{implementation="CPython"' in text
    assert "python_gc_collections_total" in text


async def test_grpc_service_metrics_server_negotiates_like_prometheus_client(echo_host: ServiceHost) -> None:
    url = f"http://127.0.0.1:{echo_host.metrics_port}/metrics"
    headers, body = await asyncio.to_thread(_get, url, {"Accept": "application/openmetrics-text"})
    assert headers["Content-Type"] == OPENMETRICS
    assert body.decode().rstrip().endswith("# EOF")
    headers, body = await asyncio.to_thread(_get, url, {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
    assert b"process_cpu_seconds_total" in gzip.decompress(body)


async def test_gateway_metrics_carry_process_series_and_negotiate() -> None:
    gateway = GatewayComponent(GatewaySettings(port=0, access_log=False))
    await gateway.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{gateway.url}/metrics") as response:
                text = await response.text()
            async with session.get(f"{gateway.url}/metrics", headers={"Accept": "application/openmetrics-text"}) as r:
                assert r.headers["Content-Type"] == OPENMETRICS
                assert (await r.text()).rstrip().endswith("# EOF")
    finally:
        await gateway.stop()
    assert _value(text, "process_resident_memory_bytes") > 0
    assert "emoflux_gateway_http_requests_total" in text
