"""A model bundle on disk: ONNX files per precision, labels, preprocessing and a provenance manifest.

Layout written by :mod:`emotion_service.build.export`::

    DIR/manifest.json        what the bundle is (see :func:`load_bundle` for the checked fields)
    DIR/model.fp32.onnx      one ONNX file per exported precision
    DIR/model.int8.onnx
    DIR/hf/                  the Hugging Face model directory (config + safetensors), for the torch backend

:func:`load_bundle` checks every file against the sha256 recorded in the manifest, so a tampered or
half-written bundle is refused with a message naming the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from emotion_service.provenance import BundleProvenance, read_provenance
from servicekit.errors import FailedPrecondition
from servicekit.provenance import sha256_file

LABELS_REFERENCE: tuple[str, ...] = ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")
"""``id2label`` of the reference model ``dima806/facial_emotions_image_detection``, in index order."""

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
PRECISIONS: tuple[str, ...] = ("fp32", "int8", "fp16")
WEIGHTS_ORIGINS: tuple[str, ...] = ("random", "synthetic-trained", "pretrained")
_RESAMPLES: tuple[str, ...] = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")

# PIL resample codes as stored in preprocessor_config.json (Image.Resampling values).
RESAMPLE_BY_PIL_CODE: dict[int, str] = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


class BundleError(FailedPrecondition):
    """A bundle directory is missing, incomplete, tampered with or of an unknown format."""


@dataclass(frozen=True)
class Preprocessing:
    """Exactly what the model's ``ViTImageProcessor`` does: resize, rescale, normalise (RGB, CHW)."""

    height: int
    width: int
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]
    rescale_factor: float
    resample: str = "bilinear"

    def __post_init__(self) -> None:
        if self.height < 1 or self.width < 1:
            raise ValueError(f"preprocessing size must be positive, got {self.height}x{self.width}")
        if len(self.image_mean) != 3 or len(self.image_std) != 3:
            raise ValueError("image_mean and image_std must have 3 values (RGB)")
        if any(s <= 0 for s in self.image_std):
            raise ValueError(f"image_std must be positive, got {self.image_std}")
        if self.resample not in _RESAMPLES:
            raise ValueError(f"resample must be one of {_RESAMPLES}, got {self.resample!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (as stored in the manifest)."""
        data = asdict(self)
        data["image_mean"] = list(self.image_mean)
        data["image_std"] = list(self.image_std)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """Inverse of :meth:`to_dict`."""
        mean = tuple(float(v) for v in data["image_mean"])
        std = tuple(float(v) for v in data["image_std"])
        return cls(
            height=int(data["height"]),
            width=int(data["width"]),
            image_mean=(mean[0], mean[1], mean[2]),
            image_std=(std[0], std[1], std[2]),
            rescale_factor=float(data["rescale_factor"]),
            resample=str(data.get("resample", "bilinear")),
        )

    @classmethod
    def from_processor_config(cls, config: dict[str, Any]) -> Preprocessing:
        """Read a Hugging Face ``preprocessor_config.json`` of a ViT image processor.

        Disabled steps become identities (``do_rescale: false`` -> factor 1, ``do_normalize: false`` ->
        mean 0 / std 1). ``do_resize: false`` is refused: the model needs a fixed input size.
        """
        if config.get("do_resize", True) is False:
            raise ValueError("preprocessor config has do_resize=false; a fixed input size is required")
        size = config.get("size", {"height": 224, "width": 224})
        if isinstance(size, int):
            height = width = size
        elif "height" in size and "width" in size:
            height, width = int(size["height"]), int(size["width"])
        else:
            raise ValueError(f"unsupported preprocessor size {size!r} (need height and width)")
        if config.get("do_normalize", True):
            mean = [float(v) for v in config.get("image_mean", (0.5, 0.5, 0.5))]
            std = [float(v) for v in config.get("image_std", (0.5, 0.5, 0.5))]
        else:
            mean, std = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
        rescale = float(config.get("rescale_factor", 1 / 255)) if config.get("do_rescale", True) else 1.0
        resample = RESAMPLE_BY_PIL_CODE.get(int(config.get("resample", 2)))
        if resample is None:
            raise ValueError(f"unknown resample code {config.get('resample')!r}")
        return cls(height, width, (mean[0], mean[1], mean[2]), (std[0], std[1], std[2]), rescale, resample)


@dataclass(frozen=True)
class Bundle:
    """A loaded, verified model bundle."""

    path: Path
    model_id: str
    labels: tuple[str, ...]
    preprocessing: Preprocessing
    onnx_files: dict[str, Path]
    hf_dir: Path | None
    weights_origin: str
    quality_domain: str | None
    manifest: dict[str, Any]
    """The manifest as read (for tools); serving code reads :attr:`provenance`."""
    provenance: BundleProvenance

    @property
    def num_labels(self) -> int:
        """Number of output classes."""
        return len(self.labels)

    @property
    def random_weights(self) -> bool:
        """True when the weights are random (speed figures only; scores mean nothing)."""
        return self.weights_origin == "random"

    @property
    def precisions(self) -> tuple[str, ...]:
        """Exported precisions, in :data:`PRECISIONS` order."""
        return tuple(p for p in PRECISIONS if p in self.onnx_files)


def repo_root() -> Path:
    """The repository root (the directory holding ``emotion_service/``)."""
    return Path(__file__).resolve().parent.parent


def default_bundle_dir() -> Path:
    """Where the default (tiny) bundle lives.

    ``$EMOFLUX_MODELS_DIR/emotion/tiny`` when that variable is set, else ``<repo>/build/models/emotion/tiny``.
    """
    base = os.environ.get("EMOFLUX_MODELS_DIR")
    root = Path(base) if base else repo_root() / "build" / "models"
    return root / "emotion" / "tiny"


def _require(manifest: dict[str, Any], key: str, where: Path) -> Any:
    if key not in manifest:
        raise BundleError(f"bundle manifest {where} lacks the field {key!r}")
    return manifest[key]


def _inside(base: Path, relative: str, where: Path) -> Path:
    """Resolve a manifest-relative path, refusing anything that escapes the bundle directory."""
    target = (base / relative).resolve()
    if base.resolve() not in (target, *target.parents):
        raise BundleError(f"bundle manifest {where} names a file outside the bundle: {relative!r}")
    return target


def load_bundle(path: Path, *, verify: bool = True) -> Bundle:
    """Load and validate the bundle in directory ``path``.

    Checks that ``manifest.json`` exists and has every required field, that the labels and preprocessing are
    well formed, and (``verify``) that every listed file exists with its recorded sha256.

    Raises:
        BundleError: (a ``FailedPrecondition``) naming the directory, file or field at fault.
    """
    path = Path(path)
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        raise BundleError(
            f"no model bundle at {path} ({MANIFEST_NAME} missing); build one with "
            f"`python -m emotion_service.build.export --source tiny --out {path}`"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise BundleError(f"bundle manifest {manifest_path} is unreadable: {exc}") from exc
    if not isinstance(manifest, dict):
        raise BundleError(f"bundle manifest {manifest_path} is not a JSON object")
    fmt = _require(manifest, "format", manifest_path)
    if fmt != MANIFEST_FORMAT:
        raise BundleError(f"bundle manifest {manifest_path} has format {fmt!r}; this code reads {MANIFEST_FORMAT}")

    labels = tuple(str(v) for v in _require(manifest, "labels", manifest_path))
    if not labels or len(set(labels)) != len(labels):
        raise BundleError(f"bundle manifest {manifest_path}: labels must be non-empty and distinct, got {labels}")
    try:
        preprocessing = Preprocessing.from_dict(_require(manifest, "preprocessing", manifest_path))
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"bundle manifest {manifest_path}: bad preprocessing: {exc}") from exc
    origin = str(_require(manifest, "weights_origin", manifest_path))
    if origin not in WEIGHTS_ORIGINS:
        raise BundleError(f"bundle manifest {manifest_path}: weights_origin must be one of {WEIGHTS_ORIGINS}")

    files: dict[str, Any] = _require(manifest, "files", manifest_path)
    if verify:
        for relative, info in files.items():
            target = _inside(path, relative, manifest_path)
            if not target.is_file():
                raise BundleError(f"bundle {path} is incomplete: {relative} is missing")
            actual = sha256_file(target)
            if actual != info.get("sha256"):
                raise BundleError(
                    f"bundle {path}: {relative} does not match its manifest sha256 "
                    f"(expected {info.get('sha256')}, found {actual}); the file was changed or is corrupt"
                )

    onnx_entries: dict[str, str] = _require(manifest, "onnx", manifest_path)
    onnx_files: dict[str, Path] = {}
    for precision, relative in onnx_entries.items():
        if precision not in PRECISIONS:
            raise BundleError(f"bundle manifest {manifest_path}: unknown precision {precision!r}")
        if relative not in files:
            raise BundleError(f"bundle manifest {manifest_path}: {relative} has no sha256 entry")
        onnx_files[precision] = _inside(path, relative, manifest_path)
    if not onnx_files:
        raise BundleError(f"bundle {path} has no ONNX file")

    hf_relative = manifest.get("hf_dir")
    hf_dir = _inside(path, hf_relative, manifest_path) if hf_relative else None
    if hf_dir is not None and not (hf_dir / "config.json").is_file():
        raise BundleError(f"bundle {path}: hf directory {hf_relative} has no config.json")

    return Bundle(
        path=path,
        model_id=str(_require(manifest, "model_id", manifest_path)),
        labels=labels,
        preprocessing=preprocessing,
        onnx_files=onnx_files,
        hf_dir=hf_dir,
        weights_origin=origin,
        quality_domain=manifest.get("quality_domain"),
        manifest=manifest,
        provenance=read_provenance(manifest, str(hf_relative) if hf_dir is not None else None),
    )
