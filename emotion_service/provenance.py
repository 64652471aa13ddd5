"""Where a bundle's model came from, read once from its manifest into typed fields.

The manifest is JSON written by several exporter versions; this module is the only reader of its
provenance fields, so the rest of the service works with :class:`BundleProvenance` and
:class:`ServedProvenance`, never with the raw dictionary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TORCH_BACKEND = "torch"


@dataclass(frozen=True)
class ServedProvenance:
    """The provenance of the one file a backend serves (what GetModelInfo reports)."""

    source: str
    sha256: str
    exporter: str
    opset: int
    """0 when the served file is not an ONNX graph."""
    parity_max_abs_diff: float
    """Max |logit diff| against PyTorch; -1 when not measured or not applicable."""
    created_at: datetime | None
    library_versions: Mapping[str, str]


@dataclass(frozen=True)
class BundleProvenance:
    """The provenance facts of a whole bundle."""

    source: str
    """``builtin:<name>``, a hub id (``@commit``) or a local directory."""
    exporter: str
    """The tool that wrote the ONNX files, e.g. ``torch.onnx.export(dynamo) torch 2.13.0``."""
    opset: int
    created_at: datetime | None
    library_versions: Mapping[str, str] = field(default_factory=dict)
    file_sha256: Mapping[str, str] = field(default_factory=dict)
    """Bundle-relative path -> sha256."""
    onnx_files: Mapping[str, str] = field(default_factory=dict)
    """Precision -> bundle-relative path of its ONNX file."""
    parity: Mapping[str, float] = field(default_factory=dict)
    """Precision -> max |logit diff| against PyTorch, where measured."""
    hf_weights: str | None = None
    """Bundle-relative path of the Hugging Face safetensors the torch backend serves."""

    def served(self, precision: str, backend: str) -> ServedProvenance:
        """The provenance of what ``backend`` serves for ``precision``."""
        torch = backend == TORCH_BACKEND
        relative = self.hf_weights if torch and self.hf_weights else self.onnx_files.get(precision)
        return ServedProvenance(
            source=self.source,
            sha256=self.file_sha256.get(relative, "") if relative else "",
            exporter=self.exporter,
            opset=0 if torch else self.opset,
            parity_max_abs_diff=-1.0 if torch else self.parity.get(precision, -1.0),
            created_at=self.created_at,
            library_versions=self.library_versions,
        )


def read_provenance(manifest: Mapping[str, Any], hf_dir: str | None) -> BundleProvenance:
    """The provenance fields of a bundle manifest; missing or malformed fields read as unknown."""
    versions = _mapping(manifest.get("versions"))
    files = _mapping(manifest.get("files"))
    parity = {}
    for precision, entry in _mapping(manifest.get("parity")).items():
        value = entry.get("max_abs_logit_diff") if isinstance(entry, Mapping) else entry
        if isinstance(value, int | float) and math.isfinite(value):
            parity[str(precision)] = float(value)
    opset = manifest.get("opset")
    return BundleProvenance(
        source=source_name(manifest.get("source")),
        exporter=exporter_name(manifest.get("exporter", ""), versions.get("torch")),
        opset=int(opset) if isinstance(opset, int) else 0,
        created_at=_timestamp(manifest.get("created_at")),
        library_versions={str(k): str(v) for k, v in versions.items()},
        file_sha256={
            str(path): str(entry.get("sha256", "")) for path, entry in files.items() if isinstance(entry, Mapping)
        },
        onnx_files={str(k): str(v) for k, v in _mapping(manifest.get("onnx")).items()},
        parity=parity,
        hf_weights=f"{hf_dir}/model.safetensors" if hf_dir else None,
    )


def source_name(source: Any) -> str:
    """The manifest's source as one string: ``builtin:<name>``, a hub id (``@commit``) or a local directory."""
    if isinstance(source, str):
        return source
    if not isinstance(source, Mapping):
        return ""
    kind = source.get("kind")
    if kind == "embedded":
        return f"builtin:{source.get('name') or source.get('spec')}"
    if kind == "hub":
        repo = str(source.get("repo_id") or source.get("spec") or "")
        return f"{repo}@{source['commit']}" if source.get("commit") else repo
    return str(source.get("path") or source.get("spec") or "")


def exporter_name(exporter: Any, torch_version: Any) -> str:
    """The exporter entry as one string, with ``(dynamo)`` and the torch version when recorded."""
    if not isinstance(exporter, Mapping):
        return str(exporter)
    name = str(exporter.get("name", ""))
    if exporter.get("dynamo"):
        name += "(dynamo)"
    return f"{name} torch {torch_version}" if torch_version else name


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _timestamp(value: Any) -> datetime | None:
    """A POSIX time or an ISO 8601 string as an aware datetime (naive ISO strings are UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None
