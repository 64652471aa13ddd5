"""``python -m gateway``: serve the HTTP gateway until SIGTERM/SIGINT, then drain in-flight requests."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from gateway.component import build_component
from gateway.settings import GatewaySettings
from gateway.state import ACCESS_KEY
from servicekit import tracing
from servicekit.server import configure_logging

log = logging.getLogger("emoflux.gateway")


async def serve(settings: GatewaySettings) -> int:
    """Serve until SIGTERM/SIGINT; return the exit code."""
    gateway = build_component(settings)
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
    """Parse settings, then serve until stopped."""
    settings = GatewaySettings.load(argv)
    configure_logging(settings.log_level)
    tracing.configure(tracing.service_name(settings), settings.trace_exporter, settings.trace_otlp_endpoint)
    return asyncio.run(serve(settings))


if __name__ == "__main__":
    sys.exit(main())
