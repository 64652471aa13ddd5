"""Live probes of the emoflux services, registered by name."""

from __future__ import annotations

from ranker.probes import classifier, generator, match
from ranker.probes.base import (
    EMOTION,
    EMOTION_CLASSIFICATION,
    IMAGE,
    MATCH,
    TEXT_TO_IMAGE,
    Measurement,
    NotApplicable,
    Probe,
    ProbeContext,
    ProbeSettings,
    Target,
)

REGISTRY: dict[str, Probe] = {p.name: p for p in (*classifier.PROBES, *generator.PROBES, match.PROBE)}
MATCH_PROBE = match.PROBE.name


def probes_for(service: str) -> list[Probe]:
    """The single-target probes of one service kind ("emotion" or "image"), in registry order."""
    return [p for p in REGISTRY.values() if p.service == service]


__all__ = [
    "EMOTION",
    "EMOTION_CLASSIFICATION",
    "IMAGE",
    "MATCH",
    "MATCH_PROBE",
    "REGISTRY",
    "TEXT_TO_IMAGE",
    "Measurement",
    "NotApplicable",
    "Probe",
    "ProbeContext",
    "ProbeSettings",
    "Target",
    "probes_for",
]
