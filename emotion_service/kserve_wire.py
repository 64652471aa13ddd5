"""KServe v2 messages <-> the emotion model's tensors, statistics and configuration.

The servicer in :mod:`emotion_service.kserve` calls these and the runtime; nothing here touches the model.
Tensor names, datatypes and platforms are the ones the KServe contract of this model fixes.
"""

from __future__ import annotations

import math

import numpy as np

from emotion_service.domain import TensorResult
from emotion_service.settings import EmotionSettings
from emotion_service.statistics import StatsSnapshot
from servicekit.errors import InvalidInput
from servicekit.pb.inference import grpc_service_pb2 as kpb
from servicekit.pb.inference import model_config_pb2 as mc

MODEL_VERSION = "1"
INPUT_NAME = "pixel_values"
OUTPUT_NAME = "probabilities"
DATATYPE = "FP32"
PLATFORMS = {"onnxruntime": ("onnxruntime_onnx", "onnxruntime"), "torch": ("pytorch_libtorch", "pytorch")}
_FP32_BYTES = 4
_GPU_PROVIDER_PREFIXES = ("CUDA", "Tensorrt", "cuda")


# -- requests --------------------------------------------------------------------------------------------
def pixels_from_pb(request: kpb.ModelInferRequest) -> np.ndarray:
    """The ``pixel_values`` tensor of a ModelInfer request as float32, in the shape the request declares.

    Only the wire form is checked here (name, datatype, data matching the declared shape); whether that
    shape fits the model is the runtime's one check (:func:`emotion_service.domain.check_tensor_shape`).

    Raises:
        InvalidInput: naming the input and what is wrong (name, datatype, shape, byte length, contents).
    """
    if len(request.inputs) != 1:
        raise InvalidInput(f"inputs: expected exactly one input {INPUT_NAME!r}, got {len(request.inputs)}")
    tensor = request.inputs[0]
    if tensor.name != INPUT_NAME:
        raise InvalidInput(f"inputs[0]: unknown input {tensor.name!r}; the model's input is {INPUT_NAME!r}")
    if tensor.datatype != DATATYPE:
        raise InvalidInput(f"input {INPUT_NAME!r}: datatype {tensor.datatype!r} is not {DATATYPE}")
    shape = [int(d) for d in tensor.shape]
    if any(d < 0 for d in shape):
        raise InvalidInput(f"input {INPUT_NAME!r}: shape {shape} has a negative dimension")
    count = math.prod(shape)
    has_contents = tensor.HasField("contents")
    if request.raw_input_contents:
        if has_contents:
            raise InvalidInput(f"input {INPUT_NAME!r}: set either contents or raw_input_contents, not both")
        if len(request.raw_input_contents) != 1:
            raise InvalidInput(
                f"raw_input_contents: {len(request.raw_input_contents)} entries for 1 input (one entry per input)"
            )
        raw = request.raw_input_contents[0]
        if len(raw) != count * _FP32_BYTES:
            raise InvalidInput(
                f"raw_input_contents[0]: {len(raw)} bytes, expected {count * _FP32_BYTES} for {DATATYPE} shape {shape}"
            )
        pixels = np.frombuffer(raw, dtype="<f4").reshape(shape)
    else:
        contents = tensor.contents
        other = [f.name for f, _ in contents.ListFields() if f.name != "fp32_contents"]
        if other:
            raise InvalidInput(f"input {INPUT_NAME!r}: {DATATYPE} data goes in fp32_contents, not {other[0]}")
        if len(contents.fp32_contents) != count:
            raise InvalidInput(
                f"input {INPUT_NAME!r}: {len(contents.fp32_contents)} fp32_contents values, expected {count} "
                f"for shape {shape}"
            )
        pixels = np.asarray(contents.fp32_contents, dtype=np.float32).reshape(shape)
    # Non-finite values are accepted, as Triton does: perf_analyzer's default random FP32 data holds NaNs and
    # infinities. They only make their own row's output non-finite (rows of a batch never mix).
    return pixels


def precision_from_pb(request: kpb.ModelInferRequest) -> str:
    """The ``precision`` request parameter (empty when absent)."""
    if "precision" not in request.parameters:
        return ""
    param = request.parameters["precision"]
    if param.WhichOneof("parameter_choice") != "string_param":
        raise InvalidInput("parameters['precision'] must be a string such as 'fp32' or 'int8'")
    return str(param.string_param)


def check_outputs(request: kpb.ModelInferRequest) -> None:
    """Only the model's one output may be requested."""
    for index, output in enumerate(request.outputs):
        if output.name != OUTPUT_NAME:
            raise InvalidInput(
                f"outputs[{index}]: unknown output {output.name!r}; the model's output is {OUTPUT_NAME!r}"
            )


# -- responses -------------------------------------------------------------------------------------------
def infer_response_to_pb(
    request: kpb.ModelInferRequest, result: TensorResult, model_name: str
) -> kpb.ModelInferResponse:
    """The probabilities as one raw FP32 output."""
    probabilities = np.ascontiguousarray(result.probabilities, dtype="<f4")
    response = kpb.ModelInferResponse(model_name=model_name, model_version=MODEL_VERSION, id=request.id)
    response.outputs.add(name=OUTPUT_NAME, datatype=DATATYPE, shape=list(probabilities.shape))
    response.raw_output_contents.append(probabilities.tobytes())
    response.parameters["precision"].string_param = result.precision
    return response


def model_metadata_to_pb(
    model_name: str, backend: str, input_shape: tuple[int, int, int], num_labels: int
) -> kpb.ModelMetadataResponse:
    """Input ``pixel_values`` FP32 [-1, 3, H, W] and output ``probabilities`` FP32 [-1, num_labels]."""
    platform, _ = PLATFORMS.get(backend, PLATFORMS["onnxruntime"])
    tensor = kpb.ModelMetadataResponse.TensorMetadata
    return kpb.ModelMetadataResponse(
        name=model_name,
        versions=[MODEL_VERSION],
        platform=platform,
        inputs=[tensor(name=INPUT_NAME, datatype=DATATYPE, shape=[-1, *input_shape])],
        outputs=[tensor(name=OUTPUT_NAME, datatype=DATATYPE, shape=[-1, num_labels])],
    )


def model_config_to_pb(
    settings: EmotionSettings, providers: tuple[str, ...], input_shape: tuple[int, int, int], num_labels: int
) -> mc.ModelConfig:
    """The model configuration in Triton's format: batching limits, inputs and outputs without the batch dim."""
    model_name = settings.kserve_model_name
    platform, backend = PLATFORMS.get(settings.backend, PLATFORMS["onnxruntime"])
    gpu = any(p.startswith(_GPU_PROVIDER_PREFIXES) for p in providers)
    config = mc.ModelConfig(
        name=model_name,
        platform=platform,
        backend=backend,
        max_batch_size=settings.max_batch_size,
        input=[
            mc.ModelInput(
                name=INPUT_NAME,
                data_type=mc.TYPE_FP32,
                format=mc.ModelInput.FORMAT_NCHW,
                dims=list(input_shape),
            )
        ],
        output=[mc.ModelOutput(name=OUTPUT_NAME, data_type=mc.TYPE_FP32, dims=[num_labels])],
        instance_group=[
            mc.ModelInstanceGroup(
                name=model_name,
                kind=mc.ModelInstanceGroup.KIND_GPU if gpu else mc.ModelInstanceGroup.KIND_CPU,
                count=settings.concurrent_batches,
            )
        ],
    )
    if settings.batching:
        config.dynamic_batching.CopyFrom(
            mc.ModelDynamicBatching(
                preferred_batch_size=list(settings.preferred_batch_sizes),
                # Triton's 0 means what work-conserving does: an idle instance takes what is queued.
                max_queue_delay_microseconds=round(settings.effective_queue_delay_s * 1_000_000),
                default_queue_policy=mc.ModelQueuePolicy(max_queue_size=settings.max_queue_size),
            )
        )
    return config


def statistics_to_pb(model_name: str, snap: StatsSnapshot) -> kpb.ModelStatistics:
    """Cumulative counts and durations of the model (both APIs), per batch size too."""
    return kpb.ModelStatistics(
        name=model_name,
        version=MODEL_VERSION,
        last_inference=snap.last_inference_ms,
        inference_count=snap.inference_count,
        execution_count=snap.execution_count,
        inference_stats=kpb.InferStatistics(
            success=_duration(snap.success),
            fail=_duration(snap.fail),
            queue=_duration(snap.queue),
            compute_input=_duration(snap.compute_input),
            compute_infer=_duration(snap.compute_infer),
            compute_output=_duration(snap.compute_output),
        ),
        batch_stats=[
            kpb.InferBatchStatistics(
                batch_size=size,
                compute_input=_duration(input_),
                compute_infer=_duration(infer),
                compute_output=_duration(output),
            )
            for size, (input_, infer, output) in snap.batches.items()
        ],
    )


def _duration(pair: tuple[int, int]) -> kpb.StatisticDuration:
    return kpb.StatisticDuration(count=pair[0], ns=pair[1])
