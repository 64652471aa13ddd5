"""The fuzz harness: every public RPC of every service and every gateway route, as one list of targets.

A :class:`Target` names one RPC (or route) and how a drawn case is sent; :func:`run_target` sends a fixed
number of drawn cases with hypothesis, derandomized (the cases are a function of the strategies and the
budget, so a run is repeatable from the repository alone), and returns the outcomes by status code. An
outcome outside the target's allowed set fails the example: INTERNAL, UNKNOWN, an HTTP 500, a connection
dropped or a call past its deadline (a hang) are never allowed. Stream calls count every in-band item
error too (``item <CODE>``).
"""

from __future__ import annotations

import http.client
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from servicekit.pb.inference import grpc_service_pb2 as kpb
from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc
from tests.faults import hostile

CALL_DEADLINE = 30.0
CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
CLIENT_ERRORS = frozenset({"INVALID_ARGUMENT", "NOT_FOUND", "RESOURCE_EXHAUSTED", "OUT_OF_RANGE"})
AUTH_ERRORS = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED"})
# A known variant that is not loaded is FAILED_PRECONDITION (documented in image.proto).
IMAGE_ERRORS = CLIENT_ERRORS | {"FAILED_PRECONDITION"}
# What a client error turns into at the gateway (gateway/errors.py), plus its own 401/403/405/406/413/415/429.
HTTP_CLIENT_ERRORS = frozenset({400, 401, 403, 404, 405, 406, 413, 415, 422, 429})
Send = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Target:
    """One RPC or route under fuzz: what to draw, how to send it, which outcomes are fine."""

    name: str
    strategy: st.SearchStrategy[Any]
    send: Send
    allowed: frozenset[str]
    weight: int = 1  # share of the long run's budget, relative to the other targets


def run_target(target: Target, examples: int) -> Counter[str]:
    """Send ``examples`` derandomized cases; return the outcomes. Fails on the first disallowed outcome."""
    seen: Counter[str] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=target.strategy)
    def one(case: Any) -> None:
        outcomes = target.send(case)
        seen.update(outcomes)
        bad = [o for o in outcomes if o != "OK" and o.removeprefix("item ") not in target.allowed]
        assert not bad, f"{target.name}: {bad} for {str(case)[:400]!r}"

    one()
    return seen


def _code(error: grpc.RpcError) -> str:
    code: grpc.StatusCode = error.code()
    return str(code.name)


def unary(method: Callable[..., Any], metadata: Sequence[tuple[str, str]] = ()) -> Send:
    """Send one request through a unary stub method."""

    def send(request: Any) -> list[str]:
        try:
            method(request, timeout=CALL_DEADLINE, metadata=tuple(metadata))
        except grpc.RpcError as error:
            return [_code(error)]
        return ["OK"]

    return send


def _item_outcome(item: Any) -> str:
    """The in-band outcome of one stream item (ClassifyStream, ModelStreamInfer, GenerateStream, Evaluate)."""
    if isinstance(item, emotion_pb2.ClassifyStreamResponse) and item.WhichOneof("outcome") == "error":
        return f"item {CODE_NAMES.get(item.error.code, str(item.error.code))}"
    if isinstance(item, kpb.ModelStreamInferResponse) and item.error_message:
        return f"item {item.error_message.split(':', 1)[0]}"
    if isinstance(item, image_pb2.GenerateStreamResponse) and item.WhichOneof("event") == "error":
        return f"item {CODE_NAMES.get(item.error.code, str(item.error.code))}"
    return ""


def streaming(method: Callable[..., Any], metadata: Sequence[tuple[str, str]] = ()) -> Send:
    """Send a list of requests through a stream stub method; read every answer."""

    def send(requests: list[Any]) -> list[str]:
        try:
            items = [_item_outcome(r) for r in method(iter(requests), timeout=CALL_DEADLINE, metadata=tuple(metadata))]
        except grpc.RpcError as error:
            return [_code(error)]
        return ["OK", *(i for i in items if i)]

    return send


def server_stream(method: Callable[..., Any], metadata: Sequence[tuple[str, str]] = ()) -> Send:
    """Send one request through a server-streaming stub method; read every event."""

    def send(request: Any) -> list[str]:
        try:
            items = [_item_outcome(r) for r in method(request, timeout=CALL_DEADLINE, metadata=tuple(metadata))]
        except grpc.RpcError as error:
            return [_code(error)]
        return ["OK", *(i for i in items if i)]

    return send


def raw(channel: grpc.Channel, full_method: str, kind: str, metadata: Sequence[tuple[str, str]] = ()) -> Send:
    """Send drawn bytes as the serialized request(s) of ``full_method`` (``kind``: unary_unary, ...)."""
    factory = getattr(channel, kind)
    method = factory(full_method, request_serializer=None, response_deserializer=None)

    def send(data: bytes) -> list[str]:
        request: Any = iter([data, data]) if kind.startswith("stream") else data
        try:
            reply = method(request, timeout=CALL_DEADLINE, metadata=tuple(metadata))
            if kind.endswith("stream"):
                list(reply)
        except grpc.RpcError as error:
            return [_code(error)]
        return ["OK"]

    return send


@dataclass
class Addresses:
    """Where the fuzzed services listen; an empty one is left out."""

    emotion: str = ""
    image: str = ""
    ranker: str = ""
    gateway_port: int = 0
    read_token: str = ""
    write_token: str = ""
    image_upstream_live: bool = True
    channels: list[grpc.Channel] = field(default_factory=list)

    def channel(self, address: str) -> grpc.Channel:
        options = [("grpc.max_send_message_length", 64 * 1024 * 1024), ("grpc.max_receive_message_length", -1)]
        channel = grpc.insecure_channel(address, options=options)
        self.channels.append(channel)
        return channel

    def close(self) -> None:
        for channel in self.channels:
            channel.close()


def _raw_targets(
    channel: grpc.Channel, service: Any, allowed: frozenset[str], metadata: Sequence[tuple[str, str]] = ()
) -> list[Target]:
    """One raw-bytes target per method of ``service`` (a protobuf ServiceDescriptor)."""
    out = []
    for method in service.methods:
        kind = (
            ("stream" if method.client_streaming else "unary")
            + "_"
            + ("stream" if method.server_streaming else "unary")
        )
        name = f"raw bytes {service.name}.{method.name}"
        send = raw(channel, f"/{service.full_name}/{method.name}", kind, metadata)
        out.append(Target(name, hostile.raw_messages(), send, allowed | {"UNIMPLEMENTED"}))
    return out


def emotion_targets(where: Addresses, max_images: int, input_shape: tuple[int, ...]) -> list[Target]:
    """Native and KServe v2 RPCs of emotion_service."""
    channel = where.channel(where.emotion)
    native = emotion_pb2_grpc.EmotionServiceStub(channel)
    kserve = kpb_grpc.GRPCInferenceServiceStub(channel)
    ok_or_client = CLIENT_ERRORS
    targets = [
        Target("emotion.Classify", hostile.classify_requests(max_images), unary(native.Classify), ok_or_client, 6),
        Target(
            "emotion.Classify (image bytes)", hostile.image_classify_requests(), unary(native.Classify), ok_or_client, 6
        ),
        Target(
            "emotion.ClassifyStream",
            hostile.classify_stream_items(max_images),
            streaming(native.ClassifyStream),
            ok_or_client,
            3,
        ),
        Target(
            "emotion.GetModelInfo", st.just(emotion_pb2.GetModelInfoRequest()), unary(native.GetModelInfo), ok_or_client
        ),
        Target(
            "kserve.ModelInfer", hostile.model_infer_requests(input_shape), unary(kserve.ModelInfer), ok_or_client, 6
        ),
        Target(
            "kserve.ModelStreamInfer",
            st.lists(hostile.model_infer_requests(input_shape), min_size=1, max_size=3),
            streaming(kserve.ModelStreamInfer),
            ok_or_client,
            3,
        ),
    ]
    for rpc, message in (
        ("ModelMetadata", kpb.ModelMetadataRequest),
        ("ModelReady", kpb.ModelReadyRequest),
        ("ModelConfig", kpb.ModelConfigRequest),
        ("ModelStatistics", kpb.ModelStatisticsRequest),
    ):
        targets.append(
            Target(f"kserve.{rpc}", hostile.model_name_requests(message), unary(getattr(kserve, rpc)), ok_or_client)
        )
    for rpc, empty in (
        ("ServerLive", kpb.ServerLiveRequest),
        ("ServerReady", kpb.ServerReadyRequest),
        ("ServerMetadata", kpb.ServerMetadataRequest),
    ):
        targets.append(Target(f"kserve.{rpc}", st.just(empty()), unary(getattr(kserve, rpc)), ok_or_client))
    targets += _raw_targets(channel, emotion_pb2.DESCRIPTOR.services_by_name["EmotionService"], ok_or_client)
    targets += _raw_targets(channel, kpb.DESCRIPTOR.services_by_name["GRPCInferenceService"], ok_or_client)
    return targets


def image_targets(where: Addresses) -> list[Target]:
    """Native RPCs of image_service."""
    channel = where.channel(where.image)
    stub = image_pb2_grpc.ImageServiceStub(channel)
    return [
        Target("image.Generate", hostile.generate_requests(), unary(stub.Generate), IMAGE_ERRORS, 3),
        Target(
            "image.GenerateStream",
            hostile.generate_stream_requests(),
            server_stream(stub.GenerateStream),
            IMAGE_ERRORS,
            2,
        ),
        Target("image.ListVariants", st.just(image_pb2.ListVariantsRequest()), unary(stub.ListVariants), IMAGE_ERRORS),
        *_raw_targets(channel, image_pb2.DESCRIPTOR.services_by_name["ImageService"], IMAGE_ERRORS),
    ]


def ranker_targets(where: Addresses) -> list[Target]:
    """Every ranker RPC; writes with the write token, with the read token and with none."""
    channel = where.channel(where.ranker)
    stub = ranker_pb2_grpc.RankerServiceStub(channel)
    writer = (("authorization", f"Bearer {where.write_token}"),)
    # The write token first: derandomized hypothesis favours the first choices, and most cases should get past
    # authorisation to the request checks behind it.
    read = (("authorization", f"Bearer {where.read_token}"),)
    tokens = st.sampled_from((writer, writer, (), read, (("authorization", "Bearer x"),)))
    allowed = CLIENT_ERRORS | AUTH_ERRORS

    def with_token(method: Callable[..., Any], kind: Callable[..., Send]) -> Callable[[tuple[Any, Any]], list[str]]:
        def send(case: tuple[Any, Any]) -> list[str]:
            request, metadata = case
            return kind(method, metadata)(request)

        return send

    ids = hostile.model_ids()
    return [
        Target(
            "ranker.ListModels",
            st.builds(ranker_pb2.ListModelsRequest, artifact_type=hostile.SHORT_TEXT),
            unary(stub.ListModels),
            allowed,
        ),
        Target("ranker.GetModel", st.builds(ranker_pb2.GetModelRequest, model_id=ids), unary(stub.GetModel), allowed),
        Target("ranker.GetScore", st.builds(ranker_pb2.GetScoreRequest, model_id=ids), unary(stub.GetScore), allowed),
        Target(
            "ranker.Compare",
            st.builds(ranker_pb2.CompareRequest, model_a=ids, model_b=ids),
            unary(stub.Compare),
            allowed,
            2,
        ),
        Target(
            "ranker.Leaderboard",
            st.builds(ranker_pb2.LeaderboardRequest, artifact_type=hostile.SHORT_TEXT, limit=hostile.uint32s()),
            unary(stub.Leaderboard),
            allowed,
        ),
        Target(
            "ranker.SubmitEvidence",
            st.tuples(hostile.submit_requests(), tokens),
            with_token(stub.SubmitEvidence, unary),
            allowed,
            4,
        ),
        Target(
            "ranker.Evaluate",
            st.tuples(hostile.evaluate_requests(), tokens),
            with_token(stub.Evaluate, server_stream),
            allowed,
        ),
        Target(
            "ranker.GetScore (as of)",
            st.builds(ranker_pb2.GetScoreRequest, model_id=ids, as_of=hostile.SHORT_TEXT),
            unary(stub.GetScore),
            allowed,
        ),
        Target(
            "ranker.ExplainScore",
            st.builds(ranker_pb2.ExplainScoreRequest, model_id=ids, limit=hostile.uint32s()),
            unary(stub.ExplainScore),
            allowed,
        ),
        Target(
            "ranker.GetScoreHistory",
            st.builds(ranker_pb2.GetScoreHistoryRequest, model_id=ids),
            unary(stub.GetScoreHistory),
            allowed,
        ),
        Target(
            "ranker.AddModel",
            st.tuples(
                st.builds(
                    ranker_pb2.AddModelRequest,
                    hub_id=st.one_of(hostile.SHORT_TEXT, st.just("dima806/facial_emotions_image_detection")),
                    model_id=hostile.SHORT_TEXT,
                    model_info_json=st.one_of(hostile.SHORT_TEXT, st.just("{}"), st.just('{"id": 3}')),
                ),
                tokens,
            ),
            with_token(stub.AddModel, unary),
            allowed | {"ALREADY_EXISTS", "FAILED_PRECONDITION"},
        ),
        Target(
            "ranker.RetractSource",
            st.tuples(
                st.builds(ranker_pb2.RetractSourceRequest, source_ref=hostile.SHORT_TEXT, reason=hostile.SHORT_TEXT),
                tokens,
            ),
            with_token(stub.RetractSource, unary),
            allowed,
        ),
        *_raw_targets(channel, ranker_pb2.DESCRIPTOR.services_by_name["RankerService"], allowed, writer),
    ]  # fmt: skip


def gateway_targets(where: Addresses) -> list[Target]:
    """Every gateway route and method, with and without tokens."""
    allowed = frozenset(str(s) for s in HTTP_CLIENT_ERRORS)

    def send(case: hostile.HttpCase) -> list[str]:
        connection = http.client.HTTPConnection("127.0.0.1", where.gateway_port, timeout=CALL_DEADLINE)
        try:
            connection.request(case.method, case.path, body=case.body or None, headers=dict(case.headers))
            reply = connection.getresponse()
            reply.read()
            status = reply.status
        except (OSError, http.client.HTTPException) as error:
            return [f"no answer ({error.__class__.__name__})"]
        finally:
            connection.close()
        # Without image_service, its routes and the gateway's /health (all upstreams SERVING) answer 503.
        if status == 503 and not where.image_upstream_live and ("/flux" in case.path or case.path == "/health"):
            return ["503 (image_service not started)"]
        return ["OK" if status < 300 else str(status)]

    fine = allowed | {"503 (image_service not started)"}
    return [Target("gateway HTTP", hostile.http_cases(where.read_token, where.write_token), send, fine, 8)]


def budgets(targets: Sequence[Target], total: int, minimum: int = 20) -> dict[str, int]:
    """Split ``total`` examples across ``targets`` by weight (each at least ``minimum``)."""
    weight = sum(t.weight for t in targets)
    return {t.name: max(minimum, round(total * t.weight / weight)) for t in targets}


def markdown_table(outcomes: dict[str, dict[str, int]]) -> str:
    """The per-target table of a fuzz run (``outcomes`` of bench/results/fuzz.json) for docs/operations.md.

    Raw-bytes targets are summed per service; ``item`` outcomes are answers inside streams.
    """
    rows: dict[str, Counter[str]] = {}
    for name, seen in outcomes.items():
        key = f"raw bytes, every {name.split(' ')[2].split('.')[0]} method" if name.startswith("raw bytes ") else name
        rows.setdefault(key, Counter()).update(seen)
    lines = ["| target | calls | OK | other outcomes |", "|---|---|---|---|"]
    for key, seen in rows.items():
        calls = sum(n for outcome, n in seen.items() if not outcome.startswith("item "))
        other = ", ".join(f"{o} {n}" for o, n in seen.most_common() if o != "OK") or "-"
        lines.append(f"| {key} | {calls} | {seen['OK']} | {other} |")
    return "\n".join(lines)
