"""Scores over time: a schedule driven by an injected clock, scores as of a date, the stored history."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from ranker.catalog import Catalog
from ranker.engine import Ranker
from ranker.evidence import EvidenceRecord, EvidenceStore, Source
from ranker.schedule import Scheduler

AS_OF = dt.date(2026, 11, 26)


class FakeTime:
    """A clock that only moves when the scheduler sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_schedule_runs_every_interval_plus_jitter_and_survives_a_failing_step() -> None:
    time = FakeTime()
    calls: list[float] = []

    async def step() -> None:
        calls.append(time.now)
        if len(calls) == 2:
            raise RuntimeError("upstream down")

    scheduler = Scheduler(step, 3600.0, 600.0, sleep=time.sleep, clock=time.clock, rng=random.Random(5))
    await scheduler.run(rounds=5)
    assert len(calls) == 5 and scheduler.failures == 1
    assert all(3600.0 <= s <= 4200.0 for s in time.sleeps) and len(set(time.sleeps)) == 5
    assert scheduler.runs == calls == [sum(time.sleeps[: i + 1]) for i in range(5)]
    steady = Scheduler(step, 60.0, sleep=time.sleep, clock=time.clock)
    assert steady.next_delay() == 60.0
    with pytest.raises(ValueError, match="interval must be > 0"):
        Scheduler(step, 0.0)


def _probe(model: str, value: float, when: dt.datetime) -> EvidenceRecord:
    return EvidenceRecord(model, "model", "quality.review", value, "fraction", True, when, Source.SUBMITTED)


async def test_scheduled_history_and_score_as_of_a_date(catalog: Catalog, store: EvidenceStore) -> None:
    ranker = Ranker(catalog, store, as_of=AS_OF, samples=100)
    time = FakeTime()
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    values = iter([0.1, 0.9, 0.9])

    async def step() -> None:
        when = start + dt.timedelta(seconds=time.now)
        store.add(_probe("tiny-flux", next(values), when))
        ranker.record_history(["tiny-flux"], computed_at=when)

    await Scheduler(step, 86400.0, sleep=time.sleep, clock=time.clock).run(rounds=3)
    history = store.history("tiny-flux")
    assert [e.computed_at.date() for e in history] == [dt.date(2026, 11, d) for d in (2, 3, 4)]
    assert history[0].score < history[1].score < history[2].score
    assert set(history[0].components) == {"adoption", "quality", "ecosystem", "match_graph", "freshness"}
    # "As of" a date counts only what was observed by the end of that day.
    on_2nd = ranker.score("tiny-flux", dt.date(2026, 11, 2))
    assert on_2nd.component("quality").evidence_count == 1 and on_2nd.as_of == dt.date(2026, 11, 2)
    assert on_2nd.score == pytest.approx(history[0].score)
    assert ranker.score("tiny-flux").component("quality").evidence_count == 3
    assert ranker.score("tiny-flux", dt.date(2026, 10, 1)).component("quality").from_prior
    assert store.history("tiny-flux", until=history[1].computed_at) == history[:2]


def test_the_reference_page_as_of_its_date(tmp_path: Path, catalog: Catalog) -> None:
    with EvidenceStore(tmp_path / "e.sqlite3") as store:
        ranker = Ranker(catalog, store, samples=100)
        assert round(ranker.score("flux-1-pro", AS_OF).score) == 58
        assert round(ranker.score("facial-emotions-image-detection", AS_OF).score) == 47
        # Before the curated signals were dated, only the priors (and release dates) remain.
        assert ranker.score("flux-1-pro", dt.date(2025, 1, 1)).component("adoption").from_prior


def test_explain_names_the_records_that_moved_the_score_most(catalog: Catalog, store: EvidenceStore) -> None:
    ranker = Ranker(catalog, store, as_of=AS_OF, samples=100)
    store.add(_probe("flux-1-pro", 0.0, dt.datetime(2026, 11, 20, tzinfo=dt.UTC)))
    result, influences = ranker.explain("flux-1-pro", 3)
    assert len(influences) == 3
    assert abs(influences[0].delta) >= abs(influences[1].delta) >= abs(influences[2].delta) > 0
    assert influences[0].record.probe == "quality.review" and influences[0].delta < 0
    without = Ranker(catalog, EvidenceStore(":memory:"), as_of=AS_OF, samples=100).score("flux-1-pro")
    assert result.score - without.score == pytest.approx(influences[0].delta)
