"""Demonstration of ``emotion_service.build.finetune``: the tiny classifier adapted to 4 labels in a new style.

``python -m emotion_service.build.finetune_demo [--work build/finetune-demo/emotion] [--per-label 150]``

The embedded tiny ViT was trained on synthetic faces in natural colours. The demo renders synthfaces
of four expressions (happy, sad, angry, surprise) as colour negatives (every channel inverted: a
rendering style the model never saw), writes them as an ImageFolder, fine-tunes the tiny model on
them and reports held-out accuracy before (the base restricted to the four labels) and after, for
the PyTorch model and the bundle's fp32 and int8 graphs. It writes
``bench/results/finetune_emotion.json`` and the table between the ``finetune-emotion`` markers in
``docs/training.md`` from that JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

import synthfaces
from emotion_service.build.finetune import Recipe, finetune
from servicekit.provenance import library_versions

REPO = Path(__file__).resolve().parents[1]
LABELS = ("happy", "sad", "angry", "surprise")
RESULTS = REPO / "bench" / "results" / "finetune_emotion.json"
DOCS = REPO / "docs" / "training.md"
MARK_BEGIN = "<!-- finetune-emotion:begin (written by python -m emotion_service.build.finetune_demo) -->"
MARK_END = "<!-- finetune-emotion:end -->"
STYLE = "colour negative (255 - every channel) of full-variation synthfaces"


def negative_face(label: str, seed: int, size: int = 64) -> Image.Image:
    """A synthetic face in the demo's new style: the colour negative of a full-variation render."""
    return ImageOps.invert(synthfaces.render(label, seed, size=size))


def write_image_folder(folder: Path, per_label: int, seed: int = 77_000) -> int:
    """One sub-folder per label with ``per_label`` faces each; return the image count."""
    for index, label in enumerate(LABELS):
        target = folder / label
        target.mkdir(parents=True, exist_ok=True)
        for k in range(per_label):
            negative_face(label, seed + 10_000 * index + k).save(target / f"{k:04d}.png")
    return per_label * len(LABELS)


def markdown(result: dict[str, Any]) -> str:
    """The docs table, from the result JSON."""
    report = result["report"]
    bundle = report["bundle_accuracy"]
    return "\n".join(
        [
            MARK_BEGIN,
            f"Data: {result['images']} faces ({', '.join(report['labels'])}; {result['style']}), "
            f"{report['held_out_images']} held out. Base: the embedded tiny model. Training: "
            f"{result['recipe']['epochs']} epochs, {report['train_seconds']:.0f} s "
            "(wall time on a shared 2-core CPU with other jobs running).",
            "",
            "| model | held-out accuracy |",
            "|---|---|",
            f"| tiny, before (its logits restricted to the 4 labels) | {100 * report['accuracy_before']:.1f} % |",
            f"| fine-tuned, PyTorch | {100 * report['accuracy_after']:.1f} % |",
            *[f"| fine-tuned bundle, ONNX {p} | {100 * a:.1f} % |" for p, a in sorted(bundle.items())],
            "",
            f"Chance is {100 / len(report['labels']):.0f} %.",
            MARK_END,
        ]
    )


def update_docs(result: dict[str, Any], docs: Path = DOCS) -> None:
    """Replace the block between the markers in ``docs`` with the table of ``result``."""
    text = docs.read_text()
    start, end = text.index(MARK_BEGIN), text.index(MARK_END) + len(MARK_END)
    docs.write_text(text[:start] + markdown(result) + text[end:])


def run(work: Path, per_label: int, epochs: int) -> dict[str, Any]:
    """Build the data, fine-tune, return the result."""
    if work.exists():
        shutil.rmtree(work)  # a fresh run each time
    data = work / "data"
    images = write_image_folder(data, per_label)
    recipe = Recipe(epochs=epochs)
    report = finetune(data, work / "out", base="tiny", recipe=recipe, quality_domain="synthetic faces (negative)")
    return {
        "what": "the embedded tiny emotion classifier adapted to 4 labels rendered in a new style",
        "style": STYLE,
        "images": images,
        "recipe": {
            "epochs": recipe.epochs,
            "batch_size": recipe.batch_size,
            "lr": recipe.lr,
            "holdout": recipe.holdout,
        },
        "report": report,
        "quality_domain": "synthetic faces",
        "versions": library_versions(("torch", "transformers", "onnxruntime")),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: run the demonstration, write the JSON and the docs table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=REPO / "build" / "finetune-demo" / "emotion")
    p.add_argument("--per-label", type=int, default=150)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the table in docs/training.md")
    args = p.parse_args(argv)
    result = run(args.work, args.per_label, args.epochs)
    result["report"]["bundle"] = str(Path(result["report"]["bundle"]).relative_to(args.work.parent))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    if not args.no_docs:
        update_docs(result)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
