"""The evidence store's schema: ordered migrations, each applied once in one transaction.

A new schema step is one more :class:`Migration` at the end of :data:`MIGRATIONS`; a store written
by an older schema is upgraded in place with every record kept, a newer one is refused.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step: applied once, in version order, inside one transaction."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "evidence table",
        (
            """
            CREATE TABLE evidence (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                model_id TEXT NOT NULL,
                capability TEXT NOT NULL,
                probe TEXT NOT NULL,
                value REAL NOT NULL,
                unit TEXT NOT NULL,
                passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
                observed_at TEXT NOT NULL,
                source TEXT NOT NULL,
                service_version TEXT NOT NULL DEFAULT '',
                random_weights INTEGER NOT NULL DEFAULT 0 CHECK (random_weights IN (0, 1)),
                detail TEXT NOT NULL DEFAULT ''
            )
            """,
        ),
    ),
    Migration(2, "index by model and time", ("CREATE INDEX evidence_by_model ON evidence (model_id, observed_at)",)),
    Migration(
        3,
        "evaluation run id",
        (
            "ALTER TABLE evidence ADD COLUMN run_id TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX evidence_by_run ON evidence (run_id)",
        ),
    ),
    Migration(
        4,
        "imported records: source reference and observation key, one record per observation",
        (
            "ALTER TABLE evidence ADD COLUMN source_ref TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE evidence ADD COLUMN observation_key TEXT NOT NULL DEFAULT ''",
            "CREATE UNIQUE INDEX evidence_observation ON evidence (source_ref, observation_key)"
            " WHERE observation_key != ''",
        ),
    ),
    Migration(
        5,
        "retracted sources (their records are kept for audit and stop counting)",
        (
            """
            CREATE TABLE retraction (
                source_ref TEXT PRIMARY KEY,
                retracted_at TEXT NOT NULL,
                reason TEXT NOT NULL DEFAULT ''
            )
            """,
        ),
    ),
    Migration(
        6,
        "score history",
        (
            """
            CREATE TABLE score_history (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                model_id TEXT NOT NULL,
                computed_at TEXT NOT NULL,
                as_of TEXT NOT NULL,
                score REAL NOT NULL,
                low REAL NOT NULL,
                high REAL NOT NULL,
                components TEXT NOT NULL DEFAULT '{}'
            )
            """,
            "CREATE INDEX score_history_by_model ON score_history (model_id, computed_at)",
        ),
    ),
    Migration(
        7,
        "who wrote each record (identity, method, time); records stored before this say nothing",
        (
            "ALTER TABLE evidence ADD COLUMN submitted_by TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE evidence ADD COLUMN submitted_via TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE evidence ADD COLUMN submitted_at TEXT NOT NULL DEFAULT ''",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


class SchemaError(RuntimeError):
    """The database was written by a newer schema than this code knows."""


def _current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations newer than the database's version; return the resulting version."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise ValueError(f"migrations must have strictly increasing versions, got {versions}")
    current = _current_version(conn)
    known = versions[-1] if versions else 0
    if current > known:
        raise SchemaError(f"database schema version {current} is newer than this code's {known}")
    for migration in migrations:
        if migration.version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, dt.datetime.now(dt.UTC).isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = migration.version
    return current
