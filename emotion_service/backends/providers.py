"""Execution-provider decisions for the ONNX Runtime backend, as pure functions.

Everything here is decided from plain values (the device and precision asked for, the providers this
onnxruntime build offers, the providers a session reports after it was created), so each decision is
tested without a GPU:

* :func:`provider_chain` - the (provider, options) list handed to ``InferenceSession``;
* :func:`trt_profile` / :func:`trt_options` - one TensorRT optimisation profile that covers every batch
  the batcher can form, plus the engine and timing caches;
* :func:`cuda_options` - the CUDA EP options a server needs;
* :func:`default_trt_cache_dir` / :func:`ensure_writable_dir` - where engines go, checked at start;
* :func:`check_providers` - ONNX Runtime falls back to the next provider with only a log line when one
  cannot load; this compares what runs with what was asked and refuses (or, when allowed, reports);
* :func:`gpu_warmup_sizes` / :func:`binding_device` - warm-up and I/O-binding choices on GPU providers;
* :func:`preprocess_plan` - whether images are decoded and preprocessed on the GPU (``--gpu-preprocess``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servicekit.errors import FailedPrecondition

TRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
GPU_PROVIDERS: frozenset[str] = frozenset({TRT, CUDA})


@dataclass(frozen=True)
class TrtProfile:
    """One TensorRT optimisation profile over the dynamic batch axis (min <= opt <= max)."""

    min_batch: int
    opt_batch: int
    max_batch: int

    def covers(self, batch: int) -> bool:
        """True when a batch of ``batch`` rows runs on this profile without an engine rebuild."""
        return self.min_batch <= batch <= self.max_batch


def trt_profile(max_batch: int, warmup_sizes: Sequence[int] = ()) -> TrtProfile:
    """The profile for a batcher whose batches hold 1..``max_batch`` rows.

    TensorRT tunes kernels for the ``opt`` shape; the largest warm-up size is the batch the operator
    expects under load (the batcher fills batches up to ``max_batch`` when busy), so it is ``opt``.

    Raises:
        FailedPrecondition: ``max_batch`` < 1 or a warm-up size outside 1..``max_batch``.
    """
    if max_batch < 1:
        raise FailedPrecondition(f"max_batch_size must be >= 1 for a TensorRT profile, got {max_batch}")
    outside = [n for n in warmup_sizes if not 1 <= n <= max_batch]
    if outside:
        raise FailedPrecondition(f"warm-up batch sizes {outside} lie outside the TensorRT profile 1..{max_batch}")
    return TrtProfile(1, max(warmup_sizes, default=max_batch), max_batch)


def trt_options(
    precision: str,
    cache_dir: Path,
    profile: TrtProfile,
    *,
    input_name: str = "pixel_values",
    input_shape: tuple[int, int, int] = (3, 224, 224),
    device_id: int = 0,
) -> dict[str, Any]:
    """TensorRT EP options: fp16 mode for ``fp16``, engine + timing caches in ``cache_dir``, one profile."""
    shape = "x".join(str(d) for d in input_shape)
    return {
        "device_id": device_id,
        "trt_fp16_enable": precision == "fp16",
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache_dir),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache_dir),
        # One profile covering the whole dynamic batch axis: no engine rebuild for any batch the batcher forms.
        "trt_profile_min_shapes": f"{input_name}:{profile.min_batch}x{shape}",
        "trt_profile_opt_shapes": f"{input_name}:{profile.opt_batch}x{shape}",
        "trt_profile_max_shapes": f"{input_name}:{profile.max_batch}x{shape}",
    }


def cuda_options(device_id: int = 0) -> dict[str, Any]:
    """CUDA EP options for serving fixed-shape batches.

    * ``cudnn_conv_algo_search=EXHAUSTIVE``: the best convolution algorithm per shape, searched once per
      batch size at warm-up (every size is warmed, see :func:`gpu_warmup_sizes`), never per request;
    * ``arena_extend_strategy=kSameAsRequested``: the arena grows by what a batch needs instead of
      doubling, so a burst of maximum batches does not reserve twice the memory;
    * ``do_copy_in_default_stream``: host<->device copies ordered with the kernels (no extra sync).
    """
    return {
        "device_id": device_id,
        "cudnn_conv_algo_search": "EXHAUSTIVE",
        "arena_extend_strategy": "kSameAsRequested",
        "do_copy_in_default_stream": True,
    }


def provider_chain(
    device: str,
    precision: str,
    available: Sequence[str],
    *,
    trt_cache_dir: Path,
    input_name: str = "pixel_values",
    input_shape: tuple[int, int, int] = (3, 224, 224),
    max_batch: int = 64,
    warmup_sizes: Sequence[int] = (),
    device_id: int = 0,
) -> list[tuple[str, dict[str, Any]]]:
    """The (provider, options) list for ``device`` and ``precision`` given the ``available`` providers.

    Raises:
        FailedPrecondition: an explicitly requested provider is missing, or the precision cannot run on it.
    """
    have = set(available)

    def trt() -> tuple[str, dict[str, Any]]:
        profile = trt_profile(max_batch, warmup_sizes)
        options = trt_options(
            precision, trt_cache_dir, profile, input_name=input_name, input_shape=input_shape, device_id=device_id
        )
        return (TRT, options)

    cuda: tuple[str, dict[str, Any]] = (CUDA, cuda_options(device_id))
    cpu: tuple[str, dict[str, Any]] = (CPU, {})

    def missing(name: str) -> FailedPrecondition:
        return FailedPrecondition(
            f"device {device!r} needs {name}, which this onnxruntime does not offer (available: "
            f"{', '.join(available) or 'none'}); install onnxruntime-gpu (and TensorRT) or use --device cpu"
        )

    if precision == "int8":
        if device in ("cuda", "tensorrt"):
            raise FailedPrecondition(
                f"precision 'int8' is dynamic quantisation for the CPU EP; on device {device!r} use fp32 or fp16"
            )
        return [cpu]
    if precision == "fp16" and device == "cpu":
        raise FailedPrecondition("precision 'fp16' is for GPU providers; on device 'cpu' use fp32 or int8")
    if device == "cpu":
        return [cpu]
    if device == "cuda":
        if CUDA not in have:
            raise missing(CUDA)
        return [cuda, cpu]
    if device == "tensorrt":
        if TRT not in have:
            raise missing(TRT)
        return [trt(), *([cuda] if CUDA in have else []), cpu]
    if device != "auto":
        raise FailedPrecondition(f"device must be auto, cpu, cuda or tensorrt, got {device!r}")
    chain = [trt()] if TRT in have else []
    chain += [cuda] if CUDA in have else []
    if precision == "fp16" and not chain:
        raise FailedPrecondition(
            f"precision 'fp16' needs a GPU provider; this onnxruntime offers {', '.join(available)}: use fp32 or int8"
        )
    return [*chain, cpu]


def default_trt_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """Where TensorRT engines go when no directory is set: the user's cache, never the (read-only) bundle.

    ``$XDG_CACHE_HOME/emoflux/tensorrt``, else ``~/.cache/emoflux/tensorrt``, else (no home, as for a
    system user) ``<tmp>/emoflux/tensorrt``.
    """
    env = os.environ if environ is None else environ
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "emoflux" / "tensorrt"
    home = env.get("HOME")
    if home and home != "/":
        return Path(home) / ".cache" / "emoflux" / "tensorrt"
    return Path(tempfile.gettempdir()) / "emoflux" / "tensorrt"


def ensure_writable_dir(path: Path, *, setting: str = "--trt-cache-dir / EMOTION_TRT_CACHE_DIR") -> Path:
    """Create ``path`` when missing and prove it writable by writing a file there; returns ``path``.

    Raises:
        FailedPrecondition: the directory cannot be created or written, naming the path and the setting.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise FailedPrecondition(
            f"the TensorRT engine cache {path} is not writable ({exc.strerror or exc}); point {setting} at a "
            f"writable directory (in containers, a mounted volume such as /var/cache/emoflux/tensorrt)"
        ) from exc
    return path


@dataclass(frozen=True)
class RunningProviders:
    """What a session really runs, beside what was asked."""

    requested: tuple[str, ...]
    running: tuple[str, ...]
    precision: str

    @property
    def execution_provider(self) -> str:
        """The provider that runs the graph (the first one the session kept)."""
        return self.running[0]

    @property
    def fell_back(self) -> bool:
        """True when the provider asked for first is not the one running."""
        return self.requested[0] != self.running[0]


def running_precision(precision: str, file_precision: str, execution_provider: str) -> str:
    """The precision that really runs: TensorRT's own fp16 needs TensorRT; elsewhere the file's precision."""
    if execution_provider == TRT:
        return precision
    return file_precision


def check_providers(
    requested: Sequence[str],
    running: Sequence[str],
    *,
    precision: str,
    file_precision: str,
    allow_fallback: bool,
) -> RunningProviders:
    """Compare a session's ``get_providers()`` with the chain asked for.

    ONNX Runtime drops a provider whose library cannot load (no CUDA, a cuDNN or TensorRT mismatch) and
    carries on with the next one after a log line, so an fp32 graph on the CPU would be served as
    TensorRT fp16. By default that refuses to start; with ``allow_fallback`` it returns what really
    runs so that responses, model info and metrics report it.

    Raises:
        FailedPrecondition: the session fell back and ``allow_fallback`` is off.
    """
    if not requested or not running:
        raise FailedPrecondition(f"onnxruntime session has no provider (asked {list(requested)}, got {list(running)})")
    result = RunningProviders(
        tuple(requested), tuple(running), running_precision(precision, file_precision, running[0])
    )
    if result.fell_back and not allow_fallback:
        raise FailedPrecondition(
            f"onnxruntime could not use {requested[0]} (asked {list(requested)}, the session runs on "
            f"{list(running)}, precision {result.precision} instead of {precision}): check the CUDA, cuDNN and "
            f"TensorRT libraries against docs/deploy.md, or start anyway with --allow-provider-fallback "
            f"(EMOTION_ALLOW_PROVIDER_FALLBACK=1) to serve on {running[0]}"
        )
    return result


def gpu_warmup_sizes(execution_provider: str, configured: Sequence[int], max_batch: int) -> list[int]:
    """Batch sizes to warm: on a GPU provider every size the batcher can form, else the configured ones.

    A new batch size on CUDA costs a cuDNN algorithm search (and on TensorRT possibly a tactic choice):
    warming all of 1..max_batch keeps that cost off requests.
    """
    if execution_provider in GPU_PROVIDERS:
        return list(range(1, max_batch + 1))
    return sorted(set(configured))


def binding_device(execution_provider: str) -> str | None:
    """The ONNX Runtime device to bind inputs and outputs on (``cuda``), or None to use plain ``run``."""
    return "cuda" if execution_provider in GPU_PROVIDERS else None


ONNXRUNTIME_DISTRIBUTIONS: tuple[str, ...] = ("onnxruntime", "onnxruntime-gpu")


def installed_onnxruntimes(names: Sequence[str] | None = None) -> list[str]:
    """The ONNX Runtime distributions installed here (from package metadata, or from ``names``)."""
    if names is None:
        from importlib import metadata

        names = [str(dist.metadata["Name"] or "") for dist in metadata.distributions()]
    found = {n.lower().replace("_", "-") for n in names}
    return [d for d in ONNXRUNTIME_DISTRIBUTIONS if d in found]


def check_single_onnxruntime(names: Sequence[str] | None = None) -> str:
    """The one ONNX Runtime distribution installed; both (or none) is an error.

    ``onnxruntime`` and ``onnxruntime-gpu`` install the same ``onnxruntime`` module, so with both the
    files of whichever was installed last win and the providers on offer depend on install order.

    Raises:
        FailedPrecondition: none or both are installed.
    """
    found = installed_onnxruntimes(names)
    if len(found) != 1:
        raise FailedPrecondition(
            f"expected exactly one ONNX Runtime distribution, found {found or 'none'}: install the `cpu` extra "
            f"or the `gpu` extra (with constraints-gpu.txt), never both"
        )
    return found[0]


GPU_PREPROCESS_MODES: tuple[str, ...] = ("auto", "on", "off")


@dataclass(frozen=True)
class PreprocessPlan:
    """Where encoded images are decoded and preprocessed, and why (logged and published at start)."""

    device: str | None
    """The torch device (``cuda:0``) of the GPU path, or None for the CPU path."""
    reason: str


def runs_on_gpu(execution_provider: str) -> bool:
    """True for ONNX Runtime's GPU providers and for the torch backend's ``cuda`` devices."""
    return execution_provider in GPU_PROVIDERS or execution_provider.startswith("cuda")


def preprocess_plan(
    mode: str,
    execution_provider: str,
    *,
    cuda_device: str | None,
    torchvision_error: str | None,
) -> PreprocessPlan:
    """Decide the GPU preprocessing of ``--gpu-preprocess mode`` from plain facts.

    Args:
        mode: ``auto`` (on when the model runs on a GPU and nvJPEG is at hand), ``on`` (required: start-up
            fails without it) or ``off``.
        execution_provider: what the model really runs on (``CUDAExecutionProvider``, ``cuda``, ``cpu``, ...).
        cuda_device: the torch device the model's GPU is (``cuda:0``), or None when torch sees no CUDA device.
        torchvision_error: why ``torchvision.io.decode_jpeg`` cannot be imported, or None when it can.

    Raises:
        FailedPrecondition: ``on`` was asked for and one of its needs is missing (the message names it).
    """
    if mode not in GPU_PREPROCESS_MODES:
        raise FailedPrecondition(f"gpu_preprocess must be one of {GPU_PREPROCESS_MODES}, got {mode!r}")
    if mode == "off":
        return PreprocessPlan(None, "off (--gpu-preprocess off)")
    on_gpu = runs_on_gpu(execution_provider)
    missing = (
        f"the model runs on {execution_provider}, not a GPU"
        if not on_gpu
        else "torch sees no CUDA device"
        if cuda_device is None
        else f"torchvision (nvJPEG) is not importable: {torchvision_error}"
        if torchvision_error is not None
        else None
    )
    if missing is None:
        assert cuda_device is not None
        return PreprocessPlan(cuda_device, f"nvJPEG decode and tensor preprocessing on {cuda_device}")
    if mode == "on":
        raise FailedPrecondition(f"--gpu-preprocess on needs the GPU path, but {missing}; use auto or off")
    return PreprocessPlan(None, f"CPU ({missing})")
