"""ONNX conversion steps of an export: fp32 export, graph optimisation, int8 and fp16, and parity.

Each step is a function from files to files, so :mod:`emotion_service.build.export` only orchestrates.
Parity compares ONNX Runtime (CPU EP) against the PyTorch model on seeded random inputs and is
*enforced*: a precision whose figures break its :class:`ParityTolerance` fails the export.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from servicekit.errors import FailedPrecondition

INPUT_NAME = "pixel_values"
OUTPUT_NAME = "logits"


class ParityError(FailedPrecondition):
    """An exported precision disagrees with PyTorch beyond its tolerance."""


@dataclass(frozen=True)
class ParityTolerance:
    """Limits one precision must meet against the PyTorch fp32 reference (``None`` = not checked).

    Top-1 agreement counts only *decisive* samples, whose reference top-2 probability margin is at least
    ``tie_margin``: on a near-tie either answer is right and a flip says nothing about the conversion.
    Defaults (see docs/emotion.md): fp32 max |logit diff| <= 1e-4; int8 max |prob diff| <= 0.05 and
    top-1 agreement >= 0.9; fp16 max |prob diff| <= 0.01 and top-1 agreement >= 0.99.
    """

    max_abs_logit_diff: float | None = None
    max_abs_prob_diff: float | None = None
    min_top1_agreement: float | None = None
    tie_margin: float = 0.0

    def violations(self, figures: dict[str, float]) -> list[str]:
        """Human-readable list of the limits ``figures`` break (empty when it passes)."""
        out = []
        if self.max_abs_logit_diff is not None and not figures["max_abs_logit_diff"] <= self.max_abs_logit_diff:
            out.append(f"max |logit diff| {figures['max_abs_logit_diff']:.3g} > {self.max_abs_logit_diff:g}")
        if self.max_abs_prob_diff is not None and not figures["max_abs_prob_diff"] <= self.max_abs_prob_diff:
            out.append(f"max |prob diff| {figures['max_abs_prob_diff']:.3g} > {self.max_abs_prob_diff:g}")
        if self.min_top1_agreement is not None and not figures["top1_agreement"] >= self.min_top1_agreement:
            out.append(f"top-1 agreement {figures['top1_agreement']:.3f} < {self.min_top1_agreement:g}")
        return out


DEFAULT_TOLERANCES: dict[str, ParityTolerance] = {
    "fp32": ParityTolerance(max_abs_logit_diff=1e-4),
    "int8": ParityTolerance(max_abs_prob_diff=0.05, min_top1_agreement=0.9, tie_margin=0.02),
    "fp16": ParityTolerance(max_abs_prob_diff=0.01, min_top1_agreement=0.99, tie_margin=0.005),
}


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Silence chatty library loggers (the torch exporter, the ORT quantizer) during one step."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def export_fp32(model: Any, path: Path, *, image_size: tuple[int, int], opset: int) -> str:
    """Export :func:`emotion_service.build.inference_graph.inference_module` of ``model`` with eager attention.

    Returns the name of the graph form that was exported.
    """
    from emotion_service.build.inference_graph import eager_attention, inference_module

    module, form = inference_module(model)
    with eager_attention(model):
        export_module(module, path, image_size=image_size, opset=opset)
    return form


def export_module(module: Any, path: Path, *, image_size: tuple[int, int], opset: int) -> None:
    """``torch.onnx.export(dynamo=True)`` of ``pixel_values -> logits`` with a dynamic batch axis, one file.

    The example batch has 2 items: with a batch-1 example the exporter pins the batch dimension to 1.
    """
    import torch

    example = torch.zeros(2, 3, *image_size)
    batch = torch.export.Dim("batch", min=1, max=4096)
    with _quiet("torch.onnx", "torch._dynamo", "torch.export", ""), torch.no_grad():
        torch.onnx.export(
            module,
            (example,),
            str(path),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: batch},),
            opset_version=opset,
            external_data=False,
            verbose=False,
        )


def optimize_graph(src: Path, dst: Path, *, num_heads: int, hidden_size: int) -> dict[str, int]:
    """Run onnxruntime's transformer optimizer (fused LayerNorm/Gelu/...); returns the fused-operator counts."""
    from onnxruntime.transformers.optimizer import optimize_model

    with _quiet("onnxruntime.transformers", "onnx_model", "fusion_base", ""):
        optimized = optimize_model(str(src), model_type="vit", num_heads=num_heads, hidden_size=hidden_size)
        optimized.save_model_to_file(str(dst))
    stats = optimized.get_fused_operator_statistics()
    return {k: int(v) for k, v in stats.items() if v}


# Matrix multiplications only: the patch embedding's ConvInteger runs at about half the speed of the
# fp32 Conv on MLAS (measured on ViT-B/16: ~4.7 vs ~2.0 ms per image), so it stays fp32.
INT8_OP_TYPES = ("MatMul", "Attention")


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation of weights (activations quantised at run time): the CPU precision."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet(""):  # the quantizer logs a pre-processing hint on the root logger every time
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=list(INT8_OP_TYPES))


def convert_fp16(src: Path, dst: Path) -> None:
    """fp16 weights and compute with fp32 inputs/outputs (``keep_io_types``): the GPU precision."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    with _quiet(""):
        converted = convert_float_to_float16(model, keep_io_types=True)
    onnx.save(converted, str(dst))


def onnx_opset(path: Path) -> int:
    """The default-domain opset a file was written with."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next(int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx"))


def random_inputs(samples: int, image_size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Seeded uniform inputs in [-1, 1] (the normalised pixel range), float32 ``[N, 3, H, W]``."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(samples, 3, *image_size)).astype(np.float32)


def torch_logits(model: Any, pixels: np.ndarray) -> np.ndarray:
    """The PyTorch reference logits (fp32, CPU)."""
    import torch

    with torch.no_grad():
        out: np.ndarray = model(pixel_values=torch.from_numpy(pixels)).logits.float().numpy()
    return out


def ort_logits(path: Path, pixels: np.ndarray, *, batch_size: int | None = None) -> np.ndarray:
    """ONNX Runtime CPU EP logits, run in chunks of ``batch_size`` (default: one batch)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    step = batch_size or len(pixels)
    chunks = [session.run([OUTPUT_NAME], {INPUT_NAME: pixels[i : i + step]})[0] for i in range(0, len(pixels), step)]
    return np.concatenate(chunks).astype(np.float32)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def parity_figures(reference: np.ndarray, candidate: np.ndarray, *, tie_margin: float = 0.0) -> dict[str, float]:
    """Compute max |logit diff|, max |prob diff| and top-1 agreement of ``candidate`` against ``reference``."""
    if reference.shape != candidate.shape:
        raise ParityError(f"ONNX output shape {candidate.shape} differs from PyTorch {reference.shape}")
    ref_probs = _softmax(reference)
    top2 = np.sort(ref_probs, axis=-1)[:, -2:]
    decisive = (top2[:, 1] - top2[:, 0]) >= tie_margin
    agree = candidate.argmax(-1) == reference.argmax(-1)
    return {
        "max_abs_logit_diff": float(np.abs(candidate - reference).max()),
        "max_abs_prob_diff": float(np.abs(_softmax(candidate) - ref_probs).max()),
        # With no decisive sample there is nothing to disagree on.
        "top1_agreement": float(agree[decisive].mean()) if decisive.any() else 1.0,
        "top1_agreement_all": float(agree.mean()),
        "decisive_samples": int(decisive.sum()),
    }


def check_parity(
    precision: str, reference: np.ndarray, candidate: np.ndarray, tolerance: ParityTolerance
) -> dict[str, Any]:
    """Figures plus the tolerance; raises :class:`ParityError` when a limit is broken."""
    figures = parity_figures(reference, candidate, tie_margin=tolerance.tie_margin)
    broken = tolerance.violations(figures)
    record: dict[str, Any] = {
        **figures,
        "samples": int(reference.shape[0]),
        "inputs": "seeded uniform [-1, 1]",
        "provider": "CPUExecutionProvider",
        "tolerance": {
            k: v
            for k, v in asdict(tolerance).items()
            if v is not None and (k != "tie_margin" or tolerance.min_top1_agreement is not None)
        },
        "passed": not broken,
    }
    if broken:
        raise ParityError(f"{precision} ONNX model fails parity with PyTorch: {'; '.join(broken)}")
    return record
