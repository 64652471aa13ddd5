"""Fixtures for fault and hostile-input tests: service subprocesses (see :mod:`tests.e2e.procs`), the gateway too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.procs import Launcher, ServiceProcess, dead_address, launched
from tests.faults.stack import GatewayProcess, Tokens, start_gateway, write_tokens

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


@dataclass
class FuzzStack:
    """The processes the default fuzz run drives: the hardened emotion service, a ranker, a gateway."""

    emotion: ServiceProcess
    ranker: ServiceProcess
    gateway: GatewayProcess
    tokens: Tokens


@pytest.fixture(scope="session")
def fuzz_stack(hardened_emotion: ServiceProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzStack]:
    """A ranker (bearer tokens, dead upstreams) and a gateway (no image_service) beside ``hardened_emotion``."""
    folder = tmp_path_factory.mktemp("fuzz-stack")
    tokens = write_tokens(folder)
    with launched(folder / "logs") as session_launcher:
        auth = ["--auth-tokens-file", str(tokens.path)]
        ranker = session_launcher.ranker(folder / "evidence.sqlite3", dead_address(), dead_address(), extra=auth)
        asyncio.run(session_launcher.serving(ranker, timeout=120))
        gateway = start_gateway(session_launcher, hardened_emotion.address, dead_address(), tokens)
        yield FuzzStack(hardened_emotion, ranker, gateway, tokens)
