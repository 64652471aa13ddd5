"""Runtime logic without gRPC: ranking, option checks, timings, statistics, stream helper, settings, runtime."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from emotion_service.domain import (
    ClassifyOptions,
    FaceScores,
    ImageInput,
    RawPixels,
    labels_above,
    ranked_scores,
    request_timings,
    validate_options,
)
from emotion_service.metrics import EmotionMetrics
from emotion_service.runtime import EmotionRuntime
from emotion_service.settings import EmotionSettings
from emotion_service.statistics import InferenceStats
from emotion_service.streaming import answer_concurrently
from servicekit.errors import DeadlineExceeded, InvalidInput, NotFound, NotReady, Overloaded
from servicekit.rpc import deadline_from
from tests.emotion_service.serving import distinct_image, settings_for

LABELS = ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")


def test_ranked_scores_sorts_by_score_then_label_id() -> None:
    p = np.array([0.1, 0.3, 0.1, 0.3, 0.05, 0.1, 0.05], dtype=np.float32)
    ranked = ranked_scores(p, LABELS, 0)
    assert [s.label_id for s in ranked] == [1, 3, 0, 2, 5, 4, 6]
    assert [s.label for s in ranked[:2]] == ["disgust", "neutral"]
    assert [s.label_id for s in ranked_scores(p, LABELS, 3)] == [1, 3, 0]
    assert len(ranked_scores(p, LABELS, 99)) == 7


def test_labels_above_threshold() -> None:
    p = np.array([0.5, 0.2, 0.2, 0.04, 0.03, 0.02, 0.01], dtype=np.float32)
    assert labels_above(p, LABELS, 0.0) == ()
    assert labels_above(p, LABELS, 0.2) == ("sad", "disgust", "angry")
    assert labels_above(p, LABELS, 0.6) == ()


@pytest.mark.parametrize(
    ("options", "error", "fragment"),
    [
        (ClassifyOptions(face_mode="sideways"), InvalidInput, "face_mode"),
        (ClassifyOptions(top_k=-1), InvalidInput, "top_k"),
        (ClassifyOptions(threshold=1.01), InvalidInput, "threshold"),
        (ClassifyOptions(threshold=-0.01), InvalidInput, "threshold"),
        (ClassifyOptions(threshold=math.nan), InvalidInput, "threshold"),
        (ClassifyOptions(threshold=math.inf), InvalidInput, "threshold"),
        (ClassifyOptions(precision="bf16"), InvalidInput, "precision"),
        (ClassifyOptions(precision="fp16"), NotFound, "not loaded"),
    ],
)
def test_bad_options(options: ClassifyOptions, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        validate_options(options, ("fp32", "int8"))


def test_good_options() -> None:
    for options in (ClassifyOptions(), ClassifyOptions("detect", 3, 1.0, "int8"), ClassifyOptions(threshold=0.0)):
        validate_options(options, ("fp32", "int8"))


def test_request_timings_count_each_batch_once() -> None:
    z = np.zeros(7, np.float32)
    scores = [
        FaceScores(z, z, 0.01, 0.5, batch_id=1, batch_size=2),
        FaceScores(z, z, 0.03, 0.5, batch_id=1, batch_size=2),
        FaceScores(z, z, 0.02, 0.25, batch_id=2, batch_size=1),
    ]
    timings = request_timings(scores, started=0.0)
    assert timings.queue_seconds == pytest.approx(0.03)
    assert timings.compute_seconds == pytest.approx(0.75)
    assert timings.total_seconds > 0


def test_deadline_from_time_remaining() -> None:
    assert deadline_from(None) is None
    assert deadline_from(math.inf) is None
    d = deadline_from(2.0)
    assert d is not None


def test_inference_stats() -> None:
    stats = InferenceStats()
    stats.record_batch([0.001, 0.002], 0.0001, 0.01, 0.0002)
    stats.record_batch([0.003], 0.0001, 0.006, 0.0001)
    stats.record_request(True, 0.02)
    stats.record_request(False, 0.001)
    snap = stats.snapshot()
    assert snap.execution_count == 2 and snap.inference_count == 3
    assert snap.queue == (3, 6_000_000)
    assert snap.compute_infer[0] == 3 and snap.compute_infer[1] == pytest.approx(26_000_000, abs=10)
    assert snap.success == (1, 20_000_000) and snap.fail == (1, 1_000_000)
    assert set(snap.batches) == {1, 2}
    assert snap.batches[2][1] == (1, 10_000_000)
    assert snap.last_inference_ms > 0


async def _items(values: list[float]) -> AsyncIterator[float]:
    for value in values:
        yield value


async def test_answer_concurrently_answers_in_completion_order() -> None:
    async def handle(delay: float) -> float:
        await asyncio.sleep(delay)
        return delay

    answers = [a async for a in answer_concurrently(_items([0.2, 0.0, 0.1]), handle, max_outstanding=10)]
    assert answers == [0.0, 0.1, 0.2]


async def test_answer_concurrently_limits_outstanding_items() -> None:
    async def handle(delay: float) -> float:
        await asyncio.sleep(delay)
        return delay

    with pytest.raises(Overloaded, match="outstanding"):
        async for _ in answer_concurrently(_items([0.5, 0.5, 0.5]), handle, max_outstanding=2):
            pass


async def test_answer_concurrently_empty_stream_ends() -> None:
    async def handle(value: float) -> float:
        return value

    assert [a async for a in answer_concurrently(_items([]), handle, max_outstanding=1)] == []


# -- settings --------------------------------------------------------------------------------------------
def test_settings_defaults_env_and_flags() -> None:
    defaults = EmotionSettings.load([], env={})
    assert (defaults.port, defaults.metrics_port) == (50051, 9101)
    assert defaults.precisions == ("fp32",) and defaults.resolved_default_precision == "fp32"
    env = {"EMOTION_PRECISIONS": "fp32,int8", "EMOTION_MAX_BATCH_SIZE": "8", "EMOTION_BATCHING": "off"}
    loaded = EmotionSettings.load(["--default-precision", "int8", "--max-queue-delay-ms", "1.5"], env=env)
    assert loaded.precisions == ("fp32", "int8") and loaded.resolved_default_precision == "int8"
    assert loaded.max_batch_size == 8 and loaded.batching is False
    assert loaded.max_queue_delay_s == pytest.approx(0.0015)
    assert defaults.work_conserving and defaults.effective_queue_delay_s == 0.0
    delayed = EmotionSettings.load(["--no-work-conserving", "--max-queue-delay-ms", "1.5"], env={})
    assert delayed.effective_queue_delay_s == pytest.approx(0.0015)
    assert EmotionSettings.load([], env={"EMOTION_WORK_CONSERVING": "false"}).work_conserving is False


def test_every_setting_is_documented() -> None:
    table = EmotionSettings.describe()
    for name in ("bundle", "backend", "device", "precisions", "max_queue_delay_ms", "face_margin", "kserve_model_name"):
        assert f"`--{name.replace('_', '-')}`" in table and f"EMOTION_{name.upper()}" in table
    for line in table.splitlines()[2:]:
        assert line.rstrip(" |").split("|")[-1].strip(), f"undocumented: {line}"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--precisions", "fp64"], "precisions"),
        (["--precisions", "fp32", "--default-precision", "int8"], "default_precision"),
        (["--max-batch-size", "0"], "max_batch_size"),
        (["--max-batch-size", "64", "--max-queue-size", "32"], "max_queue_size"),
        (["--preferred-batch-sizes", "4,64"], "preferred_batch_sizes"),
        (["--face-scale-factor", "1.0"], "face_scale_factor"),
        (["--max-queue-delay-ms", "-1"], "max_queue_delay_ms"),
        (["--threads", "-2"], "threads"),
    ],
)
def test_bad_settings_name_the_field(argv: list[str], fragment: str) -> None:
    with pytest.raises(SystemExit, match=fragment):
        EmotionSettings.load(argv, env={})


# -- the runtime in-process (real ONNX Runtime) ------------------------------------------------------------
async def test_runtime_without_grpc(tiny_bundle: Path) -> None:
    settings = settings_for(tiny_bundle)
    runtime = EmotionRuntime(settings, EmotionMetrics(CollectorRegistry()))
    with pytest.raises(NotReady):
        await runtime.classify([ImageInput(data=b"x")], ClassifyOptions())
    await runtime.load()
    try:
        image = distinct_image(4, size=32)
        raw = ImageInput(raw=RawPixels(32, 32, image.tobytes()))
        result = await runtime.classify([raw, raw], ClassifyOptions(top_k=2, precision="int8"))
        assert result.precision == "int8"
        assert [r.index for r in result.images] == [0, 1]
        first, second = (r.faces[0] for r in result.images)
        assert len(first.scores) == 2
        assert first.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(first.probabilities, second.probabilities, atol=1e-6)
        prep = runtime.bundle.preprocessing
        tensor = np.zeros((3, 3, prep.height, prep.width), np.float32)
        out = await runtime.infer_tensor(tensor)
        assert out.probabilities.shape == (3, 7) and out.precision == "fp32"
        with pytest.raises(InvalidInput, match="pixel_values"):
            await runtime.infer_tensor(np.zeros((1, 3, 5, 5), np.float32))
        assert runtime.stats.snapshot().inference_count >= 5
    finally:
        await runtime.close()
    with pytest.raises(NotReady, match="shutting down"):
        await runtime.classify([raw], ClassifyOptions())


async def test_a_passed_deadline_is_the_batchers_to_enforce(tiny_bundle: Path) -> None:
    """A request whose deadline passed is refused by the batcher before compute, counted as a deadline drop."""
    registry = CollectorRegistry()
    runtime = EmotionRuntime(settings_for(tiny_bundle), EmotionMetrics(registry))
    await runtime.load()
    try:
        raw = ImageInput(raw=RawPixels(32, 32, distinct_image(4, size=32).tobytes()))
        await runtime.classify([raw], ClassifyOptions())
        executed = runtime.stats.snapshot().inference_count
        with pytest.raises(DeadlineExceeded):
            await runtime.classify([raw, raw], ClassifyOptions(), deadline=time.monotonic() - 1.0)
        for _ in range(200):  # the owner task prunes the expired faces on its next pass
            dropped = registry.get_sample_value(
                "emoflux_emotion_dropped_items_total", {"batcher": "fp32", "reason": "deadline"}
            )
            if dropped == 2:
                break
            await asyncio.sleep(0.01)
        assert dropped == 2
        assert runtime.stats.snapshot().inference_count == executed  # nothing computed for it
    finally:
        await runtime.close()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread niceness is Linux's")
async def test_compute_threads_yield_to_the_event_loop(tiny_bundle: Path) -> None:
    import os
    import threading

    def threads() -> dict[int, tuple[str, int]]:
        """Every OS thread: its Python name (native threads, such as ONNX Runtime's, have none) and niceness."""
        names = {t.native_id: t.name for t in threading.enumerate()}
        tids = [int(tid) for tid in os.listdir("/proc/self/task")]
        return {tid: (names.get(tid, ""), os.getpriority(os.PRIO_PROCESS, tid)) for tid in tids}

    base = os.getpriority(os.PRIO_PROCESS, 0)
    before = threads()
    settings = settings_for(tiny_bundle, precisions=("fp32",), compute_nice=6, threads=2)
    runtime = EmotionRuntime(settings, EmotionMetrics(CollectorRegistry()))
    await runtime.load()
    try:
        await runtime.classify([ImageInput(raw=RawPixels(16, 16, bytes(16 * 16 * 3)))], ClassifyOptions())
        started = {tid: v for tid, v in threads().items() if tid not in before}
        niced = min(19, base + 6)
        pools = {
            tid: nice for tid, (name, nice) in started.items() if name.startswith(("emotion-prep", "emotion-infe"))
        }
        assert pools and set(pools.values()) == {niced}
        # ONNX Runtime's own workers (2 intra-op threads: the caller and one more) are niced too.
        native = {tid: nice for tid, (name, nice) in started.items() if not name}
        assert native and set(native.values()) == {niced}
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the event loop's thread
    finally:
        await runtime.close()
