"""Where a variant's weights are loaded from: a local directory, a hub id, or the embedded tiny pipeline.

``tiny-flux`` resolves, in order, to a directory given with ``--variant-dir tiny-flux=PATH``, the trained
pipeline committed under ``image_service/embedded/tiny-flux/``, or a random pipeline built
deterministically (seed 0) into ``<models_dir>/tiny-flux-random`` on first use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from image_service.variants import (
    TINY_FLUX,
    TRAINING_MANIFEST,
    VariantSpec,
    WeightsOrigin,
    known_names,
    published_variant,
    tiny_flux_spec,
)
from servicekit.errors import NotFound
from servicekit.provenance import sha256_file

log = logging.getLogger("emoflux.image.sources")

EMBEDDED_TINY_DIR = Path(__file__).resolve().parent / "embedded" / TINY_FLUX
RANDOM_TINY_DIRNAME = "tiny-flux-random"
RANDOM_TINY_SEED = 0


@dataclass(frozen=True)
class VariantSource:
    """A variant's spec and where its pipeline loads from (a local directory or a hub id)."""

    spec: VariantSpec
    location: str
    local: bool

    @property
    def path(self) -> Path:
        """The local directory (only meaningful when ``local``)."""
        return Path(self.location)


def is_pipeline_dir(path: Path) -> bool:
    """Whether ``path`` holds a saved diffusers pipeline."""
    return (path / "model_index.json").is_file()


def parse_pairs(pairs: Iterable[str], field: str) -> dict[str, Path]:
    """Parse ``NAME=PATH`` entries (from a setting) into a mapping; reject malformed ones."""
    result: dict[str, Path] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ValueError(f"{field}: expected NAME=PATH, got {pair!r}")
        result[name.strip()] = Path(path.strip())
    return result


def ensure_random_tiny(models_dir: Path) -> Path:
    """Return the random tiny pipeline directory, building it (atomically) when missing."""
    target = models_dir / RANDOM_TINY_DIRNAME
    if is_pipeline_dir(target):
        return target
    from image_service.build.tinyflux import save_random_pipeline

    models_dir.mkdir(parents=True, exist_ok=True)
    # Build next to the target and rename, so a concurrent reader never sees a half-written pipeline.
    staging = Path(tempfile.mkdtemp(prefix=f".{RANDOM_TINY_DIRNAME}-", dir=models_dir))
    try:
        save_random_pipeline(staging, seed=RANDOM_TINY_SEED)
        try:
            os.replace(staging, target)
        except OSError:
            if not is_pipeline_dir(target):  # lost a race only if someone else finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("built the random tiny FLUX pipeline in %s", target)
    return target


def _tiny_origin(path: Path) -> WeightsOrigin:
    if (path / TRAINING_MANIFEST).is_file():
        return WeightsOrigin.SYNTHETIC_TRAINED
    return WeightsOrigin.RANDOM


def resolve_tiny_dir(variant_dirs: Mapping[str, Path], models_dir: Path, *, build: bool = True) -> Path | None:
    """The directory ``tiny-flux`` loads from (see the module docstring); None when not built and ``build`` is off."""
    if TINY_FLUX in variant_dirs:
        return variant_dirs[TINY_FLUX]
    if is_pipeline_dir(EMBEDDED_TINY_DIR):
        return EMBEDDED_TINY_DIR
    if build:
        return ensure_random_tiny(models_dir)
    candidate = models_dir / RANDOM_TINY_DIRNAME
    return candidate if is_pipeline_dir(candidate) else None


def resolve(name: str, variant_dirs: Mapping[str, Path], models_dir: Path) -> VariantSource:
    """Resolve ``name`` to its spec and load location; NotFound for an unknown name."""
    if name == TINY_FLUX:
        path = resolve_tiny_dir(variant_dirs, models_dir)
        assert path is not None
        if not is_pipeline_dir(path):
            raise NotFound(f"variant {name!r}: {path} is not a diffusers pipeline directory (no model_index.json)")
        return VariantSource(tiny_flux_spec(path, _tiny_origin(path)), str(path), local=True)
    spec = published_variant(name)
    if spec is None:
        raise NotFound(f"variant {name!r} is not known; known variants: {', '.join(known_names())}")
    if name in variant_dirs:
        return VariantSource(spec, str(variant_dirs[name]), local=True)
    return VariantSource(spec, spec.hub_id, local=False)


def weights_digest(component_dir: Path) -> str:
    """One SHA-256 over a component's config and safetensors files (names and contents, sorted)."""
    digest = hashlib.sha256()
    files = sorted([*component_dir.glob("*.safetensors"), *component_dir.glob("config.json")])
    if not files:
        raise FileNotFoundError(f"no weights or config in {component_dir}")
    for file in files:
        digest.update(file.name.encode())
        digest.update(sha256_file(file).encode())
    return digest.hexdigest()
