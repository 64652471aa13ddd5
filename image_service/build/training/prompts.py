"""Prompts used to train and evaluate the tiny FLUX pipeline on the seven expressions."""

from __future__ import annotations

import numpy as np

from image_service.build.tinyflux import EMOTION_WORDS

# The label order of the synthetic-face dataset and the emotion classifier.
LABELS: tuple[str, ...] = tuple(EMOTION_WORDS)

# "{w}" is replaced by a word naming the expression.
TEMPLATES: tuple[str, ...] = (
    "a photo of a {w} face",
    "a drawing of a {w} face",
    "a cartoon of a {w} face",
    "a {w} face",
    "a {w} person",
    "{w}",
    "a face showing {w}",
    "a portrait of a {w} person",
)

# The prompt the quality bar is measured on (and the one sampled most in training).
EVAL_TEMPLATE = TEMPLATES[0]


def eval_prompt(label: str) -> str:
    """The canonical prompt for ``label``, e.g. ``"a photo of a sad face"``."""
    return EVAL_TEMPLATE.format(w=label)


def training_prompt(label: int, rng: np.random.Generator, canonical_p: float = 0.5) -> str:
    """Return a training prompt for label index ``label``.

    The canonical prompt with probability ``canonical_p``, else a random template filled with a
    random word for that expression.
    """
    name = LABELS[label]
    if rng.random() < canonical_p:
        return eval_prompt(name)
    words = EMOTION_WORDS[name]
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    return template.format(w=words[int(rng.integers(len(words)))])
