"""The ranker's core: catalog + evidence store + scoring policy → cards, scores, comparisons, leaderboard.

Used by the gRPC service (in executor threads: it reads SQLite) and by the command line.
Catalog facts enter scoring as in-memory records with source CATALOG, rebuilt from the YAML on
every call, so the cards stay the single source of truth and nothing is duplicated in the store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ranker.catalog import SLUG, Catalog, ModelCard
from ranker.compare import CapabilityEvidence, Comparison, EvidenceStats, ModelView, compare_views
from ranker.evidence import EvidenceRecord, EvidenceStore, Source
from ranker.scoring import ScoreResult, ScoringPolicy, date_value, score_model
from servicekit.errors import InvalidInput, NotFound


def check_model_id(field: str, value: str) -> str:
    """Reject an empty or malformed id with a message naming ``field``."""
    if not value:
        raise InvalidInput(f"{field}: must not be empty")
    if not SLUG.match(value):
        raise InvalidInput(f"{field}: malformed model id {value!r} (lower-case words joined by single hyphens)")
    return value


@dataclass(frozen=True)
class LeaderboardEntry:
    """One leaderboard row."""

    rank: int
    card: ModelCard
    score: ScoreResult


def _midnight(date_text: str) -> dt.datetime:
    day = dt.date.fromisoformat(date_text) if date_text else dt.date(1970, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def catalog_records(card: ModelCard) -> list[EvidenceRecord]:
    """A card's signals and dated facts as CATALOG evidence records."""
    records = [
        EvidenceRecord(
            model_id=card.id,
            capability="model",
            probe=f"{signal.component}.{signal.name}",
            value=signal.value,
            unit="fraction",
            passed=True,
            observed_at=_midnight(signal.provenance.date),
            source=Source.CATALOG,
            detail=f"{signal.provenance.note} [{signal.provenance.source}]".strip(),
        )
        for signal in card.signals
    ]
    for key in ("released", "updated"):
        day = card.fact_date(key)
        fact = card.facts.get(key)
        if day is None or fact is None:
            continue
        records.append(
            EvidenceRecord(
                model_id=card.id,
                capability="model",
                probe=f"freshness.{key}",
                value=date_value(day),
                unit="date",
                passed=True,
                observed_at=_midnight(fact.provenance.date),
                source=Source.CATALOG,
                detail=f"{key} {day.isoformat()} [{fact.provenance.source}]",
            )
        )
    return records


def evidence_stats(records: Iterable[EvidenceRecord]) -> EvidenceStats:
    """Count records by source and outcome."""
    counts = dict.fromkeys(Source, 0)
    passed = evidence = unavailable = random = matched = 0
    newest: dt.datetime | None = None
    for r in records:
        counts[r.source] += 1
        if r.source in (Source.PROBE, Source.MATCH):
            if r.counts_as_evidence:
                evidence += 1
                passed += r.passed
            else:
                unavailable += 1
        random += r.random_weights
        # A match that could not run (a service was down) is not a match.
        matched += r.source is Source.MATCH and r.counts_as_evidence
        newest = r.observed_at if newest is None or r.observed_at > newest else newest
    return EvidenceStats(
        catalog=counts[Source.CATALOG],
        probe=counts[Source.PROBE],
        submitted=counts[Source.SUBMITTED],
        match=counts[Source.MATCH],
        probes_passed=passed,
        probes_evidence=evidence,
        unavailable=unavailable,
        random_weights=random,
        times_matched=matched,
        last_updated=newest,
    )


def capability_evidence(records: Iterable[EvidenceRecord]) -> dict[str, CapabilityEvidence]:
    """Evidence per capability id (live probes and matches mark a capability as probed)."""
    out: dict[str, CapabilityEvidence] = {}
    for r in records:
        current = out.get(r.capability, CapabilityEvidence())
        live = r.source in (Source.PROBE, Source.MATCH) and r.counts_as_evidence
        out[r.capability] = CapabilityEvidence(
            records=current.records + (1 if live else 0),
            passed=current.passed + (1 if live and r.passed else 0),
            probed=current.probed or live,
        )
    return out


def utc_today() -> dt.date:
    """Today's date in UTC."""
    return dt.datetime.now(dt.UTC).date()


class Ranker:
    """Answers questions about models from the catalog and the evidence store."""

    def __init__(
        self,
        catalog: Catalog,
        store: EvidenceStore,
        policy: ScoringPolicy | None = None,
        *,
        samples: int = 1000,
        seed: int = 0,
        as_of: dt.date | None = None,
        today: Callable[[], dt.date] = utc_today,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.policy = policy or ScoringPolicy()
        self.samples = samples
        self.seed = seed
        self._as_of = as_of
        self._today = today

    def as_of(self) -> dt.date:
        """The date freshness is measured at (pinned, or today in UTC)."""
        return self._as_of or self._today()

    def at(self, as_of: dt.date) -> Ranker:
        """The same catalog, store and policy, scoring as of ``as_of``."""
        return Ranker(self.catalog, self.store, self.policy, samples=self.samples, seed=self.seed, as_of=as_of)

    def comparison_as_of(self, model_a: str, model_b: str) -> dt.date:
        """The date a comparison of these two models is scored at.

        Two reference cards are compared as of the day their source page was read (from the catalog):
        the comparison restates that page, and today's date would let freshness decay it away from the
        page. Any other pair, or a ranker pinned to a date, uses :meth:`as_of`.
        """
        a, b = self.card(model_a, "model_a"), self.card(model_b, "model_b")
        if self._as_of is None and a.reference and b.reference:
            return self.catalog.read_on((a.id, b.id))
        return self.as_of()

    def card(self, model_id: str, field: str = "model_id") -> ModelCard:
        """The card of ``model_id``; InvalidInput for a malformed id, NotFound for an unknown one."""
        check_model_id(field, model_id)
        card = self.catalog.get(model_id)
        if card is None:
            raise NotFound(f"{field}: unknown model {model_id!r}")
        return card

    def check_artifact_type(self, artifact_type: str) -> None:
        """Reject an artifact type no card has (empty means all)."""
        if artifact_type and artifact_type not in self.catalog.artifact_types:
            known = ", ".join(sorted(self.catalog.artifact_types))
            raise InvalidInput(f"artifact_type: unknown artifact type {artifact_type!r} (known: {known})")

    def list_models(self, artifact_type: str = "") -> list[ModelCard]:
        """Cards sorted by id, optionally of one artifact type."""
        self.check_artifact_type(artifact_type)
        return [c for c in self.catalog if not artifact_type or c.artifact_type == artifact_type]

    def records(self, model_id: str) -> list[EvidenceRecord]:
        """All evidence about a model: its catalog records, then the stored ones."""
        card = self.card(model_id)
        return catalog_records(card) + self.store.records(model_id)

    def score(self, model_id: str) -> ScoreResult:
        """The model's current score."""
        card = self.card(model_id)
        return self._score(card, self.records(model_id))

    def _score(self, card: ModelCard, records: list[EvidenceRecord]) -> ScoreResult:
        return score_model(
            card.id,
            records,
            weights=self.policy.weights_for(card.artifact_type),
            policy=self.policy,
            as_of=self.as_of(),
            samples=self.samples,
            seed=self.seed,
        )

    def served_as(self, card: ModelCard) -> list[str]:
        """The card itself (if probed) and its related variants that have live evidence."""
        names = []
        for candidate in (card, *self.catalog.variants_of(card.id)):
            stats = evidence_stats(self.store.records(candidate.id))
            if stats.live:
                names.append(f"{candidate.id} ({candidate.weights.origin})")
        return names

    def view(self, model_id: str, field: str = "model_id") -> ModelView:
        """Card, score and evidence counts of one model."""
        card = self.card(model_id, field)
        records = catalog_records(card) + self.store.records(card.id)
        return ModelView(
            card=card,
            score=self._score(card, records),
            stats=evidence_stats(records),
            capabilities=capability_evidence(records),
            served_as=tuple(self.served_as(card)),
        )

    def compare(self, model_a: str, model_b: str) -> Comparison:
        """Compare two different models."""
        check_model_id("model_a", model_a)
        check_model_id("model_b", model_b)
        if model_a == model_b:
            raise InvalidInput(f"model_b: must differ from model_a (both are {model_a!r})")
        as_of = self.comparison_as_of(model_a, model_b)
        if as_of == self.as_of():
            return compare_views(self.view(model_a, "model_a"), self.view(model_b, "model_b"))
        pinned = self.at(as_of)
        comparison = compare_views(pinned.view(model_a, "model_a"), pinned.view(model_b, "model_b"))
        note = f"Scored as of {as_of.isoformat()}, the day the reference page was read."
        return dataclasses.replace(comparison, notes=(*comparison.notes, note))

    def leaderboard(self, artifact_type: str = "", limit: int = 0) -> list[LeaderboardEntry]:
        """Models by descending score (ties by id); equal rounded scores share a rank."""
        cards = self.list_models(artifact_type)
        scored = sorted(((self.score(c.id), c) for c in cards), key=lambda sc: (-round(sc[0].score, 6), sc[1].id))
        entries: list[LeaderboardEntry] = []
        for position, (result, card) in enumerate(scored, start=1):
            rank = position
            if entries and round(entries[-1].score.score, 6) == round(result.score, 6):
                rank = entries[-1].rank
            entries.append(LeaderboardEntry(rank=rank, card=card, score=result))
        return entries[:limit] if limit else entries
