"""Embedded model sources: models that need no download.

* ``tiny``: the tiny ViT trained on synthetic faces (``emotion_service/embedded/tiny/``, written by
  ``python -m emotion_service.build.train``) when it is present; otherwise the same as ``tiny-random``.
* ``tiny-random``: the tiny ViT architecture with deterministic random weights (seed 0).
* ``vit-base-random``: the full ViT-B/16 224 architecture of the reference model
  (``dima806/facial_emotions_image_detection``) with its labels and random weights, for benchmarks
  (speed does not depend on the weights).

Every recipe here is plain data, so a bundle's freshness can be checked (:func:`fingerprint`) without
importing torch: ``make setup`` stays quick once the bundle exists.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emotion_service.bundle import LABELS_REFERENCE
from servicekit.provenance import sha256_file

EMBEDDED_DIR = Path(__file__).resolve().parent.parent / "embedded"
TRAINED_TINY_DIR = EMBEDDED_DIR / "tiny"
TRAINED_FILES: tuple[str, ...] = ("config.json", "model.safetensors", "preprocessor_config.json")
TRAINING_MANIFEST = "training_manifest.json"
RANDOM_SEED = 0
# Bumped whenever a recipe changes in a way that changes the weights it produces.
RECIPE_VERSION = 1

# The tiny ViT of emotion_service.build.training.model.TinyViTSpec (a test keeps the two equal).
TINY_ARCHITECTURE: dict[str, int] = {
    "image_size": 64,
    "patch_size": 8,
    "hidden_size": 128,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "intermediate_size": 256,
}
# ViT-B/16 at 224, as google/vit-base-patch16-224-in21k (the reference model's base).
VIT_BASE_ARCHITECTURE: dict[str, int] = {
    "image_size": 224,
    "patch_size": 16,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
}
# The reference model's ViTImageProcessor settings (bilinear, 1/255, mean = std = 0.5).
REFERENCE_PROCESSOR: dict[str, Any] = {
    "do_resize": True,
    "resample": 2,
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
}


@dataclass(frozen=True)
class EmbeddedRecipe:
    """How to make one embedded model."""

    name: str
    model_id: str
    architecture: dict[str, int]
    weights_origin: str
    quality_domain: str | None
    trained_dir: Path | None = None

    def processor_config(self) -> dict[str, Any]:
        """``preprocessor_config.json`` contents for this model."""
        if self.trained_dir is not None:
            data: dict[str, Any] = json.loads((self.trained_dir / "preprocessor_config.json").read_text())
            return data
        size = self.architecture["image_size"]
        return {**REFERENCE_PROCESSOR, "size": {"height": size, "width": size}}

    def describe(self) -> dict[str, Any]:
        """What the manifest records as the source (JSON-able)."""
        out: dict[str, Any] = {
            "kind": "embedded",
            "name": self.name,
            "recipe_version": RECIPE_VERSION,
            "architecture": self.architecture,
            "labels": list(LABELS_REFERENCE),
        }
        if self.trained_dir is None:
            out["seed"] = RANDOM_SEED
        else:
            out["trained_dir"] = self.trained_dir.name
            out["files"] = {name: sha256_file(self.trained_dir / name) for name in TRAINED_FILES}
        return out


EMBEDDED_NAMES: tuple[str, ...] = ("tiny", "tiny-random", "vit-base-random")


def trained_tiny_available(directory: Path = TRAINED_TINY_DIR) -> bool:
    """True when the trained tiny model directory is complete (its training manifest is written last)."""
    return all((directory / name).is_file() for name in (*TRAINED_FILES, TRAINING_MANIFEST))


def recipe(name: str) -> EmbeddedRecipe:
    """The recipe of embedded model ``name`` (one of :data:`EMBEDDED_NAMES`)."""
    if name == "tiny" and trained_tiny_available():
        return EmbeddedRecipe(
            name="tiny",
            model_id="emoflux/tiny-vit-emotion-synthetic",
            architecture=_trained_architecture(TRAINED_TINY_DIR),
            weights_origin="synthetic-trained",
            quality_domain="synthetic faces",
            trained_dir=TRAINED_TINY_DIR,
        )
    if name in ("tiny", "tiny-random"):
        return EmbeddedRecipe(
            name=name,
            model_id="emoflux/tiny-vit-emotion-random",
            architecture=dict(TINY_ARCHITECTURE),
            weights_origin="random",
            quality_domain=None,
        )
    if name == "vit-base-random":
        return EmbeddedRecipe(
            name=name,
            model_id="emoflux/vit-base-patch16-224-emotion-random",
            architecture=dict(VIT_BASE_ARCHITECTURE),
            weights_origin="random",
            quality_domain=None,
        )
    raise KeyError(f"unknown embedded model {name!r}; known: {', '.join(EMBEDDED_NAMES)}")


def _trained_architecture(directory: Path) -> dict[str, int]:
    config = json.loads((directory / "config.json").read_text())
    return {key: int(config[key]) for key in TINY_ARCHITECTURE if key in config}


def fingerprint(description: dict[str, Any]) -> str:
    """sha256 of a source description (canonical JSON): equal fingerprints make equal weights."""
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


def training_summary(directory: Path = TRAINED_TINY_DIR) -> dict[str, Any]:
    """The headline of the trained model's training manifest (status, metrics, data), for the bundle manifest."""
    data: dict[str, Any] = json.loads((directory / TRAINING_MANIFEST).read_text())
    metrics = data.get("metrics", {})
    keep = {k: v for k, v in metrics.items() if not isinstance(v, list | dict)}
    if isinstance(metrics.get("per_class_recall"), dict):
        keep["per_class_recall"] = metrics["per_class_recall"]
    check = metrics.get("periodic_check")  # an intermediate checkpoint has only its periodic check
    if isinstance(check, dict):
        keep["periodic_check"] = {k: v for k, v in check.items() if not isinstance(v, list)}
    return {
        "status": data.get("status"),
        "quality_domain": data.get("quality_domain"),
        "metrics": keep,
        "data": data.get("data"),
        "steps": data.get("training", {}).get("steps"),
    }


def build_model(r: EmbeddedRecipe) -> Any:
    """The ``ViTForImageClassification`` of recipe ``r`` in eval mode (imports torch and transformers)."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification

    if r.trained_dir is not None:
        model = ViTForImageClassification.from_pretrained(r.trained_dir, use_safetensors=True)
    else:
        id2label = dict(enumerate(LABELS_REFERENCE))
        config = ViTConfig(
            **r.architecture,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
            num_labels=len(id2label),
            id2label=id2label,
            label2id={label: i for i, label in id2label.items()},
            architectures=["ViTForImageClassification"],
        )
        # A private generator state: deterministic weights without disturbing the caller's RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_SEED)
            model = ViTForImageClassification(config)
    model.config.name_or_path = r.model_id
    return model.eval()
