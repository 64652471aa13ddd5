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
from ranker.evidence import EvidenceRecord, EvidenceStore, HistoryEntry, Source, utc_now
from ranker.pairwise import PAIRWISE_PROBE, RATING_PROBE, rating_records, ratings_of
from ranker.scoring import ScoreResult, ScoringPolicy, contribution, date_value, point_score, score_model
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


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in UTC (what "as of D" includes)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(days=1, microseconds=-1)


@dataclass(frozen=True)
class Influence:
    """How much one record moved a score: the score with it minus the score without it."""

    record: EvidenceRecord
    delta: float
    component: str


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


def measured_here(record: EvidenceRecord) -> bool:
    """True for records of this ranker's own probes and matches (not imported games, not the computed rating)."""
    return record.source in (Source.PROBE, Source.MATCH) and not record.source_ref and record.probe != RATING_PROBE


def evidence_stats(records: Iterable[EvidenceRecord]) -> EvidenceStats:
    """Count records by source and outcome (live counts only what was measured here)."""
    counts = dict.fromkeys(Source, 0)
    passed = evidence = unavailable = random = matched = 0
    newest: dt.datetime | None = None
    for r in records:
        counts[r.source] += r.probe != RATING_PROBE
        if measured_here(r):
            if r.counts_as_evidence:
                evidence += 1
                passed += r.passed
            else:
                unavailable += 1
        random += r.random_weights
        # A match that could not run (a service was down) is not a match; a rating summarises matches.
        matched += r.source is Source.MATCH and r.counts_as_evidence and r.probe != RATING_PROBE
        newest = r.observed_at if newest is None or r.observed_at > newest else newest
    return EvidenceStats(
        catalog=counts[Source.CATALOG],
        probe=counts[Source.PROBE],
        submitted=counts[Source.SUBMITTED],
        match=counts[Source.MATCH],
        imported=counts[Source.IMPORTED],
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
        live = measured_here(r) and r.counts_as_evidence
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
        self._rating_cache: dict[tuple[object, ...], dict[str, EvidenceRecord]] = {}

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

    def records(self, model_id: str, until: dt.datetime | None = None) -> list[EvidenceRecord]:
        """All evidence about a model that counts: catalog records, stored ones, its pairwise rating.

        ``until`` keeps only what was observed by then (for "as of" scores); records of retracted
        sources never count.
        """
        card = self.card(model_id)
        own = [r for r in catalog_records(card) if until is None or r.observed_at <= until]
        own += self.store.records(model_id, observed_until=until)
        rating = self._ratings(until).get(model_id)
        return own + ([rating] if rating is not None else [])

    def _ratings(self, until: dt.datetime | None) -> dict[str, EvidenceRecord]:
        """Bradley-Terry rating records of every model with pairwise outcomes (memoised per data)."""
        games = self.store.records(probe=PAIRWISE_PROBE, observed_until=until)
        key = (until, len(games), games[-1].id if games else None, len(self.store.retractions()))
        cached = self._rating_cache.get(key)
        if cached is None:
            ratings = ratings_of(games, samples=min(self.samples, 200), seed=self.seed)
            stamp = max((g.observed_at for g in games), default=until or utc_now())
            cached = rating_records(ratings, stamp)
            self._rating_cache = {key: cached}
        return cached

    def score(self, model_id: str, as_of: dt.date | None = None) -> ScoreResult:
        """The model's score now, or as of the end of day ``as_of`` (evidence observed by then, freshness then)."""
        card = self.card(model_id)
        if as_of is None:
            return self._score(card, self.records(model_id))
        return self._score(card, self.records(model_id, end_of_day(as_of)), as_of)

    def _score(self, card: ModelCard, records: list[EvidenceRecord], as_of: dt.date | None = None) -> ScoreResult:
        return score_model(
            card.id,
            records,
            weights=self.policy.weights_for(card.artifact_type),
            policy=self.policy,
            as_of=as_of or self.as_of(),
            samples=self.samples,
            seed=self.seed,
        )

    def explain(self, model_id: str, limit: int = 5) -> tuple[ScoreResult, list[Influence]]:
        """The score and the records that moved it most (leave-one-out change of the point score)."""
        card = self.card(model_id)
        records = self.records(model_id)
        weights = self.policy.weights_for(card.artifact_type)
        as_of = self.as_of()
        full = point_score(records, weights, self.policy, as_of)
        influences = []
        for i, record in enumerate(records):
            found = contribution(record, as_of, self.policy.half_life_days)
            if found is None:
                continue
            without = point_score(records[:i] + records[i + 1 :], weights, self.policy, as_of)
            influences.append(Influence(record, full - without, found[0]))
        influences.sort(key=lambda x: (-abs(x.delta), x.record.probe))
        return self._score(card, records), influences[:limit] if limit else influences

    def record_history(self, model_ids: list[str], computed_at: dt.datetime | None = None) -> list[HistoryEntry]:
        """Score the models now and append the scores to the history."""
        when = computed_at or utc_now()
        entries = []
        for model_id in model_ids:
            result = self.score(model_id)
            entries.append(
                HistoryEntry(
                    model_id=model_id,
                    computed_at=when,
                    as_of=result.as_of,
                    score=result.score,
                    low=result.low,
                    high=result.high,
                    components={c.name: c.value for c in result.components},
                )
            )
        self.store.add_history(entries)
        return entries

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
        records = self.records(card.id)
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
