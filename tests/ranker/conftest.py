from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from ranker.catalog import Catalog, load_catalog
from ranker.clients import ServiceClients
from ranker.evaluation import Evaluator
from ranker.evidence import EvidenceStore
from ranker.probes import ProbeContext, ProbeSettings
from servicekit.server import ServiceHost
from servicekit.settings import ServerSettings
from tests.ranker.fakes import EmotionFaults, FakeComponent, FakeEmotion, FakeImage, ImageFaults

StartFakes = Callable[..., Awaitable[ServiceHost]]


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EvidenceStore]:
    opened = EvidenceStore(tmp_path / "evidence.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
async def start_fakes() -> AsyncIterator[StartFakes]:
    """Start a real gRPC server on port 0 serving the fake emotion and/or image services."""
    hosts: list[ServiceHost] = []

    async def start(
        emotion: EmotionFaults | None = None,
        image: ImageFaults | None = None,
        *,
        serve_emotion: bool = True,
        serve_image: bool = True,
    ) -> ServiceHost:
        component = FakeComponent(
            FakeEmotion(emotion or EmotionFaults()) if serve_emotion else None,
            FakeImage(image or ImageFaults()) if serve_image else None,
        )
        host = ServiceHost(ServerSettings(metrics_port=-1, access_log=False), component)  # type: ignore[arg-type]
        await host.start()
        await host.wait_ready(10)
        hosts.append(host)
        return host

    yield start
    for host in hosts:
        await host.stop(grace=0)


def dead_address() -> str:
    """A loopback address nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def make_evaluator(
    catalog: Catalog, store: EvidenceStore, emotion_address: str, image_address: str, **settings: object
) -> tuple[Evaluator, ServiceClients]:
    clients = ServiceClients(emotion_address, image_address, rpc_timeout=5.0)
    probe_settings = ProbeSettings(
        rpc_timeout=5.0,
        faces_per_label=2,
        match_seeds_per_label=2,
        load_requests=12,
        load_rate_per_second=40.0,
        **settings,  # type: ignore[arg-type]
    )
    evaluator = Evaluator(catalog, store, clients, ProbeContext(clients, probe_settings), probe_timeout=20.0)
    return evaluator, clients


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless Chromium binary; installed from Debian packages when missing (needs root and apt)."""
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and cannot be installed here (needs apt-get as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        subprocess.run(command, check=True, env=env, capture_output=True, timeout=900)
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium but it is not on PATH"
    return found
