"""The SQLite evidence store: pragmas, migrations, atomic batches, and durability under kill -9."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ranker.attribution import Submitter, submitted_as
from ranker.evidence import LATEST_VERSION, MIGRATIONS, EvidenceRecord, EvidenceStore, SchemaError, Source, migrate

REPO = Path(__file__).resolve().parents[2]
WHEN = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def record(i: int = 0, model: str = "emotion-tiny") -> EvidenceRecord:
    return EvidenceRecord(
        model,
        "batch-inference",
        "classifier.batch-order",
        float(i),
        "fraction",
        i % 2 == 0,
        WHEN,
        Source.PROBE,
        service_version="emotion_service model=x",
        random_weights=False,
        detail=f'{{"i": {i}}}',
        run_id="r1",
    )


def test_wal_and_full_sync(store: EvidenceStore) -> None:
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == "2"  # FULL


def test_round_trip_keeps_every_field(store: EvidenceStore) -> None:
    stored = store.add(record(3))
    assert stored.id is not None
    (back,) = store.records("emotion-tiny")
    assert back == stored
    assert back.observed_at == WHEN and back.source is Source.PROBE and back.run_id == "r1"
    assert store.count() == 1 and store.count("other") == 0 and store.count(source=Source.PROBE) == 1


def test_migrations_are_ordered_and_recorded(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "e.sqlite3")
    store.close()
    with sqlite3.connect(tmp_path / "e.sqlite3") as conn:
        rows = conn.execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()
    assert [v for v, _ in rows] == [m.version for m in MIGRATIONS] == [1, 2, 3, 4, 5, 6, 7]


def test_old_database_is_upgraded_without_losing_records(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:1]) == 1
    conn.execute(
        "INSERT INTO evidence (model_id, capability, probe, value, unit, passed, observed_at, source) "
        "VALUES ('tiny-flux', 'text-to-image', 'generator.resolution', 1, 'pass', 1, ?, 'probe')",
        (WHEN.isoformat(),),
    )
    conn.close()
    store = EvidenceStore(path)
    try:
        assert store.version == LATEST_VERSION
        (old,) = store.records("tiny-flux")
        assert old.run_id == "" and old.probe == "generator.resolution"
        assert old.source_ref == "" and old.observation_key == ""
        assert (old.submitted_by, old.submitted_via, old.submitted_at) == ("", "", None)
    finally:
        store.close()


def test_a_version_6_store_keeps_its_records_and_new_ones_say_who_wrote_them(tmp_path: Path) -> None:
    path = tmp_path / "v6.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, [m for m in MIGRATIONS if m.version <= 6]) == 6
    for i in range(3):
        conn.execute(
            "INSERT INTO evidence (model_id, capability, probe, value, unit, passed, observed_at, source) "
            "VALUES ('emotion-tiny', 'emotion-classification', 'quality.review', ?, 'score', 1, ?, 'submitted')",
            (i / 10, WHEN.isoformat()),
        )
    conn.close()
    store = EvidenceStore(path)
    try:
        assert store.version == 7
        old = store.records("emotion-tiny")
        assert [r.value for r in old] == [0.0, 0.1, 0.2] and all(r.submitted_by == "" for r in old)
        with submitted_as(Submitter("token:ci-importer", "SubmitEvidence")):
            (new,) = store.add_many([record(9)])
        stored = store.records("emotion-tiny")[-1]
        assert (stored.submitted_by, stored.submitted_via) == ("token:ci-importer", "SubmitEvidence")
        assert stored.submitted_at is not None and stored.submitted_at.tzinfo is not None and stored == new
        # Outside any scope nothing is invented.
        assert store.add(record(10)).submitted_by == ""
    finally:
        store.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    EvidenceStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'future', '2030-01-01')")
    with pytest.raises(SchemaError, match="version 99 is newer"):
        EvidenceStore(path)


def test_a_batch_is_all_or_nothing(store: EvidenceStore) -> None:
    store.add(record(0))
    broken = EvidenceRecord(None, "c", "p", 1.0, "u", True, WHEN, Source.PROBE)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        store.add_many([record(1), record(2), broken])
    assert store.count() == 1


def test_records_must_be_finite_and_timezone_aware() -> None:
    with pytest.raises(ValueError, match="finite"):
        EvidenceRecord("m", "c", "p", float("nan"), "u", True, WHEN, Source.PROBE)
    with pytest.raises(ValueError, match="timezone"):
        EvidenceRecord("m", "c", "p", 1.0, "u", True, dt.datetime(2026, 1, 1), Source.PROBE)


WRITER = """
import datetime as dt, sys
from ranker.evidence import EvidenceRecord, EvidenceStore, Source
store = EvidenceStore(sys.argv[1])
i = 0
while True:
    store.add(EvidenceRecord("emotion-tiny", "c", "p", float(i), "u", True, dt.datetime.now(dt.UTC), Source.PROBE))
    i += 1
    print(i, flush=True)  # reported only after the commit returned
"""


def test_nothing_reported_as_stored_is_lost_on_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "durable.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    assert writer.stdout is not None
    reported = 0
    deadline = time.monotonic() + 60
    try:
        while reported < 200 and time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                break
            reported = int(line)
        assert reported >= 200, "writer did not get going"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    assert writer.returncode == -signal.SIGKILL
    store = EvidenceStore(path)
    try:
        assert store.count() >= reported
        values = [r.value for r in store.records()]
        assert values == [float(i) for i in range(len(values))], "records are whole and in order"
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()


def test_a_store_written_by_schema_3_opens_with_its_records_and_gains_the_new_tables(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:3]) == 3
    conn.execute(
        "INSERT INTO evidence (model_id, capability, probe, value, unit, passed, observed_at, source, run_id) "
        "VALUES ('emotion-tiny', 'model', 'classifier.batch-order', 1, 'pass', 1, ?, 'probe', 'r1')",
        (WHEN.isoformat(),),
    )
    conn.close()
    with EvidenceStore(path) as store:
        (old,) = store.records("emotion-tiny")
        assert (old.run_id, old.source_ref) == ("r1", "")
        assert store.retractions() == {}
        assert store.history("emotion-tiny") == []


def imported(n: int, key: str, ref: str = "huggingface:a/b") -> EvidenceRecord:
    return EvidenceRecord(
        "tiny-flux", "model", "adoption.likes", 0.5, "fraction", True, WHEN, Source.IMPORTED,
        source_ref=ref, observation_key=key,
    )  # fmt: skip


def test_the_same_observation_imported_twice_is_stored_once(store: EvidenceStore) -> None:
    first = store.add_many([imported(0, "likes@1"), imported(1, "likes@2")])
    again = store.add_many([imported(0, "likes@1"), imported(1, "likes@2"), imported(2, "likes@3")])
    assert len(first) == 2 and [r.observation_key for r in again] == ["likes@3"]
    assert store.count() == 3
    # Records without a key (probes, submissions) are never merged.
    store.add_many([record(0), record(0)])
    assert store.count() == 5


def test_a_retracted_source_stops_counting_and_is_kept(store: EvidenceStore) -> None:
    other = imported(2, "k3", ref="pairwise:other")
    store.add_many([imported(0, "k1"), imported(1, "k2"), other, record(0, "tiny-flux")])
    assert store.retract("huggingface:a/b", "wrong model") == 2
    assert store.retract("huggingface:a/b", "again") == 2
    assert store.retract("nothing:here") == 0
    kept = store.records("tiny-flux")
    assert {r.source_ref for r in kept} == {"pairwise:other", ""}
    assert len(store.records("tiny-flux", include_retracted=True)) == 4
    assert store.retractions()["huggingface:a/b"][1] == "wrong model"
