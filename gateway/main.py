"""Run the gateway: bind, serve until SIGTERM/SIGINT, then drain in-flight requests."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.state import ACCESS_KEY
from servicekit import tracing
from servicekit.server import configure_logging

log = logging.getLogger("emoflux.gateway")


class Gateway:
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


async def serve(settings: GatewaySettings) -> int:
    """Serve until SIGTERM/SIGINT; return the exit code."""
    gateway = Gateway(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Token rotation without a restart, as on the gRPC services.
    loop.add_signal_handler(signal.SIGHUP, gateway.app[ACCESS_KEY].tokens.reload)
    await gateway.start()
    await stop.wait()
    log.info("gateway draining (grace %.1f s)", settings.shutdown_grace_seconds)
    await gateway.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m gateway``."""
    settings = GatewaySettings.load(argv)
    configure_logging(settings.log_level)
    tracing.configure(tracing.service_name(settings), settings.trace_exporter, settings.trace_otlp_endpoint)
    return asyncio.run(serve(settings))
