"""Who may use the gateway, and how much: bearer tokens, roles per route, per-client rate and concurrency limits.

* ``Authorization: Bearer <token>``, as the Hugging Face Inference API takes it (``InferenceClient(token=...)``
  sends exactly this), checked against the same hashed tokens file as the gRPC services
  (:mod:`servicekit.auth`). No token: 401 with ``WWW-Authenticate: Bearer``; a token without the role: 403.
* Roles per route (:func:`required_role`): health and metrics are open; reading model metadata and
  classifying need ``read``; generating an image needs ``write`` (it costs orders of magnitude more compute
  than a classification, so operators can hand out classification-only tokens).
* Every client (a token's identity; the remote address when authorisation is off) has a token bucket
  (sustained rate + burst) and a cap on requests in flight, so one client cannot starve the others: over
  either limit it gets 429 with ``Retry-After`` at once, before any work.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gateway.errors import HttpError
from servicekit.auth import ANONYMOUS_NAME, Identity, Role, TokenStore, bearer_token
from servicekit.errors import Unauthenticated

# Routes every caller may use: probes and scrapers carry no tokens.
_OPEN_PATHS = ("/health", "/healthz", "/metrics", "/v2/health/")


def required_role(method: str, path: str, generate: bool) -> Role | None:
    """The role a request needs; None for open routes. ``generate``: the path names a text-to-image model."""
    if path.startswith(_OPEN_PATHS):
        return None
    if method == "POST" and generate:
        return Role.WRITE
    return Role.READ


@dataclass
class TokenBucket:
    """``rate`` requests per second sustained, ``burst`` at once; refilled continuously."""

    rate: float
    burst: float
    level: float
    updated: float

    def take(self, now: float) -> float:
        """Spend one request; return 0 when allowed, else the seconds until one would be."""
        self.level = min(self.burst, self.level + (now - self.updated) * self.rate)
        self.updated = now
        if self.level >= 1.0:
            self.level -= 1.0
            return 0.0
        return (1.0 - self.level) / self.rate


class ClientLimits:
    """Per-client token buckets and in-flight counts (one event loop: no locks needed)."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        max_in_flight: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_second
        self.burst = float(burst)
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._in_flight: dict[str, int] = {}

    @contextmanager
    def admit(self, client: str) -> Iterator[None]:
        """Hold one of ``client``'s request slots for the body of the ``with``; 429 when over a limit."""
        if self.rate > 0:
            now = self._clock()
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = self._buckets[client] = TokenBucket(self.rate, self.burst, self.burst, now)
            wait = bucket.take(now)
            if wait > 0:
                raise HttpError(
                    429,
                    f"rate limit: {client} may send {self.rate:g} requests/s (bursts of {self.burst:g}); "
                    f"retry in {wait:.2f} s",
                    retry_after=wait,
                )
        in_flight = self._in_flight.get(client, 0)
        if self.max_in_flight > 0 and in_flight >= self.max_in_flight:
            raise HttpError(
                429, f"concurrency limit: {client} already has {in_flight} requests in flight", retry_after=1.0
            )
        self._in_flight[client] = in_flight + 1
        try:
            yield
        finally:
            left = self._in_flight[client] - 1
            if left:
                self._in_flight[client] = left
            else:
                del self._in_flight[client]

    def in_flight(self, client: str) -> int:
        """Requests of ``client`` being handled now."""
        return self._in_flight.get(client, 0)


class GatewayAccess:
    """Identifies the caller of an HTTP request and checks it against the route's role."""

    def __init__(self, *, enforce: bool, tokens: TokenStore, anonymous_role: Role) -> None:
        self.enforce = enforce
        self.tokens = tokens
        self.anonymous_role = anonymous_role

    def identify(self, authorization: str | None, peer: str) -> Identity:
        """The caller: a token's identity, else anonymous (named by its address for the limits)."""
        if not self.enforce:
            return Identity(peer or ANONYMOUS_NAME, Role.ADMIN, "anonymous")
        try:
            token = bearer_token([("authorization", authorization)] if authorization is not None else [])
        except Unauthenticated as exc:
            raise HttpError(401, str(exc)) from None
        if token is None:
            return Identity(peer or ANONYMOUS_NAME, self.anonymous_role, "anonymous")
        grant = self.tokens.lookup(token)
        if grant is None:
            raise HttpError(401, "authorization: unknown or revoked bearer token")
        return Identity(grant.identity, grant.role, "token")

    def authorize(self, identity: Identity, required: Role, what: str) -> None:
        """401 for an anonymous caller without the role, 403 for a known one."""
        if identity.role >= required:
            return
        if identity.source == "anonymous":
            raise HttpError(401, f"{what} needs a bearer token with the {required.label} role (Authorization: Bearer)")
        raise HttpError(
            403, f"{what} needs the {required.label} role; token of {identity.name} has {identity.role.label}"
        )


def retry_after_header(seconds: float) -> str:
    """A Retry-After value in whole seconds (at least 1), as HTTP requires."""
    return str(max(1, math.ceil(seconds)))
