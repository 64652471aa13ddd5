"""Each probe passes on a well-behaved service and fails on the fault it exists to catch.

The services here are protocol-level stand-ins on real gRPC servers (tests/ranker/fakes.py);
test_e2e.py runs the same probes against the real emotion and image services.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ranker.catalog import Catalog
from ranker.discovery import Discovery
from ranker.evaluation import Evaluator
from ranker.evidence import EvidenceStore
from ranker.probes import REGISTRY, Measurement, NotApplicable
from ranker.probes.base import above_chance, binomial_tail
from tests.ranker.conftest import StartFakes, make_evaluator
from tests.ranker.fakes import EmotionFaults, ImageFaults


async def _run(evaluator: Evaluator, probe: str, model_ids: Sequence[str]) -> list[Measurement]:
    found: Discovery = await evaluator.discover()
    targets = [found.targets[m] for m in model_ids]
    return await REGISTRY[probe].run(evaluator.context, targets)


async def _measure(
    start_fakes: StartFakes,
    catalog: Catalog,
    store: EvidenceStore,
    probe: str,
    *,
    emotion: EmotionFaults | None = None,
    image: ImageFaults | None = None,
    **settings: object,
) -> list[Measurement]:
    host = await start_fakes(emotion, image)
    address = f"127.0.0.1:{host.port}"
    evaluator, clients = make_evaluator(catalog, store, address, address, **settings)
    try:
        model_ids = (
            ["tiny-flux", "emotion-tiny"]
            if probe.startswith("match")
            else (["emotion-tiny"] if probe.startswith("classifier") else ["tiny-flux"])
        )
        return await _run(evaluator, probe, model_ids)
    finally:
        await clients.close()


CLASSIFIER_FAULTS = [
    ("classifier.scores-sum-to-one", EmotionFaults(scale_scores=0.9), "sum to 1"),
    ("classifier.batch-order", EmotionFaults(reverse_order=True), "index"),
    ("classifier.face-boxes", EmotionFaults(no_faces_detected=True), "IoU"),
    ("classifier.multi-label-threshold", EmotionFaults(halve_threshold=True), "labels_above_threshold"),
]


@pytest.mark.parametrize("probe", [p for p, _, _ in CLASSIFIER_FAULTS])
async def test_classifier_conformance_probe_passes_on_a_correct_service(
    start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore, probe: str
) -> None:
    (m,) = await _measure(start_fakes, catalog, store, probe)
    assert m.passed, m.detail


@pytest.mark.parametrize(("probe", "faults", "problem"), CLASSIFIER_FAULTS)
async def test_classifier_probe_catches_its_fault(
    start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore, probe: str, faults: EmotionFaults, problem: str
) -> None:
    (m,) = await _measure(start_fakes, catalog, store, probe, emotion=faults)
    assert not m.passed
    assert any(problem in p for p in m.detail["problems"]), m.detail


async def test_int8_agreement(start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore) -> None:
    (good,) = await _measure(start_fakes, catalog, store, "classifier.int8-agreement")
    assert good.passed and good.value == 1.0 and good.detail["precision"] == "int8"
    (bad,) = await _measure(
        start_fakes, catalog, store, "classifier.int8-agreement", emotion=EmotionFaults(int8_flip=True)
    )
    assert not bad.passed and bad.value < 0.9


async def test_p99_latency_against_the_bound(start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore) -> None:
    (fast,) = await _measure(start_fakes, catalog, store, "classifier.p99-latency", p99_bound_seconds=0.5)
    assert fast.passed and fast.unit == "seconds" and fast.value < 0.5
    assert fast.detail["requests"] == 12 and not fast.detail["errors"]
    (slow,) = await _measure(
        start_fakes, catalog, store, "classifier.p99-latency", emotion=EmotionFaults(delay=0.08), p99_bound_seconds=0.05
    )
    assert not slow.passed and slow.value >= 0.08


async def test_batched_throughput_reports_both_rates(
    start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore
) -> None:
    (m,) = await _measure(start_fakes, catalog, store, "classifier.batched-throughput")
    # What was measured, not how fast (a shared machine decides that): two rounds of 16 single-image requests
    # and one 16-image request, every reply holding its faces; the verdict follows the measured ratio.
    assert m.detail["images"] == 16 and m.detail["requests"] == {"sequential": 32, "batched": 2}
    assert m.detail["problems"] == [], m.detail
    ratio = m.detail["batched_images_per_s"] / m.detail["sequential_images_per_s"]
    assert m.value == pytest.approx(ratio, rel=0.05)
    assert m.passed == (m.value >= 1.0)


async def test_accuracy_records_the_synthetic_domain(
    start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore
) -> None:
    (m,) = await _measure(start_fakes, catalog, store, "classifier.accuracy-synthetic")
    # The stand-in guesses from pixel hashes: its accuracy is near chance and must not pass.
    assert 0.0 <= m.value <= 1.0 and m.detail["faces"] == 14
    assert m.detail["quality_domain"] == "synthetic faces"
    assert m.passed == above_chance(m.detail["correct"], 14, 1 / 7)


GENERATOR_FAULTS = [
    ("generator.resolution", ImageFaults(wrong_size=True), "asked"),
    ("generator.seed-determinism", ImageFaults(nondeterministic=True), "same seed differs"),
    ("generator.reference-images", ImageFaults(accept_references=True), None),
    ("generator.progress-stream", ImageFaults(skip_a_step=True), "steps"),
]


@pytest.mark.parametrize("probe", [p for p, _, _ in GENERATOR_FAULTS] + ["generator.few-step-latency"])
async def test_generator_probe_passes_on_a_correct_service(
    start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore, probe: str
) -> None:
    (m,) = await _measure(start_fakes, catalog, store, probe)
    assert m.passed, m.detail


@pytest.mark.parametrize(("probe", "faults", "problem"), GENERATOR_FAULTS)
async def test_generator_probe_catches_its_fault(
    start_fakes: StartFakes,
    catalog: Catalog,
    store: EvidenceStore,
    probe: str,
    faults: ImageFaults,
    problem: str | None,
) -> None:
    (m,) = await _measure(start_fakes, catalog, store, probe, image=faults)
    assert not m.passed
    if problem:
        assert any(problem in p for p in m.detail["problems"]), m.detail


async def test_few_step_latency_bound(start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore) -> None:
    (m,) = await _measure(
        start_fakes,
        catalog,
        store,
        "generator.few-step-latency",
        image=ImageFaults(delay=0.1),
        few_step_bound_seconds=0.05,
    )
    assert not m.passed and m.value >= 0.1 and m.detail["steps"] == 4


async def test_match_agreement_is_evidence_for_both_sides(
    start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore
) -> None:
    generator, judge = await _measure(start_fakes, catalog, store, "match.emotion-agreement")
    assert (generator.model_id, judge.model_id) == ("tiny-flux", "emotion-tiny")
    assert generator.value == judge.value == 1.0 and generator.passed and judge.passed
    assert generator.detail["images"] == 14 and generator.detail["opponent"] == "emotion-tiny"
    assert generator.random_weights is False
    wrong = await _measure(
        start_fakes, catalog, store, "match.emotion-agreement", image=ImageFaults(wrong_emotion=True)
    )
    assert all(m.value == 0.0 and not m.passed for m in wrong)


async def test_match_with_random_weights_is_flagged_on_both_sides(
    start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore
) -> None:
    host = await start_fakes(image=ImageFaults(weights_origin=1))
    address = f"127.0.0.1:{host.port}"
    evaluator, clients = make_evaluator(catalog, store, address, address)
    try:
        found = await evaluator.discover()
        assert set(found.targets) == {"tiny-flux-random", "emotion-tiny"}
        measurements = await REGISTRY["match.emotion-agreement"].run(
            evaluator.context, [found.targets["tiny-flux-random"], found.targets["emotion-tiny"]]
        )
    finally:
        await clients.close()
    assert all(m.random_weights for m in measurements)


async def test_int8_probe_is_not_applicable_without_a_reduced_precision(catalog: Catalog, store: EvidenceStore) -> None:
    from ranker.probes import Target
    from servicekit.pb.emoflux.emotion.v1 import emotion_pb2

    card = catalog.get("emotion-tiny")
    assert card is not None
    info = emotion_pb2.GetModelInfoResponse(precisions=["fp32"])
    target = Target(card, "emotion", "x", "synthetic-trained", False, "", info=info)
    evaluator, clients = make_evaluator(catalog, store, "127.0.0.1:1", "127.0.0.1:1")
    try:
        with pytest.raises(NotApplicable, match="needs fp32 and int8"):
            await REGISTRY["classifier.int8-agreement"].run(evaluator.context, [target])
    finally:
        await clients.close()


def test_binomial_tail() -> None:
    assert binomial_tail(0, 10, 0.5) == 1.0
    assert binomial_tail(10, 10, 0.5) == pytest.approx(0.5**10)
    assert not above_chance(3, 14, 1 / 7) and above_chance(9, 14, 1 / 7)


@pytest.mark.parametrize("probe", sorted(REGISTRY))
async def test_no_probe_passes_on_empty_replies(
    start_fakes: StartFakes, catalog: Catalog, store: EvidenceStore, probe: str
) -> None:
    # Services that answer every call with OK and nothing in it (no results, no images, metadata echoed):
    # each probe must record failing evidence, neither pass nor crash (a crash records nothing).
    measurements = await _measure(
        start_fakes,
        catalog,
        store,
        probe,
        emotion=EmotionFaults(empty_replies=True),
        image=ImageFaults(empty_replies=True),
    )
    assert measurements
    assert not any(m.passed for m in measurements), [m.detail for m in measurements]
