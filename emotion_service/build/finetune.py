"""Fine-tune the emotion classifier on a folder of labelled faces and write a bundle the service serves.

``python -m emotion_service.build.finetune --data DIR --out DIR [--base tiny] [--epochs 6] [--holdout 0.2]``

``--data`` is an ImageFolder layout: one sub-folder per label, named after it, holding that label's
images (PNG/JPEG/WebP/BMP). The labels may differ from the base model's: the classification head is
rebuilt for them, starting from the base head's row where a label name matches (case-insensitive)
and from zero elsewhere. ``--base`` is an embedded model name (``tiny``), a bundle's ``hf``
directory or any Hugging Face ViT directory, or a hub id (the same sources as
``emotion_service.build.export``).

A deterministic, stratified share of the images (``--holdout``) never trains; held-out accuracy is
measured before (the base model's logits restricted to the labels it shares with the data) and after.
The result is written as:

* ``OUT/hf/``: config, safetensors weights, processor config and ``training_manifest.json``
  (base, data, split, recipe, held-out metrics, versions, digests);
* ``OUT/bundle/``: the ONNX bundle built from it by ``emotion_service.build.export`` (fp32 + int8, parity
  checked, provenance) - serve it with ``python -m emotion_service --bundle OUT/bundle``;
* ``OUT/finetune_report.json``: held-out accuracy of the base, the fine-tuned PyTorch model and the
  bundle's fp32 and int8 graphs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from emotion_service.build.sources import resolve_source
from emotion_service.build.training.evaluate import classification_metrics
from emotion_service.build.training.manifest import TRAINING_LIBRARIES, save_model_dir
from servicekit.errors import InvalidInput
from servicekit.provenance import library_versions

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
REPORT = "finetune_report.json"

Log = Callable[[str], None]


@dataclass(frozen=True)
class Recipe:
    """How the classifier is fine-tuned."""

    epochs: int = 6
    batch_size: int = 32
    lr: float = 5e-4
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    holdout: float = 0.2
    seed: int = 0
    flip: bool = True  # horizontal flips keep expression labels valid


@dataclass
class LabelledImages:
    """Images (RGB, any size) with label indices into ``labels``."""

    images: list[Image.Image]
    targets: np.ndarray
    labels: tuple[str, ...]


def load_image_folder(folder: Path) -> LabelledImages:
    """Read an ImageFolder layout; InvalidInput naming the folder when it is not one."""
    if not folder.is_dir():
        raise InvalidInput(f"data: {folder} is not a directory")
    classes = sorted(p for p in folder.iterdir() if p.is_dir())
    if len(classes) < 2:
        raise InvalidInput(f"data: {folder} needs at least two label folders (one per label), found {len(classes)}")
    images: list[Image.Image] = []
    targets: list[int] = []
    for index, directory in enumerate(classes):
        files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InvalidInput(f"data: label folder {directory.name!r} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        for file in files:
            with Image.open(file) as image:
                images.append(image.convert("RGB"))
            targets.append(index)
    return LabelledImages(images, np.asarray(targets, dtype=np.int64), tuple(d.name for d in classes))


def stratified_split(targets: np.ndarray, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and held-out indices: ``holdout`` of each label (at least one) held out, deterministic."""
    if not 0.0 < holdout < 1.0:
        raise InvalidInput(f"holdout: {holdout} is out of range (must be in (0, 1))")
    rng = np.random.default_rng([seed, 0x5917])
    train: list[int] = []
    held: list[int] = []
    for label in np.unique(targets):
        members = np.flatnonzero(targets == label)
        if len(members) < 2:
            raise InvalidInput(f"data: label {int(label)} has {len(members)} image(s); at least 2 are needed")
        members = rng.permutation(members)
        cut = max(1, round(len(members) * holdout))
        held.extend(members[:cut].tolist())
        train.extend(members[cut:].tolist())
    return np.asarray(sorted(train)), np.asarray(sorted(held))


def pixel_values(processor: Any, images: list[Image.Image]) -> torch.Tensor:
    """The model's inputs for ``images``, made by the model's own processor (resize + normalise)."""
    chunks = [
        processor(images=images[i : i + 256], return_tensors="pt")["pixel_values"] for i in range(0, len(images), 256)
    ]
    return torch.cat(chunks)


def rebuild_head(model: Any, labels: tuple[str, ...]) -> dict[str, Any]:
    """Replace the classification head with one for ``labels``; copy rows of labels the base knows."""
    old = model.classifier
    base_names = {str(n).lower(): int(i) for i, n in model.config.id2label.items()}
    head = torch.nn.Linear(old.in_features, len(labels))
    copied: dict[str, str] = {}
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        for row, name in enumerate(labels):
            source = base_names.get(name.lower())
            if source is not None:
                head.weight[row] = old.weight[source]
                head.bias[row] = old.bias[source]
                copied[name] = model.config.id2label[source]
    model.classifier = head
    model.num_labels = len(labels)
    model.config.num_labels = len(labels)
    model.config.id2label = dict(enumerate(labels))
    model.config.label2id = {name: i for i, name in enumerate(labels)}
    return {"copied_rows": copied, "new_rows": [n for n in labels if n not in copied]}


@torch.no_grad()
def logits_of(model: Any, inputs: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Logits of ``model`` in eval mode."""
    model.eval()
    return torch.cat([model(pixel_values=inputs[i : i + batch_size]).logits for i in range(0, len(inputs), batch_size)])


def base_accuracy(model: Any, inputs: torch.Tensor, targets: np.ndarray, labels: tuple[str, ...]) -> dict[str, Any]:
    """Held-out accuracy of the unmodified base, over the labels it shares with the data.

    The base's logits are restricted to those labels (a fair "before" for a subset); images of labels
    the base does not know count as wrong.
    """
    base_names = {str(n).lower(): int(i) for i, n in model.config.id2label.items()}
    shared = [(row, base_names[n.lower()]) for row, n in enumerate(labels) if n.lower() in base_names]
    if not shared:
        return {"accuracy": 0.0, "shared_labels": []}
    logits = logits_of(model, inputs)[:, [column for _, column in shared]]
    predicted = np.asarray([shared[int(i)][0] for i in logits.argmax(-1)])
    return {
        **classification_metrics(predicted, targets, labels),
        "shared_labels": [labels[row] for row, _ in shared],
    }


def train_classifier(
    model: Any, inputs: torch.Tensor, targets: np.ndarray, recipe: Recipe, *, progress: bool = True
) -> dict[str, Any]:
    """Fine-tune every weight (the head at a higher rate) with cross-entropy; return loss figures."""
    head = list(model.classifier.parameters())
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    optimiser = torch.optim.AdamW(
        [{"params": body, "lr": recipe.lr}, {"params": head, "lr": recipe.head_lr}], weight_decay=recipe.weight_decay
    )
    labels = torch.as_tensor(targets)
    gen = torch.Generator().manual_seed(recipe.seed)
    steps_per_epoch = max(1, -(-len(inputs) // recipe.batch_size))
    losses: list[float] = []
    model.train()
    bar = tqdm(
        total=recipe.epochs * steps_per_epoch, desc="finetune", unit="step", disable=not progress, file=sys.stderr
    )
    for _epoch in range(recipe.epochs):
        order = torch.randperm(len(inputs), generator=gen)
        for start in range(0, len(inputs), recipe.batch_size):
            idx = order[start : start + recipe.batch_size]
            batch = inputs[idx]
            if recipe.flip:
                flip = torch.rand(len(idx), generator=gen) < 0.5
                batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
            loss = torch.nn.functional.cross_entropy(model(pixel_values=batch).logits, labels[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            losses.append(float(loss.item()))
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    bar.close()
    model.eval()
    window = max(1, min(20, len(losses) // 4))
    return {
        "steps": len(losses),
        "loss_first": round(float(np.mean(losses[:window])), 4),
        "loss_last": round(float(np.mean(losses[-window:])), 4),
    }


def bundle_accuracy(bundle_dir: Path, inputs: torch.Tensor, targets: np.ndarray) -> dict[str, float]:
    """Held-out accuracy of each ONNX graph of the bundle (what the service runs)."""
    import onnxruntime as ort

    from emotion_service.bundle import load_bundle

    bundle = load_bundle(bundle_dir)
    result: dict[str, float] = {}
    for precision in bundle.precisions:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        path = str(bundle.onnx_files[precision])
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        logits = session.run(None, {name: inputs.numpy().astype(np.float32)})[0]
        result[precision] = round(float((logits.argmax(-1) == targets).mean()), 4)
    return result


def finetune(
    data_dir: Path,
    out: Path,
    *,
    base: str = "tiny",
    recipe: Recipe = Recipe(),
    precisions: tuple[str, ...] = ("fp32", "int8"),
    quality_domain: str | None = None,
    progress: bool = True,
    log: Log = print,
) -> dict[str, Any]:
    """Fine-tune ``base`` on ``data_dir``, write ``OUT/hf`` and ``OUT/bundle``; return the report."""
    from transformers import ViTImageProcessor

    from emotion_service.build.export import export_bundle

    torch.manual_seed(recipe.seed)
    data = load_image_folder(data_dir)
    train_idx, held_idx = stratified_split(data.targets, recipe.holdout, recipe.seed)
    source = resolve_source(base)
    model = source.load_model()
    processor = ViTImageProcessor(**source.processor_config)
    inputs = pixel_values(processor, data.images)
    log(f"{len(data.images)} images, labels {', '.join(data.labels)}; {len(held_idx)} held out; base {source.model_id}")
    before = base_accuracy(model, inputs[held_idx], data.targets[held_idx], data.labels)
    head = rebuild_head(model, data.labels)
    started = time.monotonic()
    training = train_classifier(model, inputs[train_idx], data.targets[train_idx], recipe, progress=progress)
    train_seconds = round(time.monotonic() - started, 1)
    predicted = logits_of(model, inputs[held_idx]).argmax(-1).numpy()
    after = classification_metrics(predicted, data.targets[held_idx], data.labels)
    origin = source.weights_origin if source.weights_origin != "random" else "pretrained"
    manifest = {
        "weights": origin,
        "quality_domain": quality_domain or source.quality_domain,
        "final": True,
        "description": f"fine-tune of {source.model_id} on {data_dir.name} ({', '.join(data.labels)})",
        "fine_tuned_from": {
            "spec": base,
            "kind": source.kind,
            "model_id": source.model_id,
            "fingerprint": source.fingerprint,
            "weights_origin": source.weights_origin,
        },
        "data": {
            "folder": str(data_dir),
            "images": len(data.images),
            "labels": list(data.labels),
            "train": len(train_idx),
            "held_out": len(held_idx),
        },
        "head": head,
        "recipe": asdict(recipe),
        "training": {**training, "seconds": train_seconds},
        "held_out": {"before": before, "after": after},
        "versions": library_versions(TRAINING_LIBRARIES),
        "command": "python -m emotion_service.build.finetune " + shlex.join(sys.argv[1:]),
    }
    hf_dir = out / "hf"
    save_model_dir(hf_dir, model, processor, manifest)
    bundle_dir = out / "bundle"
    export_bundle(str(hf_dir), bundle_dir, precisions=precisions, progress=log)
    report = {
        "base": source.model_id,
        "labels": list(data.labels),
        "held_out_images": len(held_idx),
        "accuracy_before": round(float(before["accuracy"]), 4),
        "accuracy_after": round(float(after["accuracy"]), 4),
        "bundle_accuracy": bundle_accuracy(bundle_dir, inputs[held_idx], data.targets[held_idx]),
        "train_seconds": train_seconds,
        "bundle": str(bundle_dir),
    }
    (out / REPORT).write_text(json.dumps(report, indent=2) + "\n")
    log(f"held-out accuracy {report['accuracy_before']:.3f} -> {report['accuracy_after']:.3f}; bundle {bundle_dir}")
    return report


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(
        prog="python -m emotion_service.build.finetune",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", type=Path, required=True, help="ImageFolder: one sub-folder of images per label")
    p.add_argument("--out", type=Path, required=True, help="output directory (hf/, bundle/, report)")
    p.add_argument("--base", default="tiny", help="embedded name, HF ViT directory or hub id (default tiny)")
    p.add_argument("--precision", default="fp32,int8", help="bundle precisions (fp32 always)")
    p.add_argument("--quality-domain", default=None, help="what the data is (goes into the manifest)")
    p.add_argument("--no-progress", action="store_true")
    defaults = Recipe()
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--head-lr", type=float, default=defaults.head_lr)
    p.add_argument("--holdout", type=float, default=defaults.holdout)
    p.add_argument("--seed", type=int, default=defaults.seed)
    args = p.parse_args(argv)
    recipe = Recipe(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        head_lr=args.head_lr,
        holdout=args.holdout,
        seed=args.seed,
    )
    precisions = tuple(x.strip() for x in args.precision.split(",") if x.strip())
    finetune(
        args.data,
        args.out,
        base=args.base,
        recipe=recipe,
        precisions=precisions,
        quality_domain=args.quality_domain,
        progress=not args.no_progress,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
