"""The RankerService servicer (protobuf ↔ domain only) and the component that hosts it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

import grpc
from prometheus_client import CollectorRegistry

from ranker.catalog import Catalog, load_catalog
from ranker.clients import ServiceClients
from ranker.engine import Ranker
from ranker.evaluation import Discovery, EvaluationRequest, Evaluator, Finished, Progress, Recorded
from ranker.evidence import EvidenceStore
from ranker.metrics import RankerMetrics
from ranker.probes import ProbeContext, ProbeSettings
from ranker.scoring import ScoringPolicy, load_policy
from ranker.settings import RankerSettings
from ranker.wire import card_pb, comparison_pb, evidence_pb, leaderboard_pb, score_pb, submitted_records
from servicekit.auth import AccessPolicy, Role
from servicekit.errors import InvalidInput, NotReady
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from servicekit.server import ServicerRegistration
from servicekit.settings import ServerSettings, settings_as

log = logging.getLogger("emoflux.ranker")

SERVICE_NAME = ranker_pb2.DESCRIPTOR.services_by_name["RankerService"].full_name


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
        self.ranker: Ranker | None = None
        self.evaluator: Evaluator | None = None
        self.clients: ServiceClients | None = None
        self.store: EvidenceStore | None = None
        self.discovery = Discovery()
        self.servicer = RankerServicer(self)

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
        self.ranker = Ranker(
            self.catalog,
            self.store,
            self.policy,
            samples=s.bootstrap_samples,
            seed=s.bootstrap_seed,
            as_of=s.as_of_date(),
        )
        self.clients = ServiceClients(s.emotion_addresses, s.image_addresses, s.rpc_timeout_seconds)
        self.evaluator = Evaluator(
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
        log.info("ranker ready: %d models, store %s (schema v%d)", len(self.catalog), s.db_path, self.store.version)

    def publish_scores(self, model_ids: Sequence[str]) -> list[Any]:
        """Recompute scores, set their gauges, return them."""
        assert self.ranker is not None
        results = [self.ranker.score(m) for m in model_ids]
        for result in results:
            self.metrics.publish_score(result)
        return results

    async def stop(self) -> None:
        """Close the upstream channels and the store."""
        if self.clients is not None:
            await self.clients.close()
        if self.store is not None:
            await asyncio.to_thread(self.store.close)

    def served_names(self, model_id: str) -> list[str]:
        """Names under which the last discovery saw the model served."""
        target = self.discovery.targets.get(model_id)
        return [f"{target.service}:{target.name}"] if target else []


class RankerServicer(ranker_pb2_grpc.RankerServiceServicer):  # type: ignore[misc]
    """Translates RankerService calls to the ranker core."""

    # Writes change what every score is computed from: they need a granted identity.
    ACCESS: ClassVar[AccessPolicy] = {
        "ListModels": Role.READ,
        "GetModel": Role.READ,
        "GetScore": Role.READ,
        "Compare": Role.READ,
        "Leaderboard": Role.READ,
        "Evaluate": Role.WRITE,
        "SubmitEvidence": Role.WRITE,
    }

    def __init__(self, component: RankerComponent) -> None:
        self._c = component

    def _ranker(self) -> Ranker:
        if self._c.ranker is None:
            raise NotReady("the evidence store is not open yet")
        return self._c.ranker

    async def ListModels(self, request: ranker_pb2.ListModelsRequest, context: grpc.aio.ServicerContext) -> Any:
        """Cards sorted by id."""
        ranker = self._ranker()
        cards = ranker.list_models(request.artifact_type)
        views = await asyncio.to_thread(lambda: [ranker.view(c.id) for c in cards])
        return ranker_pb2.ListModelsResponse(
            models=[card_pb(v.card, v, self._c.served_names(v.card.id)) for v in views]
        )

    async def GetModel(self, request: ranker_pb2.GetModelRequest, context: grpc.aio.ServicerContext) -> Any:
        """One card."""
        ranker = self._ranker()
        ranker.card(request.model_id)
        view = await asyncio.to_thread(ranker.view, request.model_id)
        return ranker_pb2.GetModelResponse(model=card_pb(view.card, view, self._c.served_names(view.card.id)))

    async def GetScore(self, request: ranker_pb2.GetScoreRequest, context: grpc.aio.ServicerContext) -> Any:
        """One score."""
        ranker = self._ranker()
        ranker.card(request.model_id)
        result = await asyncio.to_thread(ranker.score, request.model_id)
        self._c.metrics.publish_score(result)
        return ranker_pb2.GetScoreResponse(score=score_pb(result))

    async def Compare(self, request: ranker_pb2.CompareRequest, context: grpc.aio.ServicerContext) -> Any:
        """Rows and verdict of two models."""
        ranker = self._ranker()
        comparison = await asyncio.to_thread(ranker.compare, request.model_a, request.model_b)
        return comparison_pb(comparison)

    async def Leaderboard(self, request: ranker_pb2.LeaderboardRequest, context: grpc.aio.ServicerContext) -> Any:
        """Models by score."""
        ranker = self._ranker()
        ranker.check_artifact_type(request.artifact_type)
        entries = await asyncio.to_thread(ranker.leaderboard, request.artifact_type, request.limit)
        for entry in entries:
            self._c.metrics.publish_score(entry.score)
        return leaderboard_pb(entries)

    async def Evaluate(
        self, request: ranker_pb2.EvaluateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ranker_pb2.EvaluateResponse]:
        """Probe the served models, streaming progress, records and a final summary."""
        self._ranker()
        evaluator = self._c.evaluator
        assert evaluator is not None
        deadline = self._c.settings.evaluate_deadline_seconds
        if request.HasField("deadline"):
            deadline = request.deadline.seconds + request.deadline.nanos / 1e9
            if deadline < 0:
                raise InvalidInput(f"deadline: must not be negative, got {deadline:g} s")
        domain_request = EvaluationRequest(
            model_ids=tuple(request.model_ids),
            probes=tuple(request.probes),
            include_match=request.include_match,
            deadline_seconds=deadline,
        )
        evaluator.validate(domain_request)
        self._c.discovery = await evaluator.discover()
        async for event in evaluator.run(domain_request, self._c.discovery):
            if isinstance(event, Progress):
                yield ranker_pb2.EvaluateResponse(
                    progress=ranker_pb2.EvaluateResponse.Progress(
                        done=event.done,
                        total=event.total,
                        model_id=event.model_id,
                        probe=event.probe,
                        message=event.message,
                    )
                )
            elif isinstance(event, Recorded):
                yield ranker_pb2.EvaluateResponse(
                    evidence_recorded=ranker_pb2.EvaluateResponse.EvidenceRecorded(evidence=evidence_pb(event.record))
                )
            elif isinstance(event, Finished):
                scores = await asyncio.to_thread(self._c.publish_scores, event.model_ids)
                yield ranker_pb2.EvaluateResponse(
                    finished=ranker_pb2.EvaluateResponse.Finished(
                        probes_run=event.probes_run,
                        probes_failed=event.probes_failed,
                        probes_skipped=event.probes_skipped,
                        evidence_recorded=event.evidence_recorded,
                        scores=[score_pb(s) for s in scores],
                    )
                )

    async def SubmitEvidence(self, request: ranker_pb2.SubmitEvidenceRequest, context: grpc.aio.ServicerContext) -> Any:
        """Validate every record, then store all of them in one transaction."""
        ranker = self._ranker()
        records = submitted_records(list(request.evidence), ranker.catalog)
        stored = await asyncio.to_thread(ranker.store.add_many, records)
        for record in stored:
            self._c.metrics.evidence_records.labels(record.source.value).inc()
        await asyncio.to_thread(self._c.publish_scores, sorted({r.model_id for r in stored}))
        return ranker_pb2.SubmitEvidenceResponse(accepted=len(stored))


def build_component(settings: ServerSettings, registry: CollectorRegistry) -> RankerComponent:
    """Entry point for :func:`servicekit.server.run_service`."""
    return RankerComponent(settings_as(settings, RankerSettings), registry)
