"""LoRA adapters per request: load them once beside the base weights, switch them between runs.

Adapters load with diffusers' own LoRA loader (``load_lora_weights(..., adapter_name=NAME)``), which
takes the diffusers/peft layout and converts the other common FLUX layouts (kohya, XLabs, BFL) itself.
Each adapter becomes a named set of low-rank matrices on the pipeline's transformer modules; the base
weights are never reloaded or copied. Before each run the pipeline thread activates the run's
adapters with ``set_adapters(names, weights)`` (or disables LoRA for base-weight runs), which only
flips which matrices count and their scales.

With ``--torch-compile`` switching must not recompile, so the compiled transformer holds one adapter
slot prepared with diffusers' ``enable_lora_hotswap`` (padded to the largest rank) before its first
forward: switching copies the next adapter's matrices into the slot (``load_lora_weights(...,
hotswap=True)``) and scales are written into the slot's scaling tensors in place (0 for base-weight
runs). A compiled server therefore applies one adapter per request.

Only the PyTorch backend can apply adapters: the ONNX Runtime and TensorRT backends run a frozen
exported graph, so they refuse adapters with FailedPrecondition naming the backend.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import safe_open

from image_service.jobs import AdapterWeight
from servicekit.errors import FailedPrecondition
from servicekit.provenance import sha256_file

log = logging.getLogger("emoflux.image.adapters")

ADAPTER_FILE = "pytorch_lora_weights.safetensors"  # diffusers' save_lora_weights name
ADAPTER_MANIFEST = "adapter_manifest.json"  # written by image_service.build.finetune
HOTSWAP_SLOT = "hotswap"  # the one adapter slot of a compiled transformer
COMPILED = "torch-compile"
# Key fragments of the "down" (A) matrix in the layouts diffusers reads: peft/diffusers, kohya, XLabs.
_DOWN_MARKERS = (".lora_A.", ".lora_down.", ".down.")


@dataclass(frozen=True)
class AdapterInfo:
    """A loaded LoRA adapter: where it came from and what it changes."""

    name: str
    base_variant: str
    path: Path
    rank: int
    layers: int
    sha256: str
    description: str = ""


def adapter_file(path: Path) -> Path:
    """The safetensors file of an adapter given as a file or a directory (FailedPrecondition if none)."""
    if path.is_file():
        if path.suffix != ".safetensors":
            raise FailedPrecondition(f"lora: {path} is not a .safetensors file (pickled weights are not loaded)")
        return path
    if path.is_dir():
        if (path / ADAPTER_FILE).is_file():
            return path / ADAPTER_FILE
        found = sorted(path.glob("*.safetensors"))
        if len(found) == 1:
            return found[0]
        raise FailedPrecondition(f"lora: {path} holds {len(found)} .safetensors files (expected {ADAPTER_FILE})")
    raise FailedPrecondition(f"lora: {path} does not exist")


def read_manifest(file: Path) -> dict[str, Any]:
    """The adapter's manifest (next to its weights), or an empty dict."""
    manifest = file.parent / ADAPTER_MANIFEST
    if not manifest.is_file():
        return {}
    data = json.loads(manifest.read_text())
    return data if isinstance(data, dict) else {}


def inspect_adapter(name: str, path: Path, default_base: str) -> AdapterInfo:
    """Rank, layer count, digest and base variant of the adapter at ``path`` (without loading it)."""
    file = adapter_file(path)
    ranks: list[int] = []
    try:
        with safe_open(str(file), framework="pt") as weights:
            for key in weights.keys():  # noqa: SIM118 (safe_open is not a mapping)
                if any(marker in key for marker in _DOWN_MARKERS) and key.endswith("weight"):
                    ranks.append(int(weights.get_slice(key).get_shape()[0]))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise FailedPrecondition(f"lora: {file} is not a readable safetensors file ({exc})") from exc
    if not ranks:
        raise FailedPrecondition(f"lora: {file} holds no LoRA matrices (no lora_A / lora_down keys)")
    manifest = read_manifest(file)
    return AdapterInfo(
        name=name,
        base_variant=str(manifest.get("base_variant") or default_base),
        path=file,
        rank=max(ranks),
        layers=len(ranks),
        sha256=sha256_file(file),
        description=str(manifest.get("description", "")),
    )


def inspect_all(paths: Mapping[str, Path], default_base: str) -> dict[str, AdapterInfo]:
    """Inspect every configured adapter (``--lora NAME=PATH``), keyed by name."""
    return {name: inspect_adapter(name, path, default_base) for name, path in paths.items()}


def can_apply_adapters(backend: str) -> bool:
    """Whether a transformer backend (as responses name it) applies LoRA adapters: PyTorch only."""
    return backend.startswith("torch")


def refuse_backend(backend: str) -> FailedPrecondition:
    """The error for adapters on a backend that runs a frozen exported graph."""
    return FailedPrecondition(
        f"adapters: the {backend} backend runs a frozen exported transformer and cannot apply LoRA adapters; "
        "serve with --backend torch"
    )


def load_adapters(loaded: Any, adapters: Mapping[str, AdapterInfo]) -> None:
    """Load ``adapters`` into ``loaded``'s pipeline under their names, then leave LoRA off (base weights).

    Runs on the pipeline thread. A file diffusers cannot read is FailedPrecondition naming it.
    """
    if not adapters:
        return
    if not can_apply_adapters(loaded.backend):
        raise refuse_backend(loaded.backend)
    pipe = loaded.pipe
    if loaded.backend == COMPILED:
        _prepare_hotswap(loaded, adapters)
        return
    for info in adapters.values():
        try:
            pipe.load_lora_weights(str(info.path), adapter_name=info.name)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            raise FailedPrecondition(
                f"lora: {info.name}={info.path} could not be loaded into {loaded.spec.name!r} "
                f"({exc.__class__.__name__}: {str(exc)[:300]})"
            ) from exc
        loaded.adapters[info.name] = info
        log.info("adapter %s loaded into %s (rank %d, %d layers)", info.name, loaded.spec.name, info.rank, info.layers)
    pipe.disable_lora()
    loaded.active_adapters = ()


def _prepare_hotswap(loaded: Any, adapters: Mapping[str, AdapterInfo]) -> None:
    """Give a compiled (not yet run) transformer one hot-swappable slot holding the first adapter."""
    pipe = loaded.pipe
    # The transformer is wrapped by torch.compile but has not run: nothing is traced yet.
    pipe.enable_lora_hotswap(target_rank=max(a.rank for a in adapters.values()), check_compiled="ignore")
    first = next(iter(adapters.values()))
    pipe.load_lora_weights(str(first.path), adapter_name=HOTSWAP_SLOT)
    loaded.adapters.update(adapters)
    loaded.hotswap_slot = first.name
    loaded.slot_scaling = _slot_scalings(pipe.transformer)
    _scale_slot(loaded, 0.0)  # base weights until a request names an adapter
    loaded.active_adapters = ()
    log.info("adapters %s hot-swappable in %s (rank <= %d)", ", ".join(adapters), loaded.spec.name,
             max(a.rank for a in adapters.values()))  # fmt: skip


def _slot_scalings(transformer: Any) -> dict[Any, float]:
    """The slot's scaling tensor of every LoRA layer with the value the loaded adapter gives it."""
    found: dict[Any, float] = {}
    for module in transformer.modules():
        scaling = getattr(module, "scaling", None)
        if isinstance(scaling, dict) and HOTSWAP_SLOT in scaling:
            found[module] = float(scaling[HOTSWAP_SLOT])
    return found


def _scale_slot(loaded: Any, scale: float) -> None:
    """Write ``scale`` into the slot's scaling tensors in place (a new Python float would recompile)."""
    for module, base in loaded.slot_scaling.items():
        module.scaling[HOTSWAP_SLOT].fill_(base * scale)


def check_combination(backend: str, adapters: tuple[AdapterWeight, ...]) -> None:
    """A compiled transformer applies at most one adapter per request (FailedPrecondition otherwise)."""
    if backend == COMPILED and len(adapters) > 1:
        raise FailedPrecondition(
            f"adapters: the {backend} backend hot-swaps one adapter per request ({len(adapters)} given); "
            "serve without --torch-compile to combine adapters"
        )


def activate(loaded: Any, adapters: tuple[AdapterWeight, ...]) -> None:
    """Make ``adapters`` (with their scales) the ones the next run uses; no-op when already active.

    Runs on the pipeline thread, between runs.
    """
    key = tuple((a.name, a.scale) for a in adapters)
    if key == loaded.active_adapters:
        return
    if loaded.hotswap_slot is not None:
        _activate_slot(loaded, adapters)
        loaded.active_adapters = key
        return
    pipe = loaded.pipe
    if adapters:
        pipe.enable_lora()
        pipe.set_adapters([a.name for a in adapters], adapter_weights=[a.scale for a in adapters])
    else:
        pipe.disable_lora()
    loaded.active_adapters = key


def _activate_slot(loaded: Any, adapters: tuple[AdapterWeight, ...]) -> None:
    """Compiled transformer: swap the requested adapter into the slot if needed, then set its scale."""
    if not adapters:
        _scale_slot(loaded, 0.0)
        return
    (adapter,) = adapters  # check_combination refused more at admission
    if adapter.name != loaded.hotswap_slot:
        info = loaded.adapters[adapter.name]
        loaded.pipe.load_lora_weights(str(info.path), adapter_name=HOTSWAP_SLOT, hotswap=True)
        loaded.hotswap_slot = adapter.name
        loaded.slot_scaling = _slot_scalings(loaded.pipe.transformer)
    _scale_slot(loaded, adapter.scale)
