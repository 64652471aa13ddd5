"""gateway.oip: the pure REST JSON <-> KServe v2 protobuf translation (no I/O)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from gateway import oip
from gateway.errors import BadRequest
from servicekit.pb.inference import grpc_service_pb2 as kpb
from servicekit.pb.inference import model_config_pb2 as mc


def _call(payload: dict[str, object], binary: bytes = b"") -> oip.InferCall:
    return oip.infer_request(payload, binary, "emotion", "")


def test_nested_and_flat_json_data_give_the_same_little_endian_bytes() -> None:
    nested = _call({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2.5], [3, 4]]}]})
    flat = _call({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2.5, 3, 4]}]})
    assert nested.request.raw_input_contents[0] == flat.request.raw_input_contents[0]
    assert nested.request.raw_input_contents[0] == np.array([1, 2.5, 3, 4], "<f4").tobytes()
    assert list(nested.request.inputs[0].shape) == [2, 2]


@pytest.mark.parametrize(
    ("datatype", "data", "expected"),
    [
        ("INT64", [-1, 2**40], np.array([-1, 2**40], "<i8").tobytes()),
        ("UINT8", [0, 255], bytes([0, 255])),
        ("BOOL", [True, False], bytes([1, 0])),
        ("FP16", [0.5], np.array([0.5], "<f2").tobytes()),
        ("BYTES", ["hé", ""], struct.pack("<I", 3) + "hé".encode() + struct.pack("<I", 0)),
    ],
)
def test_every_json_datatype_converts(datatype: str, data: list[object], expected: bytes) -> None:
    call = _call({"inputs": [{"name": "x", "shape": [len(data)], "datatype": datatype, "data": data}]})
    assert call.request.raw_input_contents[0] == expected


@pytest.mark.parametrize(
    ("tensor", "fragment"),
    [
        ({"datatype": "UINT8", "data": [256]}, "out of range for UINT8"),
        ({"datatype": "INT32", "data": [1.5]}, "must be integers"),
        ({"datatype": "BOOL", "data": [1]}, "true or false"),
        ({"datatype": "FP32", "data": [True]}, "must be numbers"),
        ({"datatype": "BF16", "data": [1.0]}, "BF16 has no JSON form"),
        ({"datatype": "FP32", "data": [1.0], "shape": [-1]}, "dimensions must be >= 0"),
        ({"datatype": "FP32", "data": [1.0], "colour": "red"}, "inputs[0].colour: unknown field"),
    ],
)
def test_untranslatable_tensors_name_the_field(tensor: dict[str, object], fragment: str) -> None:
    payload = {"inputs": [{"name": "x", "shape": [1], **tensor}]}
    with pytest.raises(BadRequest, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        _call(payload)


def test_binary_inputs_are_sliced_in_order_and_parameters_forwarded() -> None:
    payload = {
        "id": "r1",
        "parameters": {"precision": "int8", "binary_data_output": True, "timeout": 2_500_000, "flag": True},
        "inputs": [
            {"name": "a", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}},
            {"name": "b", "shape": [2], "datatype": "INT32", "data": [1, 2]},
            {"name": "c", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}},
        ],
    }
    call = _call(payload, b"AAAA" + b"CCCC")
    assert [bytes(r) for r in call.request.raw_input_contents] == [b"AAAA", np.array([1, 2], "<i4").tobytes(), b"CCCC"]
    assert call.request.id == "r1" and call.binary_default and call.timeout_seconds == 2.5
    assert call.request.parameters["precision"].string_param == "int8"
    assert call.request.parameters["flag"].bool_param is True
    # HTTP-only parameters steer the translation and are not sent to the model.
    assert "binary_data_output" not in call.request.parameters and "timeout" not in call.request.parameters


def test_split_body_uses_the_header_length() -> None:
    header = json.dumps({"inputs": []}).encode()
    payload, binary = oip.split_body(header + b"\x01\x02", str(len(header)))
    assert payload == {"inputs": []} and binary == b"\x01\x02"
    with pytest.raises(BadRequest, match="expected a byte count"):
        oip.split_body(header, "ten")


def test_answers_mix_binary_and_json_outputs_as_asked() -> None:
    response = kpb.ModelInferResponse(model_name="emotion", model_version="1", id="r")
    response.outputs.add(name="probabilities", datatype="FP32", shape=[1, 2])
    response.outputs.add(name="ids", datatype="INT64", shape=[1])
    response.raw_output_contents.extend([np.array([0.25, 0.75], "<f4").tobytes(), np.array([7], "<i8").tobytes()])
    call = _call(
        {
            "inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [0]}],
            "outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}, {"name": "ids"}],
        }
    )
    answer = oip.infer_answer(response, call)
    assert answer.header_length is not None
    header = json.loads(answer.body[: answer.header_length])
    assert header["outputs"][0]["parameters"] == {"binary_data_size": 8}
    assert header["outputs"][1]["data"] == [7]
    assert answer.body[answer.header_length :] == np.array([0.25, 0.75], "<f4").tobytes()


def test_message_to_json_writes_64_bit_integers_as_numbers_everywhere() -> None:
    config = mc.ModelConfig(name="m", max_batch_size=8, input=[mc.ModelInput(name="x", dims=[3, 64, 64])])
    config.parameters["k"].string_value = "v"
    config.dynamic_batching.max_queue_delay_microseconds = 2000
    as_json = oip.message_to_json(config)
    assert as_json["input"][0]["dims"] == [3, 64, 64]
    assert as_json["dynamic_batching"]["max_queue_delay_microseconds"] == 2000
    assert as_json["parameters"] == {"k": {"string_value": "v"}}
    stats = kpb.ModelStatisticsResponse(
        model_stats=[
            kpb.ModelStatistics(name="m", inference_count=2**40, batch_stats=[kpb.InferBatchStatistics(batch_size=4)])
        ]
    )
    (entry,) = oip.message_to_json(stats)["model_stats"]
    assert entry["inference_count"] == 2**40 and entry["batch_stats"][0]["batch_size"] == 4
