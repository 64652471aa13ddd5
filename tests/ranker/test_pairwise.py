"""Pairwise outcomes (arena-style JSONL) feed Times Matched and the match graph through a Bradley-Terry rating."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ranker.catalog import Catalog
from ranker.cli import main
from ranker.engine import Ranker
from ranker.evidence import EvidenceStore
from ranker.pairwise import PAIRWISE_PROBE, RATING_PROBE, read_pairwise
from servicekit.errors import InvalidInput

AS_OF = dt.date(2026, 11, 26)


def games(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def row(a: str, b: str, winner: str, n: int, source: str = "arena-sample") -> dict[str, object]:
    return {"query": f"prompt {n}", "model_a": a, "model_b": b, "winner": winner, "source": source,
            "time": f"2026-11-{10 + n % 10:02d}T12:00:00Z"}  # fmt: skip


def tournament(path: Path, source: str = "arena-sample") -> Path:
    """flux-1-pro beats flux-1-schnell mostly; black-forest-labs/FLUX.1-schnell is named by hub id."""
    rows = [row("flux-1-pro", "black-forest-labs/FLUX.1-schnell", "model_a", i, source) for i in range(12)]
    rows += [row("flux-1-schnell", "flux-1-pro", "model_a", i, source) for i in range(3)]
    rows += [row("flux-1-dev", "flux-1-schnell", "tie", i, source) for i in range(4)]
    return games(path, rows)


def test_import_feeds_times_matched_and_the_match_graph(tmp_path: Path, catalog: Catalog, store: EvidenceStore) -> None:
    ranker = Ranker(catalog, store, as_of=AS_OF, samples=200)
    before = ranker.view("flux-1-pro")
    assert before.score.component("match_graph").from_prior and before.stats.times_matched == 0
    records = read_pairwise(tournament(tmp_path / "g.jsonl"), catalog)
    assert len(store.add_many(records)) == 2 * 19
    # Importing the same file again stores nothing new.
    assert store.add_many(read_pairwise(tmp_path / "g.jsonl", catalog)) == []
    pro = ranker.view("flux-1-pro")
    schnell = ranker.view("flux-1-schnell")
    assert pro.stats.times_matched == 15 and schnell.stats.times_matched == 19
    # Imported games are not evidence measured here: no "only X has live evidence" verdict from them.
    assert pro.stats.live == 0 and pro.stats.match == 15 and pro.stats.total == pro.stats.catalog + 15
    assert not any("live probe evidence" in note for note in ranker.compare("flux-1-pro", "flux-1-schnell").notes)
    assert ranker.compare("flux-1-pro", "flux-1-schnell").row("Times Matched").value_a == "15"
    graph = pro.score.component("match_graph")
    assert not graph.from_prior and graph.evidence_count == 1  # one rating, not one record per game
    assert graph.value > 0.42 > schnell.score.component("match_graph").value
    rating = next(r for r in ranker.records("flux-1-pro") if r.probe == RATING_PROBE)
    detail = json.loads(rating.detail)
    assert detail["games"] == 15 and detail["interval"][0] <= detail["theta"] <= detail["interval"][1]
    # Retracting the source takes the matches out of every score; the records stay.
    assert store.retract("pairwise:arena-sample", "sample data") == 38
    after = ranker.view("flux-1-pro")
    assert after.score.component("match_graph").from_prior and after.stats.times_matched == 0
    assert len(store.records("flux-1-pro", include_retracted=True, probe=PAIRWISE_PROBE)) == 15


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"model_a": "nope"}, r"g.jsonl:2.model_a: unknown model 'nope'"),
        ({"model_b": "flux-1-pro"}, r"g.jsonl:2.model_b: must differ from model_a"),
        ({"winner": "a"}, r"g.jsonl:2.winner: expected one of model_a, model_b, tie"),
        ({"source": ""}, r"g.jsonl:2.source: required"),
        ({"time": "yesterday"}, r"g.jsonl:2.time: not an ISO 8601 time"),
        ({"time": "2999-01-01T00:00:00Z"}, r"g.jsonl:2.time: .* is in the future"),
    ],
)
def test_a_bad_line_is_refused_naming_line_and_field(
    tmp_path: Path, catalog: Catalog, bad: dict[str, object], message: str
) -> None:
    path = games(
        tmp_path / "g.jsonl",
        [row("flux-1-pro", "flux-1-dev", "model_a", 1), {**row("flux-1-pro", "flux-1-dev", "tie", 2), **bad}],
    )
    with pytest.raises(InvalidInput, match=message):
        read_pairwise(path, catalog)


def test_cli_imports_explains_and_retracts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db-path", str(tmp_path / "e.sqlite3"), "--as-of", "2026-11-26"]
    path = tournament(tmp_path / "g.jsonl")
    assert main(["import-pairwise", str(path), *db]) == 0
    assert "19 games read, 19 new" in capsys.readouterr().out
    assert main(["import-pairwise", str(path), *db]) == 0
    assert "19 games read, 0 new" in capsys.readouterr().out
    assert main(["score", "flux-1-pro", *db]) == 0
    out = capsys.readouterr().out
    assert "records that moved it most:" in out and RATING_PROBE in out
    assert main(["retract", "pairwise:arena-sample", "--reason", "test", *db]) == 0
    assert "38 records no longer count" in capsys.readouterr().out
    assert main(["retract", "pairwise:unknown", *db]) == 2
    assert "no record has source 'pairwise:unknown'" in capsys.readouterr().err
