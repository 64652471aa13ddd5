"""Running an evaluation round: execute the planned probes and store what they produced as evidence.

Discovery (:mod:`ranker.discovery`) finds what is served and planning (:mod:`ranker.plan`) decides
what to run; this module executes the plan and builds the records.

:meth:`Evaluator.run` yields :class:`Progress`, :class:`Recorded` and, last, one :class:`Finished`
event. Nothing a service does can crash a round: a service that cannot be reached yields
"unavailable" records, a probe past its deadline or answered with an error status yields a failed
record, and a fault in a probe itself yields a "probe-error" record (ignored by scoring).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

import grpc

from ranker.catalog import Catalog, ModelCard
from ranker.clients import ServiceClients, ServiceUnavailable
from ranker.discovery import Discovery, discover
from ranker.evidence import PROBE_ERROR_UNIT, UNAVAILABLE_UNIT, EvidenceRecord, EvidenceStore, Source, utc_now
from ranker.metrics import RankerMetrics
from ranker.plan import EvaluationRequest, PlannedProbe, plan_round, validate_request
from ranker.probes import MATCH, REGISTRY, Measurement, NotApplicable, ProbeContext, Target
from servicekit import tracing

log = logging.getLogger("emoflux.ranker.evaluation")


@dataclass(frozen=True)
class Progress:
    """A probe started, finished or was skipped."""

    done: int
    total: int
    model_id: str
    probe: str
    message: str


@dataclass(frozen=True)
class Recorded:
    """An evidence record was stored."""

    record: EvidenceRecord


@dataclass(frozen=True)
class Finished:
    """The round ended (always the last event)."""

    probes_run: int
    probes_failed: int
    probes_skipped: int
    evidence_recorded: int
    model_ids: tuple[str, ...]
    run_id: str


Event = Progress | Recorded | Finished


@dataclass(frozen=True)
class Outcome:
    """What one probe run produced: records to store, whether it passed, a message, a failure reason."""

    records: list[EvidenceRecord]
    passed: bool
    message: str
    reason: str


class Evaluator:
    """Runs evaluation rounds against the emotion and image services."""

    def __init__(
        self,
        catalog: Catalog,
        store: EvidenceStore,
        clients: ServiceClients,
        context: ProbeContext,
        *,
        probe_timeout: float = 60.0,
        metrics: RankerMetrics | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.clients = clients
        self.context = context
        self.probe_timeout = probe_timeout
        self.metrics = metrics

    async def discover(self) -> Discovery:
        """Ask both services what they serve (see :func:`ranker.discovery.discover`)."""
        return await discover(self.catalog, self.clients, self.context.settings.rpc_timeout, self.metrics)

    def validate(self, request: EvaluationRequest) -> None:
        """Reject malformed ids, unknown models or probes, and a negative deadline."""
        validate_request(request, self.catalog)

    def plan(self, request: EvaluationRequest, found: Discovery) -> list[PlannedProbe]:
        """The probe runs of a round (see :func:`ranker.plan.plan_round`)."""
        return plan_round(request, self.catalog, found)

    async def run(self, request: EvaluationRequest, found: Discovery | None = None) -> AsyncIterator[Event]:
        """Validate, discover, plan and run a round, yielding events as it goes."""
        self.validate(request)
        found = found if found is not None else await self.discover()
        items = self.plan(request, found)
        run_id = uuid.uuid4().hex[:12]
        total = len(items)
        done = run = failed = skipped = recorded = 0
        end = time.monotonic() + request.deadline_seconds
        for service, reason in sorted(found.down.items()):
            yield Progress(done, total, "", "", f"{service} service unavailable: {reason}")
        for note in found.unmatched:
            yield Progress(done, total, "", "", note)
        for service, addresses in sorted(found.unreachable_replicas.items()):
            yield Progress(done, total, "", "", f"{service} replicas not serving: {', '.join(addresses)}")
        for item in items:
            remaining = end - time.monotonic()
            if remaining <= 0:
                skipped += 1
                done += 1
                yield Progress(done, total, item.label, item.probe.name, "skipped: the evaluation deadline ran out")
                continue
            yield Progress(done, total, item.label, item.probe.name, "started")
            outcome = await self._execute(item, min(self.probe_timeout, remaining), run_id)
            stored = await asyncio.to_thread(self.store.add_many, outcome.records) if outcome.records else []
            for record in stored:
                if self.metrics is not None:
                    self.metrics.evidence_records.labels(record.source.value).inc()
                yield Recorded(record)
            recorded += len(stored)
            run += 1
            failed += not outcome.passed
            done += 1
            if self.metrics is not None:
                for model_id in item.model_ids:
                    result = "passed" if outcome.passed else "failed"
                    self.metrics.probe_runs.labels(item.probe.name, model_id, result).inc()
                    if not outcome.passed:
                        self.metrics.probe_failures.labels(item.probe.name, model_id, outcome.reason).inc()
            yield Progress(done, total, item.label, item.probe.name, outcome.message)
        model_ids = tuple(sorted({m for item in items for m in item.model_ids}))
        yield Finished(run, failed, skipped, recorded, model_ids, run_id)

    async def _execute(self, item: PlannedProbe, timeout: float, run_id: str) -> Outcome:
        """Run one planned probe and turn whatever happened into records."""
        detail: dict[str, object]
        if item.unavailable:
            detail = {"error": item.unavailable}
            records = self._failure_records(item, run_id, UNAVAILABLE_UNIT, 0.0, detail)
            return Outcome(records, False, f"unavailable: {item.unavailable}", "unavailable")
        started = time.monotonic()
        try:
            # One span per probe run: the calls it makes to the services are its children (same trace).
            attributes = {"probe": item.probe.name, "targets": ",".join(t.card.id for t in item.targets)}
            with tracing.span(f"probe {item.probe.name}", attributes):
                measurements = await asyncio.wait_for(item.probe.run(self.context, item.targets), timeout)
        except NotApplicable as exc:
            return Outcome([], True, f"not applicable: {exc}", "")
        except ServiceUnavailable as exc:
            records = self._failure_records(item, run_id, UNAVAILABLE_UNIT, 0.0, {"error": str(exc)})
            return Outcome(records, False, f"unavailable: {exc}", "unavailable")
        except TimeoutError:
            elapsed = time.monotonic() - started
            detail = {"error": f"deadline exceeded after {elapsed:.1f} s", "timeout": round(timeout, 3)}
            records = self._failure_records(item, run_id, "seconds", elapsed, detail)
            return Outcome(records, False, f"failed: deadline exceeded after {elapsed:.1f} s", "timeout")
        except grpc.aio.AioRpcError as exc:
            detail = {"code": exc.code().name, "message": exc.details() or ""}
            records = self._failure_records(item, run_id, "status", 0.0, detail)
            return Outcome(records, False, f"failed: {exc.code().name}: {exc.details()}", "rpc_error")
        except Exception as exc:  # a fault in the probe, not evidence about the model
            log.exception("probe %s on %s raised", item.probe.name, item.label)
            detail = {"error": f"{type(exc).__name__}: {exc}"}
            records = self._failure_records(item, run_id, PROBE_ERROR_UNIT, 0.0, detail)
            return Outcome(records, False, f"probe error: {type(exc).__name__}: {exc}", "probe_error")
        finally:
            if self.metrics is not None:
                self.metrics.probe_seconds.labels(item.probe.name).observe(time.monotonic() - started)
        elapsed = time.monotonic() - started
        records = [self._record(item, m, run_id) for m in measurements]
        ok = all(m.passed for m in measurements)
        problems = [p for m in measurements if not m.passed for p in m.detail.get("problems", [])]
        summary = ", ".join(f"{m.value:.4g} {m.unit}" for m in measurements)
        message = f"{'passed' if ok else 'failed'} in {elapsed:.2f} s ({summary})"
        if problems:
            message += f": {problems[0]}"
        return Outcome(records, ok, message, "" if ok else "failed")

    def _target_of(self, item: PlannedProbe, model_id: str) -> Target | None:
        return next((t for t in item.targets if t.model_id == model_id), None)

    def _record(self, item: PlannedProbe, m: Measurement, run_id: str) -> EvidenceRecord:
        model_id = m.model_id or item.model_ids[0]
        target = self._target_of(item, model_id)
        random = m.random_weights if m.random_weights is not None else bool(target and target.random_weights)
        return EvidenceRecord(
            model_id=model_id,
            capability=m.capability,
            probe=item.probe.name,
            value=float(m.value),
            unit=m.unit,
            passed=m.passed,
            observed_at=utc_now(),
            source=Source.MATCH if item.probe.service == MATCH else Source.PROBE,
            service_version=target.service_version if target else "",
            random_weights=random,
            detail=m.detail_text(),
            run_id=run_id,
        )

    def _failure_records(
        self, item: PlannedProbe, run_id: str, unit: str, value: float, detail: Mapping[str, object]
    ) -> list[EvidenceRecord]:
        out = []
        for index, model_id in enumerate(item.model_ids):
            target = self._target_of(item, model_id)
            card = self.catalog.get(model_id)
            capability = item.probe.capability_of(index)
            out.append(
                EvidenceRecord(
                    model_id=model_id,
                    capability=capability,
                    probe=item.probe.name,
                    value=value,
                    unit=unit,
                    passed=False,
                    observed_at=utc_now(),
                    source=Source.MATCH if item.probe.service == MATCH else Source.PROBE,
                    service_version=target.service_version if target else "",
                    random_weights=bool(target and target.random_weights) or (card is not None and card.weights.random),
                    detail=Measurement(capability, 0.0, unit, False, dict(detail)).detail_text(),
                    run_id=run_id,
                )
            )
        return out


def default_probe_names(cards: Sequence[ModelCard]) -> list[str]:
    """Every probe some card lists (for documentation and the CLI's --help)."""
    return sorted({p for card in cards for cap in card.capabilities for p in cap.probes if p in REGISTRY})
