"""Loading and validating model bundles: manifest fields, sha256 of every file, paths, defaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from emotion_service.bundle import (
    LABELS_REFERENCE,
    MANIFEST_FORMAT,
    BundleError,
    Preprocessing,
    default_bundle_dir,
    load_bundle,
)
from servicekit.errors import FailedPrecondition
from servicekit.provenance import sha256_file

PREP = Preprocessing(64, 64, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1 / 255)


def write_bundle(root: Path, **overrides: Any) -> Path:
    """A minimal well-formed bundle (the ONNX bytes are not parsed by load_bundle)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "model.fp32.onnx").write_bytes(b"fp32-bytes")
    (root / "model.int8.onnx").write_bytes(b"int8-bytes")
    (root / "hf").mkdir(exist_ok=True)
    (root / "hf" / "config.json").write_text("{}")
    files = {
        name: {"sha256": sha256_file(root / name), "bytes": (root / name).stat().st_size}
        for name in ("model.fp32.onnx", "model.int8.onnx", "hf/config.json")
    }
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "model_id": "test/model",
        "labels": list(LABELS_REFERENCE),
        "preprocessing": PREP.to_dict(),
        "weights_origin": "random",
        "quality_domain": None,
        "onnx": {"fp32": "model.fp32.onnx", "int8": "model.int8.onnx"},
        "hf_dir": "hf",
        "files": files,
        **overrides,
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_load_bundle_reads_every_field(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path / "b"))
    assert bundle.model_id == "test/model"
    assert bundle.labels == LABELS_REFERENCE
    assert bundle.preprocessing == PREP
    assert bundle.onnx_files == {
        "fp32": (tmp_path / "b" / "model.fp32.onnx").resolve(),
        "int8": (tmp_path / "b" / "model.int8.onnx").resolve(),
    }
    assert bundle.precisions == ("fp32", "int8")
    assert bundle.hf_dir == (tmp_path / "b" / "hf").resolve()
    assert bundle.weights_origin == "random" and bundle.random_weights
    assert bundle.num_labels == 7
    assert bundle.manifest["model_id"] == "test/model"


def test_missing_bundle_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(
        BundleError, match=r"manifest.json missing.*python -m emotion_service.build.export --source tiny"
    ):
        load_bundle(tmp_path / "nothing")
    assert issubclass(BundleError, FailedPrecondition)


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b")
    (root / "model.int8.onnx").write_bytes(b"int8-bytez")
    with pytest.raises(BundleError, match=r"model.int8.onnx does not match its manifest sha256"):
        load_bundle(root)
    load_bundle(root, verify=False)  # the check can be skipped explicitly


def test_missing_file_is_refused(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b")
    (root / "hf" / "config.json").unlink()
    with pytest.raises(BundleError, match=r"incomplete: hf/config.json is missing"):
        load_bundle(root)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"format": 99}, "format 99"),
        ({"labels": []}, "labels must be non-empty"),
        ({"labels": ["a", "a"]}, "distinct"),
        ({"weights_origin": "magic"}, "weights_origin must be one of"),
        ({"preprocessing": {"height": 0, "width": 1}}, "bad preprocessing"),
        ({"onnx": {}}, "no ONNX file"),
        ({"onnx": {"bf16": "model.fp32.onnx"}}, "unknown precision 'bf16'"),
        ({"onnx": {"fp32": "other.onnx"}}, "other.onnx has no sha256 entry"),
        ({"files": {"../outside": {"sha256": "0"}}}, "outside the bundle"),
    ],
)
def test_bad_manifests_are_refused(tmp_path: Path, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(BundleError, match=message):
        load_bundle(write_bundle(tmp_path / "b", **overrides))


def test_manifest_without_a_required_field(tmp_path: Path) -> None:
    root = write_bundle(tmp_path / "b")
    manifest = json.loads((root / "manifest.json").read_text())
    del manifest["labels"]
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="lacks the field 'labels'"):
        load_bundle(root)
    (root / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError, match="unreadable"):
        load_bundle(root)


def test_real_bundle_loads_and_tampering_is_detected(tiny_bundle: Path, tmp_path: Path) -> None:
    bundle = load_bundle(tiny_bundle)
    assert bundle.labels == LABELS_REFERENCE
    assert bundle.weights_origin in ("random", "synthetic-trained")
    copy = Path(shutil.copytree(tiny_bundle, tmp_path / "copy"))
    onnx = copy / "model.fp32.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the weights
    onnx.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"model\.fp32\.onnx does not match"):
        load_bundle(copy)


def test_default_bundle_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EMOFLUX_MODELS_DIR", raising=False)
    assert default_bundle_dir().parts[-4:] == ("build", "models", "emotion", "tiny")
    assert (default_bundle_dir().parents[3] / "emotion_service" / "bundle.py").is_file()
    monkeypatch.setenv("EMOFLUX_MODELS_DIR", str(tmp_path))
    assert default_bundle_dir() == tmp_path / "emotion" / "tiny"


def test_preprocessing_round_trip_and_validation() -> None:
    assert Preprocessing.from_dict(PREP.to_dict()) == PREP
    with pytest.raises(ValueError, match="resample"):
        Preprocessing(8, 8, (0, 0, 0), (1, 1, 1), 1.0, "cubic-ish")
    with pytest.raises(ValueError, match="image_std"):
        Preprocessing(8, 8, (0, 0, 0), (1, 0, 1), 1.0)
