"""Fixtures for end-to-end tests: service subprocesses on free loopback ports (see :mod:`tests.e2e.procs`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.procs import Launcher, launched


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    """Starts services as subprocesses; every one still running is stopped after the test."""
    with launched(tmp_path / "logs") as started:
        yield started
