"""Planning is a pure function of request, catalog and discovery; origins are read by enum name."""

from __future__ import annotations

import pytest

from ranker.catalog import WEIGHTS_ORIGINS, Catalog
from ranker.discovery import Discovery, emotion_origin, image_origin, weights_origin_from_pb
from ranker.evaluation import Finished
from ranker.evidence import EvidenceStore
from ranker.plan import EvaluationRequest, plan_round
from ranker.probes import EMOTION, EMOTION_CLASSIFICATION, IMAGE, MATCH_PROBE, REGISTRY, TEXT_TO_IMAGE, Target
from servicekit.errors import FailedPrecondition
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2
from tests.ranker.conftest import dead_address, make_evaluator


def _target(catalog: Catalog, model_id: str, service: str) -> Target:
    card = catalog.get(model_id)
    assert card is not None
    return Target(card, service, model_id, card.weights.origin, card.weights.random, "test")


def test_every_weights_origin_of_both_protos_maps_to_a_catalog_origin() -> None:
    for enum in (emotion_pb2.WeightsOrigin, image_pb2.WeightsOrigin):
        names = {weights_origin_from_pb(name) for name in enum.DESCRIPTOR.values_by_name}
        assert names == set(WEIGHTS_ORIGINS)
    assert emotion_origin(emotion_pb2.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED) == "synthetic-trained"
    assert image_origin(image_pb2.WEIGHTS_ORIGIN_RANDOM) == "random"
    assert emotion_origin(99) == "unspecified"


def test_plan_is_stable_and_marks_models_of_a_down_service(catalog: Catalog) -> None:
    found = Discovery(
        targets={"tiny-flux": _target(catalog, "tiny-flux", IMAGE)},
        down={EMOTION: "127.0.0.1:1: UNAVAILABLE"},
        serving={IMAGE: ["tiny-flux"]},
    )
    items = plan_round(EvaluationRequest(include_match=True), catalog, found)
    assert items == plan_round(EvaluationRequest(include_match=True), catalog, found)
    live = [i for i in items if not i.unavailable]
    down = [i for i in items if i.unavailable]
    assert live and all(i.model_ids == ("tiny-flux",) for i in live)
    assert all(i.probe.service == IMAGE for i in live)
    # The default emotion model is planned as unavailable, so the outage is on record.
    assert any(i.model_ids == ("emotion-tiny",) for i in down)
    matches = [i for i in items if i.probe.name == MATCH_PROBE]
    assert [m.model_ids for m in matches] == [("tiny-flux", "emotion-tiny")]
    assert matches[0].unavailable


def test_match_probe_declares_the_capability_of_each_side() -> None:
    probe = REGISTRY[MATCH_PROBE]
    assert (probe.capability_of(0), probe.capability_of(1)) == (TEXT_TO_IMAGE, EMOTION_CLASSIFICATION)


def test_a_model_that_is_not_served_now_is_a_failed_precondition(catalog: Catalog) -> None:
    found = Discovery(targets={}, serving={IMAGE: ["other"]})
    with pytest.raises(FailedPrecondition, match=r"model_ids\[0\].*it serves other"):
        plan_round(EvaluationRequest(model_ids=("tiny-flux",)), catalog, found)
    with pytest.raises(FailedPrecondition, match="not served here"):
        plan_round(EvaluationRequest(model_ids=("flux-1-pro",)), catalog, found)


async def test_failure_records_of_a_match_name_each_side_by_the_probe_s_capability(
    catalog: Catalog, store: EvidenceStore
) -> None:
    evaluator, clients = make_evaluator(catalog, store, dead_address(), dead_address())
    try:
        events = [e async for e in evaluator.run(EvaluationRequest(probes=(MATCH_PROBE,)))]
    finally:
        await clients.close()
    assert isinstance(events[-1], Finished)
    records = {r.model_id: r for r in store.records() if r.probe == MATCH_PROBE}
    assert records["tiny-flux"].capability == TEXT_TO_IMAGE
    assert records["emotion-tiny"].capability == EMOTION_CLASSIFICATION
    assert all(r.unit == "unavailable" for r in records.values())
