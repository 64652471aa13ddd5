"""The ranker's composition root: catalog, evidence store, upstream clients and evaluator behind the service."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence

from prometheus_client import CollectorRegistry

from ranker.adoption import load_cohorts
from ranker.attribution import Submitter, submitted_as
from ranker.catalog import Catalog, ModelCard, load_catalog
from ranker.clients import ServiceClients
from ranker.discovery import Discovery
from ranker.engine import Ranker
from ranker.evaluation import Evaluator, Event, Finished
from ranker.evidence import EvidenceStore
from ranker.hub import check_hub_id, fetch_snapshot, parse_snapshot
from ranker.intake import add_model
from ranker.metrics import RankerMetrics
from ranker.plan import EvaluationRequest
from ranker.probes import ProbeContext, ProbeSettings
from ranker.schedule import Scheduler
from ranker.scoring import ScoreResult, ScoringPolicy, load_policy
from ranker.service import SERVICE_NAME, RankerServicer
from ranker.settings import RankerSettings
from servicekit.errors import InvalidInput, NotReady
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2_grpc
from servicekit.server import ServicerRegistration
from servicekit.settings import ServerSettings, settings_as

log = logging.getLogger("emoflux.ranker")


def probe_settings(settings: RankerSettings) -> ProbeSettings:
    """The probe knobs of the ranker settings."""
    return ProbeSettings(
        rpc_timeout=settings.rpc_timeout_seconds,
        faces_per_label=settings.faces_per_label,
        match_seeds_per_label=settings.match_seeds_per_label,
        match_steps=settings.match_steps,
        load_requests=settings.load_requests,
        load_rate_per_second=settings.load_rate_per_second,
        p99_bound_seconds=settings.p99_bound_seconds,
        few_step_bound_seconds=settings.few_step_bound_seconds,
        seed=settings.bootstrap_seed,
    )


class RankerComponent:
    """Catalog, evidence store, upstream clients and evaluator behind the RankerService."""

    name = "ranker"

    def __init__(self, settings: RankerSettings, registry: CollectorRegistry | None = None) -> None:
        self.settings = settings
        self.metrics = RankerMetrics(registry if registry is not None else CollectorRegistry())
        # Load the catalog and weights now: a bad card stops start-up with a message naming file and field.
        self.catalog: Catalog = load_catalog(settings.catalog_dir)
        self.policy = load_policy(settings.weights_file) if settings.weights_file else ScoringPolicy()
        self.cohorts = load_cohorts(settings.cohorts_file)
        self._ranker: Ranker | None = None
        self._evaluator: Evaluator | None = None
        self.clients: ServiceClients | None = None
        self.store: EvidenceStore | None = None
        self.discovery = Discovery()
        self.scheduler: Scheduler | None = None
        self._schedule_task: asyncio.Task[None] | None = None
        self.servicer = RankerServicer(self)

    @property
    def ranker(self) -> Ranker:
        """The ranker core; UNAVAILABLE until :meth:`start` has opened the store."""
        if self._ranker is None:
            raise NotReady("the evidence store is not open yet")
        return self._ranker

    @property
    def evaluator(self) -> Evaluator:
        """The evaluator; UNAVAILABLE until :meth:`start`."""
        if self._evaluator is None:
            raise NotReady("the evidence store is not open yet")
        return self._evaluator

    def registrations(self) -> Sequence[ServicerRegistration]:
        """The RankerService."""
        return [
            ServicerRegistration(
                SERVICE_NAME, ranker_pb2_grpc.add_RankerServiceServicer_to_server, self.servicer, RankerServicer.ACCESS
            )
        ]

    async def start(self) -> None:
        """Open the store (running migrations), connect the clients, publish the initial scores."""
        s = self.settings
        self.store = await asyncio.to_thread(EvidenceStore, s.db_path)
        self._ranker = Ranker(
            self.catalog,
            self.store,
            self.policy,
            samples=s.bootstrap_samples,
            seed=s.bootstrap_seed,
            as_of=s.as_of_date(),
        )
        self.clients = ServiceClients(s.emotion_addresses, s.image_addresses, s.rpc_timeout_seconds)
        self._evaluator = Evaluator(
            self.catalog,
            self.store,
            self.clients,
            ProbeContext(self.clients, probe_settings(s)),
            probe_timeout=s.probe_timeout_seconds,
            metrics=self.metrics,
        )
        for card in self.catalog:
            self.metrics.describe_model(card)
        await asyncio.to_thread(self.publish_scores, [c.id for c in self.catalog])
        if s.reevaluate_interval_seconds > 0:
            self.scheduler = Scheduler(self.reevaluate, s.reevaluate_interval_seconds, s.reevaluate_jitter_seconds)
            # The schedule's evidence is the ranker's own; the task inherits the attribution from here.
            with submitted_as(Submitter("ranker", "schedule")):
                self._schedule_task = asyncio.create_task(self.scheduler.run())
        log.info("ranker ready: %d models, store %s (schema v%d)", len(self.catalog), s.db_path, self.store.version)

    def publish_scores(self, model_ids: Sequence[str]) -> list[ScoreResult]:
        """Recompute scores, set their gauges, return them."""
        results = [self.ranker.score(m) for m in model_ids]
        for result in results:
            self.metrics.publish_score(result)
        return results

    async def evaluate(self, request: EvaluationRequest) -> AsyncIterator[Event]:
        """Validate, discover (remembering what is served), then run one round, yielding its events."""
        evaluator = self.evaluator
        evaluator.validate(request)
        self.discovery = await evaluator.discover()
        async for event in evaluator.run(request, self.discovery):
            yield event

    def replace_catalog(self, catalog: Catalog) -> None:
        """Serve a catalog that gained a card (AddModel): every part reads the new one from now on."""
        self.catalog = catalog
        self.ranker.catalog = catalog
        self.evaluator.catalog = catalog
        for card in catalog:
            self.metrics.describe_model(card)

    def add_model(self, hub_id: str, model_id: str, snapshot_json: str) -> tuple[ModelCard, int]:
        """AddModel: card from the model info (fetched unless given), evidence imported; runs in a thread."""
        check_hub_id(hub_id)
        if snapshot_json:
            try:
                raw = json.loads(snapshot_json)
            except ValueError as exc:
                raise InvalidInput(f"model_info_json: not JSON: {exc}") from None
            snapshot = parse_snapshot(raw, "model_info_json")
        else:
            snapshot = fetch_snapshot(hub_id, timeout=self.settings.rpc_timeout_seconds)
        added = add_model(self.settings.catalog_dir, hub_id, snapshot, self.cohorts, model_id)
        stored = self.ranker.store.add_many(added.records)
        self.replace_catalog(added.catalog)
        self.publish_scores([added.card.id])
        return added.card, len(stored)

    def record_history(self) -> None:
        """Score every model and append the scores to the history (the scheduler's step)."""
        entries = self.ranker.record_history([c.id for c in self.catalog])
        log.info("score history: %d scores recorded", len(entries))

    async def reevaluate(self) -> None:
        """One scheduled round: evaluate every served model (with matches), then record every score."""
        request = EvaluationRequest(include_match=True, deadline_seconds=self.settings.evaluate_deadline_seconds)
        async for event in self.evaluate(request):
            if isinstance(event, Finished):
                await asyncio.to_thread(self.publish_scores, event.model_ids)
        await asyncio.to_thread(self.record_history)

    async def stop(self) -> None:
        """Stop the schedule, close the upstream channels and the store."""
        if self._schedule_task is not None:
            self._schedule_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._schedule_task
        if self.clients is not None:
            await self.clients.close()
        if self.store is not None:
            await asyncio.to_thread(self.store.close)

    def served_names(self, model_id: str) -> list[str]:
        """Names under which the last discovery saw the model served."""
        target = self.discovery.targets.get(model_id)
        return [f"{target.service}:{target.name}"] if target else []


def build_component(settings: ServerSettings, registry: CollectorRegistry) -> RankerComponent:
    """Entry point for :func:`servicekit.server.run_service`."""
    return RankerComponent(settings_as(settings, RankerSettings), registry)
