"""An evaluation round: find what the services serve, plan the probes, run them, store the evidence.

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
from dataclasses import dataclass, field

import grpc

from ranker.catalog import Catalog, ModelCard
from ranker.clients import ServiceClients, ServiceUnavailable
from ranker.engine import check_model_id
from ranker.evidence import PROBE_ERROR_UNIT, UNAVAILABLE_UNIT, EvidenceRecord, EvidenceStore, Source, utc_now
from ranker.metrics import RankerMetrics
from ranker.probes import EMOTION, IMAGE, MATCH, MATCH_PROBE, REGISTRY, Measurement, NotApplicable, Probe, Target
from ranker.probes.base import ProbeContext
from servicekit.errors import FailedPrecondition, InvalidInput, NotFound

log = logging.getLogger("emoflux.ranker.evaluation")

_ORIGINS = {0: "unspecified", 1: "random", 2: "synthetic-trained", 3: "pretrained"}


def origin_name(value: int) -> str:
    """A WeightsOrigin enum value (emotion and image protos share the numbering) as a catalog origin."""
    return _ORIGINS.get(int(value), "unspecified")


@dataclass(frozen=True)
class EvaluationRequest:
    """What to evaluate: models (empty = all served), probes (empty = all that apply), matches, budget."""

    model_ids: tuple[str, ...] = ()
    probes: tuple[str, ...] = ()
    include_match: bool = False
    deadline_seconds: float = 300.0


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


@dataclass
class Discovery:
    """What the services serve right now, and which services could not be reached."""

    targets: dict[str, Target] = field(default_factory=dict)
    down: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    unreachable_replicas: dict[str, list[str]] = field(default_factory=dict)
    serving: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What one probe run produced: records to store, whether it passed, a message, a failure reason."""

    records: list[EvidenceRecord]
    passed: bool
    message: str
    reason: str


@dataclass(frozen=True)
class PlannedProbe:
    """One probe run: on live targets, or (``unavailable`` set) on models whose service is down."""

    probe: Probe
    model_ids: tuple[str, ...]
    targets: tuple[Target, ...] = ()
    unavailable: str = ""

    @property
    def label(self) -> str:
        """The model(s) the run is about, for progress messages."""
        return " vs ".join(self.model_ids)


def _emotion_target(card: ModelCard, info: object) -> Target:
    origin = origin_name(getattr(info, "weights_origin", 0))
    provenance = getattr(info, "provenance", None)
    sha = getattr(provenance, "sha256", "")[:12]
    version = (
        f"emotion_service model={getattr(info, 'model', '')} backend={getattr(info, 'backend', '')} "
        f"precision={getattr(info, 'default_precision', '')} sha256={sha}"
    )
    return Target(
        card=card,
        service=EMOTION,
        name=str(getattr(info, "model", "")),
        weights_origin=origin,
        random_weights=bool(getattr(info, "random_weights", False)) or origin == "random",
        service_version=version,
        quality_domain=str(getattr(info, "quality_domain", "")),
        info=info,
    )


def _image_target(card: ModelCard, variant: object) -> Target:
    origin = origin_name(getattr(variant, "weights_origin", 0))
    version = (
        f"image_service variant={getattr(variant, 'name', '')} backend={getattr(variant, 'backend', '')} "
        f"pipeline={getattr(variant, 'pipeline_class', '')}"
    )
    return Target(
        card=card,
        service=IMAGE,
        name=str(getattr(variant, "name", "")),
        weights_origin=origin,
        random_weights=bool(getattr(variant, "random_weights", False)) or origin == "random",
        service_version=version,
        quality_domain=str(getattr(variant, "quality_domain", "")),
        info=variant,
    )


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
        """Ask both services what they serve and map it to catalog cards."""
        found = Discovery()
        timeout = self.context.settings.rpc_timeout
        try:
            info = await self.clients.emotion.model_info(timeout=timeout)
            found.serving[EMOTION] = [info.model]
            card = self.catalog.match_served(EMOTION, info.model, origin_name(info.weights_origin))
            if card is None:
                found.unmatched.append(f"emotion model {info.model!r} has no catalog card")
            else:
                found.targets[card.id] = _emotion_target(card, info)
        except (ServiceUnavailable, grpc.aio.AioRpcError) as exc:
            found.down[EMOTION] = _describe(exc)
        try:
            reply = await self.clients.image.list_variants(timeout=timeout)
            found.serving[IMAGE] = [v.name for v in reply.variants if v.loaded]
            for variant in reply.variants:
                if not variant.loaded:
                    continue
                card = self.catalog.match_served(IMAGE, variant.name, origin_name(variant.weights_origin))
                if card is None or card.id in found.targets:
                    found.unmatched.append(f"image variant {variant.name!r} has no catalog card of its own")
                    continue
                found.targets[card.id] = _image_target(card, variant)
        except (ServiceUnavailable, grpc.aio.AioRpcError) as exc:
            found.down[IMAGE] = _describe(exc)
        await self._check_replicas(found)
        return found

    async def _check_replicas(self, found: Discovery) -> None:
        """Health-check each replica of multi-address upstreams (not evidence: an outage says nothing of a model)."""
        for client in self.clients.all():
            if "," not in client.addresses:
                continue
            health = await client.replica_health(timeout=min(2.0, self.context.settings.rpc_timeout))
            down = [address for address, up in health.items() if not up]
            if down:
                found.unreachable_replicas[client.service] = down
            if self.metrics is not None:
                for address, up in health.items():
                    self.metrics.replica_up.labels(client.service, address).set(1 if up else 0)

    def validate(self, request: EvaluationRequest) -> None:
        """Reject malformed ids, unknown models or probes, and a negative deadline."""
        for i, model_id in enumerate(request.model_ids):
            check_model_id(f"model_ids[{i}]", model_id)
            if model_id not in self.catalog:
                raise NotFound(f"model_ids[{i}]: unknown model {model_id!r}")
        for i, name in enumerate(request.probes):
            if name not in REGISTRY:
                raise InvalidInput(f"probes[{i}]: unknown probe {name!r} (known: {', '.join(sorted(REGISTRY))})")
        if request.deadline_seconds < 0:
            raise InvalidInput(f"deadline: must not be negative, got {request.deadline_seconds:g} s")

    def plan(self, request: EvaluationRequest, found: Discovery) -> list[PlannedProbe]:
        """The probe runs of a round, in a stable order (models by id, probes in registry order, then matches)."""
        live: dict[str, Target] = {}
        down: dict[str, ModelCard] = {}
        if request.model_ids:
            for i, model_id in enumerate(request.model_ids):
                card = self.catalog.get(model_id)
                assert card is not None
                if card.served_by is None:
                    raise FailedPrecondition(f"model_ids[{i}]: {model_id!r} is not served here (nothing to probe)")
                if model_id in found.targets:
                    live[model_id] = found.targets[model_id]
                elif card.served_by.service in found.down:
                    down[model_id] = card
                else:
                    serving = ", ".join(found.serving.get(card.served_by.service, [])) or "nothing"
                    raise FailedPrecondition(
                        f"model_ids[{i}]: {model_id!r} is not served by the {card.served_by.service} service "
                        f"right now (it serves {serving})"
                    )
        else:
            live = dict(found.targets)
            for service in found.down:
                for card in self.catalog.served(service):
                    if card.served_by is not None and card.served_by.default:
                        down[card.id] = card
        wanted = set(request.probes)
        match_requested = request.include_match or MATCH_PROBE in wanted
        single_wanted = wanted - {MATCH_PROBE}
        items: list[PlannedProbe] = []
        for model_id in sorted({*live, *down}):
            card = live[model_id].card if model_id in live else down[model_id]
            assert card.served_by is not None
            for probe in self._probes_of(card, card.served_by.service):
                if wanted and probe.name not in single_wanted:
                    continue
                if model_id in live:
                    items.append(PlannedProbe(probe, (model_id,), (live[model_id],)))
                else:
                    items.append(
                        PlannedProbe(probe, (model_id,), unavailable=found.down.get(card.served_by.service, ""))
                    )
        if match_requested:
            items += self._plan_matches(live, down, found)
        return items

    def _probes_of(self, card: ModelCard, service: str) -> list[Probe]:
        listed = {name for capability in card.capabilities for name in capability.probes}
        return [p for p in REGISTRY.values() if p.service == service and p.name in listed]

    def _plan_matches(
        self, live: dict[str, Target], down: dict[str, ModelCard], found: Discovery
    ) -> list[PlannedProbe]:
        probe = REGISTRY[MATCH_PROBE]
        cards = {**{k: t.card for k, t in live.items()}, **down}
        # Generators take part when their card lists the match; any served classifier can judge.
        generators = sorted(
            k
            for k, c in cards.items()
            if c.served_by and c.served_by.service == IMAGE and any(MATCH_PROBE in cap.probes for cap in c.capabilities)
        )
        judges = sorted(k for k, c in cards.items() if c.served_by and c.served_by.service == EMOTION)
        items = []
        for g in generators:
            for j in judges:
                if g in live and j in live:
                    items.append(PlannedProbe(probe, (g, j), (live[g], live[j])))
                else:
                    reason = "; ".join(found.down[s] for s in (IMAGE, EMOTION) if s in found.down)
                    items.append(PlannedProbe(probe, (g, j), unavailable=reason or "service unavailable"))
        return items

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
        for model_id in item.model_ids:
            target = self._target_of(item, model_id)
            card = self.catalog.get(model_id)
            capability = item.probe.capability
            judge = card is not None and card.served_by is not None and card.served_by.service == EMOTION
            if item.probe.service == MATCH and judge:
                capability = "emotion-classification"
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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ServiceUnavailable):
        return f"{exc.address}: {exc.detail}"
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc)


def default_probe_names(cards: Sequence[ModelCard]) -> list[str]:
    """Every probe some card lists (for documentation and the CLI's --help)."""
    return sorted({p for card in cards for cap in card.capabilities for p in cap.probes if p in REGISTRY})
