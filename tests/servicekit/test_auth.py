"""Authorisation: roles per method, bearer tokens (hashed, reloadable), mTLS certificate allow-lists.

Real servers on loopback with real certificates and tokens generated here; every allow/deny combination.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from emotion_service.kserve import KServeServicer
from emotion_service.service import EmotionServicer
from image_service.service import ImageServicer
from ranker.service import RankerServicer
from servicekit.auth import Authorizer, Role, TokenStore, bearer_token, hash_token, new_token, parse_tokens
from servicekit.channels import ClientTLS, open_channel
from servicekit.errors import Unauthenticated
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2
from servicekit.pb.inference import grpc_service_pb2
from servicekit.server import ServiceHost, ServicerRegistration
from servicekit.settings import ServerSettings
from tests.servicekit.echo import ACCESS, SERVICE, EchoComponent, method
from tests.servicekit.pki import make_pki

READER, WRITER, ADMIN = new_token(), new_token(), new_token()


def _tokens_file(path: Path, grants: dict[str, tuple[str, str]]) -> Path:
    path.write_text(
        "# digest identity role\n" + "".join(f"{hash_token(t)} {who} {role}\n" for t, (who, role) in grants.items())
    )
    return path


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    return _tokens_file(
        tmp_path / "tokens.txt",
        {READER: ("dashboards", "read"), WRITER: ("ci-importer", "write"), ADMIN: ("ops", "admin")},
    )


async def _serve(settings: ServerSettings, component: EchoComponent | None = None) -> ServiceHost:
    host = ServiceHost(settings, component or EchoComponent())
    await host.start()
    await host.wait_ready(5)
    return host


@pytest.fixture
async def guarded(tokens_file: Path) -> AsyncIterator[ServiceHost]:
    host = await _serve(ServerSettings(access_log=False, auth_tokens_file=tokens_file))
    yield host
    await host.stop(grace=0)


async def _code(channel: grpc.aio.Channel, name: str, payload: bytes) -> tuple[grpc.StatusCode, str]:
    try:
        await method(channel, name)(payload, timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


# -- the pure parts ------------------------------------------------------------------------------------------
def test_tokens_file_is_parsed_and_bad_lines_name_their_number() -> None:
    digest = hash_token("t0k")
    (grant,) = parse_tokens(f"# comment\n\n{digest} alice write  # trailing\n")
    assert (grant.digest, grant.identity, grant.role) == (digest, "alice", Role.WRITE)
    with pytest.raises(ValueError, match="line 2: expected"):
        parse_tokens(f"{digest} alice read\n{digest} bob\n")
    with pytest.raises(ValueError, match="line 1: the first field must be a 64-digit SHA-256"):
        parse_tokens("plaintext-token bob read\n")
    with pytest.raises(ValueError, match="line 1: unknown role 'root'"):
        parse_tokens(f"{digest} bob root\n")


def test_bearer_header_forms() -> None:
    assert bearer_token([("x-request-id", "1")]) is None
    assert bearer_token([("authorization", "Bearer abc")]) == "abc"
    assert bearer_token([("Authorization", b"bearer  abc ")]) == "abc"
    for bad in ("Basic dXNlcg==", "Bearer ", "abc"):
        with pytest.raises(Unauthenticated, match="expected 'Bearer <token>'"):
            bearer_token([("authorization", bad)])


def test_identity_precedence_token_then_certificate_then_anonymous(tokens_file: Path) -> None:
    authorizer = Authorizer(
        policies={SERVICE: ACCESS}, tokens=TokenStore(tokens_file), cert_roles={"ingest-bot": Role.WRITE}
    )
    cert = {"x509_common_name": [b"ingest-bot"], "x509_subject_alternative_name": [b"localhost"]}
    by_token = authorizer.identify([("authorization", f"Bearer {READER}")], cert)
    assert (by_token.name, by_token.role, by_token.source) == ("dashboards", Role.READ, "token")
    by_cert = authorizer.identify([], cert)
    assert (by_cert.name, by_cert.role, by_cert.source) == ("ingest-bot", Role.WRITE, "certificate")
    unknown_cert = authorizer.identify([], {"x509_common_name": [b"stranger"]})
    assert (unknown_cert.role, unknown_cert.source) == (Role.READ, "certificate")  # the anonymous role, no more
    assert authorizer.identify([], {}).source == "anonymous"


def test_every_servicer_declares_a_role_for_every_rpc() -> None:
    from google.protobuf import descriptor_pool

    from servicekit.pb.inference import POOL

    declared = {
        "emoflux.emotion.v1.EmotionService": (emotion_pb2.DESCRIPTOR, EmotionServicer.ACCESS),
        "emoflux.image.v1.ImageService": (image_pb2.DESCRIPTOR, ImageServicer.ACCESS),
        "emoflux.ranker.v1.RankerService": (ranker_pb2.DESCRIPTOR, RankerServicer.ACCESS),
    }
    for full_name, (file_descriptor, policy) in declared.items():
        methods = {m.name for m in file_descriptor.services_by_name[full_name.rsplit(".", 1)[1]].methods}
        assert set(policy) == methods, full_name
    kserve = POOL.FindServiceByName("inference.GRPCInferenceService")
    assert set(KServeServicer.ACCESS) == {m.name for m in kserve.methods}
    assert descriptor_pool.Default() is not POOL
    # Only the ranker's writes need more than read; retracting a whole source is an admin's call.
    assert {m for m, r in RankerServicer.ACCESS.items() if r > Role.READ} == {
        "Evaluate",
        "SubmitEvidence",
        "AddModel",
        "RetractSource",
    }


# -- tokens on a real server -----------------------------------------------------------------------------------
async def test_reads_open_writes_need_a_granted_token(guarded: ServiceHost) -> None:
    address = f"127.0.0.1:{guarded.port}"
    async with open_channel(address, retry=False) as anonymous:
        assert await method(anonymous, "Echo")(b"hi", timeout=5) == b"hi"
        code, message = await _code(anonymous, "Write", b"w")
        assert code == grpc.StatusCode.UNAUTHENTICATED
        assert "Write needs the write role" in message and "Bearer" in message
    async with open_channel(address, retry=False, token=READER) as reader:
        code, message = await _code(reader, "Write", b"w")
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "token:dashboards has read" in message
    for token in (WRITER, ADMIN):
        async with open_channel(address, retry=False, token=token) as writer:
            assert (await _code(writer, "Write", b"w"))[0] == grpc.StatusCode.OK
    async with open_channel(address, retry=False, token="not-a-known-token") as forged:
        code, message = await _code(forged, "Echo", b"x")
        assert code == grpc.StatusCode.UNAUTHENTICATED and "unknown or revoked" in message


async def test_health_and_reflection_stay_open_when_anonymous_has_no_role(tokens_file: Path) -> None:
    host = await _serve(ServerSettings(access_log=False, auth_tokens_file=tokens_file, auth_anonymous_role="none"))
    try:
        async with open_channel(f"127.0.0.1:{host.port}", retry=False) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            assert (await _code(channel, "Echo", b"x"))[0] == grpc.StatusCode.UNAUTHENTICATED
        async with open_channel(f"127.0.0.1:{host.port}", retry=False, token=READER) as reader:
            assert await method(reader, "Echo")(b"x", timeout=5) == b"x"
    finally:
        await host.stop(grace=0)


async def test_reload_applies_new_grants_and_revocations(guarded: ServiceHost, tokens_file: Path) -> None:
    fresh = new_token()
    address = f"127.0.0.1:{guarded.port}"
    async with open_channel(address, retry=False, token=fresh) as channel:
        assert (await _code(channel, "Echo", b"x"))[0] == grpc.StatusCode.UNAUTHENTICATED
    _tokens_file(tokens_file, {fresh: ("rotated", "write")})  # WRITER revoked, fresh granted
    guarded.reload_credentials()
    async with open_channel(address, retry=False, token=fresh) as channel:
        assert (await _code(channel, "Write", b"w"))[0] == grpc.StatusCode.OK
    async with open_channel(address, retry=False, token=WRITER) as channel:
        assert (await _code(channel, "Write", b"w"))[0] == grpc.StatusCode.UNAUTHENTICATED
    # A broken file does not lock everyone out: the previous grants stay.
    tokens_file.write_text("garbage\n")
    guarded.reload_credentials()
    async with open_channel(address, retry=False, token=fresh) as channel:
        assert (await _code(channel, "Write", b"w"))[0] == grpc.StatusCode.OK


async def test_auth_mode_off_lets_anonymous_writers_through(tokens_file: Path) -> None:
    host = await _serve(ServerSettings(access_log=False, auth_mode="off"))
    try:
        async with open_channel(f"127.0.0.1:{host.port}", retry=False) as channel:
            assert (await _code(channel, "Write", b"w"))[0] == grpc.StatusCode.OK
    finally:
        await host.stop(grace=0)


async def test_a_method_without_a_declared_role_is_refused() -> None:
    class PartlyDeclared(EchoComponent):
        def registrations(self) -> list[ServicerRegistration]:
            (registration,) = super().registrations()
            policy = {m: r for m, r in ACCESS.items() if m != "Slow"}
            return [ServicerRegistration(SERVICE, registration.add_to_server, self, policy)]

    host = await _serve(ServerSettings(access_log=False), PartlyDeclared())
    try:
        async with open_channel(f"127.0.0.1:{host.port}", retry=False) as channel:
            code, message = await _code(channel, "Slow", b"0")
            assert code == grpc.StatusCode.PERMISSION_DENIED and "no access policy" in message
    finally:
        await host.stop(grace=0)


async def test_a_described_service_with_an_undeclared_method_does_not_start() -> None:
    class Incomplete(EchoComponent):
        def registrations(self) -> list[ServicerRegistration]:
            policy = {m: r for m, r in KServeServicer.ACCESS.items() if m != "ModelInfer"}
            return [ServicerRegistration("inference.GRPCInferenceService", lambda _s, _server: None, self, policy)]

    host = ServiceHost(ServerSettings(access_log=False), Incomplete())
    with pytest.raises(ValueError, match="no access role declared for ModelInfer"):
        await host.start()
    assert grpc_service_pb2.ModelInferRequest  # the KServe descriptors are what the check reads


# -- mTLS certificate allow-lists ------------------------------------------------------------------------------
async def test_certificate_allow_lists(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, clients=("ingest-bot", "dashboard"))
    host = await _serve(
        ServerSettings(
            access_log=False,
            tls_cert=pki["server_cert"],
            tls_key=pki["server_key"],
            tls_client_ca=pki["ca"],
            auth_writers=("ingest-bot",),
        )
    )
    try:
        address = f"127.0.0.1:{host.port}"

        def tls(who: str) -> ClientTLS:
            return ClientTLS(ca=pki["ca"], cert=pki[f"{who}_cert"], key=pki[f"{who}_key"], server_name="localhost")

        async with open_channel(address, tls=tls("ingest-bot"), retry=False) as writer:
            assert (await _code(writer, "Write", b"w"))[0] == grpc.StatusCode.OK
        async with open_channel(address, tls=tls("dashboard"), retry=False) as reader:
            assert await method(reader, "Echo")(b"x", timeout=5) == b"x"
            code, message = await _code(reader, "Write", b"w")
            assert code == grpc.StatusCode.PERMISSION_DENIED and "certificate:dashboard has read" in message
        # A token still wins over the certificate it travels with (and is checked as strictly).
        async with open_channel(address, tls=tls("ingest-bot"), retry=False, token="forged") as forged:
            assert (await _code(forged, "Echo", b"x"))[0] == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await host.stop(grace=0)


def test_certificate_allow_lists_need_mtls() -> None:
    with pytest.raises(SystemExit, match="need tls_client_ca"):
        ServerSettings(auth_writers=("ingest-bot",)).validate()


def test_issuing_a_token_prints_a_line_the_store_accepts(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "servicekit.auth", "--identity", "ci-importer", "--role", "write"],
        capture_output=True,
        text=True,
        check=True,
    )
    token = done.stderr.rsplit(": ", 1)[1].strip()
    assert token not in done.stdout  # only the digest is written down
    path = tmp_path / "tokens.txt"
    path.write_text(done.stdout)
    grant = TokenStore(path).lookup(token)
    assert grant is not None and (grant.identity, grant.role) == ("ci-importer", Role.WRITE)
