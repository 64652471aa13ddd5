from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from servicekit.server import ServiceHost
from servicekit.settings import ServerSettings
from tests.servicekit.echo import EchoComponent


@pytest.fixture
async def echo_host() -> AsyncIterator[ServiceHost]:
    """A real server on port 0 serving the echo component, metrics on a free port."""
    host = ServiceHost(ServerSettings(max_message_bytes=64 * 1024, grace_seconds=5.0), EchoComponent())
    await host.start()
    await host.wait_ready(10)
    yield host
    await host.stop(grace=0)
