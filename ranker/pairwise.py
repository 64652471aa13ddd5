"""Pairwise outcomes (arena-style JSONL) as match evidence, and Bradley-Terry ratings from them.

One line per game: ``{"query": ..., "model_a": ..., "model_b": ..., "winner": ..., "source": ...,
"time": ...}``. ``query`` may be called ``task``; ``winner`` is ``model_a``, ``model_b``, ``tie`` or
``tie (bothbad)`` (LMArena's values); ``time`` is ISO 8601 or Unix seconds (LMArena's ``tstamp`` is
accepted too). Models are catalog ids or hub ids of catalog cards. Every game becomes two MATCH
records of unit ``outcome`` (one per side, value 1, 0.5 or 0), so each side's "Times Matched"
counts it; the scorer reads them only through the Bradley-Terry rating (:func:`rating_records`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ranker.bradley_terry import Outcome, Rating, rate
from ranker.catalog import Catalog
from ranker.evidence import EvidenceRecord, Source
from ranker.scoring import OUTCOME_UNIT
from servicekit.errors import InvalidInput

PAIRWISE_PROBE = "match.pairwise"
RATING_PROBE = "match.bradley-terry"
RATING_UNIT = "win-probability"
WINNERS = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}
MAX_LINE_BYTES = 65536


def _model(catalog: Catalog, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{where}: expected a model id, got {value!r}")
    if value in catalog:
        return value
    card = catalog.by_hub_id(value)
    if card is None:
        raise InvalidInput(f"{where}: unknown model {value!r} (not a catalog id or a card's hub_id)")
    return card.id


def _time(value: Any, where: str) -> dt.datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{where}: not an ISO 8601 time: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise InvalidInput(f"{where}: expected an ISO 8601 time or Unix seconds, got {value!r}")


def parse_line(line: str, where: str, catalog: Catalog, now: dt.datetime) -> list[EvidenceRecord]:
    """The two records of one game; InvalidInput naming the line and field of any problem."""
    if len(line.encode()) > MAX_LINE_BYTES:
        raise InvalidInput(f"{where}: line longer than {MAX_LINE_BYTES} bytes")
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise InvalidInput(f"{where}: not JSON: {exc}") from None
    if not isinstance(row, dict):
        raise InvalidInput(f"{where}: expected a JSON object")
    a = _model(catalog, row.get("model_a"), f"{where}.model_a")
    b = _model(catalog, row.get("model_b"), f"{where}.model_b")
    if a == b:
        raise InvalidInput(f"{where}.model_b: must differ from model_a (both are {a!r})")
    winner = row.get("winner")
    if winner not in WINNERS:
        raise InvalidInput(f"{where}.winner: expected one of {', '.join(WINNERS)}, got {winner!r}")
    source = row.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput(f"{where}.source: required (where the outcome comes from)")
    when = _time(row.get("time", row.get("tstamp")), f"{where}.time")
    if when > now + dt.timedelta(minutes=5):
        raise InvalidInput(f"{where}.time: {when.isoformat()} is in the future")
    query = row.get("query", row.get("task", ""))
    if not isinstance(query, str):
        raise InvalidInput(f"{where}.query: expected text")
    score = WINNERS[str(winner)]
    game = json.dumps([query, a, b, winner, when.isoformat()], separators=(",", ":"))
    key = hashlib.sha256(game.encode()).hexdigest()[:32]
    records = []
    for side, model, opponent, value in (("a", a, b, score), ("b", b, a, 1.0 - score)):
        detail = {"query": query[:512], "opponent": opponent, "side": side, "winner": winner}
        records.append(
            EvidenceRecord(
                model_id=model,
                capability="model",
                probe=PAIRWISE_PROBE,
                value=value,
                unit=OUTCOME_UNIT,
                passed=value > 0.5,
                observed_at=when,
                source=Source.MATCH,
                detail=json.dumps(detail, sort_keys=True),
                source_ref=f"pairwise:{source.strip()}",
                observation_key=f"{key}:{side}",
            )
        )
    return records


def read_pairwise(path: Path, catalog: Catalog, now: dt.datetime | None = None) -> list[EvidenceRecord]:
    """Every game of a JSONL file as records (blank lines skipped); the first bad line stops the import."""
    now = now or dt.datetime.now(dt.UTC)
    records: list[EvidenceRecord] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                records += parse_line(line, f"{path.name}:{number}", catalog, now)
    if not records:
        raise InvalidInput(f"{path.name}: no outcomes")
    return records


def outcomes_of(records: Iterable[EvidenceRecord]) -> list[Outcome]:
    """The games recorded by pairwise records (each game once, from its "a" side)."""
    games = []
    for r in records:
        if r.probe != PAIRWISE_PROBE or r.unit != OUTCOME_UNIT or not r.observation_key.endswith(":a"):
            continue
        games.append(Outcome(r.model_id, str(json.loads(r.detail)["opponent"]), r.value))
    return games


def rating_records(ratings: dict[str, Rating], observed_at: dt.datetime) -> dict[str, EvidenceRecord]:
    """One in-memory MATCH record per rated model: its win probability against an average opponent."""
    out = {}
    for model_id, rating in ratings.items():
        detail = {
            "theta": round(rating.theta, 4),
            "interval": [round(rating.low, 4), round(rating.high, 4)],
            "win_probability_interval": [round(rating.win_low, 4), round(rating.win_high, 4)],
            "games": rating.games,
        }
        out[model_id] = EvidenceRecord(
            model_id=model_id,
            capability="model",
            probe=RATING_PROBE,
            value=rating.win_probability,
            unit=RATING_UNIT,
            passed=rating.win_probability >= 0.5,
            observed_at=observed_at,
            source=Source.MATCH,
            detail=json.dumps(detail, sort_keys=True),
        )
    return out


def ratings_of(records: Sequence[EvidenceRecord], *, samples: int = 200, seed: int = 0) -> dict[str, Rating]:
    """Bradley-Terry ratings of every model in the pairwise records."""
    return rate(outcomes_of(records), samples=samples, seed=seed)
