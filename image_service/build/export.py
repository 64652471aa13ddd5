"""Export a variant's FLUX transformer to ONNX, with a manifest and an enforced parity check.

``python -m image_service.build.export --variant tiny-flux --out DIR [--if-missing]`` writes ``DIR/transformer.onnx``
(dynamo exporter, opset 20, dynamic batch / image-sequence / text-sequence axes, exported from a batch-2
example so the batch axis stays dynamic) and ``DIR/manifest.json`` with provenance and parity:

* transformer: ONNX Runtime vs PyTorch outputs on several shapes (max |diff| <= ``transformer`` tolerance);
* pipeline: the same-seed images of the full pipeline with the ONNX transformer vs with PyTorch
  (max |diff| in [0, 1] pixel units <= ``image`` tolerance).

A failed check exits with status 1 and leaves no export behind. ``--if-missing`` returns at once when
``DIR`` already holds a passing export of the same source weights, so ``make setup`` can call it every time.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from image_service.backends.ort_backend import OrtTransformer, create_session
from image_service.backends.signature import (
    DYNAMIC_AXES,
    ONNX_FILE,
    OUTPUT_NAME,
    ExportWrapper,
    example_inputs,
    input_names,
)
from image_service.jobs import GenerationParams, ImageFormat, Job
from image_service.pipeline import load_pipeline, place_pipeline, resolve_device, resolve_dtype
from image_service.sources import VariantSource, parse_pairs, resolve, weights_digest
from image_service.variants import DEFAULT_VARIANT, VariantSpec, image_tokens
from servicekit.provenance import sha256_file

log = logging.getLogger("emoflux.image.export")

MANIFEST_FILE = "manifest.json"
OPSET = 20
# Max |diff| allowed: transformer outputs (model units) and pipeline images (pixels in [0, 1]).
TOLERANCES: dict[str, dict[str, float]] = {
    "float32": {"transformer": 1e-4, "image": 2e-3},
    "float16": {"transformer": 5e-2, "image": 5e-2},
    "bfloat16": {"transformer": 1e-1, "image": 8e-2},
}
_MAX_DIM = {"batch": 64, "img_seq": 16384, "txt_seq": 1024}
_EXTERNAL_DATA_BYTES = 1_500_000_000  # protobuf's 2 GB limit: big transformers keep weights outside


class ParityError(RuntimeError):
    """The exported transformer does not reproduce PyTorch within tolerance."""


def source_fingerprint(source: VariantSource) -> str:
    """Identity of the transformer weights an export was made from."""
    if source.local:
        return "sha256:" + weights_digest(Path(source.location) / "transformer")
    return f"hub:{source.location}"


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The manifest of an export directory, or None when absent or unreadable."""
    try:
        data = json.loads((out_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_current(out_dir: Path, fingerprint: str) -> bool:
    """Whether ``out_dir`` holds a passing export of the weights identified by ``fingerprint``."""
    manifest = read_manifest(out_dir)
    return (
        manifest is not None
        and manifest.get("source", {}).get("fingerprint") == fingerprint
        and bool(manifest.get("parity", {}).get("passed"))
        and (out_dir / ONNX_FILE).is_file()
    )


def _dim(name: str, lo: int) -> Any:
    return torch.export.Dim(name, min=lo, max=_MAX_DIM[name])


def export_transformer(transformer: torch.nn.Module, path: Path, *, example: tuple[int, int, int], opset: int) -> None:
    """Export ``transformer`` with the dynamo exporter and dynamic batch / sequence axes."""
    config: Any = getattr(transformer, "config")  # noqa: B009 - diffusers' FrozenDict config
    guidance = bool(config.guidance_embeds)
    names = input_names(guidance)
    param = next(transformer.parameters())
    args = example_inputs(config, *example, dtype=param.dtype, device=param.device)
    dims = {"batch": _dim("batch", 1), "img_seq": _dim("img_seq", 1), "txt_seq": _dim("txt_seq", 1)}
    dynamic_shapes = tuple({axis: dims[label] for axis, label in DYNAMIC_AXES[n].items()} for n in names)
    wrapper = ExportWrapper(transformer, guidance).eval()
    with torch.no_grad():
        program = torch.onnx.export(
            wrapper,
            args,
            dynamo=True,
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            input_names=list(names),
            output_names=[OUTPUT_NAME],
            verbose=False,
        )
    assert program is not None
    size = sum(p.numel() * p.element_size() for p in transformer.parameters())
    program.save(str(path), external_data=size > _EXTERNAL_DATA_BYTES)


def transformer_parity(
    transformer: torch.nn.Module, standin: OrtTransformer, shapes: list[tuple[int, int, int]]
) -> list[dict[str, Any]]:
    """Max |ONNX - PyTorch| of the transformer output for each (batch, img_seq, txt_seq)."""
    config: Any = getattr(transformer, "config")  # noqa: B009
    names = input_names(bool(config.guidance_embeds))
    param = next(transformer.parameters())
    results = []
    for batch, img_seq, txt_seq in shapes:
        args = example_inputs(config, batch, img_seq, txt_seq, dtype=param.dtype, device=param.device)
        feeds = dict(zip(names, args, strict=True))
        with torch.no_grad():
            expected = transformer(**feeds, return_dict=False)[0].float()
            got = standin(**feeds)[0].float()
        diff = float((expected - got).abs().max())
        results.append({"batch": batch, "img_seq": img_seq, "txt_seq": txt_seq, "max_abs_diff": diff})
    return results


def parity_jobs(spec: VariantSpec) -> list[Job]:
    """Two same-run requests (2 images + 1) at the variant's smallest size: exercises batch 3."""
    jobs = []
    for prompt, seed, count in (("a happy face", 7, 2), ("a sad face", 1234, 1)):
        params = GenerationParams(
            variant=spec.name,
            prompt=prompt,
            negative_prompt="",
            width=max(spec.limits.min_width, 64),
            height=max(spec.limits.min_height, 64),
            num_inference_steps=min(3, spec.limits.max_steps),
            guidance_scale=spec.defaults.guidance_scale,
            seed=seed,
            num_images=count,
            output_format=ImageFormat.PNG,
            quality=90,
            max_sequence_length=spec.defaults.max_sequence_length,
            prompt_tokens=0,
            prompt_truncated=False,
        )
        jobs.append(Job(params=params))
    return jobs


def pipeline_images(pipe: Any, spec: VariantSpec) -> np.ndarray:
    """Float images of the parity requests through ``pipe`` (same call path as serving)."""
    from image_service.generation import pipeline_kwargs

    with torch.inference_mode():
        return np.asarray(pipe(**pipeline_kwargs(spec, parity_jobs(spec))).images, dtype=np.float32)


def _versions() -> dict[str, str]:
    names = ("torch", "onnx", "onnxscript", "onnxruntime", "diffusers", "transformers")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def export_variant(
    source: VariantSource,
    out_dir: Path,
    *,
    device: torch.device,
    dtype: torch.dtype,
    opset: int = OPSET,
    pipeline_check: bool = True,
) -> dict[str, Any]:
    """Export, check parity, and write ``out_dir`` atomically; return the manifest (ParityError on failure)."""
    spec = source.spec
    if spec.transformer_class != "FluxTransformer2DModel":
        raise SystemExit(f"export: {spec.name} uses {spec.transformer_class}; only FluxTransformer2DModel is supported")
    dtype_name = str(dtype).removeprefix("torch.")
    tolerance = TOLERANCES[dtype_name]
    started = time.monotonic()
    pipe = load_pipeline(source, dtype)
    place_pipeline(pipe, device, cpu_offload=False)
    transformer = pipe.transformer
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        onnx_path = staging / ONNX_FILE
        seq = spec.defaults.max_sequence_length
        export_transformer(transformer, onnx_path, example=(2, 64, min(16, seq)), opset=opset)
        export_seconds = time.monotonic() - started
        session = create_session(onnx_path, device)
        standin = OrtTransformer(session, transformer.config, dtype, device)
        smallest = image_tokens(spec.limits.min_width, spec.limits.min_height)
        shapes = [
            (1, smallest, seq),
            (2, image_tokens(spec.defaults.width, spec.defaults.height), seq),
            (3, smallest * 4, max(1, seq // 2)),
        ]
        t_results = transformer_parity(transformer, standin, shapes)
        t_max = max(r["max_abs_diff"] for r in t_results)
        parity: dict[str, Any] = {
            "transformer": {"cases": t_results, "max_abs_diff": t_max, "tolerance": tolerance["transformer"]},
        }
        passed = t_max <= tolerance["transformer"]
        if pipeline_check:
            reference = pipeline_images(pipe, spec)
            pipe.transformer = standin
            try:
                candidate = pipeline_images(pipe, spec)
            finally:
                pipe.transformer = transformer
            i_max = float(np.abs(reference - candidate).max())
            parity["pipeline"] = {
                "images": int(reference.shape[0]),
                "size": [int(reference.shape[2]), int(reference.shape[1])],
                "steps": parity_jobs(spec)[0].params.num_inference_steps,
                "max_abs_diff": i_max,
                "max_abs_diff_uint8": int(np.abs(np.round(reference * 255) - np.round(candidate * 255)).max()),
                "tolerance": tolerance["image"],
            }
            passed = passed and i_max <= tolerance["image"]
        parity["passed"] = passed
        manifest = {
            "variant": spec.name,
            "file": ONNX_FILE,
            "sha256": sha256_file(onnx_path),
            "bytes": onnx_path.stat().st_size,
            "source": {"location": source.location, "fingerprint": source_fingerprint(source),
                       "weights_origin": spec.weights_origin.value},
            "exporter": {"api": "torch.onnx.export(dynamo=True)", "opset": opset, "example_batch": 2,
                         "versions": _versions()},
            "dtype": dtype_name,
            "device": str(device),
            "inputs": {name: {str(axis): label for axis, label in DYNAMIC_AXES[name].items()}
                       for name in input_names(bool(transformer.config.guidance_embeds))},
            "output": OUTPUT_NAME,
            "parity": parity,
            "export_seconds": round(export_seconds, 2),
            "total_seconds": round(time.monotonic() - started, 2),
        }  # fmt: skip
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        if not passed:
            raise ParityError(f"parity check failed: {json.dumps(parity)}")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def ensure_export(source: VariantSource, out_dir: Path, *, device: torch.device, dtype: torch.dtype) -> Path:
    """The ONNX file of a current, passing export in ``out_dir``, exporting first when needed."""
    if not is_current(out_dir, source_fingerprint(source)):
        log.info("exporting the %s transformer to %s", source.spec.name, out_dir)
        export_variant(source, out_dir, device=device, dtype=dtype)
    return out_dir / ONNX_FILE


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="python -m image_service.build.export", description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default=DEFAULT_VARIANT, help="variant to export (default %(default)s)")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--if-missing", action="store_true", help="do nothing when OUT holds a current export")
    parser.add_argument("--variant-dir", default="", help="comma-separated NAME=PATH local pipeline directories")
    parser.add_argument("--models-dir", type=Path, default=Path("build/models/image"), help="built models directory")
    parser.add_argument("--device", default="cpu", help="device to export on (default cpu)")
    parser.add_argument("--dtype", default="auto", choices=("auto", "float32", "float16", "bfloat16"))
    parser.add_argument("--opset", type=int, default=OPSET)
    parser.add_argument("--no-pipeline-check", action="store_true", help="skip the same-seed pipeline image check")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("onnx_ir").setLevel(logging.WARNING)  # one line per deduplicated initializer otherwise
    pairs = parse_pairs([p for p in args.variant_dir.split(",") if p], "variant_dir")
    source = resolve(args.variant, pairs, args.models_dir)
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    if args.if_missing and is_current(args.out, source_fingerprint(source)):
        print(f"{args.out}: current export of {args.variant} present, nothing to do")
        return 0
    try:
        manifest = export_variant(
            source, args.out, device=device, dtype=dtype, opset=args.opset, pipeline_check=not args.no_pipeline_check
        )
    except ParityError as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    parity = manifest["parity"]
    line = f"transformer max|diff| {parity['transformer']['max_abs_diff']:.2e}"
    if "pipeline" in parity:
        line += f", pipeline image max|diff| {parity['pipeline']['max_abs_diff']:.2e}"
    print(f"wrote {args.out / ONNX_FILE} ({manifest['bytes']} bytes) in {manifest['total_seconds']} s; {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
