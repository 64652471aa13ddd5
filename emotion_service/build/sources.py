"""Where a bundle's model comes from: an embedded name, a local Hugging Face directory, or a hub id.

Resolving a source is cheap (no torch import): it yields a description and a fingerprint (sha256) so
an existing bundle can be recognised as up to date. Loading the model is a separate, lazy step.

Safety rules: weights are read from safetensors only (pickle-based ``*.bin``/``*.pt`` files are
refused, never loaded), ``trust_remote_code`` is never set, and only ViT image classifiers are accepted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_service.build import embedded
from servicekit.errors import FailedPrecondition
from servicekit.provenance import sha256_file

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
HUB_PATTERNS = ["config.json", "preprocessor_config.json", "*.safetensors", "model.safetensors.index.json"]


class SourceError(FailedPrecondition):
    """A model source cannot be found, fetched or is not acceptable."""


@dataclass(frozen=True)
class ResolvedSource:
    """A model source, resolved but not loaded."""

    kind: str  # "embedded" | "local" | "hub"
    spec: str  # what the caller asked for
    model_id: str
    description: dict[str, Any]
    fingerprint: str
    weights_origin: str
    quality_domain: str | None
    processor_config: dict[str, Any]
    recipe: embedded.EmbeddedRecipe | None = None
    directory: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def load_model(self) -> Any:
        """The ``ViTForImageClassification`` in eval mode (imports torch and transformers)."""
        if self.recipe is not None:
            return embedded.build_model(self.recipe)
        assert self.directory is not None
        from transformers import ViTForImageClassification

        model = ViTForImageClassification.from_pretrained(self.directory, use_safetensors=True, trust_remote_code=False)
        return model.eval()


def _weights_files(directory: Path) -> list[Path]:
    """The safetensors files of an HF directory; refuses pickle-only checkpoints."""
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text()).get("weight_map", {}).values()))
        missing = [s for s in shards if not (directory / s).is_file()]
        if missing:
            raise SourceError(f"{directory}: safetensors shards missing: {', '.join(missing)}")
        return [directory / s for s in shards]
    if (directory / "model.safetensors").is_file():
        return [directory / "model.safetensors"]
    pickles = sorted(p.name for p in directory.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise SourceError(
            f"{directory} has only pickle-based weights ({', '.join(pickles)}); they are refused because "
            "loading them can run arbitrary code. Convert them to model.safetensors first."
        )
    raise SourceError(f"{directory} has no model.safetensors")


def _local(directory: Path, spec: str, *, kind: str, extra: dict[str, Any] | None = None) -> ResolvedSource:
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise SourceError(f"{directory} is not a Hugging Face model directory (no config.json)")
    config = json.loads(config_path.read_text())
    if config.get("model_type") != "vit":
        raise SourceError(
            f"{directory}: model_type is {config.get('model_type')!r}; only ViT image classifiers ('vit') are supported"
        )
    id2label = config.get("id2label") or {}
    if not id2label:
        raise SourceError(f"{directory}/config.json has no id2label")
    labels = [str(id2label[k]) for k in sorted(id2label, key=int)]
    processor_path = directory / "preprocessor_config.json"
    if not processor_path.is_file():
        raise SourceError(f"{directory} has no preprocessor_config.json (the preprocessing must come with the model)")
    processor_config = json.loads(processor_path.read_text())
    weights = _weights_files(directory)
    files = {p.name: sha256_file(p) for p in [config_path, processor_path, *weights]}

    origin, domain = "pretrained", None
    training_manifest = directory / embedded.TRAINING_MANIFEST
    if training_manifest.is_file():  # a model trained by emotion_service.build.train says what it is
        data = json.loads(training_manifest.read_text())
        origin = str(data.get("weights", origin))
        domain = data.get("quality_domain")
    description: dict[str, Any] = {"kind": kind, "labels": labels, "files": files, **(extra or {})}
    if kind == "local":
        description["path"] = str(directory)
    if extra and "repo_id" in extra:
        model_id = str(extra["repo_id"])
    else:
        model_id = str(config.get("_name_or_path") or directory.name)
    return ResolvedSource(
        kind=kind,
        spec=spec,
        model_id=model_id,
        description=description,
        fingerprint=embedded.fingerprint({k: v for k, v in description.items() if k != "path"}),
        weights_origin=origin,
        quality_domain=domain,
        processor_config=processor_config,
        directory=directory,
    )


def _hub(repo_id: str, revision: str | None) -> ResolvedSource:
    try:
        from huggingface_hub import snapshot_download

        local = snapshot_download(repo_id, revision=revision, allow_patterns=HUB_PATTERNS)
    except Exception as exc:  # offline mode, no network, unknown repo, gated repo: all reported the same way
        raise SourceError(
            f"cannot fetch {repo_id!r} from the Hugging Face Hub ({type(exc).__name__}: {str(exc)[:300]}). "
            "Without network access (or with HF_HUB_OFFLINE=1), download config.json, model.safetensors and "
            "preprocessor_config.json elsewhere and pass the directory as --source."
        ) from exc
    directory = Path(str(local))
    commit = directory.name if directory.parent.name == "snapshots" else None
    return _local(directory, repo_id, kind="hub", extra={"repo_id": repo_id, "revision": revision, "commit": commit})


def resolve_source(spec: str, *, revision: str | None = None) -> ResolvedSource:
    """Resolve ``spec``: an embedded name, an existing directory, or a hub id ``owner/name``.

    Raises:
        SourceError: unknown name, unacceptable directory, or a hub id that cannot be fetched.
    """
    if spec in embedded.EMBEDDED_NAMES:
        r = embedded.recipe(spec)
        description = r.describe()
        extra = {"training": embedded.training_summary(r.trained_dir)} if r.trained_dir is not None else {}
        return ResolvedSource(
            kind="embedded",
            spec=spec,
            model_id=r.model_id,
            description=description,
            fingerprint=embedded.fingerprint(description),
            weights_origin=r.weights_origin,
            quality_domain=r.quality_domain,
            processor_config=r.processor_config(),
            recipe=r,
            extra=extra,
        )
    path = Path(spec).expanduser()
    if path.is_dir():
        return _local(path.resolve(), spec, kind="local")
    if path.exists():
        raise SourceError(f"--source {spec!r} is a file; give a model directory, an embedded name or a hub id")
    if HUB_ID.match(spec) and not spec.startswith((".", "/", "~")):
        return _hub(spec, revision)
    raise SourceError(
        f"unknown source {spec!r}: not an embedded model ({', '.join(embedded.EMBEDDED_NAMES)}), "
        "not an existing directory, not a hub id (owner/name)"
    )
