"""Pure translation between the Open Inference Protocol over HTTP/REST and its KServe v2 gRPC messages.

The REST face (KServe v2 REST as Triton and MLServer serve it) is a wire format only: every request is
turned into the ``inference.GRPCInferenceService`` message the emotion service's KServe servicer takes,
and every answer back into JSON. Model names, datatypes, shapes and tensor sizes are checked by that
servicer (the ONE implementation of the protocol's rules); this module only rejects what cannot be
translated at all (bad JSON, tensor data that disagrees with its own shape or datatype, a binary body
that disagrees with its header), as :class:`gateway.errors.BadRequest` naming the field.

Tensor data comes either as JSON (``"data"``, flat or nested row-major) or, with Triton's binary tensor
data extension, as raw little-endian bytes after the JSON header: the request's
``Inference-Header-Content-Length`` header gives the JSON length and each binary input carries
``parameters.binary_data_size``. Outputs are answered in binary when asked for
(``outputs[].parameters.binary_data`` or the request parameter ``binary_data_output``).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from gateway.errors import BadRequest
from gateway.wire import parse_json_object
from servicekit.pb.inference import grpc_service_pb2 as kpb

HEADER_LENGTH = "Inference-Header-Content-Length"

# Datatypes whose JSON data converts to fixed-size little-endian elements.
_NUMPY_TYPES: dict[str, str] = {
    "BOOL": "?",
    "UINT8": "u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}
DATATYPES = (*_NUMPY_TYPES, "BF16", "BYTES")
# Request parameters that steer the HTTP translation itself and are not forwarded to the model.
_HTTP_ONLY_PARAMETERS = frozenset({"binary_data_output", "timeout"})
_INT64_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)


@dataclass(frozen=True)
class InferCall:
    """A translated infer request: the gRPC message, which outputs go back in binary, and the client's timeout."""

    request: kpb.ModelInferRequest
    binary_outputs: frozenset[str]
    binary_default: bool
    timeout_seconds: float | None


@dataclass(frozen=True)
class HttpAnswer:
    """An infer answer: the body and, when binary outputs follow the JSON, the JSON header's length."""

    body: bytes
    header_length: int | None


def message_to_json(message: Message) -> dict[str, Any]:
    """A protobuf message as OIP JSON: proto field names, defaults included, 64-bit integers as numbers.

    ``MessageToDict`` writes int64 as strings (the proto3 JSON rule); Triton's REST API writes numbers, and
    perf_analyzer and tritonclient read dims, counts and durations as numbers.
    """
    value = MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    return _int64_as_numbers(value, message.DESCRIPTOR)


def _int64_as_numbers(value: dict[str, Any], descriptor: Any) -> dict[str, Any]:
    for field in descriptor.fields:
        if field.name not in value:
            continue
        item = value[field.name]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entry = field.message_type.fields_by_name["value"]
            value[field.name] = {k: _convert(v, entry) for k, v in item.items()}
        elif field.is_repeated:
            value[field.name] = [_convert(v, field) for v in item]
        else:
            value[field.name] = _convert(item, field)
    return value


def _convert(item: Any, field: FieldDescriptor) -> Any:
    if field.message_type is not None and isinstance(item, dict):
        return _int64_as_numbers(item, field.message_type)
    if field.type in _INT64_TYPES and isinstance(item, str):
        return int(item)
    return item


# -- requests -----------------------------------------------------------------------------------------


def split_body(body: bytes, header_length: str | None) -> tuple[dict[str, Any], bytes]:
    """The JSON header of an infer body and the binary tensor data after it."""
    if header_length is None:
        return parse_json_object(body), b""
    try:
        length = int(header_length)
    except ValueError as exc:
        raise BadRequest(f"{HEADER_LENGTH}: expected a byte count, got {header_length!r}") from exc
    if not 0 < length <= len(body):
        raise BadRequest(f"{HEADER_LENGTH}: {length} is outside the body's {len(body)} bytes")
    return parse_json_object(body[:length]), body[length:]


def infer_request(payload: dict[str, Any], binary: bytes, model_name: str, model_version: str) -> InferCall:
    """Translate an infer request (JSON header + binary tail) into a ``ModelInferRequest``."""
    unknown = sorted(set(payload) - {"id", "parameters", "inputs", "outputs"})
    if unknown:
        raise BadRequest(f"{unknown[0]}: unknown field (expected id, parameters, inputs, outputs)")
    request = kpb.ModelInferRequest(model_name=model_name, model_version=model_version)
    request_id = payload.get("id", "")
    if not isinstance(request_id, str):
        raise BadRequest(f"id: expected a string, got {request_id!r}")
    request.id = request_id
    parameters = _object(payload.get("parameters"), "parameters")
    _set_parameters(request.parameters, parameters, "parameters", skip=_HTTP_ONLY_PARAMETERS)
    binary_default = parameters.get("binary_data_output", False)
    if not isinstance(binary_default, bool):
        raise BadRequest(f"parameters.binary_data_output: expected true or false, got {binary_default!r}")
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest("inputs: expected a non-empty list of tensors")
    offset = 0
    for index, tensor in enumerate(inputs):
        offset = _add_input(request, _object(tensor, f"inputs[{index}]"), index, binary, offset)
    if offset != len(binary):
        raise BadRequest(
            f"body: {len(binary) - offset} bytes after the JSON header are not claimed by any input's binary_data_size"
        )
    binary_outputs = _add_outputs(request, payload.get("outputs"))
    return InferCall(request, binary_outputs, binary_default, _timeout_seconds(parameters))


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _timeout_seconds(parameters: dict[str, Any]) -> float | None:
    # Triton's "timeout" request parameter, in microseconds.
    timeout = parameters.get("timeout")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise BadRequest(f"parameters.timeout: expected a positive number of microseconds, got {timeout!r}")
    return timeout / 1e6


def _set_parameters(target: Any, parameters: dict[str, Any], where: str, skip: frozenset[str] = frozenset()) -> None:
    for key, value in parameters.items():
        if key in skip:
            continue
        if isinstance(value, bool):
            target[key].bool_param = value
        elif isinstance(value, int):
            if not -(2**63) <= value < 2**63:
                raise BadRequest(f"{where}.{key}: {value} does not fit in 64 bits")
            target[key].int64_param = value
        elif isinstance(value, float) and math.isfinite(value):
            target[key].double_param = value
        elif isinstance(value, str):
            target[key].string_param = value
        else:
            raise BadRequest(f"{where}.{key}: expected a string, number or boolean, got {value!r}")


def _shape(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        raise BadRequest(f"{where}.shape: expected a list of integers, got {value!r}")
    if any(d < 0 for d in value):
        raise BadRequest(f"{where}.shape: dimensions must be >= 0, got {value}")
    return [int(d) for d in value]


def _add_input(request: kpb.ModelInferRequest, tensor: dict[str, Any], index: int, binary: bytes, offset: int) -> int:
    where = f"inputs[{index}]"
    unknown = sorted(set(tensor) - {"name", "shape", "datatype", "parameters", "data"})
    if unknown:
        raise BadRequest(f"{where}.{unknown[0]}: unknown field (expected name, shape, datatype, parameters, data)")
    name, datatype = tensor.get("name"), tensor.get("datatype")
    if not isinstance(name, str) or not name:
        raise BadRequest(f"{where}.name: expected a non-empty string")
    if datatype not in DATATYPES:
        raise BadRequest(f"{where}.datatype: expected one of {', '.join(DATATYPES)}, got {datatype!r}")
    shape = _shape(tensor.get("shape"), where)
    parameters = dict(_object(tensor.get("parameters"), f"{where}.parameters"))
    size = parameters.pop("binary_data_size", None)
    entry = request.inputs.add(name=name, datatype=datatype, shape=shape)
    _set_parameters(entry.parameters, parameters, f"{where}.parameters")
    if size is not None:
        if "data" in tensor:
            raise BadRequest(f"{where}: give either data or parameters.binary_data_size, not both")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise BadRequest(f"{where}.parameters.binary_data_size: expected a byte count, got {size!r}")
        if offset + size > len(binary):
            raise BadRequest(
                f"{where}.parameters.binary_data_size: {size} bytes at offset {offset}, but only "
                f"{len(binary)} binary bytes follow the JSON header"
            )
        request.raw_input_contents.append(binary[offset : offset + size])
        return offset + size
    if "data" not in tensor:
        raise BadRequest(f"{where}.data: missing (or give parameters.binary_data_size for binary data)")
    request.raw_input_contents.append(_json_tensor_bytes(tensor["data"], datatype, shape, where))
    return offset


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _json_tensor_bytes(data: Any, datatype: str, shape: list[int], where: str) -> bytes:
    values = _flatten(data)
    expected = math.prod(shape)
    if len(values) != expected:
        raise BadRequest(f"{where}.data: {len(values)} values, but shape {shape} holds {expected}")
    if datatype == "BYTES":
        if not all(isinstance(v, str) for v in values):
            raise BadRequest(f"{where}.data: BYTES elements must be strings")
        encoded = [v.encode() for v in values]
        return b"".join(struct.pack("<I", len(e)) + e for e in encoded)
    if datatype == "BF16":
        raise BadRequest(f"{where}.datatype: BF16 has no JSON form; send it as binary tensor data")
    if datatype == "BOOL":
        if not all(isinstance(v, bool) for v in values):
            raise BadRequest(f"{where}.data: BOOL elements must be true or false")
    elif datatype.startswith("FP"):
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise BadRequest(f"{where}.data: {datatype} elements must be numbers")
    elif not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise BadRequest(f"{where}.data: {datatype} elements must be integers")
    try:
        return np.asarray(values, dtype=_NUMPY_TYPES[datatype]).tobytes()
    except OverflowError as exc:
        raise BadRequest(f"{where}.data: a value is out of range for {datatype} ({exc})") from exc


def _add_outputs(request: kpb.ModelInferRequest, outputs: Any) -> frozenset[str]:
    if outputs is None:
        return frozenset()
    if not isinstance(outputs, list):
        raise BadRequest(f"outputs: expected a list, got {type(outputs).__name__}")
    binary: set[str] = set()
    for index, output in enumerate(outputs):
        where = f"outputs[{index}]"
        output = _object(output, where)
        name = output.get("name")
        if not isinstance(name, str) or not name:
            raise BadRequest(f"{where}.name: expected a non-empty string")
        parameters = dict(_object(output.get("parameters"), f"{where}.parameters"))
        if "classification" in parameters:
            raise BadRequest(f"{where}.parameters.classification: the classification extension is not supported")
        wants_binary = parameters.pop("binary_data", False)
        if not isinstance(wants_binary, bool):
            raise BadRequest(f"{where}.parameters.binary_data: expected true or false, got {wants_binary!r}")
        if wants_binary:
            binary.add(name)
        entry = request.outputs.add(name=name)
        _set_parameters(entry.parameters, parameters, f"{where}.parameters")
    return frozenset(binary)


# -- answers ------------------------------------------------------------------------------------------


def _parameters_json(parameters: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, param in parameters.items():
        choice = param.WhichOneof("parameter_choice")
        if choice is not None:
            out[key] = getattr(param, choice)
    return out


def _tensor_json(raw: bytes, datatype: str) -> list[Any]:
    if datatype == "BYTES":
        values: list[Any] = []
        offset = 0
        while offset + 4 <= len(raw):
            (length,) = struct.unpack_from("<I", raw, offset)
            values.append(raw[offset + 4 : offset + 4 + length].decode(errors="replace"))
            offset += 4 + length
        return values
    if datatype not in _NUMPY_TYPES:
        raise BadRequest(f"outputs: {datatype} has no JSON form; ask for it with parameters.binary_data = true")
    return list(np.frombuffer(raw, dtype=_NUMPY_TYPES[datatype]).tolist())


def infer_answer(response: kpb.ModelInferResponse, call: InferCall) -> HttpAnswer:
    """The JSON (and binary tail) answering an infer request."""
    outputs: list[dict[str, Any]] = []
    tail: list[bytes] = []
    for index, output in enumerate(response.outputs):
        raw = response.raw_output_contents[index] if index < len(response.raw_output_contents) else b""
        item: dict[str, Any] = {"name": output.name, "datatype": output.datatype, "shape": list(output.shape)}
        params = _parameters_json(output.parameters)
        if output.name in call.binary_outputs or (call.binary_default and not call.request.outputs):
            params["binary_data_size"] = len(raw)
            tail.append(raw)
        else:
            item["data"] = _tensor_json(raw, output.datatype)
        if params:
            item["parameters"] = params
        outputs.append(item)
    answer: dict[str, Any] = {"model_name": response.model_name, "model_version": response.model_version}
    if response.id:
        answer["id"] = response.id
    params = _parameters_json(response.parameters)
    if params:
        answer["parameters"] = params
    answer["outputs"] = outputs
    header = json.dumps(answer).encode()
    if not tail:
        return HttpAnswer(header, None)
    return HttpAnswer(header + b"".join(tail), len(header))
