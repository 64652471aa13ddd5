"""KServe v2 / Open Inference Protocol (``inference.GRPCInferenceService``) for the emotion model.

The model is served under one name (``emotion`` by default), version ``1``:

* input ``pixel_values``: FP32 ``[-1, 3, H, W]``, already preprocessed exactly as
  ``GetModelInfo.preprocessing`` says (the same tensor the ONNX model takes);
* output ``probabilities``: FP32 ``[-1, num_labels]``, the softmax over the bundle's labels in
  id order (logits are not exposed: every consumer here wants probabilities, and they are what the
  native API returns).

Rows of every request go through the same dynamic batcher as the native API's faces. A request may
choose a loaded precision with the string parameter ``precision`` (an emoflux extension; default:
the server's default precision). Outputs are always returned as ``raw_output_contents``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from importlib import metadata

import grpc
import numpy as np

from emotion_service.runtime import EmotionRuntime, TensorResult, deadline_from
from emotion_service.streaming import answer_concurrently
from servicekit.errors import InvalidInput, NotFound, status_for
from servicekit.pb.inference import grpc_service_pb2 as kpb
from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc
from servicekit.pb.inference import model_config_pb2 as mc

log = logging.getLogger("emoflux.emotion.kserve")

MODEL_VERSION = "1"
INPUT_NAME = "pixel_values"
OUTPUT_NAME = "probabilities"
DATATYPE = "FP32"
SERVER_NAME = "emoflux-emotion"
EXTENSIONS = ("model_configuration", "statistics")
PLATFORMS = {"onnxruntime": ("onnxruntime_onnx", "onnxruntime"), "torch": ("pytorch_libtorch", "pytorch")}
_FP32_BYTES = 4


def _server_version() -> str:
    try:
        return metadata.version("emoflux")
    except metadata.PackageNotFoundError:
        return "0"


def check_model(runtime: EmotionRuntime, name: str, version: str) -> None:
    """NOT_FOUND unless ``name``/``version`` is the served model (an empty version means the latest)."""
    served = runtime.settings.kserve_model_name
    if name != served:
        raise NotFound(f"model {name!r} is not served here; the only model is {served!r}")
    if version not in ("", MODEL_VERSION):
        raise NotFound(f"model {name!r} has no version {version!r}; available versions: [{MODEL_VERSION!r}]")


def parse_pixels(request: kpb.ModelInferRequest, input_shape: tuple[int, int, int], max_batch_size: int) -> np.ndarray:
    """The ``pixel_values`` tensor of a ModelInfer request as float32 ``[N, 3, H, W]``.

    Raises:
        InvalidInput: naming the input and what is wrong (name, datatype, shape, byte length, contents).
    """
    dims = ", ".join(str(d) for d in input_shape)
    if len(request.inputs) != 1:
        raise InvalidInput(f"inputs: expected exactly one input {INPUT_NAME!r}, got {len(request.inputs)}")
    tensor = request.inputs[0]
    if tensor.name != INPUT_NAME:
        raise InvalidInput(f"inputs[0]: unknown input {tensor.name!r}; the model's input is {INPUT_NAME!r}")
    if tensor.datatype != DATATYPE:
        raise InvalidInput(f"input {INPUT_NAME!r}: datatype {tensor.datatype!r} is not {DATATYPE}")
    shape = [int(d) for d in tensor.shape]
    if len(shape) != 4 or tuple(shape[1:]) != input_shape or shape[0] < 1:
        raise InvalidInput(f"input {INPUT_NAME!r}: shape {shape} does not match [-1, {dims}]")
    if shape[0] > max_batch_size:
        raise InvalidInput(f"input {INPUT_NAME!r}: batch size {shape[0]} exceeds max_batch_size {max_batch_size}")
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


def requested_precision(request: kpb.ModelInferRequest) -> str:
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


def infer_response(request: kpb.ModelInferRequest, result: TensorResult, model_name: str) -> kpb.ModelInferResponse:
    """The probabilities as one raw FP32 output."""
    probabilities = np.ascontiguousarray(result.probabilities, dtype="<f4")
    response = kpb.ModelInferResponse(model_name=model_name, model_version=MODEL_VERSION, id=request.id)
    response.outputs.add(name=OUTPUT_NAME, datatype=DATATYPE, shape=list(probabilities.shape))
    response.raw_output_contents.append(probabilities.tobytes())
    response.parameters["precision"].string_param = result.precision
    return response


def _duration(pair: tuple[int, int]) -> kpb.StatisticDuration:
    return kpb.StatisticDuration(count=pair[0], ns=pair[1])


class KServeService(kpb_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    """The KServe v2 servicer: translation only; inference goes through :class:`EmotionRuntime`."""

    def __init__(self, runtime: EmotionRuntime) -> None:
        self.runtime = runtime

    @property
    def model_name(self) -> str:
        """The served model name."""
        return self.runtime.settings.kserve_model_name

    def _input_shape(self) -> tuple[int, int, int]:
        prep = self.runtime.bundle.preprocessing
        return (3, prep.height, prep.width)

    # -- health and metadata ---------------------------------------------------------------------------
    async def ServerLive(
        self, request: kpb.ServerLiveRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ServerLiveResponse:
        """The process is up."""
        return kpb.ServerLiveResponse(live=True)

    async def ServerReady(
        self, request: kpb.ServerReadyRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ServerReadyResponse:
        """Ready once the model is loaded and warmed, until shutdown starts."""
        return kpb.ServerReadyResponse(ready=self.runtime.ready)

    async def ModelReady(
        self, request: kpb.ModelReadyRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelReadyResponse:
        """Ready state of the served model; NOT_FOUND for any other name or version."""
        check_model(self.runtime, request.name, request.version)
        return kpb.ModelReadyResponse(ready=self.runtime.ready)

    async def ServerMetadata(
        self, request: kpb.ServerMetadataRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ServerMetadataResponse:
        """Server name, version and the supported extensions (statistics included)."""
        return kpb.ServerMetadataResponse(name=SERVER_NAME, version=_server_version(), extensions=list(EXTENSIONS))

    async def ModelMetadata(
        self, request: kpb.ModelMetadataRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelMetadataResponse:
        """Input ``pixel_values`` FP32 [-1, 3, H, W] and output ``probabilities`` FP32 [-1, num_labels]."""
        check_model(self.runtime, request.name, request.version)
        runtime = self.runtime
        platform, _ = PLATFORMS.get(runtime.settings.backend, PLATFORMS["onnxruntime"])
        tensor = kpb.ModelMetadataResponse.TensorMetadata
        return kpb.ModelMetadataResponse(
            name=self.model_name,
            versions=[MODEL_VERSION],
            platform=platform,
            inputs=[tensor(name=INPUT_NAME, datatype=DATATYPE, shape=[-1, *self._input_shape()])],
            outputs=[tensor(name=OUTPUT_NAME, datatype=DATATYPE, shape=[-1, runtime.bundle.num_labels])],
        )

    async def ModelConfig(
        self, request: kpb.ModelConfigRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelConfigResponse:
        """The model configuration in Triton's format: batching limits, inputs and outputs without the batch dim."""
        check_model(self.runtime, request.name, request.version)
        runtime = self.runtime
        settings = runtime.settings
        platform, backend = PLATFORMS.get(settings.backend, PLATFORMS["onnxruntime"])
        gpu = any(
            p.startswith(("CUDA", "Tensorrt", "cuda")) for p in runtime.backends[runtime.default_precision].providers
        )
        config = mc.ModelConfig(
            name=self.model_name,
            platform=platform,
            backend=backend,
            max_batch_size=settings.max_batch_size,
            input=[
                mc.ModelInput(
                    name=INPUT_NAME,
                    data_type=mc.TYPE_FP32,
                    format=mc.ModelInput.FORMAT_NCHW,
                    dims=list(self._input_shape()),
                )
            ],
            output=[mc.ModelOutput(name=OUTPUT_NAME, data_type=mc.TYPE_FP32, dims=[runtime.bundle.num_labels])],
            instance_group=[
                mc.ModelInstanceGroup(
                    name=self.model_name,
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
        return kpb.ModelConfigResponse(config=config)

    async def ModelStatistics(
        self, request: kpb.ModelStatisticsRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelStatisticsResponse:
        """Cumulative counts and durations of the model (both APIs), per batch size too."""
        if request.name or request.version:
            check_model(self.runtime, request.name or self.model_name, request.version)
        snap = self.runtime.stats.snapshot()
        stats = kpb.ModelStatistics(
            name=self.model_name,
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
        return kpb.ModelStatisticsResponse(model_stats=[stats])

    # -- inference -------------------------------------------------------------------------------------
    async def _infer(self, request: kpb.ModelInferRequest, context: grpc.aio.ServicerContext) -> kpb.ModelInferResponse:
        runtime = self.runtime
        with runtime.observe("kserve"):
            check_model(runtime, request.model_name, request.model_version)
            pixels = parse_pixels(request, self._input_shape(), runtime.settings.max_batch_size)
            check_outputs(request)
            result = await runtime.infer_tensor(
                pixels,
                precision=requested_precision(request),
                deadline=deadline_from(context.time_remaining()),
            )
        return infer_response(request, result, self.model_name)

    async def ModelInfer(
        self, request: kpb.ModelInferRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelInferResponse:
        """Run ``pixel_values`` through the shared batcher; return ``probabilities`` as raw FP32."""
        return await self._infer(request, context)

    async def _stream_item(
        self, request: kpb.ModelInferRequest, context: grpc.aio.ServicerContext
    ) -> kpb.ModelStreamInferResponse:
        try:
            return kpb.ModelStreamInferResponse(infer_response=await self._infer(request, context))
        except Exception as exc:  # reported in-band; the stream goes on
            code, message = status_for(exc)
            if code is grpc.StatusCode.INTERNAL:
                log.exception("stream request %r failed", request.id)
            return kpb.ModelStreamInferResponse(
                error_message=f"{code.name}: {message}",
                infer_response=kpb.ModelInferResponse(model_name=request.model_name, id=request.id),
            )

    async def ModelStreamInfer(
        self, request_iterator: AsyncIterator[kpb.ModelInferRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[kpb.ModelStreamInferResponse]:
        """Infer each streamed request concurrently; responses carry the request ``id``; errors are in-band."""
        stream = answer_concurrently(
            request_iterator,
            lambda request: self._stream_item(request, context),
            max_outstanding=self.runtime.settings.max_queue_size,
        )
        async for response in stream:
            yield response
