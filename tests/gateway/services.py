"""Real emoflux services in-process on port 0, for gateway and polyglot-client tests.

Each helper is an async context manager yielding a started :class:`ServiceHost` (SERVING), built the way
the services' own tests build them: the tiny emotion bundle, the embedded tiny-flux pipeline, a ranker
with its store in a temporary folder.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from servicekit.server import ServiceHost

REPO = Path(__file__).resolve().parents[2]
IMAGE_MODELS = REPO / "build" / "models" / "image"
# Gateway settings for tests about something other than access (tokens and limits: test_gateway_access.py).
OPEN_ACCESS: dict[str, object] = {"auth_mode": "off", "rate_limit_per_second": 0.0, "max_in_flight_per_client": 0}


def require_services(*modules: str) -> None:
    """Skip the calling test when a service package has not landed in this checkout."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"services not available yet: {', '.join(missing)}")


@asynccontextmanager
async def emotion_server(**overrides: Any) -> AsyncIterator[ServiceHost]:
    """emotion_service with the tiny bundle (fp32), batching on, metrics on a free port; ``overrides`` are
    further settings (e.g. TLS files)."""
    from emotion_service.component import EmotionComponent
    from tests.emotion_service.serving import ensure_tiny_bundle, settings_for

    settings = settings_for(ensure_tiny_bundle(), precisions=("fp32",), **overrides)
    component = EmotionComponent(settings)
    host = ServiceHost(settings, component, component.registry)
    await host.start()
    try:
        await host.wait_ready(180)
        yield host
    finally:
        await host.stop(grace=0)


@asynccontextmanager
async def image_server() -> AsyncIterator[ServiceHost]:
    """image_service on the embedded tiny-flux variant (torch backend, CPU), metrics on a free port."""
    from image_service.component import ImageComponent
    from image_service.settings import ImageSettings

    settings = ImageSettings(
        port=0, metrics_port=0, access_log=False, models_dir=IMAGE_MODELS, device="cpu", warmup=False, grace_seconds=1.0
    )
    settings.validate()
    registry = CollectorRegistry()
    host = ServiceHost(settings, ImageComponent(settings, registry), registry)
    await host.start()
    try:
        await host.wait_ready(300)
        yield host
    finally:
        await host.stop(grace=0)


@asynccontextmanager
async def ranker_server(emotion: str, image: str, db_path: Path, **overrides: Any) -> AsyncIterator[ServiceHost]:
    """The ranker with its evidence store at ``db_path``, probing the given service addresses; ``overrides``
    are further settings (e.g. ``auth_mode="enforce"`` with a tokens file, a writable ``catalog_dir``)."""
    from ranker.component import RankerComponent
    from ranker.settings import RankerSettings

    fields: dict[str, Any] = {
        "port": 0,
        "metrics_port": 0,
        "access_log": False,
        "emotion_addresses": emotion,
        "image_addresses": image,
        "db_path": db_path,
        "bootstrap_samples": 200,
        "grace_seconds": 1.0,
        # By default the polyglot clients run a local round as `make demo` does (authorisation:
        # tests/servicekit/test_auth.py; the Node client's tests pass a tokens file instead).
        "auth_mode": "off",
    }
    settings = RankerSettings(**{**fields, **overrides})
    settings.validate()
    registry = CollectorRegistry()
    host = ServiceHost(settings, RankerComponent(settings, registry), registry)
    await host.start()
    try:
        await host.wait_ready(120)
        yield host
    finally:
        await host.stop(grace=0)
