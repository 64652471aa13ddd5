"""Wire compatibility of ``servicekit.pb.inference`` with tritonclient's KServe v2 stubs.

tritonclient ships its own generated ``inference`` modules (``tritonclient.grpc.service_pb2``,
``model_config_pb2``). Ours are written from the public specification, so these tests check
that every message and field we define has the same name, number and type as theirs, that
bytes produced by one parse identically with the other, and that tritonclient's real client
works against a server built from our stubs. Importing both in one process also checks that
our private descriptor pool avoids the duplicate-symbol clash in protobuf's default pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import numpy as np
import pytest
import tritonclient.grpc as triton
from google.protobuf import descriptor, json_format
from google.protobuf.message import Message
from tritonclient.grpc import _utils as triton_utils
from tritonclient.grpc import model_config_pb2 as theirs_mc
from tritonclient.grpc import service_pb2 as theirs
from tritonclient.utils import InferenceServerException

from servicekit.pb.inference import POOL
from servicekit.pb.inference import grpc_service_pb2 as ours
from servicekit.pb.inference import grpc_service_pb2_grpc as ours_grpc
from servicekit.pb.inference import model_config_pb2 as ours_mc

THEIR_POOL = theirs.DESCRIPTOR.pool

# Fields of ModelConfig (and what they contain) that perf_analyzer and tritonclient read.
PERF_ANALYZER_CONFIG_FIELDS = {
    "ModelConfig": {
        "name",
        "platform",
        "backend",
        "max_batch_size",
        "input",
        "output",
        "dynamic_batching",
        "model_transaction_policy",
        "response_cache",
    },
    "ModelInput": {"name", "data_type", "format", "dims", "reshape", "is_shape_tensor", "optional"},
    "ModelOutput": {"name", "data_type", "dims", "reshape", "is_shape_tensor"},
    "ModelDynamicBatching": {"preferred_batch_size", "max_queue_delay_microseconds"},
}


def _all_messages(fd: descriptor.FileDescriptor) -> Iterator[descriptor.Descriptor]:
    """Every message type of a file, nested ones included (map entries too)."""
    stack = list(fd.message_types_by_name.values())
    while stack:
        msg = stack.pop()
        yield msg
        stack.extend(msg.nested_types)


def _all_enums(fd: descriptor.FileDescriptor) -> Iterator[descriptor.EnumDescriptor]:
    yield from fd.enum_types_by_name.values()
    for msg in _all_messages(fd):
        yield from msg.enum_types


def _field_signature(f: descriptor.FieldDescriptor) -> tuple[Any, ...]:
    """What decides a field's wire encoding and its name in generated code and JSON."""
    return (
        f.name,
        f.number,
        f.type,
        f.label == f.LABEL_REPEATED,
        f.message_type.full_name if f.message_type else None,
        f.enum_type.full_name if f.enum_type else None,
        f.containing_oneof.name if f.containing_oneof else None,
    )


OUR_FILES = [ours_mc.DESCRIPTOR, ours.DESCRIPTOR]
OUR_MESSAGES = sorted({m.full_name for fd in OUR_FILES for m in _all_messages(fd)})
OUR_ENUMS = sorted({e.full_name for fd in OUR_FILES for e in _all_enums(fd)})


def test_stubs_live_in_the_private_pool_not_the_default_one() -> None:
    assert ours.ModelInferRequest.DESCRIPTOR.file.pool is POOL
    assert POOL.FindMessageTypeByName("inference.ModelInferRequest") is ours.ModelInferRequest.DESCRIPTOR
    # tritonclient's definition still owns the default pool's entry.
    assert THEIR_POOL.FindMessageTypeByName("inference.ModelInferRequest").file.name == "grpc_service.proto"


@pytest.mark.parametrize("full_name", OUR_MESSAGES)
def test_message_fields_match_tritonclient(full_name: str) -> None:
    mine = POOL.FindMessageTypeByName(full_name)
    theirs_msg = THEIR_POOL.FindMessageTypeByName(full_name)
    their_fields = {f.number: f for f in theirs_msg.fields}
    for f in mine.fields:
        assert f.number in their_fields, f"{full_name}.{f.name} = {f.number} does not exist in tritonclient"
        assert _field_signature(f) == _field_signature(their_fields[f.number])
    if mine.file.name == "inference/grpc_service.proto":
        # grpc_service messages are complete copies, not subsets.
        assert {f.number for f in mine.fields} == set(their_fields), full_name


@pytest.mark.parametrize("full_name", OUR_ENUMS)
def test_enum_values_match_tritonclient(full_name: str) -> None:
    mine = POOL.FindEnumTypeByName(full_name)
    theirs_enum = THEIR_POOL.FindEnumTypeByName(full_name)
    assert [(v.name, v.number) for v in mine.values] == [(v.name, v.number) for v in theirs_enum.values]


def test_model_config_has_the_fields_perf_analyzer_reads() -> None:
    for name, wanted in PERF_ANALYZER_CONFIG_FIELDS.items():
        have = set(POOL.FindMessageTypeByName(f"inference.{name}").fields_by_name)
        assert wanted <= have, f"{name} lacks {sorted(wanted - have)}"


def test_service_methods_match_tritonclient() -> None:
    mine = POOL.FindServiceByName("inference.GRPCInferenceService")
    theirs_svc = THEIR_POOL.FindServiceByName("inference.GRPCInferenceService")
    expected = {
        "ServerLive",
        "ServerReady",
        "ModelReady",
        "ServerMetadata",
        "ModelMetadata",
        "ModelInfer",
        "ModelStreamInfer",
        "ModelConfig",
        "ModelStatistics",
    }
    assert set(mine.methods_by_name) == expected
    for m in mine.methods:
        t = theirs_svc.methods_by_name[m.name]
        assert (m.input_type.full_name, m.output_type.full_name) == (t.input_type.full_name, t.output_type.full_name)
        assert (m.client_streaming, m.server_streaming) == (t.client_streaming, t.server_streaming)


def _assert_same_wire(a: Message, b: Message) -> None:
    """Both messages encode to the same bytes and read back as the same JSON."""
    assert a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)
    assert json_format.MessageToDict(a) == json_format.MessageToDict(b)


def test_infer_request_built_by_tritonclient_parses_with_ours() -> None:
    image = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4) / 7
    ids = np.array([[1, -2, 3]], dtype=np.int64)
    text = np.array([b"hello", b"\x00\xff"], dtype=np.object_)
    inputs = [
        triton.InferInput("pixel_values", list(image.shape), "FP32"),
        triton.InferInput("ids", list(ids.shape), "INT64"),
        triton.InferInput("text", list(text.shape), "BYTES"),
    ]
    inputs[0].set_data_from_numpy(image)
    inputs[1].set_data_from_numpy(ids)
    inputs[2].set_data_from_numpy(text)
    outputs = [triton.InferRequestedOutput("logits", class_count=3)]
    request = triton_utils._get_inference_request(
        model_name="vit",
        inputs=inputs,
        model_version="1",
        request_id="req-7",
        outputs=outputs,
        sequence_id=42,
        sequence_start=True,
        sequence_end=False,
        priority=2,
        timeout=1000,
        parameters={"custom": 1.5, "flag": True, "name": "x"},
    )
    parsed = ours.ModelInferRequest.FromString(request.SerializeToString())

    assert (parsed.model_name, parsed.model_version, parsed.id) == ("vit", "1", "req-7")
    assert [i.name for i in parsed.inputs] == ["pixel_values", "ids", "text"]
    assert [i.datatype for i in parsed.inputs] == ["FP32", "INT64", "BYTES"]
    assert list(parsed.inputs[0].shape) == [2, 3, 4]
    np.testing.assert_array_equal(np.frombuffer(parsed.raw_input_contents[0], dtype=np.float32).reshape(2, 3, 4), image)
    np.testing.assert_array_equal(np.frombuffer(parsed.raw_input_contents[1], dtype=np.int64), ids.ravel())
    assert parsed.parameters["sequence_id"].int64_param == 42
    assert parsed.parameters["sequence_start"].bool_param is True
    assert parsed.parameters["priority"].uint64_param == 2
    assert parsed.parameters["custom"].double_param == 1.5
    assert parsed.parameters["name"].string_param == "x"
    assert parsed.outputs[0].name == "logits"
    assert parsed.outputs[0].parameters["classification"].int64_param == 3
    _assert_same_wire(parsed, request)


def _config_response() -> ours.ModelConfigResponse:
    return ours.ModelConfigResponse(
        config=ours_mc.ModelConfig(
            name="vit",
            platform="onnxruntime_onnx",
            backend="onnxruntime",
            max_batch_size=32,
            input=[
                ours_mc.ModelInput(
                    name="pixel_values",
                    data_type=ours_mc.TYPE_FP32,
                    format=ours_mc.ModelInput.FORMAT_NCHW,
                    dims=[3, 224, 224],
                    reshape=ours_mc.ModelTensorReshape(shape=[3, 224, 224]),
                    optional=True,
                )
            ],
            output=[ours_mc.ModelOutput(name="logits", data_type=ours_mc.TYPE_FP32, dims=[7])],
            dynamic_batching=ours_mc.ModelDynamicBatching(
                preferred_batch_size=[8, 16],
                max_queue_delay_microseconds=2000,
                default_queue_policy=ours_mc.ModelQueuePolicy(max_queue_size=256),
                priority_queue_policy={1: ours_mc.ModelQueuePolicy(timeout_action=ours_mc.ModelQueuePolicy.DELAY)},
            ),
            instance_group=[ours_mc.ModelInstanceGroup(name="cpu", kind=ours_mc.ModelInstanceGroup.KIND_CPU, count=1)],
            parameters={"precision": ours_mc.ModelParameter(string_value="int8")},
            model_transaction_policy=ours_mc.ModelTransactionPolicy(decoupled=False),
            response_cache=ours_mc.ModelResponseCache(enable=False),
        )
    )


def _statistics_response() -> ours.ModelStatisticsResponse:
    d = ours.StatisticDuration
    return ours.ModelStatisticsResponse(
        model_stats=[
            ours.ModelStatistics(
                name="vit",
                version="1",
                last_inference=1_790_000_000_000,
                inference_count=64,
                execution_count=4,
                inference_stats=ours.InferStatistics(
                    success=d(count=64, ns=9_000_000),
                    fail=d(count=1, ns=10),
                    queue=d(count=64, ns=1_000_000),
                    compute_input=d(count=4, ns=200),
                    compute_infer=d(count=4, ns=7_000_000),
                    compute_output=d(count=4, ns=300),
                    cache_miss=d(count=2, ns=5),
                ),
                batch_stats=[ours.InferBatchStatistics(batch_size=16, compute_infer=d(count=4, ns=7_000_000))],
                memory_usage=[ours.MemoryUsage(type="CPU", id=0, byte_size=1 << 20)],
                response_stats={"0": ours.InferResponseStatistics(success=d(count=3, ns=9))},
            )
        ]
    )


def _stream_response() -> ours.ModelStreamInferResponse:
    out = np.linspace(0, 1, 7, dtype=np.float32)
    return ours.ModelStreamInferResponse(
        error_message="",
        infer_response=ours.ModelInferResponse(
            model_name="vit",
            model_version="1",
            id="req-1",
            parameters={"triton_final_response": ours.InferParameter(bool_param=True)},
            outputs=[ours.ModelInferResponse.InferOutputTensor(name="logits", datatype="FP32", shape=[1, 7])],
            raw_output_contents=[out.tobytes()],
        ),
    )


@pytest.mark.parametrize(
    ("build", "their_cls"),
    [
        (_config_response, theirs.ModelConfigResponse),
        (_statistics_response, theirs.ModelStatisticsResponse),
        (_stream_response, theirs.ModelStreamInferResponse),
        (
            lambda: ours.ServerMetadataResponse(
                name="emoflux", version="0.1.0", extensions=["model_configuration", "statistics"]
            ),
            theirs.ServerMetadataResponse,
        ),
        (
            lambda: ours.ModelMetadataResponse(
                name="vit",
                versions=["1"],
                platform="onnxruntime_onnx",
                inputs=[ours.ModelMetadataResponse.TensorMetadata(name="x", datatype="FP32", shape=[-1, 3, 224, 224])],
                outputs=[ours.ModelMetadataResponse.TensorMetadata(name="y", datatype="FP32", shape=[-1, 7])],
            ),
            theirs.ModelMetadataResponse,
        ),
    ],
    ids=[
        "ModelConfigResponse",
        "ModelStatisticsResponse",
        "ModelStreamInferResponse",
        "ServerMetadata",
        "ModelMetadata",
    ],
)
def test_our_responses_parse_identically_with_tritonclient(build: Any, their_cls: type[Message]) -> None:
    mine = build()
    parsed = their_cls.FromString(mine.SerializeToString())
    assert parsed.ListFields(), "nothing was decoded"
    # Fields unknown to the reader would survive as unknown fields and break equality of the JSON.
    _assert_same_wire(mine, parsed)
    back = type(mine).FromString(parsed.SerializeToString())
    assert back == mine


def test_their_full_model_config_parses_with_ours_keeping_known_fields() -> None:
    """Triton's full ModelConfig (with fields we omit) still parses; known fields survive."""
    full = theirs_mc.ModelConfig(
        name="vit",
        max_batch_size=8,
        input=[theirs_mc.ModelInput(name="x", data_type=theirs_mc.TYPE_FP16, dims=[3, 8, 8])],
        sequence_batching=theirs_mc.ModelSequenceBatching(max_sequence_idle_microseconds=5),
        version_policy=theirs_mc.ModelVersionPolicy(latest=theirs_mc.ModelVersionPolicy.Latest(num_versions=1)),
    )
    parsed = ours_mc.ModelConfig.FromString(full.SerializeToString())
    assert (parsed.name, parsed.max_batch_size, parsed.input[0].data_type) == ("vit", 8, ours_mc.TYPE_FP16)
    # The omitted fields are kept as unknown fields and re-emitted unchanged.
    assert theirs_mc.ModelConfig.FromString(parsed.SerializeToString()) == full


class _DoublerServicer(ours_grpc.GRPCInferenceServiceServicer):
    """A minimal KServe v2 model 'double' (y = 2x, FP32, batching) built only from our stubs."""

    config = ours_mc.ModelConfig(
        name="double",
        backend="numpy",
        max_batch_size=8,
        input=[ours_mc.ModelInput(name="x", data_type=ours_mc.TYPE_FP32, dims=[4])],
        output=[ours_mc.ModelOutput(name="y", data_type=ours_mc.TYPE_FP32, dims=[4])],
        dynamic_batching=ours_mc.ModelDynamicBatching(max_queue_delay_microseconds=100),
    )

    def ServerLive(self, request: Any, context: Any) -> ours.ServerLiveResponse:
        return ours.ServerLiveResponse(live=True)

    def ServerMetadata(self, request: Any, context: Any) -> ours.ServerMetadataResponse:
        return ours.ServerMetadataResponse(name="doubler", version="1", extensions=["statistics"])

    def ModelMetadata(self, request: Any, context: Any) -> ours.ModelMetadataResponse:
        tensor = ours.ModelMetadataResponse.TensorMetadata
        return ours.ModelMetadataResponse(
            name="double",
            versions=["1"],
            platform="numpy",
            inputs=[tensor(name="x", datatype="FP32", shape=[-1, 4])],
            outputs=[tensor(name="y", datatype="FP32", shape=[-1, 4])],
        )

    def ModelConfig(self, request: Any, context: grpc.ServicerContext) -> ours.ModelConfigResponse:
        if request.name != "double":
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown model {request.name!r}")
        return ours.ModelConfigResponse(config=self.config)

    def _infer(self, request: ours.ModelInferRequest) -> ours.ModelInferResponse:
        (tensor,) = request.inputs
        x = np.frombuffer(request.raw_input_contents[0], dtype=np.float32).reshape(tuple(tensor.shape))
        return ours.ModelInferResponse(
            model_name=request.model_name,
            model_version="1",
            id=request.id,
            outputs=[ours.ModelInferResponse.InferOutputTensor(name="y", datatype="FP32", shape=list(tensor.shape))],
            raw_output_contents=[(2 * x).astype(np.float32).tobytes()],
        )

    def ModelInfer(self, request: Any, context: Any) -> ours.ModelInferResponse:
        return self._infer(request)

    def ModelStreamInfer(self, request_iterator: Any, context: Any) -> Iterator[ours.ModelStreamInferResponse]:
        for request in request_iterator:
            if request.model_name != "double":
                yield ours.ModelStreamInferResponse(error_message=f"unknown model {request.model_name!r}")
            else:
                yield ours.ModelStreamInferResponse(infer_response=self._infer(request))

    def ModelStatistics(self, request: Any, context: Any) -> ours.ModelStatisticsResponse:
        return ours.ModelStatisticsResponse(
            model_stats=[ours.ModelStatistics(name="double", version="1", inference_count=5, execution_count=3)]
        )


@pytest.fixture
def doubler_url() -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    ours_grpc.add_GRPCInferenceServiceServicer_to_server(_DoublerServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


def test_tritonclient_talks_to_a_server_built_from_our_stubs(doubler_url: str) -> None:
    client = triton.InferenceServerClient(doubler_url)
    try:
        assert client.is_server_live()
        assert client.get_server_metadata().extensions == ["statistics"]
        assert [i.name for i in client.get_model_metadata("double").inputs] == ["x"]
        config = client.get_model_config("double").config
        assert (config.max_batch_size, config.input[0].data_type) == (8, theirs_mc.TYPE_FP32)
        assert config.dynamic_batching.max_queue_delay_microseconds == 100

        x = np.array([[1, 2, 3, 4], [-1, 0.5, 0, 8]], dtype=np.float32)
        infer_input = triton.InferInput("x", list(x.shape), "FP32")
        infer_input.set_data_from_numpy(x)
        result = client.infer("double", [infer_input], request_id="r1")
        np.testing.assert_array_equal(result.as_numpy("y"), 2 * x)
        assert result.get_response().id == "r1"

        stats = client.get_inference_statistics("double")
        assert stats.model_stats[0].inference_count == 5

        with pytest.raises(InferenceServerException) as missing:
            client.get_model_config("nope")
        assert missing.value.status() == "StatusCode.NOT_FOUND"
        # An RPC we do not define is answered UNIMPLEMENTED, as the proto documents.
        with pytest.raises(InferenceServerException) as unimplemented:
            client.get_model_repository_index()
        assert unimplemented.value.status() == "StatusCode.UNIMPLEMENTED"
    finally:
        client.close()


def test_tritonclient_stream_against_our_stubs(doubler_url: str) -> None:
    results: list[Any] = []
    errors: list[Any] = []

    def on_response(result: Any, error: Any) -> None:
        (errors if error is not None else results).append(error if error is not None else result)

    client = triton.InferenceServerClient(doubler_url)
    try:
        client.start_stream(callback=on_response)
        x = np.ones((1, 4), dtype=np.float32)
        infer_input = triton.InferInput("x", [1, 4], "FP32")
        infer_input.set_data_from_numpy(x)
        client.async_stream_infer("double", [infer_input], request_id="a")
        client.async_stream_infer("unknown", [infer_input], request_id="b")
        client.async_stream_infer("double", [infer_input], request_id="c")
        client.stop_stream()  # waits for the stream to drain
    finally:
        client.close()
    assert [r.get_response().id for r in results] == ["a", "c"]
    np.testing.assert_array_equal(results[0].as_numpy("y"), 2 * x)
    assert len(errors) == 1 and "unknown model 'unknown'" in str(errors[0])
