"""Build a model bundle: ``python -m emotion_service.build.export --source SRC --out DIR``.

    python -m emotion_service.build.export --source tiny --out build/models/emotion/tiny \
        --precision fp32,int8 --if-missing
    python -m emotion_service.build.export --source vit-base-random --out build/models/emotion/vit-base-random
    python -m emotion_service.build.export --source dima806/facial_emotions_image_detection --out DIR \
        --precision fp32,int8,fp16
    python -m emotion_service.build.export --source /path/to/hf-model-dir --out DIR --optimize

SRC is an embedded name (``tiny``, ``tiny-random``, ``vit-base-random``), a local Hugging Face directory
(safetensors only) or a hub id. Steps: load the PyTorch model; save its HF directory into the bundle (for
the torch backend); export fp32 ONNX (dynamo exporter, dynamic batch); optionally optimise the graph;
derive int8 (dynamic quantisation, CPU) and fp16 (GPU); check and enforce parity of every precision
against PyTorch; write ``manifest.json``. The bundle is assembled in a temporary directory next to
``--out`` and moved into place only when complete, so a reader never sees a half-written bundle.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from emotion_service.build.onnx_convert import DEFAULT_TOLERANCES, INPUT_NAME, OUTPUT_NAME, ParityError, ParityTolerance
from emotion_service.build.sources import ResolvedSource, SourceError, resolve_source
from emotion_service.bundle import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    PRECISIONS,
    Bundle,
    BundleError,
    Preprocessing,
    load_bundle,
)
from servicekit.errors import FailedPrecondition
from servicekit.provenance import library_versions, sha256_file

# Bumped when the bundle this module writes changes for the same source and options.
EXPORTER_VERSION = 3
_INT8_RECIPE = "onnxruntime.quantization.quantize_dynamic, weights QInt8, ops MatMul/Attention (Conv stays fp32)"
DEFAULT_OPSET = 20
DEFAULT_PARITY_SAMPLES = 16
HF_SUBDIR = "hf"
_LIBRARIES = ("torch", "transformers", "onnx", "onnxscript", "onnxruntime", "safetensors", "numpy", "huggingface_hub")

Progress = Callable[[str], None]


class ExportError(FailedPrecondition):
    """The export cannot proceed (bad options or output directory)."""


def stderr_progress(prefix: str = "export") -> Progress:
    """A progress callback printing ``[prefix +12.3s] message`` lines to stderr."""
    start = time.monotonic()

    def emit(message: str) -> None:
        print(f"[{prefix} +{time.monotonic() - start:5.1f}s] {message}", file=sys.stderr, flush=True)

    return emit


def _silent(_message: str) -> None:
    """A progress callback that prints nothing."""


def parse_precisions(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"fp32,int8"`` -> ``("fp32", "int8")`` in canonical order.

    fp32 is always included: the other precisions are derived from it.
    """
    items = [p.strip() for p in text.split(",")] if isinstance(text, str) else [p.strip() for p in text]
    unknown = [p for p in items if p and p not in PRECISIONS]
    if unknown:
        raise ExportError(f"--precision: unknown {', '.join(unknown)}; choose from {', '.join(PRECISIONS)}")
    wanted = {"fp32", *(p for p in items if p)}
    return tuple(p for p in PRECISIONS if p in wanted)


def _options_record(precisions: Sequence[str], optimize: bool, opset: int) -> dict[str, Any]:
    return {"precisions": list(precisions), "optimize": optimize, "opset": opset, "exporter_version": EXPORTER_VERSION}


def is_up_to_date(out: Path, source: ResolvedSource, precisions: Sequence[str], optimize: bool, opset: int) -> bool:
    """True when ``out`` holds a verified bundle of the same source (sha256) with these options."""
    try:
        manifest = json.loads((out / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return False
    options = manifest.get("export_options", {})
    same = (
        manifest.get("source", {}).get("sha256") == source.fingerprint
        and set(precisions) <= set(manifest.get("onnx", {}))
        and options.get("optimize") == optimize
        and options.get("opset") == opset
        and options.get("exporter_version") == EXPORTER_VERSION
    )
    if not same:
        return False
    try:
        load_bundle(out)  # every file still matches its sha256
    except BundleError:
        return False
    return True


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Serialise exports to the same ``out`` across processes (tests and servers may race for the default bundle)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.parent / f".{out.name}.lock"
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_replaceable(out: Path) -> None:
    """Refuse an ``out`` that exists but is not a bundle: it is replaced wholesale."""
    if out.exists():
        if not out.is_dir():
            raise ExportError(f"--out {out} exists and is not a directory")
        if any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
            raise ExportError(f"--out {out} exists, is not empty and is not a model bundle; refusing to replace it")


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished bundle ``tmp`` to ``out``, replacing a previous bundle (never a foreign directory)."""
    _check_replaceable(out)
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


def _file_entries(root: Path) -> dict[str, dict[str, Any]]:
    for p in root.rglob("*"):
        # safetensors writes 0600; a bundle is read by service users other than the one who built it.
        p.chmod(0o755 if p.is_dir() else 0o644)
    return {
        str(p.relative_to(root)): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }


def export_bundle(
    source: str,
    out: Path,
    *,
    precisions: Sequence[str] = ("fp32", "int8"),
    optimize: bool = False,
    opset: int = DEFAULT_OPSET,
    if_missing: bool = False,
    revision: str | None = None,
    parity_samples: int = DEFAULT_PARITY_SAMPLES,
    tolerances: dict[str, ParityTolerance] | None = None,
    include_hf: bool = True,
    progress: Progress = _silent,
) -> Bundle:
    """Export ``source`` into the bundle directory ``out`` and return the loaded bundle.

    Args:
        source: embedded name, local HF directory or hub id (see :func:`~emotion_service.build.sources.resolve_source`).
        out: bundle directory (replaced if it holds an older bundle).
        precisions: any of fp32, int8, fp16 (fp32 is always built).
        optimize: run onnxruntime's transformer graph optimiser on the fp32 graph (the others derive from it).
        opset: ONNX opset of the export.
        if_missing: return the existing bundle when it is of the same source sha256 with these options.
        revision: hub revision (hub ids only).
        parity_samples: random inputs of the parity check.
        tolerances: per-precision limits, defaulting to :data:`~emotion_service.build.onnx_convert.DEFAULT_TOLERANCES`.
        include_hf: also store the HF directory (config + safetensors) for the torch backend.
        progress: receives one line per step.

    Raises:
        SourceError, ParityError, ExportError: all ``FailedPrecondition``, with the reason.
    """
    out = Path(out)
    wanted = parse_precisions(precisions)
    if not 13 <= opset <= 23:
        raise ExportError(f"--opset must be in 13..23, got {opset}")
    if parity_samples < 2:
        raise ExportError(f"parity_samples must be >= 2, got {parity_samples}")
    limits = {**DEFAULT_TOLERANCES, **(tolerances or {})}

    progress(f"resolving source {source!r}")
    resolved = resolve_source(source, revision=revision)
    progress(f"source: {resolved.kind} {resolved.model_id} (weights: {resolved.weights_origin})")
    with _locked(out):
        if if_missing and is_up_to_date(out, resolved, wanted, optimize, opset):
            progress(f"{out} is up to date (source sha256 {resolved.fingerprint[:12]}); nothing to do")
            return load_bundle(out)
        _check_replaceable(out)
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            _build(resolved, tmp, wanted, optimize, opset, parity_samples, limits, include_hf, progress)
            _replace_dir(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    bundle = load_bundle(out)
    progress(f"bundle written to {out} ({', '.join(bundle.precisions)})")
    return bundle


def _build(
    resolved: ResolvedSource,
    tmp: Path,
    precisions: tuple[str, ...],
    optimize: bool,
    opset: int,
    parity_samples: int,
    tolerances: dict[str, ParityTolerance],
    include_hf: bool,
    progress: Progress,
) -> None:
    """Write every file of the bundle into ``tmp``, the manifest last."""
    from emotion_service.build import onnx_convert as oc

    preprocessing = Preprocessing.from_processor_config(resolved.processor_config)
    size = (preprocessing.height, preprocessing.width)
    progress("loading the PyTorch model")
    model = resolved.load_model()
    config = model.config
    labels = [str(config.id2label[i]) for i in range(int(config.num_labels))]
    if tuple(config.image_size if isinstance(config.image_size, list | tuple) else (config.image_size,) * 2) != size:
        raise ExportError(f"model image_size {config.image_size} differs from the processor's size {size}")
    parameters = sum(p.numel() for p in model.parameters())
    progress(f"model: {parameters:,} parameters, input 3x{size[0]}x{size[1]}, {len(labels)} labels")

    if include_hf:
        hf = tmp / HF_SUBDIR
        model.save_pretrained(hf, safe_serialization=True)
        (hf / "preprocessor_config.json").write_text(json.dumps(resolved.processor_config, indent=2) + "\n")

    files: dict[str, str] = {}
    fused: dict[str, int] = {}
    fp32 = tmp / "model.fp32.onnx"
    progress(f"exporting fp32 ONNX (torch.onnx dynamo, opset {opset}, dynamic batch)")
    raw = tmp / "model.fp32.raw.onnx" if optimize else fp32
    graph_form = oc.export_fp32(model, raw, image_size=size, opset=opset)
    progress(f"graph form: {graph_form}, eager attention")
    if optimize:
        progress("optimising the graph (onnxruntime.transformers.optimizer)")
        fused = oc.optimize_graph(raw, fp32, num_heads=config.num_attention_heads, hidden_size=config.hidden_size)
        raw.unlink()
        progress(f"fused operators: {fused or 'none'}")
    files["fp32"] = fp32.name
    if "int8" in precisions:
        progress("quantising to int8 (dynamic, weights QInt8)")
        oc.quantize_int8(fp32, tmp / "model.int8.onnx")
        files["int8"] = "model.int8.onnx"
    if "fp16" in precisions:
        progress("converting to fp16 (fp32 inputs and outputs)")
        oc.convert_fp16(fp32, tmp / "model.fp16.onnx")
        files["fp16"] = "model.fp16.onnx"

    progress(f"parity check on {parity_samples} random inputs (whole batch and batch 1)")
    pixels = oc.random_inputs(parity_samples, size)
    reference = oc.torch_logits(model, pixels)
    parity: dict[str, Any] = {}
    for precision, name in files.items():
        whole = oc.ort_logits(tmp / name, pixels)
        single = oc.ort_logits(tmp / name, pixels[:2], batch_size=1)
        record = oc.check_parity(
            precision,
            np.concatenate([reference, reference[:2]]),
            np.concatenate([whole, single]),
            tolerances[precision],
        )
        record["samples"] = parity_samples
        record["batch_sizes"] = [parity_samples, 1]
        parity[precision] = record
        progress(
            f"  {precision}: max |logit diff| {record['max_abs_logit_diff']:.2e}, max |prob diff| "
            f"{record['max_abs_prob_diff']:.2e}, top-1 agreement {record['top1_agreement']:.3f} -> ok"
        )

    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "model_id": resolved.model_id,
        "source": {"spec": resolved.spec, **resolved.description, "sha256": resolved.fingerprint},
        "weights_origin": resolved.weights_origin,
        "random_weights": resolved.weights_origin == "random",
        "quality_domain": resolved.quality_domain,
        "labels": labels,
        "preprocessing": preprocessing.to_dict(),
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [-1, 3, size[0], size[1]]},
        "output": {"name": OUTPUT_NAME, "dtype": "float32", "shape": [-1, len(labels)]},
        "architecture": {
            "class": type(model).__name__,
            "model_type": config.model_type,
            "hidden_size": config.hidden_size,
            "num_hidden_layers": config.num_hidden_layers,
            "num_attention_heads": config.num_attention_heads,
            "intermediate_size": config.intermediate_size,
            "patch_size": config.patch_size,
            "image_size": list(size),
            "parameters": parameters,
        },
        "onnx": files,
        "hf_dir": HF_SUBDIR if include_hf else None,
        "opset": oc.onnx_opset(fp32),
        "exporter": {"name": "torch.onnx.export", "dynamo": True, "emoflux_exporter_version": EXPORTER_VERSION},
        "graph": {"form": graph_form, "attention": "eager"},
        "graph_optimization": {"applied": optimize, "fused_operators": fused},
        "quantization": {"int8": _INT8_RECIPE} if "int8" in files else {},
        "export_options": _options_record(precisions, optimize, opset),
        "versions": library_versions(_LIBRARIES),
        "parity": parity,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **resolved.extra,
    }
    manifest["files"] = _file_entries(tmp)
    (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")


def ensure_bundle(source: str, out: Path, *, precisions: Sequence[str] = ("fp32", "int8"), **kwargs: Any) -> Bundle:
    """The bundle at ``out``, exported from ``source`` first when missing or stale (``--if-missing``)."""
    return export_bundle(source, out, precisions=precisions, if_missing=True, **kwargs)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(
        prog="python -m emotion_service.build.export",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--source", required=True, help="tiny | tiny-random | vit-base-random | HF directory | hub id")
    p.add_argument("--out", required=True, type=Path, help="bundle directory to write")
    p.add_argument("--precision", default="fp32,int8", help="comma-separated: fp32, int8, fp16")
    p.add_argument("--optimize", action="store_true", help="onnxruntime transformer graph optimisation")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset")
    p.add_argument("--if-missing", action="store_true", help="do nothing when an up-to-date bundle exists")
    p.add_argument("--revision", default=None, help="hub revision (branch, tag or commit)")
    p.add_argument(
        "--parity-samples", type=int, default=DEFAULT_PARITY_SAMPLES, help="random inputs of the parity check"
    )
    p.add_argument("--no-hf", action="store_true", help="do not store the HF directory (no torch backend)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit status 2 with a one-line reason on failure."""
    args = parse_args(argv)
    try:
        export_bundle(
            args.source,
            args.out,
            precisions=parse_precisions(args.precision),
            optimize=args.optimize,
            opset=args.opset,
            if_missing=args.if_missing,
            revision=args.revision,
            parity_samples=args.parity_samples,
            include_hf=not args.no_hf,
            progress=stderr_progress(),
        )
    except (SourceError, ParityError, ExportError, BundleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
