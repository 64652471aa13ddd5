"""The image service end to end: a real server on port 0 running the embedded tiny-flux pipeline."""

from __future__ import annotations

import asyncio
import io
import math
import urllib.request
from collections.abc import AsyncIterator

import grpc
import numpy as np
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from image_service.encoding import png_text
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
from tests.image_service.conftest import Server, decode, running_server, server_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")
SERVICE = "emoflux.image.v1.ImageService"
LONG_RUN_STEPS = 400  # enough steps that stopping early is unmistakable


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[Server]:
    async with running_server(server_settings()) as srv:
        yield srv


def request(**fields) -> image_pb2.GenerateRequest:
    fields.setdefault("prompt", "a happy face")
    fields.setdefault("width", 64)
    fields.setdefault("height", 64)
    fields.setdefault("num_inference_steps", 2)
    return image_pb2.GenerateRequest(**fields)


async def serving(server: Server) -> int:
    stub = health_pb2_grpc.HealthStub(server.channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE))
    return reply.status


@pytest.mark.parametrize("size", [64, 256])
async def test_generates_pngs_of_the_requested_size(server: Server, size: int) -> None:
    reply = await server.stub.Generate(request(width=size, height=size, seed=3))
    (image,) = reply.images
    assert (image.width, image.height, image.format) == (size, size, image_pb2.OUTPUT_FORMAT_PNG)
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert decoded.format == "PNG" and decoded.size == (size, size) and decoded.mode == "RGB"
    text = png_text(image.data)
    assert text["prompt"] == "a happy face" and text["seed"] == "3" and text["steps"] == "2"
    assert text["variant"] == "tiny-flux" == reply.variant
    assert reply.backend == "torch" and reply.num_inference_steps == 2 and reply.batch_size == 1
    assert reply.weights_origin in (image_pb2.WEIGHTS_ORIGIN_RANDOM, image_pb2.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED)
    t = reply.timings
    assert 0 < t.run_seconds <= t.total_seconds and t.seconds_per_step > 0 and t.queue_seconds >= 0


async def test_same_seed_same_bytes_different_seeds_differ(server: Server) -> None:
    first = await server.stub.Generate(request(seed=11))
    again = await server.stub.Generate(request(seed=11))
    other = await server.stub.Generate(request(seed=12))
    assert first.images[0].data == again.images[0].data
    assert first.images[0].data != other.images[0].data
    assert np.abs(decode(first.images[0].data) - decode(other.images[0].data)).max() > 10


async def test_unseeded_requests_get_a_seed_that_reproduces_them(server: Server) -> None:
    reply = await server.stub.Generate(request(num_images=2))
    seeds = [i.seed for i in reply.images]
    assert seeds[1] == seeds[0] + 1
    repeat = await server.stub.Generate(request(num_images=2, seed=seeds[0]))
    assert [i.data for i in repeat.images] == [i.data for i in reply.images]
    # Alone (batch of 1 instead of 2) the second image is the same up to float rounding (1 level of 255).
    alone = await server.stub.Generate(request(seed=seeds[1]))
    assert np.abs(decode(alone.images[0].data) - decode(reply.images[1].data)).max() <= 1


async def test_jpeg_and_webp_with_quality(server: Server) -> None:
    for fmt, name in ((image_pb2.OUTPUT_FORMAT_JPEG, "JPEG"), (image_pb2.OUTPUT_FORMAT_WEBP, "WEBP")):
        low = await server.stub.Generate(request(seed=1, output_format=fmt, quality=5, width=128, height=128))
        high = await server.stub.Generate(request(seed=1, output_format=fmt, quality=100, width=128, height=128))
        assert low.images[0].format == fmt
        assert Image.open(io.BytesIO(low.images[0].data)).format == name
        assert len(low.images[0].data) < len(high.images[0].data)


async def test_stream_reports_ordered_steps_then_completion(server: Server) -> None:
    events = [
        e
        async for e in server.stub.GenerateStream(
            image_pb2.GenerateStreamRequest(
                request=request(num_inference_steps=5, seed=4), previews=True, preview_size=32
            )
        )
    ]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[0] == "queued" and kinds[-1] == "completed"
    assert kinds.index("started") < kinds.index("step")
    steps = [e.step for e in events if e.WhichOneof("event") == "step"]
    assert [s.step for s in steps] == [1, 2, 3, 4, 5] and {s.total_steps for s in steps} == {5}
    elapsed = [s.elapsed_seconds for s in steps]
    assert elapsed == sorted(elapsed) and elapsed[0] > 0
    assert all(max(Image.open(io.BytesIO(s.preview)).size) == 32 for s in steps)
    completed = events[-1].completed.response
    plain = await server.stub.Generate(request(num_inference_steps=5, seed=4))
    assert completed.images[0].data == plain.images[0].data


async def test_list_variants(server: Server) -> None:
    reply = await server.stub.ListVariants(image_pb2.ListVariantsRequest())
    names = [v.name for v in reply.variants]
    assert names == sorted(names) and reply.default_variant == "tiny-flux"
    assert {"flux.1-schnell", "flux.1-dev", "flux.1-kontext-dev", "flux.2-klein-4b", "tiny-flux"} <= set(names)
    by_name = {v.name: v for v in reply.variants}
    tiny = by_name["tiny-flux"]
    assert tiny.loaded and tiny.backend == "torch" and tiny.limits.max_images == 4
    assert tiny.random_weights == (tiny.weights_origin == image_pb2.WEIGHTS_ORIGIN_RANDOM)
    schnell = by_name["flux.1-schnell"]
    assert not schnell.loaded and schnell.defaults.num_inference_steps == 4 and schnell.license == "apache-2.0"
    assert image_pb2.CAPABILITY_IMAGE_EDITING in by_name["flux.1-kontext-dev"].capabilities
    assert by_name["flux.2-klein-4b"].limits.max_reference_images > 1


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


BAD_REQUESTS = [
    (request(prompt=""), "prompt"),
    (request(width=100), "width"),
    (request(height=1024), "height"),
    (request(width=512, height=512), "width*height"),
    (request(num_inference_steps=100000), "num_inference_steps"),
    (request(guidance_scale=math.nan), "guidance_scale"),
    (request(guidance_scale=1000.0), "guidance_scale"),
    (request(num_images=5), "num_images"),
    (request(quality=101, output_format=image_pb2.OUTPUT_FORMAT_JPEG), "quality"),
    (request(output_format=9), "output_format"),
    (request(reference_images=[png_bytes()]), "reference_images"),
    (request(strength=0.5), "strength"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_REQUESTS, ids=[f for _, f in BAD_REQUESTS])
async def test_bad_input_is_invalid_argument_and_server_keeps_serving(server: Server, bad, field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await server.stub.Generate(bad)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith(f"{field}:")
    # The stream refuses with the same status before any event.
    with pytest.raises(grpc.aio.AioRpcError) as streamed:
        async for _ in server.stub.GenerateStream(image_pb2.GenerateStreamRequest(request=bad)):
            pytest.fail("no event may precede a validation error")
    assert streamed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await serving(server) == health_pb2.HealthCheckResponse.SERVING


async def test_long_prompts_are_truncated_and_say_so(server: Server) -> None:
    reply = await server.stub.Generate(request(prompt=" ".join(["happy face"] * 300), seed=1))
    assert reply.prompt_truncated and reply.prompt_tokens > 0
    short = await server.stub.Generate(request(prompt="a happy face", seed=1))
    assert not short.prompt_truncated and 0 < short.prompt_tokens < reply.prompt_tokens


async def test_unknown_and_unloaded_variants(server: Server) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await server.stub.Generate(request(variant="flux.9"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as unloaded:
        await server.stub.Generate(request(variant="flux.1-dev"))
    assert unloaded.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as preview:
        async for _ in server.stub.GenerateStream(image_pb2.GenerateStreamRequest(request=request(), preview_size=600)):
            pass
    assert preview.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "preview_size" in preview.value.details()
    assert await serving(server) == health_pb2.HealthCheckResponse.SERVING


async def start_blocker(server: Server, seed: int = 99) -> tuple[grpc.aio.UnaryStreamCall, int]:
    """A long run (different size from the others, so nothing joins it); returns once it has started."""
    call = server.stub.GenerateStream(
        image_pb2.GenerateStreamRequest(
            request=request(width=80, height=80, num_inference_steps=LONG_RUN_STEPS, seed=seed)
        )
    )
    async for event in call:
        if event.WhichOneof("event") == "step":
            return call, event.step.step
    raise AssertionError("the blocking run never started")


async def wait_for(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.01)


async def test_compatible_requests_share_one_run_and_keep_their_own_images(server: Server) -> None:
    runs_before = server.metric("emoflux_image_pipeline_runs_total", variant="tiny-flux", backend="torch")
    four_before = server.metric("emoflux_image_requests_per_run_bucket", variant="tiny-flux", le="4.0")
    three_before = server.metric("emoflux_image_requests_per_run_bucket", variant="tiny-flux", le="2.0")
    blocker, _ = await start_blocker(server)
    prompts = ["a happy face", "a sad face", "an angry face", "a surprised face"]
    calls = [asyncio.ensure_future(server.stub.Generate(request(prompt=p, seed=100 + i, num_inference_steps=3)))
             for i, p in enumerate(prompts)]  # fmt: skip
    await wait_for(lambda: server.component.runtime.batcher.queue_depth == 4)
    assert server.metric("emoflux_image_queue_depth", batcher="generation") == 4
    blocker.cancel()
    replies = await asyncio.gather(*calls)
    assert [r.batch_size for r in replies] == [4, 4, 4, 4]
    runs = server.metric("emoflux_image_pipeline_runs_total", variant="tiny-flux", backend="torch") - runs_before
    assert runs == 2  # the blocker's run and ONE run for all four
    assert server.metric("emoflux_image_requests_per_run_bucket", variant="tiny-flux", le="4.0") - four_before == 2
    assert server.metric("emoflux_image_requests_per_run_bucket", variant="tiny-flux", le="2.0") - three_before == 1
    assert len({r.images[0].data for r in replies}) == 4
    for i, (prompt, reply) in enumerate(zip(prompts, replies, strict=True)):
        assert png_text(reply.images[0].data)["prompt"] == prompt
        alone = await server.stub.Generate(request(prompt=prompt, seed=100 + i, num_inference_steps=3))
        assert alone.batch_size == 1
        # Same seed alone vs batched: equal up to float rounding of the batched matmuls (1 level of 255).
        assert np.abs(decode(alone.images[0].data) - decode(reply.images[0].data)).max() <= 1
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{server.host.metrics_port}/metrics", timeout=10).read().decode()
    assert 'emoflux_image_requests_per_run_bucket{le="4.0",variant="tiny-flux"}' in metrics


async def test_cancelling_the_only_request_stops_the_run_early(server: Server) -> None:
    labels = {"variant": "tiny-flux", "backend": "torch"}
    steps_before = server.metric("emoflux_image_denoising_steps_total", **labels)
    interrupted_before = server.metric("emoflux_image_interrupted_runs_total", **labels)
    call, _ = await start_blocker(server)
    call.cancel()
    await wait_for(lambda: server.metric("emoflux_image_interrupted_runs_total", **labels) > interrupted_before)
    steps_run = server.metric("emoflux_image_denoising_steps_total", **labels) - steps_before
    assert 1 <= steps_run < LONG_RUN_STEPS / 4
    assert server.metric("emoflux_image_cancellations_total", variant="tiny-flux", stage="running",
                         reason="cancelled") >= 1  # fmt: skip
    # The slot is free again: a small request goes straight through.
    reply = await server.stub.Generate(request(seed=1), timeout=60)
    assert reply.timings.queue_seconds < 1.0


async def test_expired_deadline_stops_the_run(server: Server) -> None:
    labels = {"variant": "tiny-flux", "backend": "torch"}
    before = server.metric("emoflux_image_interrupted_runs_total", **labels)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await server.stub.Generate(request(num_inference_steps=LONG_RUN_STEPS, width=80, height=80), timeout=1.0)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await wait_for(lambda: server.metric("emoflux_image_interrupted_runs_total", **labels) > before)
    assert server.metric("emoflux_image_cancellations_total", variant="tiny-flux", stage="running",
                         reason="deadline") >= 1  # fmt: skip


async def test_full_queue_is_resource_exhausted(server: Server) -> None:
    blocker, _ = await start_blocker(server)
    fill = [asyncio.ensure_future(server.stub.Generate(request(num_images=4, seed=s))) for s in (1, 2)]
    await wait_for(lambda: server.component.runtime.batcher.queue_depth == 8)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await server.stub.Generate(request())
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "queue full" in info.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as streamed:
        async for _ in server.stub.GenerateStream(image_pb2.GenerateStreamRequest(request=request())):
            pass
    assert streamed.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert server.metric("emoflux_image_rejected_items_total", batcher="generation") >= 2
    for task in fill:
        task.cancel()
    blocker.cancel()
    await asyncio.gather(*fill, return_exceptions=True)
    await wait_for(lambda: server.component.runtime.batcher.queue_depth == 0)
    assert await serving(server) == health_pb2.HealthCheckResponse.SERVING


async def test_queued_position_is_reported(server: Server) -> None:
    blocker, _ = await start_blocker(server)
    call = server.stub.GenerateStream(image_pb2.GenerateStreamRequest(request=request(seed=5)))
    first = await call.read()
    assert first.WhichOneof("event") == "queued" and first.queued.position == 0
    blocker.cancel()
    kinds = []
    while (event := await call.read()) is not grpc.aio.EOF:
        kinds.append(event.WhichOneof("event"))
    assert kinds[-1] == "completed" and "started" in kinds


async def test_queued_position_moves_up_when_a_job_ahead_leaves(server: Server) -> None:
    blocker, _ = await start_blocker(server)
    ahead = server.stub.GenerateStream(image_pb2.GenerateStreamRequest(request=request(seed=5)))
    assert (await ahead.read()).queued.position == 0
    behind = server.stub.GenerateStream(image_pb2.GenerateStreamRequest(request=request(seed=6)))
    first = await behind.read()
    assert first.WhichOneof("event") == "queued" and first.queued.position == 1
    last = server.stub.GenerateStream(image_pb2.GenerateStreamRequest(request=request(seed=7)))
    assert (await last.read()).queued.position == 2
    last.cancel()  # leaving from behind changes nobody's position: no event for the others
    await wait_for(lambda: len(server.component.runtime.batcher.queued()) == 2)
    ahead.cancel()
    moved = await asyncio.wait_for(behind.read(), 30)
    assert moved.WhichOneof("event") == "queued" and moved.queued.position == 0
    blocker.cancel()
    kinds = []
    while (event := await behind.read()) is not grpc.aio.EOF:
        kinds.append(event.WhichOneof("event"))
    assert "queued" not in kinds  # position 0 is told once, not again when the run starts
    assert kinds[0] == "started" and kinds[-1] == "completed"
    await wait_for(lambda: server.component.runtime.batcher.queue_depth == 0)


async def test_a_client_over_its_image_share_is_refused_while_another_connection_is_queued() -> None:
    async with running_server(server_settings(max_queue_images_per_client=4)) as server:
        blocker, _ = await start_blocker(server)
        mine = asyncio.ensure_future(server.stub.Generate(request(num_images=4, seed=1)))
        await wait_for(lambda: server.component.runtime.batcher.queue_depth == 4)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await server.stub.Generate(request(seed=2))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_queue_per_client 4" in (info.value.details() or "")
        # Another connection (an anonymous client is its connection) still finds room in the queue.
        own = [("grpc.use_local_subchannel_pool", 1)]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.host.port}", options=own) as other:
            theirs = asyncio.ensure_future(image_pb2_grpc.ImageServiceStub(other).Generate(request(seed=3)))
            await wait_for(lambda: server.component.runtime.batcher.queue_depth == 5)
            blocker.cancel()
            replies = await asyncio.gather(mine, theirs)
        assert [len(r.images) for r in replies] == [4, 1]


async def test_the_pipeline_thread_yields_to_the_event_loop() -> None:
    import os
    import threading

    base = os.getpriority(os.PRIO_PROCESS, 0)
    earlier = set(threading.enumerate())  # other tests' servers may leave their pipeline threads behind
    async with running_server(server_settings(compute_nice=5)) as server:
        await server.stub.Generate(request(seed=1))
        pipeline = [t for t in threading.enumerate() if t.name.startswith("pipeline") and t not in earlier]
        assert pipeline and all(
            os.getpriority(os.PRIO_PROCESS, t.native_id or 0) == min(19, base + 5) for t in pipeline
        )
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
