"""The model catalog: one YAML model card per file, validated on load.

Every fact a card states carries its provenance (``source`` and ``date``). A card is either a
reference model known from public sources (``reference: true``) or a variant this project can
serve, which names the reference model it ``relates_to`` and says where its weights come from.
Validation errors name the file and the dotted field path, e.g.
``flux-1-pro.yaml: capabilities[2].date: expected YYYY-MM-DD, got '2024/08/01'``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BUNDLED_DIR = Path(__file__).resolve().parent / "catalog"

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

WEIGHTS_ORIGINS = ("unspecified", "random", "synthetic-trained", "pretrained")
SIGNAL_COMPONENTS = ("adoption", "quality", "ecosystem")
SERVICES = ("emotion", "image")
CAPABILITY_ORIGINS = ("reference", "catalog")
FACT_KEYS = (
    "publisher",
    "pricing",
    "license",
    "released",
    "updated",
    "parameters",
    "architecture",
    "library",
    "base_model",
)


class CatalogError(ValueError):
    """A model card is malformed; the message names the file and field of every problem."""


@dataclass(frozen=True)
class Provenance:
    """Where a fact comes from: a URL or document, its date (YYYY-MM-DD, may be empty) and a note."""

    source: str
    date: str = ""
    note: str = ""


@dataclass(frozen=True)
class Fact:
    """A plain fact about a model (publisher, pricing, license, release date, ...) with its provenance."""

    value: str
    provenance: Provenance


@dataclass(frozen=True)
class Capability:
    """One decomposed capability; ``origin`` says whether the reference page lists it or this catalog adds it."""

    id: str
    name: str
    description: str
    provenance: Provenance
    origin: str = "reference"
    probes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signal:
    """A curated observation of one score component, in [0, 1], with its provenance."""

    component: str
    name: str
    value: float
    provenance: Provenance


@dataclass(frozen=True)
class Weights:
    """Where the weights of the served copy come from."""

    origin: str = "unspecified"
    provenance: Provenance | None = None

    @property
    def random(self) -> bool:
        """True for random weights (outputs carry no meaning)."""
        return self.origin == "random"


@dataclass(frozen=True)
class ServedBy:
    """Which emoflux service serves the model and under which names it reports it."""

    service: str
    names: tuple[str, ...]
    default: bool = False


@dataclass(frozen=True)
class ModelCard:
    """A catalog entry."""

    id: str
    display_name: str
    type: str
    artifact_type: str
    description: str
    provenance: Provenance
    reference: bool
    facts: Mapping[str, Fact]
    capabilities: tuple[Capability, ...]
    signals: tuple[Signal, ...] = ()
    weights: Weights = field(default_factory=Weights)
    relates_to: str | None = None
    relation: str = ""
    served_by: ServedBy | None = None
    source_file: str = ""
    hub_id: str = ""

    def fact(self, key: str) -> str:
        """The value of a fact, or "" when the card does not state it."""
        found = self.facts.get(key)
        return found.value if found else ""

    def fact_date(self, key: str) -> dt.date | None:
        """A date-valued fact (``released``, ``updated``) as a date, or None."""
        value = self.fact(key)
        return dt.date.fromisoformat(value) if value else None

    def capability(self, capability_id: str) -> Capability | None:
        """The capability with this id, if the card lists it."""
        return next((c for c in self.capabilities if c.id == capability_id), None)


@dataclass
class _Checker:
    """Collects the problems of one file, each prefixed with the file name and field path."""

    file: str
    problems: list[str] = field(default_factory=list)

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{self.file}: {path}: {message}")

    def mapping(self, value: Any, path: str, required: Iterable[str], optional: Iterable[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {type(value).__name__}")
            return {}
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.fail(_join(path, str(key)), f"unknown field (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "required field is missing")
        return value

    def text(self, value: Any, path: str, *, allow_empty: bool = False) -> str:
        if value is None and allow_empty:
            return ""
        if isinstance(value, dt.date):  # YAML turns bare dates into date objects
            return value.isoformat()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.fail(path, f"expected text, got {type(value).__name__}")
            return ""
        if not value.strip() and not allow_empty:
            self.fail(path, "must not be empty")
        return value.strip()

    def slug(self, value: Any, path: str) -> str:
        text = self.text(value, path)
        if text and not SLUG.match(text):
            self.fail(path, f"expected a lower-case slug like 'flux-1-pro', got {text!r}")
        return text

    def date(self, value: Any, path: str, *, allow_empty: bool) -> str:
        text = self.text(value, path, allow_empty=allow_empty)
        if not text:
            return ""
        if not DATE.match(text):
            self.fail(path, f"expected YYYY-MM-DD, got {text!r}")
            return ""
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            self.fail(path, f"not a calendar date: {text!r}")
            return ""
        return text

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {value!r}")
            return False
        return value

    def choice(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        text = self.text(value, path)
        if text and text not in choices:
            self.fail(path, f"expected one of {', '.join(choices)}, got {text!r}")
        return text

    def provenance(self, value: dict[str, Any], path: str) -> Provenance:
        """Read ``source``/``date``/``note`` from a mapping that also holds other fields."""
        source = self.text(value.get("source"), _join(path, "source")) if "source" in value else ""
        date = self.date(value.get("date"), _join(path, "date"), allow_empty=False) if "date" in value else ""
        note = self.text(value.get("note"), _join(path, "note"), allow_empty=True)
        return Provenance(source=source, date=date, note=note)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_CARD_REQUIRED = ("id", "display_name", "type", "artifact_type", "description", "source", "date", "reference")
_CARD_OPTIONAL = (
    "facts",
    "capabilities",
    "signals",
    "weights",
    "relates_to",
    "relation",
    "served_by",
    "note",
    "hub_id",
)
_PROV_FIELDS = ("source", "date", "note")


def parse_card(data: Any, file: str) -> ModelCard:
    """Validate one card's YAML data; raise :class:`CatalogError` listing every problem."""
    check = _Checker(file)
    raw = check.mapping(data, "", _CARD_REQUIRED, _CARD_OPTIONAL)
    if not raw:
        raise CatalogError("\n".join(check.problems or [f"{file}: empty card"]))
    card_id = check.slug(raw.get("id"), "id")
    stem = Path(file).stem
    if card_id and stem != card_id:
        check.fail("id", f"must match the file name {stem!r}, got {card_id!r}")
    facts: dict[str, Fact] = {}
    raw_facts = raw.get("facts", {}) or {}
    if not isinstance(raw_facts, dict):
        check.fail("facts", "expected a mapping")
        raw_facts = {}
    for key, value in raw_facts.items():
        path = f"facts.{key}"
        if key not in FACT_KEYS:
            check.fail(path, f"unknown fact (allowed: {', '.join(FACT_KEYS)})")
            continue
        item = check.mapping(value, path, ("value", "source", "date"), ("note",))
        if not item:
            continue
        text = (
            check.date(item.get("value"), f"{path}.value", allow_empty=False)
            if key in ("released", "updated")
            else check.text(item.get("value"), f"{path}.value")
        )
        facts[key] = Fact(text, check.provenance(item, path))

    capabilities: list[Capability] = []
    raw_caps = raw.get("capabilities", []) or []
    if not isinstance(raw_caps, list):
        check.fail("capabilities", "expected a list")
        raw_caps = []
    seen: set[str] = set()
    for i, value in enumerate(raw_caps):
        path = f"capabilities[{i}]"
        item = check.mapping(value, path, ("id", "name", "description", "source", "date"), ("origin", "probes", "note"))
        if not item:
            continue
        cap_id = check.slug(item.get("id"), f"{path}.id")
        if cap_id in seen:
            check.fail(f"{path}.id", f"duplicate capability id {cap_id!r}")
        seen.add(cap_id)
        probes = item.get("probes", []) or []
        if not isinstance(probes, list) or not all(isinstance(p, str) for p in probes):
            check.fail(f"{path}.probes", "expected a list of probe names")
            probes = []
        capabilities.append(
            Capability(
                id=cap_id,
                name=check.text(item.get("name"), f"{path}.name"),
                description=check.text(item.get("description"), f"{path}.description"),
                provenance=check.provenance(item, path),
                origin=check.choice(item.get("origin", "reference"), f"{path}.origin", CAPABILITY_ORIGINS),
                probes=tuple(probes),
            )
        )

    signals: list[Signal] = []
    raw_signals = raw.get("signals", []) or []
    if not isinstance(raw_signals, list):
        check.fail("signals", "expected a list")
        raw_signals = []
    for i, value in enumerate(raw_signals):
        path = f"signals[{i}]"
        item = check.mapping(value, path, ("component", "name", "value", "source", "date"), ("note",))
        if not item:
            continue
        number = item.get("value")
        if isinstance(number, bool) or not isinstance(number, int | float) or not 0.0 <= float(number) <= 1.0:
            check.fail(f"{path}.value", f"expected a number in [0, 1], got {number!r}")
            number = 0.0
        signals.append(
            Signal(
                component=check.choice(item.get("component"), f"{path}.component", SIGNAL_COMPONENTS),
                name=check.slug(item.get("name"), f"{path}.name"),
                value=float(number),
                provenance=check.provenance(item, path),
            )
        )

    weights = Weights()
    if "weights" in raw:
        item = check.mapping(raw["weights"], "weights", ("origin",), _PROV_FIELDS)
        if item:
            origin = check.choice(item.get("origin"), "weights.origin", WEIGHTS_ORIGINS)
            prov = check.provenance(item, "weights") if "source" in item else None
            if origin in ("random", "synthetic-trained", "pretrained") and prov is None:
                check.fail("weights.source", f"required for weights origin {origin!r}")
            weights = Weights(origin=origin, provenance=prov)

    served_by = None
    if "served_by" in raw:
        item = check.mapping(raw["served_by"], "served_by", ("service", "names"), ("default",))
        if item:
            names = item.get("names")
            if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
                check.fail("served_by.names", "expected a non-empty list of names")
                names = []
            served_by = ServedBy(
                service=check.choice(item.get("service"), "served_by.service", SERVICES),
                names=tuple(names),
                default=check.boolean(item.get("default", False), "served_by.default"),
            )

    reference = check.boolean(raw.get("reference"), "reference")
    relates_to = raw.get("relates_to")
    if relates_to is not None:
        relates_to = check.slug(relates_to, "relates_to")
    if not reference and relates_to is None:
        check.fail("relates_to", "a card that is not a reference model must name the reference model it relates to")
    if served_by is not None and weights.origin == "unspecified":
        check.fail("weights.origin", "a served variant must say where its weights come from")

    card = ModelCard(
        id=card_id,
        display_name=check.text(raw.get("display_name"), "display_name"),
        type=check.text(raw.get("type"), "type"),
        artifact_type=check.slug(raw.get("artifact_type"), "artifact_type"),
        description=" ".join(check.text(raw.get("description"), "description").split()),
        provenance=check.provenance(raw, ""),
        reference=reference,
        facts=facts,
        capabilities=tuple(sorted(capabilities, key=lambda c: c.id)),
        signals=tuple(signals),
        weights=weights,
        relates_to=relates_to or None,
        relation=check.text(raw.get("relation"), "relation", allow_empty=True),
        served_by=served_by,
        source_file=file,
        hub_id=check.text(raw.get("hub_id"), "hub_id", allow_empty=True),
    )
    if check.problems:
        raise CatalogError("\n".join(check.problems))
    return card


class Catalog:
    """All model cards, by id, with cross-card checks (unique ids, ``relates_to`` targets exist)."""

    def __init__(self, cards: Iterable[ModelCard]) -> None:
        self._cards: dict[str, ModelCard] = {}
        problems: list[str] = []
        for card in cards:
            if card.id in self._cards:
                other = self._cards[card.id].source_file
                problems.append(f"{card.source_file}: id: duplicate model id {card.id!r} (also in {other})")
            self._cards[card.id] = card
        for card in self._cards.values():
            if card.relates_to is not None and card.relates_to not in self._cards:
                problems.append(f"{card.source_file}: relates_to: unknown model {card.relates_to!r}")
        if problems:
            raise CatalogError("\n".join(problems))

    def __iter__(self) -> Iterator[ModelCard]:
        return iter(sorted(self._cards.values(), key=lambda c: c.id))

    def __len__(self) -> int:
        return len(self._cards)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._cards

    def get(self, model_id: str) -> ModelCard | None:
        """The card with this id, or None."""
        return self._cards.get(model_id)

    @property
    def artifact_types(self) -> frozenset[str]:
        """Every artifact type some card has."""
        return frozenset(c.artifact_type for c in self._cards.values())

    def read_on(self, model_ids: Iterable[str]) -> dt.date:
        """The latest date on which the cards of ``model_ids`` were read from their sources.

        Raises:
            ValueError: a card is unknown or its provenance has no date.
        """
        dates = []
        for model_id in model_ids:
            card = self._cards.get(model_id)
            if card is None or not card.provenance.date:
                raise ValueError(f"{model_id!r}: no card with a provenance date")
            dates.append(dt.date.fromisoformat(card.provenance.date))
        return max(dates)

    def by_hub_id(self, hub_id: str) -> ModelCard | None:
        """The card that names ``hub_id`` (case-insensitive, as the hub treats ids), or None."""
        wanted = hub_id.lower()
        return next((c for c in self if c.hub_id and c.hub_id.lower() == wanted), None)

    def variants_of(self, model_id: str) -> list[ModelCard]:
        """Cards that relate to ``model_id`` (its servable variants), sorted by id."""
        return [c for c in self if c.relates_to == model_id]

    def served(self, service: str) -> list[ModelCard]:
        """Cards served by ``service`` ("emotion" or "image"), sorted by id."""
        return [c for c in self if c.served_by is not None and c.served_by.service == service]

    def match_served(self, service: str, name: str, origin: str) -> ModelCard | None:
        """The card of what a service reports serving: ``name`` (model or variant) with weights ``origin``.

        Both must agree (a service that does not report the origin is taken at its word): the same
        variant name can carry random or trained weights, and those are different cards.
        """
        for card in self.served(service):
            assert card.served_by is not None
            if name in card.served_by.names and origin in ("unspecified", card.weights.origin):
                return card
        return None


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load and validate every ``*.yaml`` card in ``directory`` (default: the bundled catalog)."""
    directory = BUNDLED_DIR if directory is None else directory
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CatalogError(f"{directory}: no *.yaml model cards found")
    cards: list[ModelCard] = []
    problems: list[str] = []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML: {exc}")
            continue
        try:
            cards.append(parse_card(data, path.name))
        except CatalogError as exc:
            problems.append(str(exc))
    if problems:
        raise CatalogError("\n".join(problems))
    return Catalog(cards)
