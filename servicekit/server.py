"""The grpc.aio server bootstrap every service uses.

:class:`ServiceHost` binds the port first (so health checks answer NOT_SERVING while the model loads),
then runs the component's start-up (load + warm-up) and flips health to SERVING. SIGTERM/SIGINT flip
health to NOT_SERVING, stop accepting new calls and give in-flight calls ``grace_seconds`` to finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry

from servicekit import tracing
from servicekit.auth import AccessPolicy, AuthHook, Authorizer, Role, TokenStore, certificate_roles
from servicekit.interceptors import CallHook, CallInterceptor, MetricsHook
from servicekit.metrics import MetricsServer, RpcMetrics, standard_collectors
from servicekit.pb.inference import POOL as INFERENCE_POOL
from servicekit.settings import ServerSettings

log = logging.getLogger("emoflux.server")


@dataclass(frozen=True)
class ServicerRegistration:
    """One gRPC service implementation, how to add it to a server, and the role each of its methods needs."""

    service_name: str
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: Any
    access: AccessPolicy


class Component(Protocol):
    """What a service supplies: its servicers and its start-up/shut-down work."""

    name: str

    def registrations(self) -> Sequence[ServicerRegistration]:
        """The gRPC services this component serves."""
        ...

    async def start(self) -> None:
        """Load and warm up; health turns SERVING only after this returns."""
        ...

    async def stop(self) -> None:
        """Release resources after the server has drained."""
        ...


class ChainedPool:
    """Descriptor look-ups across several pools, first match wins.

    The KServe ``inference`` stubs live in a private pool (tritonclient registers the same names in the
    default pool), so reflection must consult both to describe every service.
    """

    def __init__(self, *pools: descriptor_pool.DescriptorPool) -> None:
        self._pools = pools

    def _first(self, method: str, *args: Any) -> Any:
        error: KeyError | None = None
        for pool in self._pools:
            try:
                return getattr(pool, method)(*args)
            except KeyError as exc:
                error = exc
        raise error or KeyError(args)

    def FindFileByName(self, name: str) -> Any:
        """Look a file up by name."""
        return self._first("FindFileByName", name)

    def FindFileContainingSymbol(self, symbol: str) -> Any:
        """Look up the file defining a symbol."""
        return self._first("FindFileContainingSymbol", symbol)

    def FindMessageTypeByName(self, name: str) -> Any:
        """Look a message type up by full name."""
        return self._first("FindMessageTypeByName", name)

    def FindExtensionByNumber(self, message: Any, number: int) -> Any:
        """Look an extension up by number."""
        return self._first("FindExtensionByNumber", message, number)

    def FindAllExtensions(self, message: Any) -> Any:
        """All extensions of a message (from the first pool that knows it)."""
        return self._first("FindAllExtensions", message)


def server_options(settings: ServerSettings) -> list[tuple[str, int]]:
    """Channel arguments for message limits, keepalive and per-connection streams."""
    options = [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", int(settings.keepalive_seconds * 1000)),
        ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout_seconds * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 5000),
        # Two servers must never silently share a port.
        ("grpc.so_reuseport", 0),
    ]
    if settings.max_streams_per_connection > 0:
        options.append(("grpc.max_concurrent_streams", settings.max_streams_per_connection))
    return options


def undeclared_methods(registration: ServicerRegistration, pool: Any) -> list[str]:
    """Methods of the registered service (from its descriptor) that have no declared role."""
    try:
        service = pool.FindFileContainingSymbol(registration.service_name).services_by_name
    except KeyError:
        return []  # generic handlers without a descriptor: the interceptor still fails closed per call
    descriptor = service.get(registration.service_name.rsplit(".", 1)[-1])
    if descriptor is None:
        return []
    return [m.name for m in descriptor.methods if m.name not in registration.access]


def build_authorizer(settings: ServerSettings, registrations: Sequence[ServicerRegistration]) -> Authorizer | None:
    """The authorizer the settings ask for (None with ``auth_mode off``); refuses incomplete policies."""
    if settings.auth_mode == "off":
        log.warning(
            "AUTHORISATION IS OFF (--auth-mode off): every caller may call every method, writes included; "
            "use this for local demos only"
        )
        return None
    # The project's own KServe stubs first: tritonclient registers a larger service under the same name.
    pool = ChainedPool(INFERENCE_POOL, descriptor_pool.Default())
    for registration in registrations:
        missing = undeclared_methods(registration, pool)
        if missing:
            raise ValueError(f"{registration.service_name}: no access role declared for {', '.join(missing)}")
    return Authorizer(
        policies={r.service_name: r.access for r in registrations},
        tokens=TokenStore(settings.auth_tokens_file),
        cert_roles=certificate_roles(settings.auth_readers, settings.auth_writers, settings.auth_admins),
        anonymous_role=Role.parse(settings.auth_anonymous_role),
    )


def server_credentials(settings: ServerSettings) -> grpc.ServerCredentials | None:
    """TLS (or mTLS when a client CA is configured) credentials, or None for plaintext."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    key = settings.tls_key.read_bytes()
    chain = settings.tls_cert.read_bytes()
    client_ca = settings.tls_client_ca.read_bytes() if settings.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


class ServiceHost:
    """Runs one component on a grpc.aio server with health, reflection, metrics and graceful drain."""

    def __init__(
        self,
        settings: ServerSettings,
        component: Component,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.component = component
        self.registry = registry if registry is not None else CollectorRegistry()
        self.health = health.aio.HealthServicer()
        self.ready = asyncio.Event()
        self.port = 0
        self.metrics_port = 0
        self.startup_error: BaseException | None = None
        self._server: grpc.aio.Server | None = None
        self._metrics_server: MetricsServer | None = None
        self._startup: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._stopping = False
        self._calls: CallInterceptor | None = None
        self.authorizer: Authorizer | None = None

    @property
    def service_names(self) -> list[str]:
        """Full names of the component's gRPC services."""
        return [r.service_name for r in self.component.registrations()]

    async def start(self) -> None:
        """Bind the server and metrics endpoint, then load the component in the background."""
        settings = self.settings
        rpc_metrics = RpcMetrics(self.registry)
        standard_collectors(self.registry)
        self.authorizer = build_authorizer(settings, self.component.registrations())
        # Outermost first: the trace span covers the whole call, metrics see the final code; authorisation
        # runs inside the error mapping, which turns its refusals into statuses.
        outer: list[CallHook] = [MetricsHook(rpc_metrics)]
        if tracing.enabled():
            outer.insert(0, tracing.TracingHook())
        inner: list[CallHook] = [AuthHook(self.authorizer)] if self.authorizer is not None else []
        self._calls = CallInterceptor(outer=outer, inner=inner, access_log=settings.access_log)
        server = grpc.aio.server(
            interceptors=[self._calls],
            options=server_options(settings),
            maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
        )
        for registration in self.component.registrations():
            registration.add_to_server(registration.servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME],
            server,
            pool=ChainedPool(descriptor_pool.Default(), INFERENCE_POOL),
        )
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)

        address = f"{settings.host}:{settings.port}"
        credentials = server_credentials(settings)
        if credentials is None:
            self.port = server.add_insecure_port(address)
        else:
            self.port = server.add_secure_port(address, credentials)
        if self.port == 0:
            raise OSError(f"could not bind gRPC port {address}")
        await server.start()
        self._server = server
        if settings.metrics_port >= 0:
            self._metrics_server = MetricsServer(self.registry, settings.host, settings.metrics_port)
            self._metrics_server.start()
            self.metrics_port = self._metrics_server.port
        log.info(
            "%s listening on %s:%d (%s), metrics on :%d",
            self.component.name,
            settings.host,
            self.port,
            "TLS" if credentials else "plaintext",
            self.metrics_port,
        )
        self._startup = asyncio.create_task(self._start_component(), name=f"{self.component.name}-startup")

    async def _start_component(self) -> None:
        try:
            await self.component.start()
        except Exception as exc:
            self.startup_error = exc
            log.exception("%s failed to start; health stays NOT_SERVING", self.component.name)
            self._stopped.set()
            return
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self.ready.set()
        log.info("%s is SERVING", self.component.name)

    async def wait_ready(self, timeout: float) -> None:
        """Wait until the component has loaded; raise its start-up error if it failed."""
        assert self._startup is not None, "start() first"
        await asyncio.wait_for(asyncio.shield(self._startup), timeout)
        if self.startup_error is not None:
            raise RuntimeError(f"{self.component.name} failed to start") from self.startup_error

    async def stop(self, grace: float | None = None) -> None:
        """Health → NOT_SERVING, refuse new calls, let in-flight calls finish within ``grace`` seconds.

        New calls are answered UNAVAILABLE for ``drain_delay_seconds`` (at most ``grace``) before the
        transport stops accepting them.
        """
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        grace = self.settings.grace_seconds if grace is None else grace
        await self.health.enter_graceful_shutdown()
        if self._startup is not None and not self._startup.done():
            self._startup.cancel()
        if self._calls is not None:
            # Refuse new calls with retryable UNAVAILABLE while balancers notice NOT_SERVING; calls that arrive
            # once the server stops would otherwise be cancelled by the transport.
            self._calls.start_draining()
            await asyncio.sleep(min(self.settings.drain_delay_seconds, grace))
        if self._server is not None:
            log.info("%s draining (grace %.1f s)", self.component.name, grace)
            await self._server.stop(grace)
        try:
            await self.component.stop()
        finally:
            if self._metrics_server is not None:
                self._metrics_server.stop()
            self._stopped.set()
            log.info("%s stopped", self.component.name)

    def reload_credentials(self) -> None:
        """Re-read the bearer-token file (SIGHUP): grants and revocations apply to the next call."""
        if self.authorizer is not None:
            self.authorizer.tokens.reload()

    async def serve_forever(self) -> int:
        """Start, serve until SIGTERM/SIGINT (or a start-up failure), drain; return an exit code."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_requested.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload_credentials)
        await self.start()
        waiter = asyncio.create_task(stop_requested.wait())
        failed = asyncio.create_task(self._stopped.wait())
        await asyncio.wait({waiter, failed}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        failed.cancel()
        await self.stop()
        return 1 if self.startup_error is not None else 0


def configure_logging(level: str) -> None:
    """One-line log records with time, level and logger name."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def run_service(settings: ServerSettings, build: Callable[[ServerSettings, CollectorRegistry], Component]) -> int:
    """Entry point used by each service's ``__main__``: build the component and serve it until stopped."""
    configure_logging(settings.log_level)
    tracing.configure(tracing.service_name(settings), settings.trace_exporter, settings.trace_otlp_endpoint)
    registry = CollectorRegistry()

    async def main() -> int:
        host = ServiceHost(settings, build(settings, registry), registry)
        return await host.serve_forever()

    return asyncio.run(main())
