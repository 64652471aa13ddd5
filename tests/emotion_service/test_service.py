"""The native EmotionService on a real server (port 0, tiny bundle, real ONNX Runtime)."""

from __future__ import annotations

import asyncio
import math
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2

from emotion_service.bundle import load_bundle
from emotion_service.preprocess import to_model_input
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2_grpc as pb_grpc
from tests.emotion_service.serving import (
    Served,
    SlowBackend,
    astronaut,
    distinct_image,
    encode,
    png_header_bomb,
    probabilities,
    raw_image,
    serve,
    settings_for,
    slow_factory,
    wait_for,
)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_astronaut_detect_finds_the_face_and_scores_sum_to_one(served: Served, tiny_bundle: Path) -> None:
    request = pb.ClassifyRequest(images=[pb.Image(data=encode(astronaut()))], face_mode=pb.FACE_MODE_DETECT)
    response = await served.stub.Classify(request, timeout=30)
    bundle = load_bundle(tiny_bundle)
    (result,) = response.results
    assert (result.index, result.width, result.height) == (0, 512, 512)
    assert len(result.faces) == 1
    face = result.faces[0]
    box = face.box
    # Haar finds the astronaut's face at about x=177, y=66, w=95, h=95.
    assert abs(box.x - 177) <= 12 and abs(box.y - 66) <= 12
    assert abs(box.width - 95) <= 15 and abs(box.height - 95) <= 15
    assert len(face.scores) == 7
    assert math.isclose(sum(s.score for s in face.scores), 1.0, abs_tol=1e-5)
    # Scores are sorted; label ids index the bundle's labels (the reference model's id2label order).
    assert [s.score for s in face.scores] == sorted((s.score for s in face.scores), reverse=True)
    assert all(bundle.labels[s.label_id] == s.label for s in face.scores)
    assert sorted(s.label_id for s in face.scores) == list(range(7))
    assert bundle.labels == ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")
    assert face.top_label == face.scores[0].label and face.top_score == face.scores[0].score
    assert face.detection_confidence == pytest.approx(1.0)
    # The response says what produced the scores.
    assert response.model == bundle.model_id
    assert response.backend == "onnxruntime"
    assert response.execution_provider == "CPUExecutionProvider"
    assert response.precision == "fp32"
    origin = {"random": 1, "synthetic-trained": 2, "pretrained": 3}[bundle.weights_origin]
    assert response.weights_origin == origin
    timings = response.timings
    assert 0 <= timings.queue_seconds <= timings.total_seconds
    assert 0 < timings.compute_seconds <= timings.total_seconds


async def test_whole_mode_and_detect_without_face(served: Served) -> None:
    blank = np.full((40, 60, 3), 200, dtype=np.uint8)
    whole = await served.stub.Classify(pb.ClassifyRequest(images=[raw_image(blank)]), timeout=10)
    (face,) = whole.results[0].faces
    assert (face.box.x, face.box.y, face.box.width, face.box.height) == (0, 0, 60, 40)
    detect = await served.stub.Classify(
        pb.ClassifyRequest(images=[raw_image(blank)], face_mode=pb.FACE_MODE_DETECT), timeout=10
    )
    assert len(detect.results) == 1 and len(detect.results[0].faces) == 0
    assert (detect.results[0].width, detect.results[0].height) == (60, 40)


async def test_scores_match_the_model_on_the_same_preprocessing(served: Served, tiny_bundle: Path) -> None:
    """Whole-image mode equals backend(to_model_input(image)) with a softmax, for fp32 and int8."""
    from emotion_service.backends import create_backend
    from emotion_service.preprocess import softmax

    bundle = load_bundle(tiny_bundle)
    image = distinct_image(7, size=90)
    tensor = to_model_input(image, bundle.preprocessing)[None]
    for precision in ("fp32", "int8"):
        expected = softmax(create_backend(bundle, device="cpu", precision=precision).run(tensor))[0]
        response = await served.stub.Classify(
            pb.ClassifyRequest(images=[pb.Image(data=encode(image))], precision=precision), timeout=10
        )
        assert response.precision == precision
        got = probabilities(response.results[0].faces[0], bundle.labels)
        np.testing.assert_allclose(got, expected, atol=1e-5)


async def test_top_k_and_threshold(served: Served) -> None:
    image = pb.Image(data=encode(distinct_image(3)))
    full = (await served.stub.Classify(pb.ClassifyRequest(images=[image]), timeout=10)).results[0].faces[0]
    top2 = (await served.stub.Classify(pb.ClassifyRequest(images=[image], top_k=2), timeout=10)).results[0].faces[0]
    assert [s.label for s in top2.scores] == [s.label for s in full.scores[:2]]
    # The contract: top_k larger than the number of labels returns all labels.
    many = (await served.stub.Classify(pb.ClassifyRequest(images=[image], top_k=50), timeout=10)).results[0].faces[0]
    assert len(many.scores) == 7
    threshold = (full.scores[1].score + full.scores[2].score) / 2
    above = await served.stub.Classify(pb.ClassifyRequest(images=[image], threshold=threshold, top_k=1), timeout=10)
    face = above.results[0].faces[0]
    assert list(face.labels_above_threshold) == [s.label for s in full.scores[:2]]
    assert len(face.scores) == 1
    assert list(full.labels_above_threshold) == []


async def test_several_images_keep_their_order(served: Served) -> None:
    images = [distinct_image(seed) for seed in range(5)]
    singles = []
    for image in images:
        response = await served.stub.Classify(pb.ClassifyRequest(images=[raw_image(image)]), timeout=10)
        singles.append(response.results[0].faces[0])
    together = await served.stub.Classify(pb.ClassifyRequest(images=[raw_image(i) for i in images]), timeout=10)
    assert [r.index for r in together.results] == list(range(5))
    for single, result in zip(singles, together.results, strict=True):
        assert result.faces[0].top_label == single.top_label
        assert result.faces[0].top_score == pytest.approx(single.top_score, abs=1e-5)


async def test_64_concurrent_clients_each_get_their_own_result(served: Served) -> None:
    labels = list((await served.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=5)).labels)
    images = [distinct_image(1000 + i) for i in range(64)]
    requests = [pb.ClassifyRequest(images=[raw_image(image)]) for image in images]
    alone = []
    for request in requests:
        response = await served.stub.Classify(request, timeout=10)
        alone.append(probabilities(response.results[0].faces[0], labels))
    reference = np.stack(alone)
    batches_before = served.metric("emoflux_emotion_batch_size_count", {"batcher": "fp32"})

    # 64 separate channels: 64 independent clients.
    channels = [grpc.aio.insecure_channel(served.address) for _ in range(64)]
    try:
        stubs = [pb_grpc.EmotionServiceStub(channel) for channel in channels]
        responses = await asyncio.gather(
            *(stub.Classify(request, timeout=30) for stub, request in zip(stubs, requests, strict=True))
        )
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    together = np.stack([probabilities(r.results[0].faces[0], labels) for r in responses])
    np.testing.assert_allclose(together, reference, atol=1e-4)
    # Every result is nearest to its own single-request result, not to another client's.
    distances = np.abs(together[:, None, :] - reference[None, :, :]).sum(-1)
    assert (distances.argmin(axis=1) == np.arange(64)).all()
    # ... and the requests really were batched together.
    batches = served.metric("emoflux_emotion_batch_size_count", {"batcher": "fp32"}) - batches_before
    assert batches < 64


async def test_onnx_and_torch_backends_agree_through_the_service(tiny_bundle: Path) -> None:
    images = [pb.Image(data=encode(distinct_image(i, size=80))) for i in range(3)]
    images.append(pb.Image(data=encode(astronaut())))
    request = pb.ClassifyRequest(images=images, face_mode=pb.FACE_MODE_DETECT)
    outputs = {}
    for backend in ("onnxruntime", "torch"):
        settings = settings_for(tiny_bundle, backend=backend, device="cpu", precisions=("fp32",))
        async with serve(settings) as server:
            response = await server.stub.Classify(request, timeout=60)
            info = await server.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=5)
        assert response.backend == backend
        labels = list(info.labels)
        outputs[backend] = [
            (face.box.x, face.box.y, face.box.width, face.box.height, probabilities(face, labels))
            for result in response.results
            for face in result.faces
        ]
    onnx, torch = outputs["onnxruntime"], outputs["torch"]
    assert len(onnx) == len(torch) >= 1
    for a, b in zip(onnx, torch, strict=True):
        assert a[:4] == b[:4]
        np.testing.assert_allclose(a[4], b[4], atol=1e-4)


async def test_model_info(served: Served, tiny_bundle: Path) -> None:
    bundle = load_bundle(tiny_bundle)
    info = await served.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=5)
    assert info.model == bundle.model_id
    assert tuple(info.labels) == bundle.labels
    assert (info.input_height, info.input_width) == (bundle.preprocessing.height, bundle.preprocessing.width)
    assert info.preprocessing.resize_method == bundle.preprocessing.resample == "bilinear"
    assert list(info.preprocessing.image_mean) == pytest.approx(bundle.preprocessing.image_mean)
    assert info.preprocessing.rescale_factor == pytest.approx(1 / 255)
    assert info.backend == "onnxruntime"
    assert list(info.execution_providers) == ["CPUExecutionProvider"]
    assert list(info.precisions) == ["fp32", "int8"] and info.default_precision == "fp32"
    assert info.provenance.source
    assert len(info.provenance.sha256) == 64
    assert info.provenance.sha256 == bundle.manifest["files"]["model.fp32.onnx"]["sha256"]
    assert info.provenance.opset > 0 and info.provenance.exporter
    assert info.provenance.library_versions["onnxruntime"]
    assert info.random_weights == (bundle.weights_origin == "random")
    if bundle.weights_origin == "synthetic-trained":
        assert info.weights_origin == pb.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED
        assert info.quality_domain == "synthetic faces"
    assert info.limits.max_images_per_request == served.component.settings.max_images_per_request
    assert info.batching.max_batch_size == 16
    assert info.batching.max_queue_delay_seconds == 0.0  # work-conserving: no face waits on an idle slot


async def test_health_not_serving_until_loaded_and_warmed(tiny_bundle: Path) -> None:
    from emotion_service.backends import create_backend

    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def held_factory(bundle, precision):  # type: ignore[no-untyped-def]
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(30)
        return create_backend(bundle, device="cpu", precision=precision)

    async with serve(settings_for(tiny_bundle, precisions=("fp32",)), backend_factory=held_factory, wait=False) as s:
        assert await s.health() == NOT_SERVING
        assert await s.health("emoflux.emotion.v1.EmotionService") == NOT_SERVING
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await s.stub.Classify(pb.ClassifyRequest(images=[raw_image(distinct_image(1))]), timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        release.set()
        await s.host.wait_ready(60)
        assert await s.health() == SERVING
        response = await s.stub.Classify(pb.ClassifyRequest(images=[raw_image(distinct_image(1))]), timeout=10)
        assert len(response.results[0].faces) == 1


# -- bad input: INVALID_ARGUMENT naming the field and limit, and the server stays SERVING -------------------
STRICT = {"max_images_per_request": 4, "max_request_bytes": 1_000_000, "max_pixels_per_image": 250_000}


@pytest.fixture
async def strict(tiny_bundle: Path) -> AsyncIterator[Served]:
    async with serve(settings_for(tiny_bundle, **STRICT)) as server:
        yield server


def _small() -> pb.Image:
    return raw_image(distinct_image(5, size=16))


BAD_REQUESTS = {
    "corrupt bytes": (pb.ClassifyRequest(images=[pb.Image(data=b"this is not an image")]), ["images[0]", "decodable"]),
    "truncated png": (
        pb.ClassifyRequest(images=[_small(), pb.Image(data=encode(distinct_image(1, size=64))[:200])]),
        ["images[1]"],
    ),
    "empty image": (pb.ClassifyRequest(images=[pb.Image(data=b"")]), ["images[0]", "empty"]),
    "no source": (pb.ClassifyRequest(images=[pb.Image()]), ["images[0]", "no source"]),
    "no images": (pb.ClassifyRequest(), ["images", "at least one"]),
    "too many images": (pb.ClassifyRequest(images=[_small()] * 5), ["max_images", "4"]),
    "bytes per request": (
        pb.ClassifyRequest(images=[raw_image(distinct_image(i, size=340)) for i in range(3)]),
        ["max_request_bytes", "1000000"],
    ),
    "pixels per image (raw)": (
        pb.ClassifyRequest(images=[raw_image(np.zeros((520, 520, 3), np.uint8))]),
        ["images[0]", "max_pixels", "250000"],
    ),
    "decompression bomb": (
        pb.ClassifyRequest(images=[pb.Image(data=png_header_bomb(60_000, 60_000))]),
        ["images[0]", "max_pixels", "250000"],
    ),
    "raw length mismatch": (
        pb.ClassifyRequest(images=[pb.Image(raw=pb.RawImage(width=10, height=10, rgb=b"\0" * 299))]),
        ["images[0]", "300"],
    ),
    "raw zero width": (
        pb.ClassifyRequest(images=[pb.Image(raw=pb.RawImage(width=0, height=10, rgb=b""))]),
        ["images[0]", "width"],
    ),
    "unknown precision": (pb.ClassifyRequest(images=[_small()], precision="fp64"), ["precision", "fp64"]),
    "threshold above 1": (pb.ClassifyRequest(images=[_small()], threshold=1.5), ["threshold", "[0, 1]"]),
    "threshold below 0": (pb.ClassifyRequest(images=[_small()], threshold=-0.1), ["threshold", "[0, 1]"]),
    "threshold NaN": (pb.ClassifyRequest(images=[_small()], threshold=float("nan")), ["threshold", "nan"]),
    "unknown face mode": (pb.ClassifyRequest(images=[_small()], face_mode=7), ["face_mode", "7"]),  # type: ignore[arg-type]
}


async def test_every_bad_input_is_invalid_argument_and_the_server_keeps_serving(strict: Served) -> None:
    failures_before = strict.metric(
        "emoflux_emotion_request_failures_total", {"api": "native", "reason": "invalid_argument"}
    )
    for name, (request, fragments) in BAD_REQUESTS.items():
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await strict.stub.Classify(request, timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{name}: {info.value.details()}"
        details = info.value.details() or ""
        for fragment in fragments:
            assert fragment in details, f"{name}: {fragment!r} not in {details!r}"
        assert await strict.health() == SERVING, name
    failures = strict.metric("emoflux_emotion_request_failures_total", {"api": "native", "reason": "invalid_argument"})
    assert failures - failures_before == len(BAD_REQUESTS)
    # A good request still works afterwards.
    response = await strict.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=10)
    assert len(response.results[0].faces) == 1


async def test_known_precision_that_is_not_loaded_is_not_found(served: Served) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await served.stub.Classify(pb.ClassifyRequest(images=[_small()], precision="fp16"), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "fp16" in (info.value.details() or "") and "fp32, int8" in (info.value.details() or "")


async def test_message_over_the_transport_limit_is_resource_exhausted(tiny_bundle: Path) -> None:
    settings = settings_for(tiny_bundle, precisions=("fp32",), max_message_bytes=64 * 1024)
    async with serve(settings) as server:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await server.stub.Classify(pb.ClassifyRequest(images=[pb.Image(data=b"x" * 100_000)]), timeout=10)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert await server.health() == SERVING


# -- queue: deadline, cancellation, overflow ---------------------------------------------------------------
async def test_deadline_drops_queued_work_before_compute(tiny_bundle: Path) -> None:
    made: list[SlowBackend] = []
    settings = settings_for(tiny_bundle, precisions=("fp32",), max_batch_size=1, max_queue_size=64)
    async with serve(settings, backend_factory=slow_factory(0.6, made)) as server:
        (backend,) = made
        rows_before = backend.rows
        backend.running.clear()
        first = asyncio.ensure_future(server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=30))
        await wait_for(backend.running.is_set)  # the first request is now running (0.6 s)
        late = [
            server.stub.Classify(pb.ClassifyRequest(images=[raw_image(distinct_image(i, 16))]), timeout=0.2)
            for i in range(4)
        ]
        results = await asyncio.gather(*late, return_exceptions=True)
        assert all(isinstance(r, grpc.aio.AioRpcError) for r in results)
        assert {r.code() for r in results if isinstance(r, grpc.aio.AioRpcError)} == {grpc.StatusCode.DEADLINE_EXCEEDED}
        await first
        await asyncio.sleep(0.3)
        # Only the first request's face was computed; the four expired ones were dropped from the queue.
        assert backend.rows - rows_before == 1
        assert server.dropped() >= 4


async def test_cancelled_requests_are_dropped_before_compute(tiny_bundle: Path) -> None:
    made: list[SlowBackend] = []
    settings = settings_for(tiny_bundle, precisions=("fp32",), max_batch_size=1, max_queue_size=64)
    async with serve(settings, backend_factory=slow_factory(0.6, made)) as server:
        (backend,) = made
        rows_before = backend.rows
        backend.running.clear()
        first = server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=30)
        await wait_for(backend.running.is_set)
        calls = [server.stub.Classify(pb.ClassifyRequest(images=[raw_image(distinct_image(i, 16))])) for i in range(4)]
        await wait_for(lambda: server.component.runtime.batchers["fp32"].queue_depth == 4)
        for call in calls:
            call.cancel()
        await first
        await asyncio.sleep(0.3)
        assert backend.rows - rows_before == 1
        assert server.metric("emoflux_emotion_dropped_items_total", {"batcher": "fp32", "reason": "cancelled"}) >= 4


async def test_queue_overflow_is_resource_exhausted_at_once(tiny_bundle: Path) -> None:
    made: list[SlowBackend] = []
    settings = settings_for(tiny_bundle, precisions=("fp32",), max_batch_size=1, max_queue_size=2)
    async with serve(settings, backend_factory=slow_factory(0.0, made)) as server:
        (backend,) = made
        backend.running.clear()
        backend.gate.clear()  # the backend holds the first batch until the refusal has come back
        running = server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=60)
        await wait_for(backend.running.is_set)
        queued = [server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=60) for _ in range(2)]
        await wait_for(lambda: server.component.runtime.batchers["fp32"].queue_depth == 2)
        rows_before = backend.rows
        # "At once": refused while the backend is still held, so the server did not wait for room (waiting
        # would run into this call's deadline and fail as DEADLINE_EXCEEDED instead).
        try:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=20)
            assert not running.done() and backend.rows == rows_before
        finally:
            backend.gate.set()
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_queue_size" in (info.value.details() or "")
        assert server.metric("emoflux_emotion_rejected_items_total", {"batcher": "fp32"}) == 1
        # The admitted requests still complete.
        for call in (running, *queued):
            assert len((await call).results[0].faces) == 1
        assert await server.health() == SERVING


async def test_a_refused_request_is_never_decoded_and_failed_decodes_give_their_room_back(tiny_bundle: Path) -> None:
    made: list[SlowBackend] = []
    settings = settings_for(tiny_bundle, precisions=("fp32",), max_batch_size=1, max_queue_size=2)
    async with serve(settings, backend_factory=slow_factory(0.0, made)) as server:
        (backend,) = made
        runtime = server.component.runtime
        prepared: list[int] = []
        preparer = runtime._preparer
        original = preparer.prepare

        def counting(image: object, index: int, face_mode: str) -> object:
            prepared.append(index)
            return original(image, index, face_mode)  # type: ignore[arg-type]

        object.__setattr__(preparer, "prepare", counting)
        # An undecodable image fails after its room was taken: the room comes back.
        with pytest.raises(grpc.aio.AioRpcError) as bad:
            await server.stub.Classify(pb.ClassifyRequest(images=[pb.Image(data=b"not an image")]), timeout=20)
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        runtime.batchers["fp32"].reserve(2).release()  # the whole queue is free again
        backend.running.clear()
        backend.gate.clear()
        running = server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=60)
        await wait_for(backend.running.is_set)
        queued = [server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=60) for _ in range(2)]
        await wait_for(lambda: runtime.batchers["fp32"].queue_depth == 2)
        decoded_before = len(prepared)
        try:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=20)
        finally:
            backend.gate.set()
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert len(prepared) == decoded_before, "the refused request's image was decoded"
        for call in (running, *queued):
            assert len((await call).results[0].faces) == 1


async def test_a_flooding_connection_is_held_to_its_share_and_another_still_gets_in(tiny_bundle: Path) -> None:
    made: list[SlowBackend] = []
    settings = settings_for(
        tiny_bundle, precisions=("fp32",), max_batch_size=1, max_queue_size=8, max_queue_per_client=2
    )
    async with serve(settings, backend_factory=slow_factory(0.0, made)) as server:
        (backend,) = made
        batcher = server.component.runtime.batchers["fp32"]
        backend.running.clear()
        backend.gate.clear()
        running = server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=60)
        await wait_for(backend.running.is_set)
        flood = [server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=60) for _ in range(2)]
        await wait_for(lambda: batcher.queue_depth == 2)
        try:
            with pytest.raises(grpc.aio.AioRpcError) as over:
                await server.stub.Classify(pb.ClassifyRequest(images=[_small()]), timeout=20)
            # Another connection (another client) still finds room although the flooder is refused. (A local
            # subchannel pool: channels of one process would otherwise share the first one's connection.)
            async with grpc.aio.insecure_channel(
                server.address, options=[("grpc.use_local_subchannel_pool", 1)]
            ) as other:
                light = pb_grpc.EmotionServiceStub(other).Classify(pb.ClassifyRequest(images=[_small()]), timeout=60)
                await wait_for(lambda: batcher.queue_depth == 3)
                backend.gate.set()
                assert len((await light).results[0].faces) == 1
        finally:
            backend.gate.set()
        assert over.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_queue_per_client 2" in (over.value.details() or "")
        for call in (running, *flood):
            assert len((await call).results[0].faces) == 1


async def test_batching_off_keeps_requests_in_their_own_batches(tiny_bundle: Path) -> None:
    made: list[SlowBackend] = []
    settings = settings_for(tiny_bundle, precisions=("fp32",), batching=False, max_batch_size=8)
    async with serve(settings, backend_factory=slow_factory(0.05, made)) as server:
        (backend,) = made
        backend.batches.clear()
        requests = [pb.ClassifyRequest(images=[_small()] * n) for n in (1, 2, 3, 2)]
        await asyncio.gather(*(server.stub.Classify(r, timeout=30) for r in requests))
        assert sorted(backend.batches) == [1, 2, 2, 3]


# -- stream ----------------------------------------------------------------------------------------------
async def test_classify_stream_matches_ids_and_reports_item_errors(served: Served) -> None:
    items = [
        pb.ClassifyStreamRequest(request_id="a", request=pb.ClassifyRequest(images=[raw_image(distinct_image(1))])),
        pb.ClassifyStreamRequest(request_id="bad", request=pb.ClassifyRequest(images=[pb.Image(data=b"junk")])),
        pb.ClassifyStreamRequest(request_id="b", request=pb.ClassifyRequest(images=[raw_image(distinct_image(2))])),
        pb.ClassifyStreamRequest(request_id="x" * 200, request=pb.ClassifyRequest(images=[_small()])),
        pb.ClassifyStreamRequest(request_id="nope", request=pb.ClassifyRequest(images=[_small()], precision="fp16")),
        pb.ClassifyStreamRequest(
            request_id="c", request=pb.ClassifyRequest(images=[pb.Image(data=encode(astronaut()))], face_mode=2)
        ),
    ]

    async def send() -> AsyncIterator[pb.ClassifyStreamRequest]:
        for item in items:
            yield item
            await asyncio.sleep(0.01)

    responses = {r.request_id: r async for r in served.stub.ClassifyStream(send(), timeout=60)}
    assert set(responses) == {item.request_id for item in items}
    for ok in ("a", "b", "c"):
        assert responses[ok].WhichOneof("outcome") == "response"
    assert len(responses["c"].response.results[0].faces) == 1
    bad = responses["bad"].error
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and "images[0]" in bad.message
    assert responses["x" * 200].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "128" in responses["x" * 200].error.message
    assert responses["nope"].error.code == grpc.StatusCode.NOT_FOUND.value[0]
    # Stream results equal the unary results.
    unary = await served.stub.Classify(items[0].request, timeout=10)
    assert responses["a"].response.results[0].faces[0].top_label == unary.results[0].faces[0].top_label
    assert await served.health() == SERVING


async def test_metrics_endpoint(served: Served) -> None:
    await served.stub.Classify(
        pb.ClassifyRequest(images=[pb.Image(data=encode(astronaut())), raw_image(distinct_image(1))], face_mode=2),
        timeout=30,
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await served.stub.Classify(pb.ClassifyRequest(images=[pb.Image(data=b"junk")]), timeout=10)
    url = f"http://127.0.0.1:{served.host.metrics_port}/metrics"
    text = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
    for name in (
        'emoflux_emotion_requests_total{api="native"}',
        'emoflux_emotion_request_failures_total{api="native",reason="invalid_argument"}',
        "emoflux_emotion_faces_per_image_bucket",
        'emoflux_emotion_batch_size_bucket{batcher="fp32"',
        'emoflux_emotion_queue_wait_seconds_bucket{batcher="fp32"',
        'emoflux_emotion_batch_compute_seconds_bucket{batcher="fp32"',
        'emoflux_emotion_queue_depth{batcher="fp32"}',
        "emoflux_emotion_preprocess_seconds_bucket",
        "emoflux_emotion_model_info{",
        "grpc_server_handled_total",
    ):
        assert name in text, name
    # One image had one face, the other none.
    assert served.metric("emoflux_emotion_faces_per_image_bucket", {"le": "0.0"}) >= 1
    assert served.metric("emoflux_emotion_faces_per_image_bucket", {"le": "1.0"}) >= 2
