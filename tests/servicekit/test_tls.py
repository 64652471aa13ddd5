"""TLS and mTLS round trips with certificates generated in the test; plaintext is refused."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from servicekit.channels import ClientTLS, open_channel
from servicekit.server import ServiceHost
from servicekit.settings import ServerSettings
from tests.servicekit.echo import EchoComponent, method


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> tuple[Path, Path]:
    key_path, cert_path = path.with_suffix(".key"), path.with_suffix(".pem")
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name | None,
    *,
    ca: bool,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca_cert = _issue("emoflux-test-ca", ca_key, ca_key, None, ca=True)
    _, ca_path = _write(base / "ca", ca_key, ca_cert)
    files = {"ca": ca_path}
    for who in ("server", "client"):
        key = _key()
        cert = _issue(who, key, ca_key, ca_cert.subject, ca=False)
        files[f"{who}_key"], files[f"{who}_cert"] = _write(base / who, key, cert)
    return files


async def _serve(settings: ServerSettings) -> ServiceHost:
    host = ServiceHost(settings, EchoComponent())
    await host.start()
    await host.wait_ready(5)
    return host


async def test_tls_round_trip_and_plaintext_refused(pki: dict[str, Path]) -> None:
    host = await _serve(ServerSettings(tls_cert=pki["server_cert"], tls_key=pki["server_key"]))
    try:
        address = f"127.0.0.1:{host.port}"
        async with open_channel(address, tls=ClientTLS(ca=pki["ca"], server_name="localhost")) as channel:
            assert await method(channel, "Echo")(b"secure", timeout=5) == b"secure"
        async with grpc.aio.insecure_channel(address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await method(channel, "Echo")(b"plain", timeout=3)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await host.stop(grace=0)


async def test_mtls_requires_client_certificate(pki: dict[str, Path]) -> None:
    host = await _serve(ServerSettings(tls_cert=pki["server_cert"], tls_key=pki["server_key"], tls_client_ca=pki["ca"]))
    try:
        address = f"127.0.0.1:{host.port}"
        with_cert = ClientTLS(ca=pki["ca"], cert=pki["client_cert"], key=pki["client_key"], server_name="localhost")
        async with open_channel(address, tls=with_cert) as channel:
            assert await method(channel, "Echo")(b"mutual", timeout=5) == b"mutual"
        async with open_channel(address, tls=ClientTLS(ca=pki["ca"], server_name="localhost")) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await method(channel, "Echo")(b"anonymous", timeout=3)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await host.stop(grace=0)
