"""Client channels: one or many addresses, round-robin balancing, retries, TLS, message limits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from servicekit import tracing
from servicekit.call_metadata import metadata_interceptors

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024

# Retry only what is safe to retry: the server was unreachable or refused before doing work.
_RETRY_POLICY = {
    "maxAttempts": 3,
    "initialBackoff": "0.05s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


@dataclass(frozen=True)
class ClientTLS:
    """PEM files for a TLS client; ``cert``/``key`` present a client certificate (mTLS)."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None
    server_name: str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        """Channel credentials built from the PEM files."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes(),
            private_key=self.key.read_bytes() if self.key else None,
            certificate_chain=self.cert.read_bytes() if self.cert else None,
        )


def service_config(*, retry: bool = True) -> str:
    """The JSON service config: round_robin over all resolved addresses, plus a retry policy."""
    config: dict[str, object] = {"loadBalancingConfig": [{"round_robin": {}}]}
    if retry:
        config["methodConfig"] = [{"name": [{}], "retryPolicy": _RETRY_POLICY}]
    return json.dumps(config)


def split_addresses(addresses: str | Sequence[str]) -> list[str]:
    """The addresses of a comma-separated string (or a list), blanks dropped."""
    if isinstance(addresses, str):
        return [a.strip() for a in addresses.split(",") if a.strip()]
    return list(addresses)


def target_for(addresses: str | Sequence[str]) -> str:
    """A gRPC target for one address or a static list (``ipv4:`` / ``ipv6:`` resolver syntax)."""
    addresses = split_addresses(addresses)
    if len(addresses) == 1:
        return addresses[0]
    scheme = "ipv6" if all(a.startswith("[") for a in addresses) else "ipv4"
    return f"{scheme}:{','.join(addresses)}"


def bearer_interceptors(token: str) -> list[Any]:
    """Client interceptors that send ``token`` as a bearer token on calls of every kind."""
    header = (("authorization", f"Bearer {token}"),)
    return metadata_interceptors(lambda: header)


def open_channel(
    addresses: str | Sequence[str],
    *,
    tls: ClientTLS | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    retry: bool = True,
    token: str | None = None,
) -> grpc.aio.Channel:
    """An asyncio channel balanced round-robin across ``addresses`` (a list or a comma-separated string).

    ``token`` is sent as a bearer token on every call (use TLS for anything but loopback).
    """
    options: list[tuple[str, str | int]] = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.service_config", service_config(retry=retry)),
        ("grpc.enable_retries", 1 if retry else 0),
    ]
    if tls is not None and tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    target = target_for(addresses)
    interceptors = bearer_interceptors(token) if token else []
    # Only when this process traces: interceptors cost every call something, and off must be free.
    if tracing.enabled():
        interceptors.extend(metadata_interceptors(lambda: tracing.inject({}).items()))
    if tls is None:
        return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors or None)
    return grpc.aio.secure_channel(target, tls.credentials(), options=options, interceptors=interceptors or None)


async def is_serving(channel: grpc.aio.Channel, service: str = "", timeout: float = 2.0) -> bool:
    """True when the gRPC health check of ``service`` on ``channel`` answers SERVING (False on any RPC error)."""
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    except grpc.aio.AioRpcError:
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


async def address_is_serving(address: str, service: str = "", timeout: float = 2.0) -> bool:
    """:func:`is_serving` on a short-lived plaintext channel to one address."""
    async with grpc.aio.insecure_channel(address) as channel:
        return await is_serving(channel, service, timeout)
