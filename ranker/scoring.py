"""Scores from evidence: pure functions, no I/O (docs/scoring.md explains every rule and number).

A score is ``100 * sum(weight[c] * value[c])`` over five components in [0, 1]: adoption, quality,
ecosystem, match graph and freshness. Each record contributes one observation to one component
(:func:`contribution`). A component's value is the mean of its observations shrunk towards a prior
(``PRIOR_STRENGTH`` pseudo-observations of ``PRIOR``), so a component with no evidence *is* the
prior and every component moves smoothly away from it as evidence arrives. Freshness is computed
from dates, not estimated, so it is not shrunk. The interval comes from a seeded bootstrap that
resamples the observations and draws the prior from a Beta distribution.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ranker.evidence import EvidenceRecord, Source

COMPONENTS: tuple[str, ...] = ("adoption", "quality", "ecosystem", "match_graph", "freshness")
COMPONENT_LABELS: dict[str, str] = {
    "adoption": "Adoption",
    "quality": "Quality",
    "ecosystem": "Ecosystem",
    "match_graph": "Match Graph",
    "freshness": "Freshness",
}
# Where the value of an all-missing model lands: 42/100, whatever the weights (they sum to 1).
PRIOR = 0.42
PRIOR_STRENGTH = 1.0
PRIOR_CONCENTRATION = 4.0
HALF_LIFE_DAYS = 730.0
EPOCH = dt.date(1970, 1, 1)
# Probes whose value measures how good the model's outputs are (not whether it works).
QUALITY_PROBES: frozenset[str] = frozenset({"classifier.accuracy-synthetic"})
SIGNAL_PREFIXES: frozenset[str] = frozenset({"adoption", "quality", "ecosystem"})
# Pairwise game records; they enter scoring through a rating, not one by one.
OUTCOME_UNIT = "outcome"
# Components that say how good a model's outputs are: random-weight evidence never feeds them.
OUTPUT_COMPONENTS: frozenset[str] = frozenset({"quality", "match_graph"})


@dataclass(frozen=True)
class Weights:
    """Component weights of a score; each in [0, 1], summing to 1."""

    adoption: float = 0.25
    quality: float = 0.25
    ecosystem: float = 0.10
    match_graph: float = 0.25
    freshness: float = 0.15

    def __post_init__(self) -> None:
        for name in COMPONENTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"weights.{name}: expected a number in [0, 1], got {value!r}")
        total = sum(getattr(self, name) for name in COMPONENTS)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"weights must sum to 1, got {total:.6f}")

    def of(self, component: str) -> float:
        """The weight of one component."""
        return float(getattr(self, component))

    def as_dict(self) -> dict[str, float]:
        """Component → weight, in :data:`COMPONENTS` order."""
        return {name: self.of(name) for name in COMPONENTS}


@dataclass(frozen=True)
class ScoringPolicy:
    """Weights per artifact type plus the prior and decay constants."""

    default: Weights = field(default_factory=Weights)
    by_artifact_type: Mapping[str, Weights] = field(default_factory=dict)
    prior: float = PRIOR
    prior_strength: float = PRIOR_STRENGTH
    prior_concentration: float = PRIOR_CONCENTRATION
    half_life_days: float = HALF_LIFE_DAYS

    def weights_for(self, artifact_type: str) -> Weights:
        """The weights used for models of ``artifact_type``."""
        return self.by_artifact_type.get(artifact_type, self.default)


def load_policy(path: Path) -> ScoringPolicy:
    """Read weights per artifact type from YAML (``default:`` plus one mapping per artifact type).

    Example::

        default: {adoption: 0.25, quality: 0.25, ecosystem: 0.10, match_graph: 0.25, freshness: 0.15}
        image-classifier: {adoption: 0.20, quality: 0.30, ecosystem: 0.10, match_graph: 0.25, freshness: 0.15}
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping of artifact type → weights")
    profiles: dict[str, Weights] = {}
    for key, value in data.items():
        if not isinstance(value, dict):
            raise ValueError(f"{path.name}: {key}: expected a mapping of component → weight")
        unknown = set(value) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"{path.name}: {key}.{sorted(unknown)[0]}: unknown component (known: {COMPONENTS})")
        try:
            profiles[str(key)] = Weights(**{name: value.get(name, 0.0) for name in COMPONENTS})
        except ValueError as exc:
            raise ValueError(f"{path.name}: {key}: {exc}") from None
    default = profiles.pop("default", Weights())
    return ScoringPolicy(default=default, by_artifact_type=profiles)


def freshness_of(date: dt.date, as_of: dt.date, half_life_days: float = HALF_LIFE_DAYS) -> float:
    """Exponential decay with age: 1 for today (or a future date), 0.5 after one half-life."""
    age = max(0, (as_of - date).days)
    return float(0.5 ** (age / half_life_days))


def date_value(date: dt.date) -> float:
    """A date as the value of a ``unit: date`` record (days since 1970-01-01)."""
    return float((date - EPOCH).days)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def contribution(
    record: EvidenceRecord, as_of: dt.date, half_life_days: float = HALF_LIFE_DAYS
) -> tuple[str, float] | None:
    """The (component, value in [0, 1]) a record contributes, or None when it contributes nothing.

    Rules, in order: records that only say an observation could not be made contribute nothing;
    ``adoption.*`` / ``quality.*`` / ``ecosystem.*`` records are direct observations of that
    component; ``freshness.*`` records are a date (unit ``date``) decayed to ``as_of`` or a direct
    value; match records (source MATCH or ``match.*``) observe the match graph with their agreement;
    quality probes observe quality with their value; every other probe is a conformance or
    performance check of a served copy and observes the ecosystem with 1 (passed) or 0 (failed).
    Observations of quality or the match graph from random weights are withheld (None).
    """
    if not record.counts_as_evidence:
        return None
    prefix = record.probe.split(".", 1)[0]
    if prefix in SIGNAL_PREFIXES:
        component, value = prefix, _clamp(record.value)
    elif prefix == "freshness":
        if record.unit == "date":
            day = EPOCH + dt.timedelta(days=round(record.value))
            component, value = "freshness", freshness_of(day, as_of, half_life_days)
        else:
            component, value = "freshness", _clamp(record.value)
    elif record.source is Source.MATCH or prefix == "match":
        component, value = "match_graph", _clamp(record.value)
    elif record.probe in QUALITY_PROBES:
        component, value = "quality", _clamp(record.value)
    else:
        component, value = "ecosystem", 1.0 if record.passed else 0.0
    if record.random_weights and component in OUTPUT_COMPONENTS:
        return None
    return component, value


@dataclass(frozen=True)
class Observations:
    """Per-component observation values (sorted, so results do not depend on record order)."""

    values: Mapping[str, tuple[float, ...]]
    withheld_random: int = 0
    not_evidence: int = 0

    def count(self, component: str) -> int:
        """Number of observations of a component."""
        return len(self.values.get(component, ()))


def current(records: Iterable[EvidenceRecord]) -> list[EvidenceRecord]:
    """The records that count: all but older IMPORTED observations of the same (source, probe).

    Only the newest snapshot of a download count counts; older ones are its history.
    """
    records = list(records)
    newest: dict[tuple[str, str], EvidenceRecord] = {}
    for r in records:
        if r.source is Source.IMPORTED:
            key = (r.source_ref, r.probe)
            if key not in newest or r.observed_at >= newest[key].observed_at:
                newest[key] = r
    kept = {id(r) for r in newest.values()}
    return [r for r in records if r.source is not Source.IMPORTED or id(r) in kept]


def observe(records: Iterable[EvidenceRecord], as_of: dt.date, half_life_days: float = HALF_LIFE_DAYS) -> Observations:
    """Turn records into per-component observations, counting what was withheld or not evidence.

    Pairwise outcomes (unit ``outcome``) are skipped: they reach the match graph through their
    Bradley-Terry rating, one record per model (``ranker.pairwise.rating_records``).
    """
    buckets: dict[str, list[float]] = {name: [] for name in COMPONENTS}
    withheld = not_evidence = 0
    for record in current(records):
        if record.unit == OUTCOME_UNIT:
            continue
        if not record.counts_as_evidence:
            not_evidence += 1
            continue
        found = contribution(record, as_of, half_life_days)
        if found is None:
            withheld += 1
            continue
        buckets[found[0]].append(found[1])
    return Observations({k: tuple(sorted(v)) for k, v in buckets.items()}, withheld, not_evidence)


def component_value(component: str, values: tuple[float, ...], policy: ScoringPolicy) -> tuple[float, bool]:
    """(value, from_prior): the shrunk mean of the observations, or the prior when there are none.

    Freshness observations are dates, not samples: the freshest one counts, unshrunk.
    """
    if not values:
        return policy.prior, True
    if component == "freshness":
        return max(values), False
    k = policy.prior_strength
    return (k * policy.prior + sum(values)) / (k + len(values)), False


def combine(values: Mapping[str, float], weights: Weights) -> float:
    """The 0..100 score of component values under ``weights``."""
    return 100.0 * sum(weights.of(name) * values[name] for name in COMPONENTS)


def point_score(records: Iterable[EvidenceRecord], weights: Weights, policy: ScoringPolicy, as_of: dt.date) -> float:
    """The 0..100 point score of records (no interval): what :func:`score_model` reports as ``score``."""
    obs = observe(records, as_of, policy.half_life_days)
    values = {name: component_value(name, obs.values.get(name, ()), policy)[0] for name in COMPONENTS}
    return combine(values, weights)


@dataclass(frozen=True)
class ComponentScore:
    """One component of a score, with its bootstrap interval."""

    name: str
    value: float
    weight: float
    evidence_count: int
    from_prior: bool
    low: float
    high: float

    @property
    def label(self) -> str:
        """Display name, e.g. "Match Graph"."""
        return COMPONENT_LABELS[self.name]


@dataclass(frozen=True)
class ScoreResult:
    """A model's score, components and interval."""

    model_id: str
    score: float
    low: float
    high: float
    components: tuple[ComponentScore, ...]
    as_of: dt.date
    withheld_random: int = 0
    not_evidence: int = 0

    def component(self, name: str) -> ComponentScore:
        """The component called ``name``."""
        return next(c for c in self.components if c.name == name)

    @property
    def all_prior(self) -> bool:
        """True when no component has evidence."""
        return all(c.from_prior for c in self.components)


def bootstrap(
    observations: Observations,
    weights: Weights,
    policy: ScoringPolicy,
    *,
    samples: int,
    seed: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Seeded bootstrap draws of the score and of each component value.

    Each draw resamples every component's observations with replacement and draws the prior from
    Beta(prior * c, (1 - prior) * c), so components without evidence carry the prior's uncertainty.
    """
    rng = np.random.default_rng(seed)
    a = policy.prior * policy.prior_concentration
    b = (1.0 - policy.prior) * policy.prior_concentration
    k = policy.prior_strength
    totals = np.zeros(samples)
    draws: dict[str, np.ndarray] = {}
    for name in COMPONENTS:
        xs = np.asarray(observations.values.get(name, ()), dtype=float)
        prior_draws = rng.beta(a, b, size=samples)
        if xs.size == 0:
            values = prior_draws
        elif name == "freshness":
            values = np.full(samples, xs.max())
        else:
            picks = rng.integers(0, xs.size, size=(samples, xs.size))
            values = (k * prior_draws + xs[picks].sum(axis=1)) / (k + xs.size)
        draws[name] = values
        totals += 100.0 * weights.of(name) * values
    return totals, draws


def score_model(
    model_id: str,
    records: Iterable[EvidenceRecord],
    *,
    weights: Weights,
    policy: ScoringPolicy,
    as_of: dt.date,
    samples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> ScoreResult:
    """Score one model from its records: point score, components and a ``level`` bootstrap interval."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    obs = observe(records, as_of, policy.half_life_days)
    values: dict[str, float] = {}
    priors: dict[str, bool] = {}
    for name in COMPONENTS:
        values[name], priors[name] = component_value(name, obs.values.get(name, ()), policy)
    point = combine(values, weights)
    totals, draws = bootstrap(obs, weights, policy, samples=samples, seed=seed)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = (float(x) for x in np.percentile(totals, [tail, 100.0 - tail]))
    components = []
    for name in COMPONENTS:
        c_low, c_high = (float(x) for x in np.percentile(draws[name], [tail, 100.0 - tail]))
        components.append(
            ComponentScore(
                name=name,
                value=values[name],
                weight=weights.of(name),
                evidence_count=obs.count(name),
                from_prior=priors[name],
                low=min(c_low, values[name]),
                high=max(c_high, values[name]),
            )
        )
    return ScoreResult(
        model_id=model_id,
        score=point,
        # The interval always contains the point estimate (the contract promises low <= score <= high).
        low=max(0.0, min(low, point)),
        high=min(100.0, max(high, point)),
        components=tuple(components),
        as_of=as_of,
        withheld_random=obs.withheld_random,
        not_evidence=obs.not_evidence,
    )


def describe_policy(policy: ScoringPolicy) -> dict[str, Any]:
    """The policy as plain data (for reports)."""
    return {
        "default": policy.default.as_dict(),
        "by_artifact_type": {k: v.as_dict() for k, v in policy.by_artifact_type.items()},
        "prior": policy.prior,
        "prior_strength": policy.prior_strength,
        "prior_concentration": policy.prior_concentration,
        "half_life_days": policy.half_life_days,
    }
