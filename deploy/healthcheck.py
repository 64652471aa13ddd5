#!/usr/bin/env python3
"""Container health probe: exit 0 when a gRPC server reports SERVING, or an HTTP endpoint answers 2xx.

The gRPC form asks the standard health service; ``--http URL`` asks an HTTP endpoint instead (the gateway).
Usage: ``python healthcheck.py [ADDRESS] [--service NAME] [--timeout SECONDS] [--tls-ca PEM]`` or
``python healthcheck.py --http http://127.0.0.1:8080/healthz [--timeout SECONDS]``.
ADDRESS defaults to ``127.0.0.1:50051``; an empty service name asks for the server's overall status.
Exit codes: 0 healthy, 1 any other status or an error (the reason is printed on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(address: str, service: str = "", timeout: float = 3.0, tls_ca: Path | None = None) -> tuple[bool, str]:
    """Ask ``address`` for the health of ``service``; return (serving, status or error name)."""
    if tls_ca is None:
        channel = grpc.insecure_channel(address)
    else:
        channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(tls_ca.read_bytes()))
    with channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            return False, code.name if code is not None else str(exc)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return response.status == health_pb2.HealthCheckResponse.SERVING, status


def check_http(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """GET ``url``; return (answered 2xx, status or error)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, str(getattr(exc, "reason", exc))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, probe once, print the outcome on failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("address", nargs="?", default="127.0.0.1:50051", help="host:port of the gRPC server")
    parser.add_argument("--service", default="", help="service name to check ('' = the whole server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="RPC deadline in seconds")
    parser.add_argument("--tls-ca", type=Path, default=None, help="PEM CA bundle; enables TLS")
    parser.add_argument("--http", metavar="URL", default=None, help="probe this HTTP URL instead of gRPC health")
    args = parser.parse_args(argv)
    if args.http is not None:
        healthy, status = check_http(args.http, args.timeout)
        if not healthy:
            print(f"{args.http}: {status}", file=sys.stderr)
        return 0 if healthy else 1
    serving, status = check(args.address, args.service, args.timeout, args.tls_ca)
    if not serving:
        print(f"{args.address} {args.service or '<server>'}: {status}", file=sys.stderr)
    return 0 if serving else 1


if __name__ == "__main__":
    raise SystemExit(main())
