from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.emotion_service.serving import Served, ensure_tiny_bundle, serve, settings_for


@pytest.fixture(scope="session")
def tiny_bundle() -> Path:
    """The tiny bundle (fp32 + int8) in build/models/emotion/tiny, built once if missing."""
    return ensure_tiny_bundle()


@pytest.fixture
async def served(tiny_bundle: Path) -> AsyncIterator[Served]:
    """A real emotion server on port 0 (native + KServe), tiny bundle, fp32 + int8, batching on."""
    async with serve(settings_for(tiny_bundle)) as server:
        yield server
