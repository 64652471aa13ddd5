"""Fixtures for fault and hostile-input tests: service subprocesses (see :mod:`tests.e2e.procs`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.procs import Launcher, ServiceProcess, launched

# Tight limits, so that oversized requests are cheap to build: 1 MiB per gRPC message, 256 KiB of image
# bytes and 4 images per ClassifyRequest, fp32 and int8 loaded (fp16 is then a valid but unloaded name).
HARDENED_EMOTION = [
    "--precisions", "fp32,int8", "--max-message-bytes", str(1024 * 1024),
    "--max-request-bytes", str(256 * 1024), "--max-images-per-request", "4", "--max-pixels-per-image", "4000000",
]  # fmt: skip


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    """Starts services as subprocesses; every one still running is stopped after the test."""
    with launched(tmp_path / "logs") as started:
        yield started


@pytest.fixture(scope="session")
def hardened_emotion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One emotion_service subprocess with tight limits, shared by the hostile-input tests."""
    with launched(tmp_path_factory.mktemp("hardened")) as session_launcher:
        process = session_launcher.emotion("emotion-hardened", HARDENED_EMOTION)
        asyncio.run(session_launcher.serving(process, timeout=120))
        yield process
