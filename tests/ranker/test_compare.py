"""Comparison rows and verdicts: the reference form, ties, one-sided and random-weight evidence."""

from __future__ import annotations

import datetime as dt

from ranker.catalog import Catalog
from ranker.compare import EvidenceStats, Leader, ModelView, compare_views
from ranker.scoring import COMPONENTS, ComponentScore, ScoreResult

AS_OF = dt.date(2026, 11, 26)


def view(
    catalog: Catalog,
    model_id: str,
    score: float,
    values: dict[str, float | None],
    *,
    live: int = 0,
    withheld: int = 0,
    spread: float = 5.0,
) -> ModelView:
    card = catalog.get(model_id)
    assert card is not None
    components = tuple(
        ComponentScore(
            name,
            0.42 if values.get(name) is None else float(values[name]),
            0.2,
            0 if values.get(name) is None else 1,
            values.get(name) is None,
            0.0,
            1.0,
        )  # type: ignore[arg-type]
        for name in COMPONENTS
    )
    result = ScoreResult(model_id, score, score - spread, score + spread, components, AS_OF, withheld_random=withheld)
    return ModelView(card, result, EvidenceStats(probe=live, probes_evidence=live, probes_passed=live))


def test_verdict_names_leads_on_both_sides(catalog: Catalog) -> None:
    a = view(catalog, "emotion-tiny", 47.0, {"adoption": 0.6, "quality": 0.2, "ecosystem": 0.9})
    b = view(catalog, "tiny-flux", 58.0, {"adoption": 0.7, "quality": 0.8, "ecosystem": 0.3})
    result = compare_views(a, b)
    assert result.winner == "tiny-flux"
    assert result.verdict == (
        "Tiny FLUX (embedded) scores higher at 58/100 vs Tiny ViT emotion classifier (embedded) at 47/100. "
        "Tiny ViT emotion classifier (embedded) leads on ecosystem, while Tiny FLUX (embedded) is stronger on "
        "adoption and quality."
    )
    assert result.row("Match Graph").leader is Leader.NONE  # prior on both sides


def test_tie_is_explicit(catalog: Catalog) -> None:
    a = view(catalog, "emotion-tiny", 50.2, {"quality": 0.5})
    b = view(catalog, "tiny-flux", 50.0, {"quality": 0.5})
    result = compare_views(a, b)
    assert result.winner == "" and result.row("Score").leader is Leader.TIE
    assert "are tied at 50/100 vs 50/100" in result.verdict and "under 1 point" in result.verdict
    assert result.row("Quality").leader is Leader.TIE


def test_close_scores_with_separate_intervals_are_not_a_tie(catalog: Catalog) -> None:
    a = view(catalog, "emotion-tiny", 50.6, {}, spread=0.1)
    b = view(catalog, "tiny-flux", 50.0, {}, spread=0.1)
    assert compare_views(a, b).winner == "emotion-tiny"


def test_one_sided_evidence_never_leads_and_is_called_out(catalog: Catalog) -> None:
    a = view(catalog, "emotion-tiny", 60.0, {"ecosystem": 0.9, "match_graph": 0.8}, live=20)
    b = view(catalog, "facial-emotions-image-detection", 47.0, {"ecosystem": 0.67})
    result = compare_views(a, b)
    assert result.row("Match Graph").leader is Leader.NONE
    assert "Only Tiny ViT emotion classifier (embedded) has live probe evidence (20 records);" in result.verdict
    assert "facial_emotions_image_detection is scored from catalog facts and priors." in result.verdict


def test_winner_without_component_leads(catalog: Catalog) -> None:
    a = view(catalog, "emotion-tiny", 45.0, {})
    b = view(catalog, "tiny-flux", 60.0, {})
    assert "Neither leads on a component both have evidence for" in compare_views(a, b).verdict


def test_random_weight_results_are_named_in_the_verdict(catalog: Catalog) -> None:
    a = view(catalog, "emotion-tiny-random", 44.0, {"ecosystem": 0.9}, live=5, withheld=3)
    b = view(catalog, "tiny-flux", 55.0, {"ecosystem": 0.8}, live=5)
    verdict = compare_views(a, b).verdict
    assert "Probe results of Tiny ViT emotion classifier, random weights come from random weights" in verdict
    assert "are not counted as quality (3 withheld)" in verdict


def test_shared_capabilities_get_rows(catalog: Catalog) -> None:
    a = view(catalog, "tiny-flux", 50.0, {})
    b = view(catalog, "flux-1-pro", 58.0, {})
    names = [r.name for r in compare_views(a, b).rows]
    assert "Text-to-image with flow matching" in names and names.index("Freshness") < names.index("Publisher")
