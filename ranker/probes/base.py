"""What a probe is: a named check of one capability of a served model, run over gRPC.

A probe returns :class:`Measurement` values; the evaluation runner turns them into evidence
records. A probe that does not apply to the target (e.g. no int8 copy loaded) raises
:class:`NotApplicable`; a service that cannot be reached surfaces as
:class:`ranker.clients.ServiceUnavailable`. Probes never write evidence themselves.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ranker.catalog import ModelCard
from ranker.clients import ServiceClients

EMOTION = "emotion"
IMAGE = "image"
MATCH = "match"

# Capability ids the probes record (the catalog's capability ids for what they exercise).
EMOTION_CLASSIFICATION = "emotion-classification"
TEXT_TO_IMAGE = "text-to-image"


class NotApplicable(Exception):
    """The probe cannot say anything about this target (the message says why)."""


@dataclass(frozen=True)
class Target:
    """A model being served right now, as a probe sees it."""

    card: ModelCard
    service: str
    name: str
    weights_origin: str
    random_weights: bool
    service_version: str
    quality_domain: str = ""
    info: Any = None

    @property
    def model_id(self) -> str:
        """The catalog id of the served model."""
        return self.card.id


@dataclass(frozen=True)
class Measurement:
    """One observation made by a probe (``model_id`` set when it is about another target of a match)."""

    capability: str
    value: float
    unit: str
    passed: bool
    detail: dict[str, Any] = field(default_factory=dict)
    model_id: str | None = None
    random_weights: bool | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"measurement value must be finite, got {self.value!r}")

    def detail_text(self, limit: int = 4096) -> str:
        """The detail as compact JSON, cut to ``limit`` bytes."""
        text = json.dumps(self.detail, sort_keys=True, separators=(",", ":"), default=str)
        encoded = text.encode()
        if len(encoded) <= limit:
            return text
        return encoded[: limit - 3].decode(errors="ignore") + "..."


@dataclass(frozen=True)
class ProbeSettings:
    """Knobs of the probes (from :class:`ranker.settings.RankerSettings`)."""

    rpc_timeout: float = 20.0
    faces_per_label: int = 6
    match_seeds_per_label: int = 2
    match_steps: int = 0
    load_requests: int = 40
    load_rate_per_second: float = 20.0
    p99_bound_seconds: float = 0.5
    few_step_bound_seconds: float = 30.0
    seed: int = 0


@dataclass(frozen=True)
class ProbeContext:
    """What a probe may use: the service clients and the probe settings."""

    clients: ServiceClients
    settings: ProbeSettings


ProbeFn = Callable[[ProbeContext, Sequence[Target]], Awaitable[list[Measurement]]]


@dataclass(frozen=True)
class Probe:
    """A registered probe: its name, the service kind it needs, the capability it records, its kind.

    ``kind`` is "conformance" (does the served copy do what the contract says), "performance"
    (speed under a stated load) or "quality" (how good the outputs are; withheld for random weights).
    A match probe takes two targets (generator, classifier); the others take one.
    ``target_capabilities`` names the capability each target is observed on, in target order
    (empty: ``capability`` for every target).
    """

    name: str
    service: str
    capability: str
    kind: str
    description: str
    run: ProbeFn
    target_capabilities: tuple[str, ...] = ()

    def capability_of(self, index: int) -> str:
        """The capability recorded about the ``index``-th target."""
        if index < len(self.target_capabilities):
            return self.target_capabilities[index]
        return self.capability


def png_bytes(image: Image.Image) -> bytes:
    """Encode an image as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decode_image(data: bytes) -> Image.Image:
    """Decode an encoded image to RGB."""
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def binomial_tail(successes: int, trials: int, p: float) -> float:
    """P(X >= successes) for X ~ Binomial(trials, p): the one-sided p-value against chance."""
    if successes <= 0:
        return 1.0
    return float(sum(math.comb(trials, k) * p**k * (1 - p) ** (trials - k) for k in range(successes, trials + 1)))


def above_chance(successes: int, trials: int, chance: float, alpha: float = 0.01) -> bool:
    """True when ``successes`` out of ``trials`` beats ``chance`` at significance ``alpha``."""
    return trials > 0 and binomial_tail(successes, trials, chance) < alpha
