"""What each export choice is worth: ViT-B/16 raw ONNX Runtime images/s by graph form, fp32 and int8.

    python bench/emotion_graph.py            # ~4 min on 2 cores; table + bench/results/emotion_graph.json
    python bench/emotion_graph.py --quick    # tiny-random, short rounds: check that everything runs

Graph forms (see emotion_service/build/inference_graph.py):
  sdpa       the whole model with its default attention, as torch.onnx exports it out of the box;
  eager      the whole model with eager attention (no SDPA NaN guard in the graph);
  exported   what ``python -m emotion_service.build.export`` writes: eager attention, last layer for [CLS] only.
Each form is exported with the dynamo exporter, quantised like a bundle, and its fp32 logits checked against
PyTorch. Timing is at batch 1 (the fastest CPU batch) in interleaved rounds, every form once per round, so
drift of a shared machine hits all forms alike; figures are medians over rounds, ratios are against ``sdpa``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, log, machine, table, timed_loop
from emotion_service.build import embedded
from emotion_service.build import onnx_convert as oc
from emotion_service.build.inference_graph import cls_only, eager_attention, logits_only

FORMS = ("sdpa", "eager", "exported")


def export_forms(model: Any, out: Path, image_size: tuple[int, int]) -> dict[str, dict[str, Path]]:
    """fp32 and int8 files of every form, written under ``out``."""
    files: dict[str, dict[str, Path]] = {}
    for form in FORMS:
        fp32, int8 = out / f"{form}.fp32.onnx", out / f"{form}.int8.onnx"
        module = cls_only(model) if form == "exported" else logits_only(model)
        start = time.monotonic()
        if form == "sdpa":
            oc.export_module(module, fp32, image_size=image_size, opset=20)
        else:
            with eager_attention(model):
                oc.export_module(module, fp32, image_size=image_size, opset=20)
        oc.quantize_int8(fp32, int8)
        log(f"exported {form} (fp32 + int8) in {time.monotonic() - start:.1f} s")
        files[form] = {"fp32": fp32, "int8": int8}
    return files


def parity(model: Any, files: dict[str, dict[str, Path]], image_size: tuple[int, int]) -> dict[str, float]:
    """max |logit diff| of each form's fp32 file against the PyTorch model (all must be the same function)."""
    pixels = oc.random_inputs(4, image_size)
    reference = oc.torch_logits(model, pixels)
    return {form: float(np.abs(oc.ort_logits(f["fp32"], pixels) - reference).max()) for form, f in files.items()}


def interleaved(
    files: dict[str, dict[str, Path]], image_size: tuple[int, int], rounds: int, seconds: float
) -> dict[str, dict[str, list[float]]]:
    """images/s of every (form, precision) at batch 1, ``rounds`` times each, in interleaved order."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sessions = {
        (form, precision): ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        for form, paths in files.items()
        for precision, path in paths.items()
    }
    pixels = oc.random_inputs(1, image_size)
    for session in sessions.values():
        session.run(None, {oc.INPUT_NAME: pixels})
    out: dict[str, dict[str, list[float]]] = {form: {"fp32": [], "int8": []} for form in FORMS}
    for r in range(rounds):
        for (form, precision), session in sessions.items():

            def step(s: Any = session) -> int:
                s.run(None, {oc.INPUT_NAME: pixels})
                return 1

            out[form][precision].append(round(timed_loop(step, seconds=seconds, min_runs=2)["items_per_s"], 3))
        log(f"round {r + 1}/{rounds}: " + ", ".join(f"{f} {p} {v[-1]}" for f, d in out.items() for p, v in d.items()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="vit-base-random", help="embedded model (tiny-random: a smoke test)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0, help="window of one measurement")
    parser.add_argument("--quick", action="store_true", help="tiny-random, 2 rounds of 1 s")
    parser.add_argument("--out", type=Path, default=RESULTS / "emotion_graph.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.source, args.rounds, args.seconds = "tiny-random", 2, 1.0
    start = time.monotonic()
    results: dict[str, Any] = {"machine_before": machine(), "source": args.source}
    model = embedded.build_model(embedded.recipe(args.source))
    size = int(model.config.image_size)
    with tempfile.TemporaryDirectory(prefix="emotion-graph-") as tmp:
        files = export_forms(model, Path(tmp), (size, size))
        results["fp32_max_abs_logit_diff"] = parity(model, files, (size, size))
        runs = interleaved(files, (size, size), args.rounds, args.seconds)
    medians = {form: {p: round(statistics.median(v), 3) for p, v in d.items()} for form, d in runs.items()}
    results.update(rounds=runs, median_images_per_s=medians, batch=1, window_s=args.seconds)
    results["over_sdpa"] = {
        form: {p: round(medians[form][p] / medians["sdpa"][p], 3) for p in ("fp32", "int8")} for form in FORMS
    }
    results["machine_after"] = machine()
    results["wall_seconds"] = round(time.monotonic() - start, 1)
    rows = [
        [
            form,
            medians[form]["fp32"],
            results["over_sdpa"][form]["fp32"],
            medians[form]["int8"],
            results["over_sdpa"][form]["int8"],
            f"{results['fp32_max_abs_logit_diff'][form]:.1e}",
        ]
        for form in FORMS
    ]
    headers = ["graph form", "fp32 img/s", "fp32 / sdpa", "int8 img/s", "int8 / sdpa", "fp32 max |logit diff|"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(rows, headers))
    print(f"\n{args.source}, batch 1, median of {args.rounds} interleaved rounds; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
