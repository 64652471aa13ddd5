"""Saving a trained model directory with its provenance manifest."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from transformers import ViTForImageClassification, ViTImageProcessor

MANIFEST_NAME = "training_manifest.json"
WEIGHTS_NAME = "model.safetensors"

_LIBRARIES = ("torch", "transformers", "safetensors", "numpy", "pillow", "onnx", "onnxruntime")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape the result."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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
