"""KServe v2 (inference.GRPCInferenceService) on a real server, with tritonclient and our own stubs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest
import tritonclient.grpc.aio as triton_aio
from tritonclient.grpc import InferInput, InferRequestedOutput
from tritonclient.utils import InferenceServerException

from emotion_service.bundle import load_bundle
from emotion_service.preprocess import to_model_input
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from servicekit.pb.inference import grpc_service_pb2 as kpb
from tests.emotion_service.serving import Served, distinct_image, probabilities, raw_image, serve, settings_for

MODEL = "emotion"


@pytest.fixture
async def client(served: Served) -> AsyncIterator[triton_aio.InferenceServerClient]:
    triton = triton_aio.InferenceServerClient(served.address)
    yield triton
    await triton.close()


def _pixels(tiny_bundle: Path, seeds: list[int]) -> np.ndarray:
    prep = load_bundle(tiny_bundle).preprocessing
    return np.stack([to_model_input(distinct_image(seed, size=40), prep) for seed in seeds])


def _request(pixels: np.ndarray, *, raw: bool = True, **fields: object) -> kpb.ModelInferRequest:
    request = kpb.ModelInferRequest(model_name=MODEL, **fields)  # type: ignore[arg-type]
    tensor = request.inputs.add(name="pixel_values", datatype="FP32", shape=list(pixels.shape))
    if raw:
        request.raw_input_contents.append(pixels.astype("<f4").tobytes())
    else:
        tensor.contents.fp32_contents.extend(pixels.ravel().tolist())
    return request


async def test_tritonclient_health_metadata_and_config(
    client: triton_aio.InferenceServerClient, tiny_bundle: Path
) -> None:
    bundle = load_bundle(tiny_bundle)
    h, w = bundle.preprocessing.height, bundle.preprocessing.width
    assert await client.is_server_live()
    assert await client.is_server_ready()
    assert await client.is_model_ready(MODEL)
    assert await client.is_model_ready(MODEL, "1")
    server = await client.get_server_metadata(as_json=True)
    assert "statistics" in server["extensions"] and server["name"]
    meta = await client.get_model_metadata(MODEL, as_json=True)
    assert meta["name"] == MODEL and meta["versions"] == ["1"] and meta["platform"] == "onnxruntime_onnx"
    assert meta["inputs"] == [{"name": "pixel_values", "datatype": "FP32", "shape": ["-1", "3", str(h), str(w)]}]
    assert meta["outputs"] == [{"name": "probabilities", "datatype": "FP32", "shape": ["-1", str(len(bundle.labels))]}]
    config = (await client.get_model_config(MODEL, as_json=True))["config"]
    assert config["max_batch_size"] == 16
    assert config["input"][0]["name"] == "pixel_values" and config["input"][0]["dims"] == ["3", str(h), str(w)]
    assert config["input"][0]["data_type"] == "TYPE_FP32"
    assert config["output"][0]["name"] == "probabilities" and config["output"][0]["dims"] == ["7"]
    # Work-conserving batching is Triton's zero delay (proto3 JSON leaves the zero out).
    assert "max_queue_delay_microseconds" not in config["dynamic_batching"]
    assert config["dynamic_batching"]["default_queue_policy"]["max_queue_size"] == 1024


async def test_tritonclient_infer_matches_the_native_api(
    served: Served, client: triton_aio.InferenceServerClient, tiny_bundle: Path
) -> None:
    bundle = load_bundle(tiny_bundle)
    seeds = [11, 12, 13]
    pixels = _pixels(tiny_bundle, seeds)
    inputs = [InferInput("pixel_values", list(pixels.shape), "FP32")]
    inputs[0].set_data_from_numpy(pixels)
    result = await client.infer(MODEL, inputs, outputs=[InferRequestedOutput("probabilities")], request_id="r1")
    probs = result.as_numpy("probabilities")
    assert probs is not None and probs.shape == (3, 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert result.get_response().id == "r1"
    # The native API on the same pixels (whole-image mode, images already at the model's size ... or not:
    # the native path resizes 40x40 -> model size exactly as to_model_input did).
    native = await served.stub.Classify(pb.ClassifyRequest(images=[raw_image(distinct_image(s, 40)) for s in seeds]))
    expected = np.stack([probabilities(r.faces[0], bundle.labels) for r in native.results])
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    # int8 through the emoflux "precision" parameter.
    result8 = await client.infer(MODEL, inputs, parameters={"precision": "int8"})
    probs8 = result8.as_numpy("probabilities")
    assert probs8 is not None and not np.array_equal(probs8, probs)
    np.testing.assert_allclose(probs8, probs, atol=0.05)


async def test_typed_contents_equal_raw_contents(served: Served, tiny_bundle: Path) -> None:
    pixels = _pixels(tiny_bundle, [3, 4])
    raw = await served.kserve.ModelInfer(_request(pixels, raw=True), timeout=10)
    typed = await served.kserve.ModelInfer(_request(pixels, raw=False), timeout=10)
    assert raw.outputs[0].name == typed.outputs[0].name == "probabilities"
    assert list(raw.outputs[0].shape) == [2, 7]
    assert raw.raw_output_contents[0] == typed.raw_output_contents[0]
    assert raw.model_version == "1"


async def test_infer_errors(served: Served, tiny_bundle: Path) -> None:
    pixels = _pixels(tiny_bundle, [1])
    h, w = pixels.shape[2:]
    both = _request(pixels)
    both.inputs[0].contents.fp32_contents.extend(pixels.ravel().tolist())
    wrong_output = _request(pixels)
    wrong_output.outputs.add(name="logits")
    cases: dict[str, tuple[kpb.ModelInferRequest, grpc.StatusCode, str]] = {
        "unknown model": (_request(pixels, model_version=""), grpc.StatusCode.NOT_FOUND, "'emotion'"),
        "unknown version": (_request(pixels, model_version="7"), grpc.StatusCode.NOT_FOUND, "version"),
        "datatype": (
            kpb.ModelInferRequest(
                model_name=MODEL,
                inputs=[
                    kpb.ModelInferRequest.InferInputTensor(name="pixel_values", datatype="FP16", shape=[1, 3, h, w])
                ],
                raw_input_contents=[pixels.astype(np.float16).tobytes()],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "FP16",
        ),
        "shape": (_request(pixels.reshape(1, 3, w, h)[:, :, :-1]), grpc.StatusCode.INVALID_ARGUMENT, "shape"),
        "rank": (_request(pixels[0]), grpc.StatusCode.INVALID_ARGUMENT, "shape"),
        "byte length": (
            kpb.ModelInferRequest(
                model_name=MODEL,
                inputs=[
                    kpb.ModelInferRequest.InferInputTensor(name="pixel_values", datatype="FP32", shape=[2, 3, h, w])
                ],
                raw_input_contents=[pixels.astype("<f4").tobytes()],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "bytes",
        ),
        "typed count": (
            kpb.ModelInferRequest(
                model_name=MODEL,
                inputs=[
                    kpb.ModelInferRequest.InferInputTensor(
                        name="pixel_values",
                        datatype="FP32",
                        shape=[1, 3, h, w],
                        contents=kpb.InferTensorContents(fp32_contents=[0.0] * 10),
                    )
                ],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "fp32_contents",
        ),
        "input name": (
            kpb.ModelInferRequest(
                model_name=MODEL,
                inputs=[kpb.ModelInferRequest.InferInputTensor(name="image", datatype="FP32", shape=[1, 3, h, w])],
                raw_input_contents=[pixels.astype("<f4").tobytes()],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "'image'",
        ),
        "both contents": (both, grpc.StatusCode.INVALID_ARGUMENT, "not both"),
        "batch too large": (
            _request(np.zeros((17, 3, h, w), np.float32)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "max_batch_size 16",
        ),
        "output name": (wrong_output, grpc.StatusCode.INVALID_ARGUMENT, "'logits'"),
    }
    cases["unknown model"][0].model_name = "resnet"
    for name, (request, code, fragment) in cases.items():
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await served.kserve.ModelInfer(request, timeout=10)
        assert info.value.code() == code, f"{name}: {info.value.details()}"
        assert fragment in (info.value.details() or ""), f"{name}: {info.value.details()}"
    for rpc, request in (
        (served.kserve.ModelMetadata, kpb.ModelMetadataRequest(name="resnet")),
        (served.kserve.ModelConfig, kpb.ModelConfigRequest(name=MODEL, version="2")),
        (served.kserve.ModelReady, kpb.ModelReadyRequest(name="resnet")),
        (served.kserve.ModelStatistics, kpb.ModelStatisticsRequest(name="resnet")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await rpc(request, timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await served.kserve.ServerReady(kpb.ServerReadyRequest(), timeout=5)).ready
    invalid = sum(code == grpc.StatusCode.INVALID_ARGUMENT for _, code, _ in cases.values())
    labels = {"api": "kserve", "reason": "invalid_argument"}
    assert served.metric("emoflux_emotion_request_failures_total", labels) == invalid


async def test_shape_is_checked_once_whatever_the_encoding(served: Served, tiny_bundle: Path) -> None:
    """Wire form first (negative dims, data vs declared shape), then the model's shape, for raw and typed data."""
    pixels = _pixels(tiny_bundle, [1])
    negative = _request(pixels)
    negative.inputs[0].shape[0] = -1
    cases = {
        "negative": (negative, "negative dimension"),
        "typed wrong shape": (_request(pixels[:, :, :-1], raw=False), "does not match"),
        "typed too many rows": (
            _request(np.zeros((17, *pixels.shape[1:]), np.float32), raw=False),
            "max_batch_size 16",
        ),
        "empty batch": (_request(np.zeros((0, *pixels.shape[1:]), np.float32)), "does not match"),
    }
    for name, (request, fragment) in cases.items():
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await served.kserve.ModelInfer(request, timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{name}: {info.value.details()}"
        assert fragment in (info.value.details() or ""), f"{name}: {info.value.details()}"


async def test_tritonclient_reports_errors(client: triton_aio.InferenceServerClient) -> None:
    inputs = [InferInput("pixel_values", [1, 3, 5, 5], "FP32")]
    inputs[0].set_data_from_numpy(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(InferenceServerException, match="shape"):
        await client.infer(MODEL, inputs)


async def test_stream_infer_ids_and_in_band_errors(served: Served, tiny_bundle: Path) -> None:
    pixels = _pixels(tiny_bundle, [5, 6])
    bad = _request(pixels[:1], id="bad")
    bad.inputs[0].datatype = "INT8"
    requests = [_request(pixels[:1], id="one"), bad, _request(pixels, id="two")]

    async def send() -> AsyncIterator[kpb.ModelInferRequest]:
        for request in requests:
            yield request
            await asyncio.sleep(0.01)

    responses = [r async for r in served.kserve.ModelStreamInfer(send(), timeout=30)]
    by_id = {r.infer_response.id: r for r in responses}
    assert set(by_id) == {"one", "bad", "two"}
    assert by_id["bad"].error_message.startswith("INVALID_ARGUMENT") and "INT8" in by_id["bad"].error_message
    assert by_id["one"].error_message == "" and list(by_id["one"].infer_response.outputs[0].shape) == [1, 7]
    assert list(by_id["two"].infer_response.outputs[0].shape) == [2, 7]
    one = np.frombuffer(by_id["one"].infer_response.raw_output_contents[0], "<f4")
    two = np.frombuffer(by_id["two"].infer_response.raw_output_contents[0], "<f4").reshape(2, 7)
    np.testing.assert_allclose(one, two[0], atol=1e-5)


async def test_statistics_count_requests_batches_and_durations(
    served: Served, client: triton_aio.InferenceServerClient, tiny_bundle: Path
) -> None:
    pixels = _pixels(tiny_bundle, [1])
    inputs = [InferInput("pixel_values", list(pixels.shape), "FP32")]
    inputs[0].set_data_from_numpy(pixels)
    await asyncio.gather(*(client.infer(MODEL, inputs) for _ in range(8)))
    with pytest.raises(InferenceServerException):
        await client.infer("emotion", inputs, model_version="3")
    stats = (await client.get_inference_statistics(MODEL, as_json=True))["model_stats"]
    assert len(stats) == 1
    model = stats[0]
    assert model["name"] == MODEL and model["version"] == "1"
    assert int(model["inference_count"]) >= 8
    assert 1 <= int(model["execution_count"]) <= int(model["inference_count"])
    infer_stats = model["inference_stats"]
    assert int(infer_stats["success"]["count"]) >= 8 and int(infer_stats["success"]["ns"]) > 0
    assert int(infer_stats["fail"]["count"]) >= 1
    assert int(infer_stats["queue"]["count"]) >= 8 and int(infer_stats["queue"]["ns"]) > 0
    assert int(infer_stats["compute_infer"]["ns"]) > 0
    sizes = {int(b["batch_size"]) for b in model["batch_stats"]}
    assert sizes and all(1 <= s <= 16 for s in sizes)
    assert int(model["last_inference"]) > 0
    everything = await client.get_inference_statistics(as_json=True)
    assert [m["name"] for m in everything["model_stats"]] == [MODEL]


async def test_model_not_ready_while_loading(tiny_bundle: Path) -> None:
    from emotion_service.backends import create_backend

    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def held_factory(bundle, precision):  # type: ignore[no-untyped-def]
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(30)
        return create_backend(bundle, device="cpu", precision=precision)

    settings = settings_for(tiny_bundle, precisions=("fp32",))
    async with serve(settings, backend_factory=held_factory, wait=False) as server:
        assert (await server.kserve.ServerLive(kpb.ServerLiveRequest(), timeout=5)).live
        assert not (await server.kserve.ServerReady(kpb.ServerReadyRequest(), timeout=5)).ready
        assert not (await server.kserve.ModelReady(kpb.ModelReadyRequest(name=MODEL), timeout=5)).ready
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await server.kserve.ModelInfer(_request(np.zeros((1, 3, 8, 8), np.float32)), timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        release.set()
        await server.host.wait_ready(60)
        assert (await server.kserve.ModelReady(kpb.ModelReadyRequest(name=MODEL), timeout=5)).ready


async def test_kserve_and_native_share_one_batcher(tiny_bundle: Path) -> None:
    from tests.emotion_service.serving import SlowBackend, slow_factory

    made: list[SlowBackend] = []
    # Triton-style delay: a batch of 5 goes as soon as 5 items wait; nothing smaller goes before the 10 s delay.
    settings = settings_for(
        tiny_bundle, precisions=("fp32",), max_batch_size=5, max_queue_delay_ms=10_000.0, work_conserving=False
    )
    async with serve(settings, backend_factory=slow_factory(0.0, made)) as server:
        (backend,) = made
        backend.batches.clear()
        pixels = _pixels(tiny_bundle, [1, 2])
        native = server.stub.Classify(pb.ClassifyRequest(images=[raw_image(distinct_image(9))] * 3), timeout=10)
        kserve = server.kserve.ModelInfer(_request(pixels), timeout=10)
        await asyncio.gather(native, kserve)
        # Three faces and two rows from two clients and two APIs: one batch of 5.
        assert backend.batches == [5]


async def test_non_finite_rows_do_not_leak_into_other_rows(tiny_bundle: Path) -> None:
    """perf_analyzer sends random bytes (NaN, inf) by default: accepted, and confined to their own row."""
    from emotion_service.backends import create_backend
    from emotion_service.preprocess import softmax

    # Triton-style delay: a batch of 3 goes as soon as 3 rows wait; nothing smaller goes before the 10 s delay.
    settings = settings_for(
        tiny_bundle, precisions=("fp32",), max_batch_size=3, max_queue_delay_ms=10_000.0, work_conserving=False
    )
    pixels = _pixels(tiny_bundle, [21, 22])
    expected = softmax(create_backend(load_bundle(tiny_bundle), device="cpu").run(pixels))
    async with serve(settings) as server:
        poisoned = np.full((1, *pixels.shape[1:]), np.nan, np.float32)
        poisoned[0, 1] = np.inf
        clean, dirty = await asyncio.gather(
            server.kserve.ModelInfer(_request(pixels), timeout=30),
            server.kserve.ModelInfer(_request(poisoned), timeout=30),
        )
        assert server.component.runtime.batchers["fp32"].batches_run == 1  # both shared one batch
    got = np.frombuffer(clean.raw_output_contents[0], "<f4").reshape(2, 7)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert not np.isfinite(np.frombuffer(dirty.raw_output_contents[0], "<f4")).all()


# -- work-conserving batching, end to end ------------------------------------------------------------------
async def test_lone_request_runs_on_an_idle_slot_whatever_the_delay(tiny_bundle: Path) -> None:
    """The default formation: a 10-minute delay setting does not hold a lone request on an idle slot."""
    from tests.emotion_service.serving import SlowBackend, slow_factory

    made: list[SlowBackend] = []
    settings = settings_for(tiny_bundle, precisions=("fp32",), max_batch_size=8, max_queue_delay_ms=600_000.0)
    async with serve(settings, backend_factory=slow_factory(0.0, made)) as server:
        (backend,) = made
        backend.batches.clear()
        async with asyncio.timeout(60):  # turns waiting out the delay into a failure; measures nothing
            for seeds in ([1], [2, 3]):
                reply = await server.kserve.ModelInfer(_request(_pixels(tiny_bundle, seeds)), timeout=60)
                assert list(reply.outputs[0].shape) == [len(seeds), 7]
        assert backend.batches == [1, 2]


async def test_requests_arriving_while_the_model_is_busy_form_full_batches(tiny_bundle: Path) -> None:
    """One request holds the only slot; twelve more queue behind it and go as batches of 8 and 4."""
    from tests.emotion_service.serving import SlowBackend, slow_factory, wait_for

    made: list[SlowBackend] = []
    settings = settings_for(tiny_bundle, precisions=("fp32",), max_batch_size=8, max_queue_delay_ms=600_000.0)
    async with serve(settings, backend_factory=slow_factory(0.0, made)) as server:
        (backend,) = made
        gate = threading.Event()
        inner_run = backend.run

        def gated_run(pixels: np.ndarray) -> np.ndarray:
            gate.wait(60)
            return inner_run(pixels)

        backend.run = gated_run  # type: ignore[method-assign]
        backend.batches.clear()
        batcher = server.component.runtime.batchers["fp32"]
        async with asyncio.timeout(60):
            first = asyncio.ensure_future(server.kserve.ModelInfer(_request(_pixels(tiny_bundle, [0])), timeout=60))
            await wait_for(lambda: len(batcher._running) == 1 and batcher.queue_depth == 0, timeout=60)
            rest = [
                asyncio.ensure_future(server.kserve.ModelInfer(_request(_pixels(tiny_bundle, [s])), timeout=60))
                for s in range(1, 13)
            ]
            await wait_for(lambda: batcher.queue_depth == 12, timeout=60)
            gate.set()
            await asyncio.gather(first, *rest)
        assert backend.batches == [1, 8, 4]
