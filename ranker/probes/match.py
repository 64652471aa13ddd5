"""The cross-model match: the generator draws a face per emotion prompt, the classifier judges it.

Agreement between the prompted emotion and the classifier's top label is match-graph evidence for
both models (GenEval-style: a detector verifies a generator's prompt adherence), and every run
counts as one match for each side. When either side has random weights the agreement says nothing
about either model, so both records are flagged and the scorer withholds them.
"""

from __future__ import annotations

from collections.abc import Sequence

import synthfaces
from ranker.probes.base import (
    EMOTION_CLASSIFICATION,
    MATCH,
    TEXT_TO_IMAGE,
    Measurement,
    Probe,
    ProbeContext,
    Target,
    above_chance,
)
from servicekit.pb.emoflux.image.v1 import image_pb2

PROMPT_TEMPLATE = "a photo of a {emotion} face"
MATCH_SEED_BASE = 7_500_000


async def emotion_agreement(ctx: ProbeContext, targets: Sequence[Target]) -> list[Measurement]:
    """Draw ``match_seeds_per_label`` faces per emotion, classify them, record the agreement for both."""
    generator, classifier = targets
    per_label = ctx.settings.match_seeds_per_label
    steps = ctx.settings.match_steps
    drawn: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for index, emotion in enumerate(synthfaces.LABELS):
        request = image_pb2.GenerateRequest(
            variant=generator.name,
            prompt=PROMPT_TEMPLATE.format(emotion=emotion),
            num_images=per_label,
            seed=MATCH_SEED_BASE + 100 * index,
            num_inference_steps=steps,
        )
        reply = await ctx.clients.image.generate(request)
        if len(reply.images) != per_label:
            problems.append(f"{emotion}: {len(reply.images)} images for num_images {per_label}")
        drawn.extend((emotion, image.data) for image in reply.images)
    verdicts: list[str] = []
    for start in range(0, len(drawn), 16):
        chunk = [data for _, data in drawn[start : start + 16]]
        judged = await ctx.clients.emotion.classify(chunk)
        if len(judged.results) != len(chunk):
            problems.append(f"{len(judged.results)} verdicts for {len(chunk)} images")
        # A missing verdict is a miss: pad so every drawn image is judged.
        found = [r.faces[0].top_label if r.faces else "" for r in judged.results[: len(chunk)]]
        verdicts.extend(found + [""] * (len(chunk) - len(found)))
    hits = {emotion: 0 for emotion in synthfaces.LABELS}
    confusion: dict[str, dict[str, int]] = {emotion: {} for emotion in synthfaces.LABELS}
    for (emotion, _), verdict in zip(drawn, verdicts, strict=True):
        hits[emotion] += verdict == emotion
        confusion[emotion][verdict] = confusion[emotion].get(verdict, 0) + 1
    agree = sum(hits.values())
    # Every image asked for counts, drawn or not: a generator that returns nothing agrees on nothing.
    total = per_label * len(synthfaces.LABELS)
    agreement = agree / total if total else 0.0
    chance = 1.0 / len(synthfaces.LABELS)
    passed = above_chance(agree, total, chance) and not problems
    random = generator.random_weights or classifier.random_weights
    detail = {
        "generator": generator.model_id,
        "classifier": classifier.model_id,
        "images": total,
        "drawn": len(drawn),
        "agree": agree,
        "problems": problems,
        "chance": round(chance, 4),
        "prompt": PROMPT_TEMPLATE,
        "domain": "synthetic faces",
        "per_label": {k: f"{v}/{per_label}" for k, v in hits.items()},
        "confusion": confusion,
        "weights": {generator.model_id: generator.weights_origin, classifier.model_id: classifier.weights_origin},
    }
    return [
        Measurement(
            TEXT_TO_IMAGE,
            agreement,
            "fraction",
            passed,
            {**detail, "role": "generator", "opponent": classifier.model_id},
            model_id=generator.model_id,
            random_weights=random,
        ),
        Measurement(
            EMOTION_CLASSIFICATION,
            agreement,
            "fraction",
            passed,
            {**detail, "role": "judge", "opponent": generator.model_id},
            model_id=classifier.model_id,
            random_weights=random,
        ),
    ]


PROBE = Probe(
    "match.emotion-agreement",
    MATCH,
    TEXT_TO_IMAGE,
    "quality",
    "generator draws each emotion, classifier judges; agreement above chance (p < 0.01)",
    emotion_agreement,
    target_capabilities=(TEXT_TO_IMAGE, EMOTION_CLASSIFICATION),
)
