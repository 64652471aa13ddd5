"""Adapted models in the ranking: a LoRA adapter or a fine-tuned bundle as a card derived from its base.

``image_service.build.finetune`` writes ``adapter_manifest.json`` beside a LoRA adapter;
``emotion_service.build.finetune`` writes ``hf/training_manifest.json`` and ``finetune_report.json`` beside
a bundle. :func:`read_adaptation` turns either into an :class:`Adaptation`; :func:`derive_card`
makes the catalog entry (the base's capabilities and facts, ``relates_to`` the base, provenance
pointing at the artifact and its sha256); :func:`adaptation_evidence` turns what the manifest
measured into evidence rows for the derived model, so a comparison shows a base beside its
adaptation. Nothing here changes the bundled catalog: derived cards are added to a loaded one with
:func:`with_derived`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ranker.catalog import Capability, Catalog, CatalogError, Fact, ModelCard, Provenance, Weights
from ranker.evidence import EvidenceRecord, Source, utc_now

ADAPTER_MANIFEST = "adapter_manifest.json"  # image_service.adapters.ADAPTER_MANIFEST
FINETUNE_REPORT = "finetune_report.json"  # emotion_service.build.finetune.REPORT
TRAINING_MANIFEST = "training_manifest.json"
PROBE = "adaptation.manifest"


@dataclass(frozen=True)
class Adaptation:
    """What an adaptation is, where its artifact lives and what its training measured."""

    kind: str  # "lora" or "fine-tune"
    name: str
    base: str  # the base as the producing service names it (variant or model id)
    artifact: str
    sha256: str
    description: str
    weights_origin: str
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def capability_id(self) -> str:
        """The capability the derived card adds for the adaptation itself."""
        return "lora-adapter" if self.kind == "lora" else "fine-tuned-classifier"


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def read_adaptation(path: Path, name: str | None = None) -> Adaptation:
    """Read the adaptation written at ``path`` (an adapter directory or a fine-tune output directory)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    adapter = folder / ADAPTER_MANIFEST
    if adapter.is_file():
        manifest = json.loads(adapter.read_text())
        return Adaptation(
            kind="lora",
            name=name or folder.name,
            base=str(manifest["base_variant"]),
            artifact=str(folder / str(manifest.get("adapter_file", ""))),
            sha256=str(manifest.get("adapter_sha256", "")),
            description=str(manifest.get("description", "")),
            weights_origin=str(manifest.get("base", {}).get("weights_origin", "unspecified")),
            metrics=_numbers(manifest.get("metrics", {})),
        )
    report_path, training = folder / FINETUNE_REPORT, folder / "hf" / TRAINING_MANIFEST
    if report_path.is_file() and training.is_file():
        report = json.loads(report_path.read_text())
        manifest = json.loads(training.read_text())
        bundle = folder / "bundle" / "manifest.json"
        from servicekit.provenance import sha256_file

        metrics = _numbers(report)
        metrics.update({f"bundle_accuracy_{p}": float(a) for p, a in report.get("bundle_accuracy", {}).items()})
        return Adaptation(
            kind="fine-tune",
            name=name or folder.name,
            base=str(manifest["fine_tuned_from"]["model_id"]),
            artifact=str(folder / "bundle"),
            sha256=sha256_file(bundle) if bundle.is_file() else "",
            description=str(manifest.get("description", "")),
            weights_origin=str(manifest.get("weights", "unspecified")),
            metrics=metrics,
        )
    raise CatalogError(f"{folder}: neither {ADAPTER_MANIFEST} nor {FINETUNE_REPORT} with hf/{TRAINING_MANIFEST}")


def find_base(catalog: Catalog, adaptation: Adaptation) -> ModelCard:
    """The catalog card of the adaptation's base (matched on the names its service reports)."""
    service = "image" if adaptation.kind == "lora" else "emotion"
    for card in catalog.served(service):
        assert card.served_by is not None
        named = adaptation.base in card.served_by.names or adaptation.base == card.id
        if named and adaptation.weights_origin in ("unspecified", card.weights.origin):
            return card
    raise CatalogError(f"no {service} card serves {adaptation.base!r} with weights {adaptation.weights_origin!r}")


def derived_id(base_id: str, name: str) -> str:
    """The catalog id of an adaptation: the base's id and the adaptation's name, as one slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"{base_id}-{slug}" if slug else base_id + "-adapted"


def derive_card(base: ModelCard, adaptation: Adaptation, date: dt.date | None = None) -> ModelCard:
    """The catalog entry of ``adaptation``: ``base``'s capabilities and facts plus the adaptation's own."""
    day = (date or utc_now().date()).isoformat()
    where = Provenance(source=adaptation.artifact, date=day, note=f"sha256 {adaptation.sha256}")
    what = "LoRA adapter" if adaptation.kind == "lora" else "fine-tune"
    inherited = tuple(
        replace(c, provenance=replace(c.provenance, note=f"inherited from {base.id}"), origin="catalog")
        for c in base.capabilities
    )
    own = Capability(
        id=adaptation.capability_id,
        name=f"{what.capitalize()} of {base.display_name}",
        description=adaptation.description or f"{what} of {base.id}",
        provenance=where,
        origin="catalog",
        probes=(PROBE,),
    )
    facts = dict(base.facts)
    facts["base_model"] = Fact(value=base.id, provenance=where)
    return ModelCard(
        id=derived_id(base.id, adaptation.name),
        display_name=f"{base.display_name} + {adaptation.name} ({what})",
        type=base.type,
        artifact_type=base.artifact_type,
        description=f"{what.capitalize()} of {base.display_name}: {adaptation.description}".rstrip(": "),
        provenance=where,
        reference=False,
        facts=facts,
        capabilities=(*inherited, own),
        signals=(),
        weights=Weights(origin=base.weights.origin, provenance=where),
        relates_to=base.id,
        relation=f"{what} of {base.id}",
        served_by=None,  # served as the base plus the adapter / bundle; probes address the base's names
        source_file=adaptation.artifact,
    )


def adaptation_evidence(
    card: ModelCard, adaptation: Adaptation, observed_at: dt.datetime | None = None
) -> list[EvidenceRecord]:
    """One evidence row per number the adaptation's training measured, for the derived card."""
    when = observed_at or utc_now()
    detail = json.dumps({"artifact": adaptation.artifact, "sha256": adaptation.sha256}, sort_keys=True)
    return [
        EvidenceRecord(
            model_id=card.id,
            capability=adaptation.capability_id,
            probe=f"{PROBE}.{key}",
            value=value,
            unit="accuracy" if "accuracy" in key else "value",
            passed=True,
            observed_at=when,
            source=Source.SUBMITTED,
            random_weights=card.weights.random,
            detail=detail,
        )
        for key, value in sorted(adaptation.metrics.items())
    ]


def _provenance_data(provenance: Provenance) -> dict[str, str]:
    data = {"source": provenance.source, "date": provenance.date}
    if provenance.note:
        data["note"] = provenance.note
    return data


def card_data(card: ModelCard) -> dict[str, Any]:
    """A derived card as catalog YAML data (what :func:`ranker.catalog.parse_card` reads back)."""
    data: dict[str, Any] = {
        "id": card.id,
        "display_name": card.display_name,
        "type": card.type,
        "artifact_type": card.artifact_type,
        "reference": card.reference,
        "relates_to": card.relates_to,
        "relation": card.relation,
        "description": card.description,
        **_provenance_data(card.provenance),
    }
    if card.weights.provenance is not None:
        data["weights"] = {"origin": card.weights.origin, **_provenance_data(card.weights.provenance)}
    data["facts"] = {key: {"value": f.value, **_provenance_data(f.provenance)} for key, f in card.facts.items()}
    data["capabilities"] = [
        {
            "id": c.id,
            "name": c.name,
            "description": c.description,
            "origin": c.origin,
            **_provenance_data(c.provenance),
            "probes": list(c.probes),
        }
        for c in card.capabilities
    ]
    return data


def with_derived(catalog: Catalog, cards: Iterable[ModelCard]) -> Catalog:
    """``catalog`` plus derived cards (the cross-card checks run again)."""
    return Catalog([*catalog, *cards])
