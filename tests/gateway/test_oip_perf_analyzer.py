"""NVIDIA perf_analyzer drives the Open Inference Protocol over HTTP (``-i http``) through the gateway."""

from __future__ import annotations

import asyncio
import re
import subprocess

import pytest

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from gateway.state import REGISTRY_KEY
from tests.gateway.services import OPEN_ACCESS, REPO, emotion_server, require_services

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def perf_analyzer() -> str:
    """The wrapper script, installed if needed; the test is skipped only when installing is impossible."""
    done = subprocess.run(
        ["bash", str(REPO / "tools" / "perf_analyzer.sh")], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"perf_analyzer cannot be installed here: {done.stderr.strip()[-500:]}")
    return done.stdout.strip().splitlines()[-1]


async def test_perf_analyzer_drives_the_http_endpoint(perf_analyzer: str) -> None:
    require_services("emotion_service")
    async with emotion_server() as emotion:
        gateway = GatewayComponent(
            GatewaySettings(**OPEN_ACCESS, port=0, emotion_addresses=f"127.0.0.1:{emotion.port}", access_log=False)
        )
        await gateway.start()
        try:
            argv = [
                perf_analyzer, "-m", "emotion", "-u", f"127.0.0.1:{gateway.port}", "-i", "http", "-b", "2",
                "--concurrency-range", "2", "-s", "50", "--measurement-interval", "1500", "--max-trials", "6",
            ]  # fmt: skip
            process = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
            try:
                out, _ = await asyncio.wait_for(process.communicate(), 240)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise
            output = out.decode(errors="replace")
            infer_requests = gateway.app[REGISTRY_KEY].get_sample_value(
                "emoflux_gateway_http_requests_total",
                {"route": "/v2/models/{model}/infer", "method": "POST", "code": "200"},
            )
        finally:
            await gateway.stop()
    assert process.returncode == 0, output[-3000:]
    match = re.search(r"Concurrency: 2, throughput: ([0-9.]+) infer/sec", output)
    assert match and float(match.group(1)) > 0, output[-3000:]
    # It read the statistics over HTTP and every request it timed went through the REST face.
    assert "Server:" in output and "Inference count" in output, output[-3000:]
    assert infer_requests is not None and infer_requests > 10
