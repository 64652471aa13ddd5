"""Planning an evaluation round: a pure function of the request, the catalog and what was discovered."""

from __future__ import annotations

from dataclasses import dataclass

from ranker.catalog import Catalog, ModelCard
from ranker.discovery import Discovery
from ranker.engine import check_model_id
from ranker.probes import EMOTION, IMAGE, MATCH_PROBE, REGISTRY, Probe, Target
from servicekit.errors import FailedPrecondition, InvalidInput, NotFound


@dataclass(frozen=True)
class EvaluationRequest:
    """What to evaluate: models (empty = all served), probes (empty = all that apply), matches, budget."""

    model_ids: tuple[str, ...] = ()
    probes: tuple[str, ...] = ()
    include_match: bool = False
    deadline_seconds: float = 300.0


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


def validate_request(request: EvaluationRequest, catalog: Catalog) -> None:
    """Reject malformed ids, unknown models or probes, and a negative deadline."""
    for i, model_id in enumerate(request.model_ids):
        check_model_id(f"model_ids[{i}]", model_id)
        if model_id not in catalog:
            raise NotFound(f"model_ids[{i}]: unknown model {model_id!r}")
    for i, name in enumerate(request.probes):
        if name not in REGISTRY:
            raise InvalidInput(f"probes[{i}]: unknown probe {name!r} (known: {', '.join(sorted(REGISTRY))})")
    if request.deadline_seconds < 0:
        raise InvalidInput(f"deadline: must not be negative, got {request.deadline_seconds:g} s")


def probes_of(card: ModelCard, service: str) -> list[Probe]:
    """The single-target probes of ``service`` that the card's capabilities list, in registry order."""
    listed = {name for capability in card.capabilities for name in capability.probes}
    return [p for p in REGISTRY.values() if p.service == service and p.name in listed]


def _selected(
    request: EvaluationRequest, catalog: Catalog, found: Discovery
) -> tuple[dict[str, Target], dict[str, ModelCard]]:
    """The models of the round: live targets, and cards whose service is down."""
    live: dict[str, Target] = {}
    down: dict[str, ModelCard] = {}
    if not request.model_ids:
        for service in found.down:
            for served in catalog.served(service):
                if served.served_by is not None and served.served_by.default:
                    down[served.id] = served
        return dict(found.targets), down
    for i, model_id in enumerate(request.model_ids):
        card = catalog.get(model_id)
        if card is None:
            raise NotFound(f"model_ids[{i}]: unknown model {model_id!r}")
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
    return live, down


def plan_round(request: EvaluationRequest, catalog: Catalog, found: Discovery) -> list[PlannedProbe]:
    """The probe runs of a round, in a stable order (models by id, probes in registry order, then matches)."""
    live, down = _selected(request, catalog, found)
    wanted = set(request.probes)
    single_wanted = wanted - {MATCH_PROBE}
    items: list[PlannedProbe] = []
    for model_id in sorted({*live, *down}):
        card = live[model_id].card if model_id in live else down[model_id]
        assert card.served_by is not None  # _selected keeps served cards only
        for probe in probes_of(card, card.served_by.service):
            if wanted and probe.name not in single_wanted:
                continue
            if model_id in live:
                items.append(PlannedProbe(probe, (model_id,), (live[model_id],)))
            else:
                items.append(PlannedProbe(probe, (model_id,), unavailable=found.down.get(card.served_by.service, "")))
    if request.include_match or MATCH_PROBE in wanted:
        items += _plan_matches(live, down, found)
    return items


def _plan_matches(live: dict[str, Target], down: dict[str, ModelCard], found: Discovery) -> list[PlannedProbe]:
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
