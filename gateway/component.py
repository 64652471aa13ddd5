"""The gateway's composition root: the HTTP app, its upstream channels and its life cycle (start, drain)."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.app import create_app
from gateway.settings import GatewaySettings

log = logging.getLogger("emoflux.gateway")


class GatewayComponent:
    """The HTTP server around :func:`gateway.app.create_app`, startable on port 0 (tests) or a fixed port."""

    def __init__(self, settings: GatewaySettings, registry: CollectorRegistry | None = None) -> None:
        self.settings = settings
        self.app = create_app(settings, registry)
        # A client that disconnects cancels its handler, which cancels the gRPC call and frees the service.
        self._runner = web.AppRunner(
            self.app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=settings.shutdown_grace_seconds,
        )
        self.port = 0

    async def start(self) -> None:
        """Open the upstream channels and start listening."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        # The runner lists the bound sockets as (host, port, ...) tuples; port 0 resolves here.
        addresses = self._runner.addresses
        assert addresses, "the HTTP site did not bind"
        self.port = int(addresses[0][1])
        log.info("gateway listening on http://%s:%d", self.settings.host, self.port)

    @property
    def url(self) -> str:
        """Base URL of the gateway on loopback or its bound host."""
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else self.settings.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop accepting connections, let in-flight requests finish within the grace time, close channels."""
        await self._runner.cleanup()


def build_component(settings: GatewaySettings, registry: CollectorRegistry | None = None) -> GatewayComponent:
    """The gateway for ``settings``, its metrics in ``registry`` (a fresh one when None)."""
    return GatewayComponent(settings, registry)
