"""Tracing: W3C traceparent across real gRPC servers, the gateway and a service subprocess; off costs nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from PIL import Image

from gateway.component import GatewayComponent
from gateway.settings import GatewaySettings
from servicekit import tracing
from servicekit.channels import open_channel
from servicekit.server import ServiceHost
from servicekit.settings import ServerSettings
from tests.e2e.procs import EMOTION_HEALTH, Launcher, launched, wait_until
from tests.gateway.services import OPEN_ACCESS
from tests.servicekit.echo import SERVICE, EchoComponent, method


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    tracing.add_exporter(provider, exporter)
    tracing.use_provider(provider)
    yield exporter
    tracing.use_provider(None)


async def _echo_host() -> ServiceHost:
    host = ServiceHost(ServerSettings(access_log=False), EchoComponent())
    await host.start()
    await host.wait_ready(5)
    return host


def test_off_by_default_and_free() -> None:
    assert not tracing.enabled()
    with tracing.span("anything") as current:
        assert current is None
    assert tracing.inject({}) == {}
    assert ServerSettings().trace_exporter == "none"


async def test_a_call_continues_the_callers_trace(spans: InMemorySpanExporter) -> None:
    host = await _echo_host()
    try:
        async with open_channel(f"127.0.0.1:{host.port}", retry=False) as channel:
            with tracing.tracer().start_as_current_span("caller") as caller:
                assert await method(channel, "Echo")(b"x", timeout=5) == b"x"
                with pytest.raises(grpc.aio.AioRpcError):
                    await method(channel, "Fail")(b"invalid", timeout=5)
    finally:
        await host.stop(grace=0)
    served = {s.name: s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER}
    echo, fail = served[f"{SERVICE}/Echo"], served[f"{SERVICE}/Fail"]
    for server in (echo, fail):
        assert server.context.trace_id == caller.get_span_context().trace_id
        assert server.parent is not None and server.parent.span_id == caller.get_span_context().span_id
    assert echo.attributes["rpc.grpc.status_code"] == grpc.StatusCode.OK.value[0]
    assert fail.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert fail.status.status_code is StatusCode.ERROR


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(buffer, format="PNG")
    return buffer.getvalue()


def _console_spans(log: str) -> list[dict[str, object]]:
    found = []
    for line in log.splitlines():
        if line.startswith("{") and '"trace_id"' in line:
            found.append(json.loads(line))
    return found


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    with launched(tmp_path / "logs") as started:
        yield started


async def test_one_gateway_request_is_one_trace_across_processes(
    spans: InMemorySpanExporter, launcher: Launcher
) -> None:
    emotion = launcher.emotion("emotion-traced", ["--trace-exporter", "console"])
    await launcher.serving(emotion)
    gateway = GatewayComponent(
        GatewaySettings(port=0, emotion_addresses=emotion.address, access_log=False, **OPEN_ACCESS)  # type: ignore[arg-type]
    )
    await gateway.start()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    try:
        async with aiohttp.ClientSession() as session:
            headers = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01", "Content-Type": "image/png"}
            async with session.post(f"{gateway.url}/models/emotion", data=_png(), headers=headers) as reply:
                assert reply.status == 200, await reply.text()
    finally:
        await gateway.stop()
    (edge,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert f"{edge.context.trace_id:032x}" == trace_id
    assert edge.parent is not None and f"{edge.parent.span_id:016x}" == "00f067aa0ba902b7"

    def classify_span() -> dict[str, object] | None:
        for recorded in _console_spans(emotion.log_text()):
            if str(recorded["name"]).endswith("EmotionService/Classify"):
                return recorded
        return None

    wait_until(lambda: classify_span() is not None, 10, "the emotion service's Classify span")
    recorded = classify_span()
    assert recorded is not None
    context = recorded["context"]
    assert isinstance(context, dict) and context["trace_id"] == f"0x{trace_id}"
    assert recorded["parent_id"] == f"0x{edge.context.span_id:016x}"
    assert EMOTION_HEALTH


async def test_service_spans_are_children_of_the_request(spans: InMemorySpanExporter) -> None:
    from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
    from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
    from tests.gateway.services import emotion_server, image_server

    async with emotion_server() as emotion, image_server() as image:
        async with open_channel(f"127.0.0.1:{emotion.port}", retry=False) as channel:
            stub = emotion_pb2_grpc.EmotionServiceStub(channel)
            request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=_png())])
            with tracing.tracer().start_as_current_span("client") as client:
                await stub.Classify(request, timeout=30)
        async with open_channel(f"127.0.0.1:{image.port}", retry=False) as channel:
            generate = image_pb2.GenerateRequest(prompt="a happy face", width=64, height=64, num_inference_steps=2)
            with tracing.tracer().start_as_current_span("painter") as painter:
                await image_pb2_grpc.ImageServiceStub(channel).Generate(generate, timeout=60)
    finished = spans.get_finished_spans()
    by_name = {s.name: s for s in finished}
    classify = by_name["emoflux.emotion.v1.EmotionService/Classify"]
    assert classify.parent is not None and classify.parent.span_id == client.get_span_context().span_id
    for name in ("emotion.prepare", "emotion.queue_wait", "emotion.batch"):
        child = by_name[name]
        assert child.context.trace_id == classify.context.trace_id and child.parent is not None
        assert child.parent.span_id == classify.context.span_id, name
    assert by_name["emotion.batch"].attributes["batch.size"] >= 1
    assert by_name["emotion.queue_wait"].end_time <= by_name["emotion.batch"].start_time
    generated = by_name["emoflux.image.v1.ImageService/Generate"]
    assert generated.context.trace_id == painter.get_span_context().trace_id
    run = by_name["image.batch"]
    assert run.parent is not None and run.parent.span_id == generated.context.span_id
    assert run.attributes["denoising.steps"] == 2 and "image.encode" in by_name
