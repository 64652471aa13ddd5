"""Bradley-Terry ratings from pairwise outcomes, with bootstrap intervals (pure NumPy).

Model ``i`` beats model ``j`` with probability ``p_i / (p_i + p_j)``; the rating is
``theta_i = ln p_i``, centred so that the models' mean rating is 0. Ties count as half a win for
each side, as LMArena counts them. The fit is a logistic maximum-likelihood fit (Newton's method) with a
weak prior: every model also plays ``prior_games`` games against a virtual opponent of rating 0
and wins half of them, which keeps the ratings finite for a model that won or lost everything and
for a graph that is not connected. Intervals come from resampling the outcomes with replacement
and refitting (all resamples at once, as one batched iteration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_ITERATIONS = 100
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Outcome:
    """One game: ``score`` is what ``a`` earned against ``b`` (1 win, 0.5 tie, 0 loss)."""

    a: str
    b: str
    score: float


@dataclass(frozen=True)
class Rating:
    """A model's centred rating and its win probability against a model of average rating."""

    model_id: str
    theta: float
    low: float
    high: float
    win_probability: float
    win_low: float
    win_high: float
    games: int


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def fit_strengths(wins: np.ndarray, prior_games: float = 1.0) -> np.ndarray:
    """Centred ratings for one or a batch of win matrices (``wins[..., i, j]``: i's score against j).

    Newton's method on the log-likelihood (concave, and strictly so thanks to the prior games), from
    all-equal ratings; it converges in a handful of steps.
    """
    wins = np.asarray(wins, dtype=float)
    games = wins + np.swapaxes(wins, -1, -2)
    won = wins.sum(axis=-1)
    n = wins.shape[-1]
    theta = np.zeros(wins.shape[:-1])
    eye = np.eye(n)
    for _ in range(MAX_ITERATIONS):
        sigma = _sigmoid(theta[..., :, None] - theta[..., None, :])
        own = _sigmoid(theta)
        gradient = won - (games * sigma).sum(axis=-1) + prior_games * (0.5 - own)
        curvature = games * sigma * (1.0 - sigma)
        hessian = curvature - eye * (curvature.sum(axis=-1) + prior_games * own * (1.0 - own))[..., None]
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        theta = theta - step
        if np.max(np.abs(step)) < TOLERANCE:
            break
    return np.asarray(theta - theta.mean(axis=-1, keepdims=True))


def _score_matrix(outcomes: Sequence[Outcome], index: dict[str, int]) -> np.ndarray:
    """Per game, its contribution to the flattened win matrix (games × n²)."""
    n = len(index)
    matrix = np.zeros((len(outcomes), n * n))
    for g, o in enumerate(outcomes):
        a, b = index[o.a], index[o.b]
        matrix[g, a * n + b] += o.score
        matrix[g, b * n + a] += 1.0 - o.score
    return matrix


def rate(
    outcomes: Sequence[Outcome],
    *,
    samples: int = 200,
    seed: int = 0,
    level: float = 0.95,
    prior_games: float = 1.0,
) -> dict[str, Rating]:
    """Ratings of every model that played, with ``level`` percentile-bootstrap intervals."""
    if not outcomes:
        return {}
    for o in outcomes:
        if o.a == o.b:
            raise ValueError(f"a model cannot play itself: {o.a!r}")
        if not 0.0 <= o.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {o.score!r}")
    models = sorted({m for o in outcomes for m in (o.a, o.b)})
    index = {m: i for i, m in enumerate(models)}
    n = len(models)
    per_game = _score_matrix(outcomes, index)
    point = fit_strengths(per_game.sum(axis=0).reshape(n, n), prior_games)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(outcomes), np.full(len(outcomes), 1.0 / len(outcomes)), size=samples)
    draws = fit_strengths((counts @ per_game).reshape(samples, n, n), prior_games)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(draws, [tail, 100.0 - tail], axis=0)
    played = {m: 0 for m in models}
    for o in outcomes:
        played[o.a] += 1
        played[o.b] += 1
    return {
        m: Rating(
            model_id=m,
            theta=float(point[i]),
            low=float(min(low[i], point[i])),
            high=float(max(high[i], point[i])),
            win_probability=float(_sigmoid(point[i])),
            win_low=float(_sigmoid(min(low[i], point[i]))),
            win_high=float(_sigmoid(max(high[i], point[i]))),
            games=played[m],
        )
        for m, i in index.items()
    }
