"""Loading a variant: the diffusers pipeline on its device and dtype, with the chosen transformer backend.

Pipelines load from a local directory or a hub id with safetensors only (never pickles, never remote
code). With ``HF_HUB_OFFLINE=1`` a hub id resolves from the local Hugging Face cache.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from image_service.backends import BackendKind, BackendOptions, create_backend
from image_service.sources import VariantSource
from image_service.variants import VariantSpec
from servicekit.errors import FailedPrecondition

log = logging.getLogger("emoflux.image.pipeline")

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(name: str) -> torch.device:
    """``auto`` picks the first CUDA device when there is one, otherwise the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise FailedPrecondition(f"device {name!r}: no CUDA device is available")
    return device


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on GPUs that support it (float16 otherwise), float32 on the CPU."""
    if name != "auto":
        return DTYPES[name]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def pipeline_class(name: str) -> Any:
    """The diffusers pipeline class called ``name``."""
    import diffusers

    try:
        return getattr(diffusers, name)
    except AttributeError:
        raise FailedPrecondition(f"diffusers {diffusers.__version__} has no {name}") from None


def _quiet_loading() -> None:
    """No per-file progress bars in service logs."""
    import diffusers.utils.logging
    import transformers.utils.logging

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()


def load_pipeline(source: VariantSource, dtype: torch.dtype) -> Any:
    """Load the variant's pipeline on the CPU in ``dtype``, every module in eval mode, progress bars off."""
    cls = pipeline_class(source.spec.pipeline_class)
    _quiet_loading()
    if source.local and not Path(source.location).is_dir():
        raise FailedPrecondition(f"variant {source.spec.name!r}: {source.location} is not a directory")
    try:
        pipe = cls.from_pretrained(source.location, dtype=dtype, use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise FailedPrecondition(
            f"variant {source.spec.name!r} could not be loaded from {source.location} ({exc.__class__.__name__}: "
            f"{str(exc)[:300]}); pass --variant-dir {source.spec.name}=PATH to a local copy"
        ) from exc
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            component.eval()  # modules built from configs start in train mode (dropout)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def place_pipeline(pipe: Any, device: torch.device, cpu_offload: bool) -> None:
    """Move the pipeline to ``device``, or offload idle components to the CPU (CUDA only)."""
    if cpu_offload and device.type == "cuda":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)


def main_tokenizer(pipe: Any) -> Any:
    """The tokenizer of the main text encoder: T5's (``tokenizer_2``) for FLUX.1, the only one otherwise."""
    return getattr(pipe, "tokenizer_2", None) or pipe.tokenizer


def token_counter(pipe: Any) -> Callable[[str], int]:
    """A function giving the untruncated main-encoder token count of a prompt (special tokens included)."""
    # A private copy: fast tokenizers keep truncation state and refuse concurrent use ("Already borrowed"),
    # and the pipeline thread uses the original while requests are validated on the event loop.
    tokenizer = copy.deepcopy(main_tokenizer(pipe))

    def count(prompt: str) -> int:
        return len(tokenizer(prompt, add_special_tokens=True, truncation=False)["input_ids"])

    return count


@dataclass
class LoadedVariant:
    """A variant ready to generate: its spec, pipeline, backend and placement."""

    spec: VariantSpec
    source: VariantSource
    pipe: Any
    backend: str
    device: torch.device
    dtype: torch.dtype
    count_tokens: Callable[[str], int]
    # LoRA adapters loaded into ``pipe`` (image_service.adapters), and the (name, scale) pairs now active.
    adapters: dict[str, Any] = field(default_factory=dict)
    active_adapters: tuple[tuple[str, float], ...] = ()
    # torch-compile only: the adapter now in the hot-swap slot and its layers' unscaled scaling values.
    hotswap_slot: str | None = None
    slot_scaling: dict[Any, float] = field(default_factory=dict)
    # The inpainting pipeline sharing ``pipe``'s modules, built on first use (image_service.inpainting).
    inpaint_pipe: Any = None


def load_variant(
    source: VariantSource,
    *,
    backend: BackendOptions,
    cpu_offload: bool = False,
) -> LoadedVariant:
    """Load ``source`` and install the transformer backend described by ``backend``."""
    spec = source.spec
    if backend.kind is not BackendKind.TORCH and backend.onnx_path is None:
        raise FailedPrecondition(f"variant {spec.name!r}: backend {backend.kind.value} needs an ONNX export")
    runtime = create_backend(backend, spec.transformer_class)
    pipe = load_pipeline(source, backend.dtype)
    runtime.install(pipe)
    place_pipeline(pipe, backend.device, cpu_offload)
    log.info("loaded %s from %s: backend %s, %s on %s", spec.name, source.location, runtime.name, backend.dtype,
             backend.device)  # fmt: skip
    return LoadedVariant(
        spec=spec,
        source=source,
        pipe=pipe,
        backend=runtime.name,
        device=backend.device,
        dtype=backend.dtype,
        count_tokens=token_counter(pipe),
    )
