"""Adoption and freshness from hub data: download and like counts mapped to [0, 1] against a cohort.

A count ``x`` of a model of artifact type ``t`` maps to ``min(1, log10(1 + x) / log10(1 + ref))``
where ``ref`` is the cohort reference of ``t`` for that metric in the cohort file
(``ranker/data/cohorts.yaml`` by default). The mapping is monotone, 0 for no downloads and 1 at or
above the reference, and it depends on the other models only through that file: adding a model to
the catalog never moves another model's score. Dates (``lastModified``) become ``freshness``
records of unit ``date``, decayed by the scorer like catalog dates.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from ranker.evidence import EvidenceRecord, Source
from ranker.scoring import date_value

COHORTS_FILE = Path(__file__).resolve().parent / "data" / "cohorts.yaml"
# Metric → model-info field.
METRICS: dict[str, str] = {
    "downloads-recent": "downloads",
    "downloads-all-time": "downloadsAllTime",
    "likes": "likes",
}


@dataclass(frozen=True)
class Cohort:
    """Reference counts of one artifact type (the count that maps to 1.0), with their provenance."""

    artifact_type: str
    references: Mapping[str, float]
    source: str
    date: str


def load_cohorts(path: Path | None = None) -> dict[str, Cohort]:
    """Read the cohort file; every artifact type must give a positive reference for every metric."""
    path = COHORTS_FILE if path is None else path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping of artifact type → references")
    cohorts: dict[str, Cohort] = {}
    for artifact_type, item in data.items():
        where = f"{path.name}: {artifact_type}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a mapping")
        refs: dict[str, float] = {}
        for metric in METRICS:
            value = item.get(metric)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{where}.{metric}: expected a positive count, got {value!r}")
            refs[metric] = float(value)
        cohorts[str(artifact_type)] = Cohort(
            str(artifact_type), refs, str(item.get("source", "")), str(item.get("date", ""))
        )
    if "default" not in cohorts:
        raise ValueError(f"{path.name}: a 'default' cohort is required")
    return cohorts


def log_scale(count: float, reference: float) -> float:
    """``min(1, log10(1 + count) / log10(1 + reference))``; negative counts are treated as 0."""
    if reference <= 0:
        raise ValueError(f"reference must be positive, got {reference!r}")
    return min(1.0, math.log10(1.0 + max(0.0, count)) / math.log10(1.0 + reference))


def _when(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def adoption_records(
    model_id: str,
    artifact_type: str,
    info: Mapping[str, object],
    observed_at: dt.datetime,
    cohorts: Mapping[str, Cohort],
) -> list[EvidenceRecord]:
    """IMPORTED records of one model-info snapshot: mapped counts, and ``lastModified`` as a date.

    ``source_ref`` is ``huggingface:<hub id>``; the observation key names the metric and the
    snapshot time, so importing the same snapshot twice stores it once.
    """
    hub_id = str(info["id"])
    cohort = cohorts.get(artifact_type, cohorts["default"])
    stamp = observed_at.astimezone(dt.UTC).isoformat()
    ref = f"huggingface:{hub_id}"
    records: list[EvidenceRecord] = []
    for metric, key in METRICS.items():
        raw = info.get(key)
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            continue  # the snapshot does not carry this count
        reference = cohort.references[metric]
        detail = {"count": raw, "reference": reference, "cohort": cohort.artifact_type, "field": key}
        records.append(
            EvidenceRecord(
                model_id=model_id,
                capability="model",
                probe=f"adoption.{metric}",
                value=log_scale(float(raw), reference),
                unit="fraction",
                passed=True,
                observed_at=observed_at,
                source=Source.IMPORTED,
                detail=json.dumps(detail, sort_keys=True),
                source_ref=ref,
                observation_key=f"{metric}@{stamp}",
            )
        )
    modified = info.get("lastModified")
    if isinstance(modified, str) and modified:
        day = _when(modified).date()
        records.append(
            EvidenceRecord(
                model_id=model_id,
                capability="model",
                probe="freshness.last-modified",
                value=date_value(day),
                unit="date",
                passed=True,
                observed_at=observed_at,
                source=Source.IMPORTED,
                detail=json.dumps({"lastModified": modified}),
                source_ref=ref,
                observation_key=f"last-modified@{day.isoformat()}",
            )
        )
    return records
