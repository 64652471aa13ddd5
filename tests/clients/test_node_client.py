"""The Node.js client (clients/node) against the three real services: npm ci, then node --test.

Starts emotion_service (tiny bundle), image_service (tiny-flux) and the ranker in-process on port 0, and
gives their addresses to the node tests through EMOFLUX_*_ADDRESS.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.gateway.services import emotion_server, image_server, ranker_server, require_services

NODE_CLIENT = Path(__file__).resolve().parents[2] / "clients" / "node"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None, reason="Node.js/npm not installed"),
]


async def _run(*command: str, env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run a command without blocking the event loop that serves the services."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=NODE_CLIENT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return int(process.returncode or 0), output.decode(errors="replace")


def _count(output: str, name: str) -> int:
    match = re.search(rf"^# {name} (\d+)$", output, re.MULTILINE)
    assert match, f"no '# {name}' line in node's output:\n{output[-3000:]}"
    return int(match.group(1))


async def test_node_client_against_the_three_services(tmp_path: Path) -> None:
    require_services("emotion_service", "image_service", "ranker")
    env = dict(os.environ)
    code, output = await _run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", env=env, timeout=300)
    assert code == 0, output
    async with emotion_server() as emotion, image_server() as image:
        emotion_address, image_address = f"127.0.0.1:{emotion.port}", f"127.0.0.1:{image.port}"
        async with ranker_server(emotion_address, image_address, tmp_path / "evidence.sqlite3") as ranker:
            env.update(
                EMOFLUX_EMOTION_ADDRESS=emotion_address,
                EMOFLUX_IMAGE_ADDRESS=image_address,
                EMOFLUX_RANKER_ADDRESS=f"127.0.0.1:{ranker.port}",
            )
            code, output = await _run("node", "--test", "test/", env=env, timeout=300)
            demo_code, demo = await _run(
                "node", "client.js", "all", "--steps", "2", "--seed", "3", env=env, timeout=300
            )
    assert code == 0, output
    assert (_count(output, "fail"), _count(output, "skipped")) == (0, 0), output
    assert _count(output, "pass") == 8
    # The command-line client prints each call's outcome, the stream's step events included.
    assert demo_code == 0, demo
    assert "classify: model" in demo and "step 2/2" in demo and "completed: 64x64" in demo and "verdict:" in demo
