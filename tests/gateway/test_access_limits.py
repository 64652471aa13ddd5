"""Token buckets and per-client admission of the gateway, on an injected clock."""

from __future__ import annotations

import pytest

from gateway.access import ClientLimits, TokenBucket, required_role
from gateway.errors import HttpError
from servicekit.auth import Role


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=2.0, level=2.0, updated=0.0)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0  # refilled one request in half a second
    limits = ClientLimits(rate_per_second=1.0, burst=1, max_in_flight=0, clock=lambda: 0.0)
    with limits.admit("a"):
        pass
    with pytest.raises(HttpError) as info, limits.admit("a"):
        pass
    assert info.value.status == 429 and info.value.retry_after == pytest.approx(1.0)


def test_in_flight_cap_is_per_client_and_released_on_error() -> None:
    limits = ClientLimits(rate_per_second=0, burst=1, max_in_flight=1)
    with limits.admit("a"), limits.admit("b"):
        with pytest.raises(HttpError) as info, limits.admit("a"):
            pass
        assert "concurrency limit" in info.value.message
    with pytest.raises(RuntimeError), limits.admit("a"):
        raise RuntimeError("handler failed")
    assert limits.in_flight("a") == 0


def test_route_roles() -> None:
    assert required_role("GET", "/health", generate=False) is None
    assert required_role("GET", "/v2/health/ready", generate=False) is None
    assert required_role("GET", "/metrics", generate=False) is None
    assert required_role("POST", "/models/emotion", generate=False) is Role.READ
    assert required_role("GET", "/models/flux", generate=True) is Role.READ
    assert required_role("POST", "/models/flux/tiny-flux", generate=True) is Role.WRITE
    assert required_role("POST", "/v2/models/emotion/infer", generate=False) is Role.READ
