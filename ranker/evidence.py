"""The durable evidence store: SQLite in WAL mode with ``synchronous=FULL``, schema by ``ranker.migrations``.

Every write is one transaction, committed before the call returns, so a record that was reported
as stored survives a ``kill -9`` of the writer (and, with FULL sync, a power cut). The schema is
created and upgraded by :data:`MIGRATIONS`, applied in order and recorded in ``schema_version``.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ranker import attribution
from ranker.migrations import LATEST_VERSION, MIGRATIONS, Migration, SchemaError, migrate

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "EvidenceRecord",
    "EvidenceStore",
    "HistoryEntry",
    "Migration",
    "SchemaError",
    "Source",
    "migrate",
    "utc_now",
]

# A record with this unit says the observation could not be made (service down, probe fault); the
# scorer ignores it because it says nothing about the model.
UNAVAILABLE_UNIT = "unavailable"
PROBE_ERROR_UNIT = "probe-error"
NON_EVIDENCE_UNITS = frozenset({UNAVAILABLE_UNIT, PROBE_ERROR_UNIT})
MAX_DETAIL_BYTES = 4096


class Source(enum.StrEnum):
    """How a record was obtained."""

    CATALOG = "catalog"
    PROBE = "probe"
    SUBMITTED = "submitted"
    MATCH = "match"
    IMPORTED = "imported"


@dataclass(frozen=True)
class EvidenceRecord:
    """One observation about a model's capability."""

    model_id: str
    capability: str
    probe: str
    value: float
    unit: str
    passed: bool
    observed_at: dt.datetime
    source: Source
    service_version: str = ""
    random_weights: bool = False
    detail: str = ""
    run_id: str = ""
    # The external source a record was imported from (e.g. "huggingface:org/name"), and the key of the
    # observation within it: the same (source_ref, observation_key) is stored once, and a source
    # can be retracted as a whole.
    source_ref: str = ""
    observation_key: str = ""
    # Who stored the record, through what, and when (stamped by the store; see ranker.attribution).
    submitted_by: str = ""
    submitted_via: str = ""
    submitted_at: dt.datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"value must be finite, got {self.value!r}")
        if self.observed_at.tzinfo is None:
            raise ValueError("observed_at must be timezone-aware (UTC)")

    @property
    def counts_as_evidence(self) -> bool:
        """False for records that only say an observation could not be made."""
        return self.unit not in NON_EVIDENCE_UNITS


@dataclass(frozen=True)
class HistoryEntry:
    """A score as it was computed at ``computed_at`` (freshness measured at ``as_of``)."""

    model_id: str
    computed_at: dt.datetime
    as_of: dt.date
    score: float
    low: float
    high: float
    components: Mapping[str, float] = field(default_factory=dict)


def utc_now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


_COLUMNS = (
    "id, model_id, capability, probe, value, unit, passed, observed_at, source, service_version, "
    "random_weights, detail, run_id, source_ref, observation_key, submitted_by, submitted_via, submitted_at"
)


def _row_to_record(row: sqlite3.Row | tuple[object, ...]) -> EvidenceRecord:
    (rid, model_id, capability, probe, value, unit, passed, observed_at, source, version, random, detail, run_id) = row[
        :13
    ]
    source_ref, observation_key, submitted_by, submitted_via, submitted_at = row[13:18]
    return EvidenceRecord(
        id=int(str(rid)),
        model_id=str(model_id),
        capability=str(capability),
        probe=str(probe),
        value=float(str(value)),
        unit=str(unit),
        passed=bool(passed),
        observed_at=dt.datetime.fromisoformat(str(observed_at)),
        source=Source(str(source)),
        service_version=str(version),
        random_weights=bool(random),
        detail=str(detail),
        run_id=str(run_id),
        source_ref=str(source_ref),
        observation_key=str(observation_key),
        submitted_by=str(submitted_by),
        submitted_via=str(submitted_via),
        submitted_at=dt.datetime.fromisoformat(str(submitted_at)) if submitted_at else None,
    )


class EvidenceStore:
    """Thread-safe access to the evidence database (one connection, serialised by a lock)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit, so each write is committed before returning.
        self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            self.version = migrate(self._conn)

    def pragma(self, name: str) -> str:
        """The value of a PRAGMA (for checks: journal_mode, synchronous)."""
        if not name.isidentifier():
            raise ValueError(f"not a pragma name: {name!r}")
        with self._lock:
            return str(self._conn.execute(f"PRAGMA {name}").fetchone()[0])

    def add(self, record: EvidenceRecord) -> EvidenceRecord:
        """Store one record durably; return it with its id."""
        return self.add_many([record])[0]

    def add_many(self, records: Iterable[EvidenceRecord]) -> list[EvidenceRecord]:
        """Store records in one transaction (all or none); return the newly stored ones with their ids.

        A record whose (``source_ref``, ``observation_key``) is already stored is skipped, so
        importing the same observations twice stores them once. Each record is stamped with who stores it
        (the :func:`ranker.attribution.submitted_as` scope, unless the record names its submitter) and when.
        """
        submitter = attribution.current()
        now = utc_now()
        records = [
            replace(
                r,
                submitted_by=r.submitted_by or (submitter.identity if submitter else ""),
                submitted_via=r.submitted_via or (submitter.method if submitter else ""),
                submitted_at=r.submitted_at or now,
            )
            for r in records
        ]
        stored: list[EvidenceRecord] = []
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for r in records:
                    cursor = self._conn.execute(
                        "INSERT INTO evidence (model_id, capability, probe, value, unit, passed, observed_at,"
                        " source, service_version, random_weights, detail, run_id, source_ref, observation_key,"
                        " submitted_by, submitted_via, submitted_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        # Only a repeated observation is skipped; any other constraint still fails the batch.
                        " ON CONFLICT (source_ref, observation_key) WHERE observation_key != '' DO NOTHING",
                        (
                            r.model_id,
                            r.capability,
                            r.probe,
                            float(r.value),
                            r.unit,
                            int(r.passed),
                            r.observed_at.astimezone(dt.UTC).isoformat(),
                            r.source.value,
                            r.service_version,
                            int(r.random_weights),
                            r.detail,
                            r.run_id,
                            r.source_ref,
                            r.observation_key,
                            r.submitted_by,
                            r.submitted_via,
                            r.submitted_at.astimezone(dt.UTC).isoformat() if r.submitted_at else "",
                        ),
                    )
                    if cursor.rowcount:
                        stored.append(replace(r, id=cursor.lastrowid))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return stored

    def records(
        self,
        model_id: str | None = None,
        *,
        include_retracted: bool = False,
        observed_until: dt.datetime | None = None,
        source_ref: str | None = None,
        probe: str | None = None,
    ) -> list[EvidenceRecord]:
        """Every record (or one model's), oldest first; records of retracted sources only on request."""
        clauses: list[str] = []
        params: list[str] = []
        if model_id is not None:
            clauses.append("model_id = ?")
            params.append(model_id)
        if source_ref is not None:
            clauses.append("source_ref = ?")
            params.append(source_ref)
        if probe is not None:
            clauses.append("probe = ?")
            params.append(probe)
        if not include_retracted:
            clauses.append("source_ref NOT IN (SELECT source_ref FROM retraction)")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM evidence{where} ORDER BY id", params).fetchall()
        found = [_row_to_record(row) for row in rows]
        if observed_until is not None:
            # Compared as datetimes, not text: stored offsets may differ from the bound's.
            found = [r for r in found if r.observed_at <= observed_until]
        return found

    def retract(self, source_ref: str, reason: str = "", at: dt.datetime | None = None) -> int:
        """Stop counting every record of ``source_ref`` (they stay stored); return how many it has.

        Retracting a source twice keeps the first retraction.
        """
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                count = int(
                    self._conn.execute("SELECT COUNT(*) FROM evidence WHERE source_ref = ?", (source_ref,)).fetchone()[
                        0
                    ]
                )
                if count:
                    self._conn.execute(
                        "INSERT OR IGNORE INTO retraction (source_ref, retracted_at, reason) VALUES (?, ?, ?)",
                        (source_ref, (at or utc_now()).astimezone(dt.UTC).isoformat(), reason),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return count

    def retractions(self) -> dict[str, tuple[dt.datetime, str]]:
        """Retracted source references → (when, why)."""
        with self._lock:
            rows = self._conn.execute("SELECT source_ref, retracted_at, reason FROM retraction").fetchall()
        return {str(s): (dt.datetime.fromisoformat(str(at)), str(why)) for s, at, why in rows}

    def add_history(self, entries: Iterable[HistoryEntry]) -> None:
        """Append computed scores to the score history (one transaction)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT INTO score_history (model_id, computed_at, as_of, score, low, high, components)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            e.model_id,
                            e.computed_at.astimezone(dt.UTC).isoformat(),
                            e.as_of.isoformat(),
                            e.score,
                            e.low,
                            e.high,
                            json.dumps(dict(e.components), sort_keys=True),
                        )
                        for e in entries
                    ],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def history(self, model_id: str, until: dt.datetime | None = None) -> list[HistoryEntry]:
        """The scores computed for a model, oldest first (up to ``until`` when given)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT model_id, computed_at, as_of, score, low, high, components FROM score_history"
                " WHERE model_id = ? ORDER BY computed_at, id",
                (model_id,),
            ).fetchall()
        entries = [
            HistoryEntry(
                model_id=str(m),
                computed_at=dt.datetime.fromisoformat(str(at)),
                as_of=dt.date.fromisoformat(str(as_of)),
                score=float(score),
                low=float(low),
                high=float(high),
                components=json.loads(str(components)),
            )
            for m, at, as_of, score, low, high, components in rows
        ]
        return [e for e in entries if until is None or e.computed_at <= until]

    def count(self, model_id: str | None = None, source: Source | None = None) -> int:
        """Number of stored records, optionally for one model and/or source."""
        clauses, params = [], []
        if model_id is not None:
            clauses.append("model_id = ?")
            params.append(model_id)
        if source is not None:
            clauses.append("source = ?")
            params.append(source.value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM evidence{where}", params).fetchone()[0])

    def counts_by_source(self) -> dict[Source, int]:
        """Stored records per source."""
        with self._lock:
            rows = self._conn.execute("SELECT source, COUNT(*) FROM evidence GROUP BY source").fetchall()
        return {Source(str(s)): int(n) for s, n in rows}

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()
