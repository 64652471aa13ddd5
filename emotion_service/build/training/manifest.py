"""Saving a trained model directory with its provenance manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import ViTForImageClassification, ViTImageProcessor

from servicekit.provenance import sha256_file

MANIFEST_NAME = "training_manifest.json"
WEIGHTS_NAME = "model.safetensors"

# The libraries whose versions a training manifest records.
TRAINING_LIBRARIES = ("torch", "transformers", "safetensors", "numpy", "pillow", "onnx", "onnxruntime")


def save_model_dir(
    out: Path,
    model: ViTForImageClassification,
    processor: ViTImageProcessor,
    manifest: dict[str, Any],
) -> dict[str, Any]:
    """Write config, safetensors weights, processor config and manifest into ``out``.

    The weights' sha256 and the file sizes are added to the manifest, which is written last so a
    directory with a manifest is always complete. Returns the manifest as written.
    """
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    weights = out / WEIGHTS_NAME
    manifest = dict(manifest)
    manifest["files"] = {
        "model.safetensors": {"bytes": weights.stat().st_size, "sha256": sha256_file(weights)},
        "config.json": {"bytes": (out / "config.json").stat().st_size},
        "preprocessor_config.json": {"bytes": (out / "preprocessor_config.json").stat().st_size},
    }
    tmp = out / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    tmp.replace(out / MANIFEST_NAME)
    return manifest
