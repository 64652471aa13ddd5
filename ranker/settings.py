"""Ranker settings: every field is a ``--flag`` and a ``RANKER_*`` environment variable."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import ClassVar

from servicekit.settings import ServerSettings, setting


def split_addresses(text: str) -> tuple[str, ...]:
    """Split a comma-separated address list, dropping blanks (``"a:1, b:2"`` → ``("a:1", "b:2")``)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclasses.dataclass(frozen=True)
class RankerSettings(ServerSettings):
    """Ranker service; commands: python -m ranker evaluate|compare|report --help."""

    env_prefix: ClassVar[str] = "RANKER_"
    program: ClassVar[str] = "python -m ranker"

    port: int = setting(50053, "gRPC port (0 picks a free port).")
    metrics_port: int = setting(9103, "Prometheus /metrics HTTP port (0 picks a free port, -1 disables).")
    emotion_addresses: str = setting(
        "127.0.0.1:50051", "Emotion service address(es), host:port, comma-separated for round-robin."
    )
    image_addresses: str = setting(
        "127.0.0.1:50052", "Image service address(es), host:port, comma-separated for round-robin."
    )
    db_path: Path = setting(Path("build/ranker/evidence.sqlite3"), "SQLite evidence store (created with its folder).")
    catalog_dir: Path | None = setting(None, "Folder of model-card YAML files; empty uses the bundled catalog.")
    weights_file: Path | None = setting(
        None, "YAML of score weights per artifact type (see docs/scoring.md); empty uses the defaults."
    )
    cohorts_file: Path | None = setting(
        None, "YAML of adoption cohort references per artifact type (docs/scoring.md); empty uses the bundled one."
    )
    reevaluate_interval_seconds: float = setting(
        0.0, "Re-evaluate the served models and record every score this often, seconds; 0 turns it off."
    )
    reevaluate_jitter_seconds: float = setting(
        0.0, "Random extra delay, up to this many seconds, added to each re-evaluation interval."
    )
    as_of: str = setting("", "Date (YYYY-MM-DD) freshness is measured at; empty means today (UTC).")
    bootstrap_samples: int = setting(1000, "Bootstrap resamples for score intervals.")
    bootstrap_seed: int = setting(0, "Seed of the bootstrap (same evidence + seed → same interval).")
    evaluate_deadline_seconds: float = setting(300.0, "Default time budget of one evaluation round.")
    probe_timeout_seconds: float = setting(60.0, "Longest time one probe may take before it is recorded as failed.")
    rpc_timeout_seconds: float = setting(20.0, "Deadline of each call a probe makes to a service.")
    faces_per_label: int = setting(6, "Synthetic faces per label for the classifier accuracy probe.")
    match_seeds_per_label: int = setting(2, "Images the generator draws per emotion in a cross-model match.")
    match_steps: int = setting(0, "Denoising steps for match images (0 uses the variant's default).")
    load_requests: int = setting(40, "Requests sent by the fixed-load p99 latency probe.")
    load_rate_per_second: float = setting(20.0, "Poisson arrival rate of the p99 latency probe, requests/s.")
    p99_bound_seconds: float = setting(0.5, "p99 latency bound the fixed-load probe must meet to pass.")
    few_step_bound_seconds: float = setting(30.0, "Latency bound of the few-step generation probe.")

    def validate(self) -> None:
        """Check the server fields, then the ranker's own."""
        super().validate()
        for name in ("emotion_addresses", "image_addresses"):
            if not split_addresses(getattr(self, name)):
                raise SystemExit(f"{name} must list at least one host:port")
        if self.as_of:
            try:
                dt.date.fromisoformat(self.as_of)
            except ValueError:
                raise SystemExit(f"as_of must be a date YYYY-MM-DD, got {self.as_of!r}") from None
        positive = (
            "bootstrap_samples",
            "evaluate_deadline_seconds",
            "probe_timeout_seconds",
            "rpc_timeout_seconds",
            "faces_per_label",
            "match_seeds_per_label",
            "load_requests",
            "load_rate_per_second",
            "p99_bound_seconds",
            "few_step_bound_seconds",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise SystemExit(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("reevaluate_interval_seconds", "reevaluate_jitter_seconds"):
            if getattr(self, name) < 0:
                raise SystemExit(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.match_steps < 0:
            raise SystemExit(f"match_steps must be >= 0, got {self.match_steps}")

    def as_of_date(self) -> dt.date | None:
        """The pinned freshness date, or None for 'today'."""
        return dt.date.fromisoformat(self.as_of) if self.as_of else None
