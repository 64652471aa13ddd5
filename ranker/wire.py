"""Translation between the ranker's domain objects and ``emoflux.ranker.v1`` messages.

Also validates submitted evidence, with messages that name the record index and field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

from google.protobuf import timestamp_pb2

from ranker.catalog import Catalog, ModelCard
from ranker.compare import Comparison, EvidenceStats, Leader, ModelView
from ranker.engine import Influence, LeaderboardEntry
from ranker.evaluation import Finished, Progress, Recorded
from ranker.evidence import MAX_DETAIL_BYTES, EvidenceRecord, HistoryEntry, Source, utc_now
from ranker.plan import EvaluationRequest
from ranker.scoring import SIGNAL_PREFIXES, ScoreResult
from servicekit.errors import InvalidInput
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2
from servicekit.wire import weights_origin_to_pb

MAX_SUBMITTED = 1000
MAX_SOURCE_REF_BYTES = 200
# Submitted observations dated further ahead than this are rejected (clock skew allowance).
FUTURE_SLACK = dt.timedelta(minutes=5)

_SOURCE_TO_PB = {
    Source.CATALOG: ranker_pb2.EVIDENCE_SOURCE_CATALOG,
    Source.PROBE: ranker_pb2.EVIDENCE_SOURCE_PROBE,
    Source.SUBMITTED: ranker_pb2.EVIDENCE_SOURCE_SUBMITTED,
    Source.MATCH: ranker_pb2.EVIDENCE_SOURCE_MATCH,
    Source.IMPORTED: ranker_pb2.EVIDENCE_SOURCE_IMPORTED,
}
_SOURCE_FROM_PB = {v: k for k, v in _SOURCE_TO_PB.items()} | {ranker_pb2.EVIDENCE_SOURCE_UNSPECIFIED: Source.SUBMITTED}
_LEADER = {
    Leader.A: ranker_pb2.LEADER_A,
    Leader.B: ranker_pb2.LEADER_B,
    Leader.TIE: ranker_pb2.LEADER_TIE,
    Leader.NONE: ranker_pb2.LEADER_NONE,
}


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    """A timezone-aware datetime as a protobuf Timestamp."""
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def score_to_pb(result: ScoreResult, updated_at: dt.datetime | None = None) -> ranker_pb2.Score:
    """A score as a message (components in the documented order)."""
    return ranker_pb2.Score(
        model_id=result.model_id,
        score=result.score,
        low=result.low,
        high=result.high,
        components=[
            ranker_pb2.Component(
                name=c.name,
                value=c.value,
                weight=c.weight,
                evidence_count=c.evidence_count,
                from_prior=c.from_prior,
            )
            for c in result.components
        ],
        updated_at=timestamp(updated_at or utc_now()),
    )


def summary_to_pb(stats: EvidenceStats) -> ranker_pb2.EvidenceSummary:
    """Evidence counts as a message."""
    summary = ranker_pb2.EvidenceSummary(
        catalog_count=stats.catalog,
        probe_count=stats.probe,
        submitted_count=stats.submitted,
        match_count=stats.match,
        imported_count=stats.imported,
        total_count=stats.total,
    )
    if stats.last_updated is not None:
        summary.last_updated.CopyFrom(timestamp(stats.last_updated))
    return summary


def card_to_pb(card: ModelCard, view: ModelView | None = None, served: Sequence[str] = ()) -> ranker_pb2.ModelCard:
    """A catalog card (with evidence counts when a view is given) as a message."""
    message = ranker_pb2.ModelCard(
        id=card.id,
        display_name=card.display_name,
        type=card.type,
        artifact_type=card.artifact_type,
        publisher=card.fact("publisher"),
        pricing=card.fact("pricing"),
        license=card.fact("license"),
        weights_origin=weights_origin_to_pb(card.weights.origin, ranker_pb2.WeightsOrigin),
        random_weights=card.weights.random,
        served_variants=list(served),
        description=card.description,
    )
    for capability in card.capabilities:
        evidence = view.capabilities.get(capability.id) if view else None
        message.capabilities.append(
            ranker_pb2.Capability(
                id=capability.id,
                name=capability.name,
                description=capability.description,
                provenance=ranker_pb2.Provenance(source=capability.provenance.source, date=capability.provenance.date),
                evidence_count=evidence.records if evidence else 0,
                probed=evidence.probed if evidence else False,
            )
        )
    if view is not None:
        message.evidence_summary.CopyFrom(summary_to_pb(view.stats))
    return message


def comparison_to_pb(comparison: Comparison) -> ranker_pb2.CompareResponse:
    """A comparison as a message."""
    return ranker_pb2.CompareResponse(
        score_a=score_to_pb(comparison.a.score),
        score_b=score_to_pb(comparison.b.score),
        rows=[
            ranker_pb2.ComparisonRow(name=r.name, value_a=r.value_a, value_b=r.value_b, leader=_LEADER[r.leader])  # type: ignore[arg-type]
            for r in comparison.rows
        ],
        winner=comparison.winner,
        verdict=comparison.verdict,
        headline=comparison.headline,
    )


def leaderboard_to_pb(entries: Iterable[LeaderboardEntry]) -> ranker_pb2.LeaderboardResponse:
    """Leaderboard entries as a message."""
    return ranker_pb2.LeaderboardResponse(
        entries=[
            ranker_pb2.LeaderboardEntry(
                rank=e.rank,
                model_id=e.card.id,
                score=e.score.score,
                low=e.score.low,
                high=e.score.high,
                display_name=e.card.display_name,
            )
            for e in entries
        ]
    )


def evidence_to_pb(record: EvidenceRecord) -> ranker_pb2.Evidence:
    """A stored record as a message."""
    return ranker_pb2.Evidence(
        model_id=record.model_id,
        capability=record.capability,
        probe=record.probe,
        value=record.value,
        unit=record.unit,
        passed=record.passed,
        observed_at=timestamp(record.observed_at),
        source=_SOURCE_TO_PB[record.source],  # type: ignore[arg-type]
        service_version=record.service_version,
        random_weights=record.random_weights,
        detail=record.detail,
        source_ref=record.source_ref,
        submitted_by=record.submitted_by,
        submitted_via=record.submitted_via,
        submitted_at=timestamp(record.submitted_at) if record.submitted_at else None,
    )


def evidence_from_pb(
    messages: Sequence[ranker_pb2.Evidence], catalog: Catalog, now: dt.datetime | None = None
) -> list[EvidenceRecord]:
    """Validate submitted evidence; raise InvalidInput naming the first bad record's index and field."""
    if not messages:
        raise InvalidInput("evidence: at least one record is required")
    if len(messages) > MAX_SUBMITTED:
        raise InvalidInput(f"evidence: at most {MAX_SUBMITTED} records per request, got {len(messages)}")
    now = now or utc_now()
    records = []
    for i, m in enumerate(messages):
        where = f"evidence[{i}]"
        if not m.model_id:
            raise InvalidInput(f"{where}.model_id: must not be empty")
        if m.model_id not in catalog:
            raise InvalidInput(f"{where}.model_id: unknown model {m.model_id!r}")
        if not m.capability.strip():
            raise InvalidInput(f"{where}.capability: must not be empty")
        if not math.isfinite(m.value):
            raise InvalidInput(f"{where}.value: not finite")
        prefix = m.probe.split(".", 1)[0]
        if (prefix in SIGNAL_PREFIXES or prefix == "freshness") and m.unit != "date" and not 0.0 <= m.value <= 1.0:
            raise InvalidInput(f"{where}.value: {m.value:g} outside [0, 1] for a {prefix} observation")
        if len(m.detail.encode()) > MAX_DETAIL_BYTES:
            raise InvalidInput(f"{where}.detail: {len(m.detail.encode())} bytes, at most {MAX_DETAIL_BYTES}")
        if len(m.source_ref.encode()) > MAX_SOURCE_REF_BYTES:
            raise InvalidInput(
                f"{where}.source_ref: {len(m.source_ref.encode())} bytes, at most {MAX_SOURCE_REF_BYTES}"
            )
        if m.source not in _SOURCE_FROM_PB:
            raise InvalidInput(f"{where}.source: unknown value {m.source}")
        observed = m.observed_at.ToDatetime(tzinfo=dt.UTC) if m.HasField("observed_at") else now
        if observed > now + FUTURE_SLACK:
            raise InvalidInput(f"{where}.observed_at: {observed.isoformat()} is in the future")
        records.append(
            EvidenceRecord(
                model_id=m.model_id,
                capability=m.capability.strip(),
                probe=m.probe.strip() or "submitted",
                value=float(m.value),
                unit=m.unit,
                passed=m.passed,
                observed_at=observed,
                source=_SOURCE_FROM_PB[m.source],
                service_version=m.service_version,
                random_weights=m.random_weights,
                detail=m.detail,
                source_ref=m.source_ref.strip(),
            )
        )
    return records


def evaluation_request_from_pb(request: ranker_pb2.EvaluateRequest, default_deadline: float) -> EvaluationRequest:
    """An Evaluate request as a domain request (an unset deadline is the server default)."""
    deadline = default_deadline
    if request.HasField("deadline"):
        deadline = request.deadline.seconds + request.deadline.nanos / 1e9
        if deadline < 0:
            raise InvalidInput(f"deadline: must not be negative, got {deadline:g} s")
    return EvaluationRequest(
        model_ids=tuple(request.model_ids),
        probes=tuple(request.probes),
        include_match=request.include_match,
        deadline_seconds=deadline,
    )


def progress_to_pb(event: Progress) -> ranker_pb2.EvaluateResponse:
    """A progress event as a stream message."""
    return ranker_pb2.EvaluateResponse(
        progress=ranker_pb2.EvaluateResponse.Progress(
            done=event.done, total=event.total, model_id=event.model_id, probe=event.probe, message=event.message
        )
    )


def recorded_to_pb(event: Recorded) -> ranker_pb2.EvaluateResponse:
    """A stored-record event as a stream message."""
    return ranker_pb2.EvaluateResponse(
        evidence_recorded=ranker_pb2.EvaluateResponse.EvidenceRecorded(evidence=evidence_to_pb(event.record))
    )


def finished_to_pb(event: Finished, scores: Sequence[ScoreResult]) -> ranker_pb2.EvaluateResponse:
    """The end of a round, with the scores recomputed after it, as a stream message."""
    return ranker_pb2.EvaluateResponse(
        finished=ranker_pb2.EvaluateResponse.Finished(
            probes_run=event.probes_run,
            probes_failed=event.probes_failed,
            probes_skipped=event.probes_skipped,
            evidence_recorded=event.evidence_recorded,
            scores=[score_to_pb(s) for s in scores],
        )
    )


def as_of_from_pb(text: str, today: dt.date) -> dt.date | None:
    """``GetScoreRequest.as_of``: empty is None (now); otherwise a date not after ``today``."""
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"as_of: expected a date YYYY-MM-DD, got {text!r}") from None
    if day > today:
        raise InvalidInput(f"as_of: {day.isoformat()} is in the future (today is {today.isoformat()})")
    return day


def influence_to_pb(influence: Influence) -> ranker_pb2.Influence:
    """One record's influence on a score as a message."""
    return ranker_pb2.Influence(
        evidence=evidence_to_pb(influence.record), delta=influence.delta, component=influence.component
    )


def history_to_pb(entry: HistoryEntry) -> ranker_pb2.Score:
    """A stored score as a message (``updated_at`` is when it was computed)."""
    return ranker_pb2.Score(
        model_id=entry.model_id,
        score=entry.score,
        low=entry.low,
        high=entry.high,
        components=[ranker_pb2.Component(name=name, value=value) for name, value in entry.components.items()],
        updated_at=timestamp(entry.computed_at),
    )
