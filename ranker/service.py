"""The RankerService servicer: protobuf ↔ domain only (converters in :mod:`ranker.wire`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

import grpc

from ranker.attribution import rpc_submitter, submitted_as
from ranker.engine import check_model_id
from ranker.evaluation import Finished, Progress, Recorded
from ranker.plan import EvaluationRequest
from ranker.wire import (
    as_of_from_pb,
    card_to_pb,
    comparison_to_pb,
    evaluation_request_from_pb,
    evidence_from_pb,
    finished_to_pb,
    history_to_pb,
    influence_to_pb,
    leaderboard_to_pb,
    progress_to_pb,
    recorded_to_pb,
    score_to_pb,
)
from servicekit.auth import AccessPolicy, Role, current_identity
from servicekit.errors import InvalidInput, NotFound
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc

if TYPE_CHECKING:
    from ranker.component import RankerComponent

MAX_EXPLAIN = 100
SERVICE_NAME = ranker_pb2.DESCRIPTOR.services_by_name["RankerService"].full_name


class RankerServicer(ranker_pb2_grpc.RankerServiceServicer):  # type: ignore[misc]
    """Translates RankerService calls to the ranker core."""

    # Writes change what every score is computed from: they need a granted identity. Retracting a whole
    # source takes evidence of many submitters out of every score, so it is an admin's call.
    ACCESS: ClassVar[AccessPolicy] = {
        "ListModels": Role.READ,
        "GetModel": Role.READ,
        "GetScore": Role.READ,
        "Compare": Role.READ,
        "Leaderboard": Role.READ,
        "ExplainScore": Role.READ,
        "GetScoreHistory": Role.READ,
        "Evaluate": Role.WRITE,
        "SubmitEvidence": Role.WRITE,
        "AddModel": Role.WRITE,
        "RetractSource": Role.ADMIN,
    }

    def __init__(self, component: RankerComponent) -> None:
        self._c = component

    async def ListModels(self, request: ranker_pb2.ListModelsRequest, context: grpc.aio.ServicerContext) -> Any:
        """Cards sorted by id."""
        ranker = self._c.ranker
        cards = ranker.list_models(request.artifact_type)
        views = await asyncio.to_thread(lambda: [ranker.view(c.id) for c in cards])
        return ranker_pb2.ListModelsResponse(
            models=[card_to_pb(v.card, v, self._c.served_names(v.card.id)) for v in views]
        )

    async def GetModel(self, request: ranker_pb2.GetModelRequest, context: grpc.aio.ServicerContext) -> Any:
        """One card."""
        ranker = self._c.ranker
        ranker.card(request.model_id)
        view = await asyncio.to_thread(ranker.view, request.model_id)
        return ranker_pb2.GetModelResponse(model=card_to_pb(view.card, view, self._c.served_names(view.card.id)))

    async def GetScore(self, request: ranker_pb2.GetScoreRequest, context: grpc.aio.ServicerContext) -> Any:
        """One score."""
        ranker = self._c.ranker
        ranker.card(request.model_id)
        as_of = as_of_from_pb(request.as_of, ranker.as_of())
        result = await asyncio.to_thread(ranker.score, request.model_id, as_of)
        if as_of is None:
            self._c.metrics.publish_score(result)
        return ranker_pb2.GetScoreResponse(score=score_to_pb(result))

    async def Compare(self, request: ranker_pb2.CompareRequest, context: grpc.aio.ServicerContext) -> Any:
        """Rows and verdict of two models."""
        comparison = await asyncio.to_thread(self._c.ranker.compare, request.model_a, request.model_b)
        return comparison_to_pb(comparison)

    async def Leaderboard(self, request: ranker_pb2.LeaderboardRequest, context: grpc.aio.ServicerContext) -> Any:
        """Models by score."""
        ranker = self._c.ranker
        ranker.check_artifact_type(request.artifact_type)
        entries = await asyncio.to_thread(ranker.leaderboard, request.artifact_type, request.limit)
        for entry in entries:
            self._c.metrics.publish_score(entry.score)
        return leaderboard_to_pb(entries)

    async def Evaluate(
        self, request: ranker_pb2.EvaluateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ranker_pb2.EvaluateResponse]:
        """Probe the served models, streaming progress, records and a final summary."""
        domain_request = evaluation_request_from_pb(request, self._c.settings.evaluate_deadline_seconds)
        with submitted_as(rpc_submitter(current_identity(), "Evaluate")):
            async for event in self._evaluate(domain_request):
                yield event

    async def _evaluate(self, domain_request: EvaluationRequest) -> AsyncIterator[ranker_pb2.EvaluateResponse]:
        async for event in self._c.evaluate(domain_request):
            if isinstance(event, Progress):
                yield progress_to_pb(event)
            elif isinstance(event, Recorded):
                yield recorded_to_pb(event)
            elif isinstance(event, Finished):
                scores = await asyncio.to_thread(self._c.publish_scores, event.model_ids)
                yield finished_to_pb(event, scores)

    async def SubmitEvidence(self, request: ranker_pb2.SubmitEvidenceRequest, context: grpc.aio.ServicerContext) -> Any:
        """Validate every record, then store all of them in one transaction."""
        ranker = self._c.ranker
        records = evidence_from_pb(list(request.evidence), ranker.catalog)
        with submitted_as(rpc_submitter(current_identity(), "SubmitEvidence")):
            stored = await asyncio.to_thread(ranker.store.add_many, records)
        for record in stored:
            self._c.metrics.evidence_records.labels(record.source.value).inc()
        await asyncio.to_thread(self._c.publish_scores, sorted({r.model_id for r in stored}))
        return ranker_pb2.SubmitEvidenceResponse(accepted=len(stored))

    async def AddModel(self, request: ranker_pb2.AddModelRequest, context: grpc.aio.ServicerContext) -> Any:
        """Card from the hub's model info, adoption evidence imported."""
        self._c.ranker  # UNAVAILABLE before start  # noqa: B018
        if request.model_id:
            check_model_id("model_id", request.model_id)
        with submitted_as(rpc_submitter(current_identity(), "AddModel")):
            card, imported = await asyncio.to_thread(
                self._c.add_model, request.hub_id, request.model_id, request.model_info_json
            )
        view = await asyncio.to_thread(self._c.ranker.view, card.id)
        return ranker_pb2.AddModelResponse(model=card_to_pb(card, view), evidence_imported=imported)

    async def RetractSource(self, request: ranker_pb2.RetractSourceRequest, context: grpc.aio.ServicerContext) -> Any:
        """Stop counting a source's records (kept for audit)."""
        ranker = self._c.ranker
        if not request.source_ref.strip():
            raise InvalidInput("source_ref: must not be empty")
        count = await asyncio.to_thread(ranker.store.retract, request.source_ref, request.reason)
        if not count:
            raise NotFound(f"source_ref: no record has source {request.source_ref!r}")
        await asyncio.to_thread(self._c.publish_scores, [c.id for c in ranker.catalog])
        return ranker_pb2.RetractSourceResponse(records=count)

    async def ExplainScore(self, request: ranker_pb2.ExplainScoreRequest, context: grpc.aio.ServicerContext) -> Any:
        """The score and the records that moved it most."""
        ranker = self._c.ranker
        ranker.card(request.model_id)
        if request.limit > MAX_EXPLAIN:
            raise InvalidInput(f"limit: at most {MAX_EXPLAIN}, got {request.limit}")
        result, influences = await asyncio.to_thread(ranker.explain, request.model_id, request.limit or 5)
        return ranker_pb2.ExplainScoreResponse(
            score=score_to_pb(result), influences=[influence_to_pb(i) for i in influences]
        )

    async def GetScoreHistory(
        self, request: ranker_pb2.GetScoreHistoryRequest, context: grpc.aio.ServicerContext
    ) -> Any:
        """Every score computed for the model."""
        ranker = self._c.ranker
        ranker.card(request.model_id)
        entries = await asyncio.to_thread(ranker.store.history, request.model_id)
        return ranker_pb2.GetScoreHistoryResponse(scores=[history_to_pb(e) for e in entries])
