"""Scoring properties: monotone components, prior for missing evidence, weights, determinism, intervals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ranker.catalog import Catalog
from ranker.engine import catalog_records
from ranker.evidence import EvidenceRecord, Source
from ranker.scoring import (
    COMPONENTS,
    PRIOR,
    ScoringPolicy,
    Weights,
    combine,
    component_value,
    contribution,
    freshness_of,
    load_policy,
    score_model,
)

AS_OF = dt.date(2026, 11, 26)
POLICY = ScoringPolicy()
WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def rec(
    probe: str,
    value: float,
    *,
    passed: bool = True,
    unit: str = "fraction",
    source: Source = Source.PROBE,
    random: bool = False,
) -> EvidenceRecord:
    return EvidenceRecord("m", "cap", probe, value, unit, passed, WHEN, source, random_weights=random)


def score(records: list[EvidenceRecord], weights: Weights | None = None, seed: int = 0, samples: int = 300) -> float:
    return score_model(
        "m", records, weights=weights or Weights(), policy=POLICY, as_of=AS_OF, samples=samples, seed=seed
    ).score


weights_strategy = (
    st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5)
    .filter(lambda xs: sum(xs) > 0.01)
    .map(lambda xs: Weights(**{name: x / sum(xs) for name, x in zip(COMPONENTS, xs, strict=True)}))
)
unit_values = st.floats(0.0, 1.0, allow_nan=False)


def test_default_weights_sum_to_one_and_match_the_reference_split() -> None:
    w = Weights()
    assert sum(w.as_dict().values()) == pytest.approx(1.0)
    assert (w.adoption, w.quality, w.ecosystem) == (0.25, 0.25, 0.10)
    assert w.match_graph + w.freshness == pytest.approx(0.40)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"adoption": 0.5, "quality": 0.5, "ecosystem": 0.5, "match_graph": 0.0, "freshness": 0.0}, "sum to 1"),
        (
            {"adoption": -0.1, "quality": 0.6, "ecosystem": 0.2, "match_graph": 0.2, "freshness": 0.1},
            "weights.adoption",
        ),
    ],
)
def test_invalid_weights_are_refused(values: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Weights(**values)


@given(weights_strategy)
def test_all_missing_scores_the_prior_whatever_the_weights(weights: Weights) -> None:
    result = score_model("m", [], weights=weights, policy=POLICY, as_of=AS_OF, samples=50)
    assert result.score == pytest.approx(100 * PRIOR)
    assert result.all_prior and all(c.from_prior and c.value == PRIOR for c in result.components)
    assert result.low <= result.score <= result.high


@given(
    weights_strategy,
    st.sampled_from(COMPONENTS),
    st.dictionaries(st.sampled_from(COMPONENTS), unit_values),
    unit_values,
    unit_values,
)
def test_score_is_monotone_in_each_component(
    weights: Weights, component: str, others: dict[str, float], low: float, high: float
) -> None:
    low, high = sorted((low, high))
    base = {name: others.get(name, 0.5) for name in COMPONENTS}
    assert combine({**base, component: low}, weights) <= combine({**base, component: high}, weights) + 1e-9


@given(st.lists(unit_values, max_size=8), unit_values, unit_values)
def test_component_value_is_monotone_in_each_observation(values: list[float], a: float, b: float) -> None:
    a, b = sorted((a, b))
    for name in ("adoption", "quality", "ecosystem", "match_graph"):
        lower, _ = component_value(name, tuple(sorted([*values, a])), POLICY)
        upper, _ = component_value(name, tuple(sorted([*values, b])), POLICY)
        assert lower <= upper + 1e-12


def test_missing_component_is_the_prior_and_evidence_moves_it_smoothly() -> None:
    assert component_value("quality", (), POLICY) == (PRIOR, True)
    one, _ = component_value("quality", (1.0,), POLICY)
    assert one == pytest.approx((PRIOR + 1.0) / 2)
    many, _ = component_value("quality", (1.0,) * 99, POLICY)
    assert many == pytest.approx((PRIOR + 99) / 100)


def test_passing_probe_raises_and_failing_probe_lowers_the_score() -> None:
    empty = score([])
    assert score([rec("classifier.batch-order", 1.0)]) > empty
    assert score([rec("classifier.batch-order", 0.0, passed=False)]) < empty


def test_unavailable_records_do_not_move_the_score() -> None:
    down = rec("classifier.batch-order", 0.0, passed=False, unit="unavailable")
    assert score([down] * 5) == score([])
    assert contribution(down, AS_OF) is None


def test_random_weight_results_never_count_as_quality_or_match() -> None:
    accuracy = rec("classifier.accuracy-synthetic", 0.95, random=True)
    match = rec("match.emotion-agreement", 0.9, source=Source.MATCH, random=True)
    conformance = rec("classifier.batch-order", 1.0, random=True)
    result = score_model("m", [accuracy, match, conformance], weights=Weights(), policy=POLICY, as_of=AS_OF, samples=50)
    assert result.component("quality").from_prior and result.component("match_graph").from_prior
    assert result.withheld_random == 2
    assert result.component("ecosystem").evidence_count == 1
    trained = score_model(
        "m", [rec("classifier.accuracy-synthetic", 0.95)], weights=Weights(), policy=POLICY, as_of=AS_OF, samples=50
    )
    assert trained.component("quality").value > PRIOR


def test_freshness_halves_every_half_life_and_is_not_shrunk() -> None:
    assert freshness_of(AS_OF, AS_OF) == 1.0
    assert freshness_of(AS_OF - dt.timedelta(days=730), AS_OF) == pytest.approx(0.5)
    assert freshness_of(AS_OF + dt.timedelta(days=10), AS_OF) == 1.0
    day = (dt.date(2025, 11, 26) - dt.date(1970, 1, 1)).days
    result = score_model(
        "m", [rec("freshness.released", day, unit="date")], weights=Weights(), policy=POLICY, as_of=AS_OF, samples=50
    )
    assert result.component("freshness").value == pytest.approx(0.5 ** (365 / 730))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["classifier.batch-order", "adoption.x", "match.emotion-agreement"]),
            unit_values,
            st.booleans(),
        ),
        max_size=12,
    ),
    st.integers(0, 2**31),
)
@settings(max_examples=30, deadline=None)
def test_deterministic_for_a_seed_and_independent_of_record_order(
    items: list[tuple[str, float, bool]], seed: int
) -> None:
    records = [
        rec(p, v, passed=ok, source=Source.MATCH if p.startswith("match") else Source.PROBE) for p, v, ok in items
    ]
    first = score_model("m", records, weights=Weights(), policy=POLICY, as_of=AS_OF, samples=200, seed=seed)
    again = score_model(
        "m", list(reversed(records)), weights=Weights(), policy=POLICY, as_of=AS_OF, samples=200, seed=seed
    )
    assert (first.score, first.low, first.high) == pytest.approx((again.score, again.low, again.high))
    assert first.low <= first.score <= first.high
    assert first.low >= 0.0 and first.high <= 100.0


def test_more_evidence_narrows_the_interval() -> None:
    few = score_model("m", [rec("classifier.batch-order", 1.0)] * 2, weights=Weights(), policy=POLICY, as_of=AS_OF)
    many = score_model("m", [rec("classifier.batch-order", 1.0)] * 200, weights=Weights(), policy=POLICY, as_of=AS_OF)
    eco_few, eco_many = few.component("ecosystem"), many.component("ecosystem")
    assert eco_many.high - eco_many.low < eco_few.high - eco_few.low


def test_reference_scores_reproduce_the_page(catalog: Catalog) -> None:
    """facial-emotions ≈ 47 and flux-1-pro ≈ 58, with the page's rounded component displays."""
    results = {}
    for model_id in ("facial-emotions-image-detection", "flux-1-pro"):
        card = catalog.get(model_id)
        assert card is not None
        results[model_id] = score_model(model_id, catalog_records(card), weights=Weights(), policy=POLICY, as_of=AS_OF)
    facial, flux = results["facial-emotions-image-detection"], results["flux-1-pro"]
    assert round(facial.score) == 47 and round(flux.score) == 58
    display = {k: {c.name: round(c.value) for c in r.components} for k, r in results.items()}
    assert display["facial-emotions-image-detection"] | {"freshness": 0} == {
        "adoption": 1,
        "quality": 0,
        "ecosystem": 1,
        "match_graph": 0,
        "freshness": 0,
    }
    assert {k: display["flux-1-pro"][k] for k in ("adoption", "quality", "ecosystem", "match_graph")} == {
        "adoption": 1,
        "quality": 1,
        "ecosystem": 0,
        "match_graph": 0,
    }
    assert flux.component("adoption").value > facial.component("adoption").value


def test_weights_file_per_artifact_type(tmp_path: Path) -> None:
    path = tmp_path / "weights.yaml"
    path.write_text(
        "default: {adoption: 0.25, quality: 0.25, ecosystem: 0.10, match_graph: 0.25, freshness: 0.15}\n"
        "image-classifier: {adoption: 0.1, quality: 0.5, ecosystem: 0.1, match_graph: 0.2, freshness: 0.1}\n"
    )
    policy = load_policy(path)
    assert policy.weights_for("image-classifier").quality == 0.5
    assert policy.weights_for("text-to-image") == Weights()
    path.write_text(
        "image-classifier: {adoption: 0.9, quality: 0.5, ecosystem: 0.1, match_graph: 0.2, freshness: 0.1}\n"
    )
    with pytest.raises(ValueError, match="image-classifier: weights must sum to 1"):
        load_policy(path)
    path.write_text("default: {popularity: 1.0}\n")
    with pytest.raises(ValueError, match=r"default\.popularity: unknown component"):
        load_policy(path)
