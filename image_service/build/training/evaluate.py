"""Measure whether a text-to-image pipeline draws the expression it is asked for.

Generates the canonical prompt for each of the seven expressions over a set of seeds and asks the
embedded emotion classifier (a transformers ``ViTForImageClassification`` directory) what it sees.
Agreement is only meaningful on the classifier's own domain: synthetic cartoon faces.

``python -m image_service.build.training.evaluate --pipeline DIR --classifier DIR [--seeds 30]
[--grid PNG] [--update-manifest]``
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from diffusers import FluxPipeline
from PIL import Image, ImageDraw
from transformers import AutoImageProcessor, ViTForImageClassification

from image_service.build.training.prompts import LABELS, eval_prompt

QUALITY_DOMAIN = "synthetic faces"


@dataclass(frozen=True)
class InferenceSettings:
    """How the pipeline is called. ``true_cfg_scale > 1`` uses classifier-free guidance against ``""``."""

    num_inference_steps: int = 8
    guidance_scale: float = 1.0
    true_cfg_scale: float = 1.0
    height: int = 64
    width: int = 64
    max_sequence_length: int = 16

    def call_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``FluxPipeline.__call__``."""
        kwargs: dict[str, object] = asdict(self)
        if self.true_cfg_scale > 1.0:
            kwargs["negative_prompt"] = ""
        return kwargs


class Classifier:
    """The emotion classifier of a ``ViTForImageClassification`` directory, with its processor."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.model = ViTForImageClassification.from_pretrained(self.path).eval()
        self.processor = AutoImageProcessor.from_pretrained(self.path)
        names = {int(i): str(n).lower() for i, n in self.model.config.id2label.items()}
        self.names = [names[i] for i in range(len(names))]

    @torch.no_grad()
    def predict(self, images: list[Image.Image]) -> list[str]:
        """Top-1 label name per image."""
        inputs = self.processor(images=images, return_tensors="pt")
        logits = self.model(**inputs).logits
        return [self.names[int(i)] for i in logits.argmax(-1)]


def generate(pipe: FluxPipeline, label: str, seeds: list[int], settings: InferenceSettings) -> list[Image.Image]:
    """One image per seed for the canonical prompt of ``label`` (seed i -> generator seeded i)."""
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    out = pipe(eval_prompt(label), num_images_per_prompt=len(seeds), generator=gens, **settings.call_kwargs())
    return list(out.images)


def agreement(
    pipe: FluxPipeline, classifier: Classifier, seeds: list[int], settings: InferenceSettings
) -> tuple[dict[str, object], dict[str, list[Image.Image]]]:
    """Return metrics (overall and per-emotion agreement, confusion counts) and the images."""
    images = {label: generate(pipe, label, seeds, settings) for label in LABELS}
    per: dict[str, float] = {}
    confusion: dict[str, dict[str, int]] = {}
    hits = 0
    for label, imgs in images.items():
        predicted = classifier.predict(imgs)
        ok = sum(p == label for p in predicted)
        hits += ok
        per[label] = round(ok / len(imgs), 4)
        confusion[label] = {n: predicted.count(n) for n in classifier.names if predicted.count(n)}
    metrics: dict[str, object] = {
        "quality_domain": QUALITY_DOMAIN,
        "agreement_overall": round(hits / (len(LABELS) * len(seeds)), 4),
        "agreement_per_emotion": per,
        "min_emotion_agreement": min(per.values()),
        "chance": round(1 / len(LABELS), 4),
        "confusion": confusion,
        "prompts": [eval_prompt(label) for label in LABELS],
        "seeds": f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else seeds,
        "settings": asdict(settings),
    }
    return metrics, images


def write_grid(images: dict[str, list[Image.Image]], path: str | Path, per_row: int = 10) -> None:
    """PNG grid: one row per prompt (label on the left), ``per_row`` samples each."""
    size, pad, label_w = 64, 4, 150
    rows = list(images.items())
    grid = Image.new("RGB", (label_w + per_row * (size + pad) + pad, len(rows) * (size + pad) + pad), "white")
    draw = ImageDraw.Draw(grid)
    for r, (label, imgs) in enumerate(rows):
        y = pad + r * (size + pad)
        draw.text((6, y + size // 2 - 6), eval_prompt(label), fill=(0, 0, 0))
        for c, img in enumerate(imgs[:per_row]):
            grid.paste(img.resize((size, size)), (label_w + pad + c * (size + pad), y))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)


def load_pipeline(path: str | Path) -> FluxPipeline:
    """Load a saved pipeline quietly."""
    pipe = FluxPipeline.from_pretrained(path)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def main(argv: list[str] | None = None) -> int:
    """CLI: print agreement JSON; optionally write a sample grid and store metrics in the manifest."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", type=Path, required=True)
    parser.add_argument("--classifier", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=30, help="seeds 0..N-1 per prompt (default 30)")
    parser.add_argument("--steps", type=int, default=None, help="default: the manifest's recommendation, else 8")
    parser.add_argument("--cfg", type=float, default=None, help="true_cfg_scale (default: manifest's, else 1)")
    parser.add_argument("--grid", type=Path, default=None, help="write a PNG sample grid here")
    parser.add_argument("--update-manifest", action="store_true", help="store metrics in training_manifest.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    manifest_path = args.pipeline / "training_manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    rec = manifest.get("recommended_inference", {})
    settings = InferenceSettings(
        num_inference_steps=args.steps or rec.get("num_inference_steps", 8),
        true_cfg_scale=args.cfg if args.cfg is not None else rec.get("true_cfg_scale", 1.0),
        guidance_scale=rec.get("guidance_scale", 1.0),
        max_sequence_length=rec.get("max_sequence_length", 16),
    )
    metrics, images = agreement(
        load_pipeline(args.pipeline), Classifier(args.classifier), list(range(args.seeds)), settings
    )
    print(json.dumps(metrics, indent=1))
    if args.grid:
        write_grid(images, args.grid)
    if args.update_manifest:
        manifest.setdefault("metrics", {})["evaluation"] = metrics
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
