"""Bradley-Terry on a synthetic tournament with known strengths: order recovered, intervals cover."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.bradley_terry import Outcome, fit_strengths, rate

TRUTH = np.array([-1.2, -0.6, 0.0, 0.4, 0.8, 1.1])
TRUTH = TRUTH - TRUTH.mean()
NAMES = [f"model-{i}" for i in range(len(TRUTH))]
TIE_RATE = 0.1


def tournament(rng: np.random.Generator, games: int) -> list[Outcome]:
    """Random pairings; a tie with probability TIE_RATE, else a win drawn so that E[score] = BT probability."""
    outcomes = []
    for _ in range(games):
        a, b = rng.choice(len(TRUTH), 2, replace=False)
        p = 1.0 / (1.0 + np.exp(-(TRUTH[a] - TRUTH[b])))
        win = 1.0 if rng.random() < (p - TIE_RATE / 2) / (1 - TIE_RATE) else 0.0
        score = 0.5 if rng.random() < TIE_RATE else win
        outcomes.append(Outcome(NAMES[a], NAMES[b], score))
    return outcomes


def test_a_large_tournament_recovers_the_order_and_the_strengths() -> None:
    ratings = rate(tournament(np.random.default_rng(7), 4000), samples=100, seed=0)
    estimated = np.array([ratings[n].theta for n in NAMES])
    assert list(np.argsort(estimated)) == list(range(len(TRUTH)))
    assert np.max(np.abs(estimated - TRUTH)) < 0.15
    assert all(ratings[n].low <= ratings[n].theta <= ratings[n].high for n in NAMES)
    assert ratings[NAMES[-1]].win_probability > 0.5 > ratings[NAMES[0]].win_probability


def test_95_percent_intervals_cover_the_true_strengths_at_about_their_rate() -> None:
    rng = np.random.default_rng(2026)
    covered = total = 0
    for replicate in range(40):
        ratings = rate(tournament(rng, 600), samples=200, seed=replicate)
        for name, truth in zip(NAMES, TRUTH, strict=True):
            covered += ratings[name].low <= truth <= ratings[name].high
            total += 1
    # 240 intervals; binomial sd at 0.95 is 0.014, so [0.89, 0.99] is about +-4 sd.
    assert 0.89 <= covered / total <= 0.99, f"coverage {covered / total:.3f}"


def test_ties_count_half_for_each_side() -> None:
    ties = [Outcome("a", "b", 0.5)] * 20
    split = [Outcome("a", "b", 1.0)] * 10 + [Outcome("a", "b", 0.0)] * 10
    assert rate(ties, samples=10)["a"].theta == pytest.approx(0.0, abs=1e-9)
    assert rate(ties, samples=10)["a"].theta == pytest.approx(rate(split, samples=10)["a"].theta, abs=1e-9)


def test_an_unbeaten_model_gets_a_finite_rating_from_the_prior_games() -> None:
    ratings = rate([Outcome("a", "b", 1.0)] * 5, samples=20)
    assert np.isfinite(ratings["a"].theta) and ratings["a"].theta > 0 > ratings["b"].theta
    wins = np.array([[0.0, 5.0], [0.0, 0.0]])
    assert np.allclose(fit_strengths(wins), [ratings["a"].theta, ratings["b"].theta])


def test_bad_outcomes_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot play itself"):
        rate([Outcome("a", "a", 1.0)])
    with pytest.raises(ValueError, match=r"score must be in \[0, 1\]"):
        rate([Outcome("a", "b", 2.0)])
