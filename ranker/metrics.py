"""Prometheus metrics of the ranker: scores, components, probe runs, failures and latency, evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from ranker.catalog import ModelCard
from ranker.scoring import ScoreResult
from servicekit.metrics import LATENCY_BUCKETS

# Probes range from milliseconds (a classify call) to minutes (a match on a large generator).
PROBE_BUCKETS: tuple[float, ...] = (*LATENCY_BUCKETS, 120.0, 300.0)


@dataclass
class RankerMetrics:
    """All ranker metrics on one registry."""

    registry: CollectorRegistry
    score: Gauge = field(init=False)
    score_low: Gauge = field(init=False)
    score_high: Gauge = field(init=False)
    component: Gauge = field(init=False)
    probe_runs: Counter = field(init=False)
    probe_failures: Counter = field(init=False)
    probe_seconds: Histogram = field(init=False)
    evidence_records: Counter = field(init=False)
    model_info: Info = field(init=False)
    replica_up: Gauge = field(init=False)

    def __post_init__(self) -> None:
        r = self.registry
        self.score = Gauge("emoflux_ranker_model_score", "Current score of a model, 0..100.", ("model_id",), registry=r)
        self.score_low = Gauge(
            "emoflux_ranker_model_score_low", "Lower end of the score's bootstrap interval.", ("model_id",), registry=r
        )
        self.score_high = Gauge(
            "emoflux_ranker_model_score_high", "Upper end of the score's bootstrap interval.", ("model_id",), registry=r
        )
        self.component = Gauge(
            "emoflux_ranker_model_component", "Score component value in [0, 1].", ("model_id", "component"), registry=r
        )
        self.probe_runs = Counter(
            "emoflux_ranker_probe_runs",
            "Probes run, by probe and outcome.",
            ("probe", "model_id", "outcome"),
            registry=r,
        )
        self.probe_failures = Counter(
            "emoflux_ranker_probe_failures",
            "Probes that failed, by reason (failed, unavailable, timeout, rpc_error, probe_error).",
            ("probe", "model_id", "reason"),
            registry=r,
        )
        self.probe_seconds = Histogram(
            "emoflux_ranker_probe_duration_seconds",
            "Wall time of one probe run.",
            ("probe",),
            buckets=PROBE_BUCKETS,
            registry=r,
        )
        self.evidence_records = Counter(
            "emoflux_ranker_evidence_records", "Evidence records stored, by source.", ("source",), registry=r
        )
        self.model_info = Info(
            "emoflux_ranker_model", "Static facts about a catalogued model.", ("model_id",), registry=r
        )
        self.replica_up = Gauge(
            "emoflux_ranker_upstream_replica_up",
            "1 when an upstream replica's health check answered SERVING at the last discovery, else 0.",
            ("service", "address"),
            registry=r,
        )

    def describe_model(self, card: ModelCard) -> None:
        """Publish a model's static facts as ``emoflux_ranker_model_info``."""
        self.model_info.labels(card.id).info(
            {
                "display_name": card.display_name,
                "artifact_type": card.artifact_type,
                "weights_origin": card.weights.origin,
                "reference": str(card.reference).lower(),
                "relates_to": card.relates_to or "",
                "capabilities": str(len(card.capabilities)),
            }
        )

    def publish_score(self, result: ScoreResult) -> None:
        """Set the score and component gauges of one model."""
        self.score.labels(result.model_id).set(result.score)
        self.score_low.labels(result.model_id).set(result.low)
        self.score_high.labels(result.model_id).set(result.high)
        for component in result.components:
            self.component.labels(result.model_id, component.name).set(component.value)
