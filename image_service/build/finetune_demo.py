"""Demonstration of ``image_service.build.finetune``: teach tiny-flux to draw every face with the darkest skin.

``python -m image_service.build.finetune_demo [--work build/finetune-demo/image] [--steps 150] [--seeds 20]``

The embedded tiny-flux was trained on clean synthetic faces in six skin tones, but prompts say nothing
about skin, no prompt selects a tone, and it does not draw the darkest one. The demo renders clean
synthfaces of the seven expressions that all have the darkest tone of the palette, captions them
with the canonical prompt (``"a photo of a {label} face"``), trains a LoRA on them, then loads the
adapter the way the service does (``load_lora_weights`` + ``set_adapters``) and generates the seven
canonical prompts over a set of seeds with and without it. Two figures per setting:

* dark-skin rate: the share of images whose forehead patch (rows 10-14, columns 28-35) has a mean
  luminance (0.299 R + 0.587 G + 0.114 B) under 116, between the darkest tone (103) and the next (130);
* emotion agreement: how often the embedded emotion classifier sees the prompted expression.

Why skin and not something tiny-flux never drew at all (a blue background, hair, an off-centre face):
its VAE decoder was fine-tuned on clean, centred, hairless faces on a grey background only, and it
decodes every latent back onto that manifold (an encoded blue background decodes grey, hair and
shifted faces dissolve), so an adapter on the transformer alone cannot make those appear.

It writes ``bench/results/finetune_image.json`` and the table between the ``finetune-image`` markers
in ``docs/training.md`` from that JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

import synthfaces
from image_service.build.finetune import LoraRecipe, finetune
from image_service.build.training.evaluate import Classifier, InferenceSettings, agreement
from image_service.build.training.prompts import LABELS, eval_prompt
from image_service.sources import resolve
from servicekit.provenance import library_versions
from synthfaces.render import SKIN_TONES

REPO = Path(__file__).resolve().parents[1]
DARKEST_TONE = 5  # index of the darkest of synthfaces' six skin tones
DARK_LUMINANCE = 116.0  # between the darkest tone (103) and the next one (130)
FOREHEAD = (slice(10, 15), slice(28, 36))  # rows, columns of a 64x64 clean face's forehead
RESULTS = REPO / "bench" / "results" / "finetune_image.json"
DOCS = REPO / "docs" / "training.md"
MARK_BEGIN = "<!-- finetune-image:begin (written by python -m image_service.build.finetune_demo) -->"
MARK_END = "<!-- finetune-image:end -->"
EVAL = InferenceSettings(num_inference_steps=8, height=64, width=64, max_sequence_length=16)


def skin_tone_index(label: int, seed: int) -> int:
    """The palette index of the skin tone synthfaces.render draws for (label, seed): its first random draw."""
    rng = np.random.default_rng([int(seed), int(label)])
    return int(rng.integers(len(SKIN_TONES)))


def dark_skin_seeds(label: int, count: int, start: int) -> list[int]:
    """The first ``count`` seeds from ``start`` whose faces of ``label`` get the darkest skin tone."""
    seeds: list[int] = []
    seed = start
    while len(seeds) < count:
        if skin_tone_index(label, seed) == DARKEST_TONE:
            seeds.append(seed)
        seed += 1
    return seeds


def dark_face(label: int, seed: int, size: int = 64) -> Image.Image:
    """A clean synthetic face of ``label`` with the darkest skin tone (``seed`` from :func:`dark_skin_seeds`)."""
    return synthfaces.render(label, seed, size=size, clean=True)


def write_dataset(folder: Path, per_label: int, seed: int = 9_000) -> int:
    """Write ``per_label`` captioned dark-skinned faces per expression into ``folder``; return the count."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for index, label in enumerate(LABELS):
        for k, face_seed in enumerate(dark_skin_seeds(index, per_label, seed + 100_000 * index)):
            name = f"{label}-{k:03d}"
            dark_face(index, face_seed).save(folder / f"{name}.png")
            (folder / f"{name}.txt").write_text(eval_prompt(label) + "\n")
            count += 1
    return count


def has_dark_skin(image: Image.Image) -> bool:
    """Whether the forehead patch is darker than every tone but the darkest (the demo's image statistic)."""
    a = np.asarray(image.convert("RGB"), dtype=np.float64)[FOREHEAD]
    r, g, b = a.reshape(-1, 3).mean(axis=0)
    return bool(0.299 * r + 0.587 * g + 0.114 * b < DARK_LUMINANCE)


def evaluate(pipe: Any, classifier: Classifier, seeds: list[int]) -> dict[str, Any]:
    """Blue-background rate and emotion agreement over the canonical prompts x ``seeds``."""
    metrics, images = agreement(pipe, classifier, seeds, EVAL)
    flat = [image for group in images.values() for image in group]
    return {
        "dark_skin_rate": round(sum(map(has_dark_skin, flat)) / len(flat), 4),
        "emotion_agreement": metrics["agreement_overall"],
        "agreement_per_emotion": metrics["agreement_per_emotion"],
        "images": len(flat),
    }


def markdown(result: dict[str, Any]) -> str:
    """The docs table, from the result JSON."""
    base, adapted = result["base"], result["adapter"]
    ratio = result["agreement_ratio"]
    return "\n".join(
        [
            MARK_BEGIN,
            f"Adapter: rank {result['recipe']['rank']}, {result['recipe']['steps']} steps of batch "
            f"{result['recipe']['batch_size']} on {result['data']['images']} images, "
            f"{result['train_seconds']:.0f} s of training "
            "(wall time on a shared 2-core CPU with other jobs running). "
            f"Evaluation: {base['images']} images per row ({len(LABELS)} prompts x {result['seeds']} seeds), "
            f"{EVAL.num_inference_steps} steps.",
            "",
            "| weights | dark skin | emotion agreement |",
            "|---|---|---|",
            f"| tiny-flux | {100 * base['dark_skin_rate']:.1f} % | {100 * base['emotion_agreement']:.1f} % |",
            f"| tiny-flux + adapter (scale 1) | {100 * adapted['dark_skin_rate']:.1f} % | "
            f"{100 * adapted['emotion_agreement']:.1f} % |",
            "",
            f"Agreement with the adapter is {100 * ratio:.1f} % of the base model's (the bar is 90 %).",
            MARK_END,
        ]
    )


def update_docs(result: dict[str, Any], docs: Path = DOCS) -> None:
    """Replace the block between the markers in ``docs`` with the table of ``result``."""
    text = docs.read_text()
    start, end = text.index(MARK_BEGIN), text.index(MARK_END) + len(MARK_END)
    docs.write_text(text[:start] + markdown(result) + text[end:])


def run(work: Path, steps: int, seeds: int, per_label: int, lr: float = 5e-3) -> dict[str, Any]:
    """Build the data, train, evaluate base and adapter; return the result."""
    torch.manual_seed(0)
    if work.exists():
        shutil.rmtree(work)  # a fresh run each time: no resuming from an older demo's checkpoints
    data = work / "data"
    images = write_dataset(data, per_label)
    source = resolve("tiny-flux", {}, REPO / "build" / "models" / "image")
    recipe = LoraRecipe(steps=steps, rank=8, alpha=8, batch_size=8, lr=lr, size=64, max_sequence_length=16)
    started = time.monotonic()
    out = work / "adapter"
    finetune(source, data, out, recipe, description="draws every face with the darkest skin tone", checkpoint_every=100)
    train_seconds = time.monotonic() - started

    from image_service.pipeline import load_pipeline

    classifier = Classifier(REPO / "emotion_service" / "embedded" / "tiny")
    pipe = load_pipeline(source, torch.float32)
    seed_list = list(range(seeds))
    base = evaluate(pipe, classifier, seed_list)
    pipe.load_lora_weights(str(out), adapter_name="dark")  # as the service loads it
    pipe.set_adapters(["dark"], adapter_weights=[1.0])
    adapted = evaluate(pipe, classifier, seed_list)
    ratio = adapted["emotion_agreement"] / base["emotion_agreement"] if base["emotion_agreement"] else 0.0
    return {
        "what": "LoRA teaching tiny-flux to draw every face with the darkest skin tone of its palette",
        "statistic": (
            f"dark skin: mean luminance of the forehead patch (rows 10-14, columns 28-35) under {DARK_LUMINANCE:g}"
        ),
        "quality_domain": "synthetic faces",
        "data": {"images": images, "per_label": per_label, "skin_tone_index": DARKEST_TONE},
        "recipe": {"rank": recipe.rank, "steps": recipe.steps, "batch_size": recipe.batch_size, "lr": recipe.lr},
        "train_seconds": round(train_seconds, 1),
        "seeds": seeds,
        "base": base,
        "adapter": adapted,
        "agreement_ratio": round(ratio, 4),
        "versions": library_versions(("torch", "diffusers", "peft")),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: run the demonstration, write the JSON and the docs table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=REPO / "build" / "finetune-demo" / "image")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--per-label", type=int, default=24)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the table in docs/training.md")
    args = p.parse_args(argv)
    result = run(args.work, args.steps, args.seeds, args.per_label, args.lr)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    if not args.no_docs:
        update_docs(result)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
