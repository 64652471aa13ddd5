"""Head-to-head comparison: the reference page's rows, a leader per row, and a verdict sentence.

Pure functions of two :class:`ModelView` values. The first nine rows are the reference page's
(Type, Score, Adoption, Quality, Ecosystem, Match Graph, Pricing, Capabilities, Times Matched),
followed by Freshness, the capabilities both models list, and plain facts. A component row has a
leader only when both sides have evidence for it; a side that rests on the prior is not compared
("—" leader), so one-sided evidence is never presented as a lead.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ranker.catalog import ModelCard
from ranker.scoring import COMPONENTS, ScoreResult

# Scores closer than this, with overlapping intervals, are a tie (the contract's rule).
TIE_POINTS = 1.0
# Component values closer than this are a tie on that row.
COMPONENT_EPSILON = 0.005
SCORE_COMPONENT_ROWS = ("adoption", "quality", "ecosystem", "match_graph")


class Leader(enum.StrEnum):
    """Which side of a row is ahead."""

    A = "a"
    B = "b"
    TIE = "tie"
    NONE = "none"


@dataclass(frozen=True)
class EvidenceStats:
    """Counts of a model's evidence, by source and outcome."""

    catalog: int = 0
    probe: int = 0
    submitted: int = 0
    match: int = 0
    imported: int = 0
    probes_passed: int = 0
    probes_evidence: int = 0
    unavailable: int = 0
    random_weights: int = 0
    times_matched: int = 0
    last_updated: dt.datetime | None = None

    @property
    def total(self) -> int:
        """All records."""
        return self.catalog + self.probe + self.submitted + self.match + self.imported

    @property
    def live(self) -> int:
        """Records from live probes and matches that count as evidence."""
        return self.probes_evidence


@dataclass(frozen=True)
class CapabilityEvidence:
    """Evidence about one capability of a model."""

    records: int = 0
    passed: int = 0
    probed: bool = False


@dataclass(frozen=True)
class ModelView:
    """Everything a comparison needs about one model."""

    card: ModelCard
    score: ScoreResult
    stats: EvidenceStats
    capabilities: Mapping[str, CapabilityEvidence] = field(default_factory=dict)
    served_as: Sequence[str] = ()

    @property
    def name(self) -> str:
        """Display name."""
        return self.card.display_name


@dataclass(frozen=True)
class Row:
    """One comparison row."""

    name: str
    value_a: str
    value_b: str
    leader: Leader


@dataclass(frozen=True)
class Comparison:
    """A head-to-head comparison of model A and model B."""

    a: ModelView
    b: ModelView
    rows: tuple[Row, ...]
    winner: str
    verdict: str
    headline: str
    summary: str
    notes: tuple[str, ...] = ()

    def row(self, name: str) -> Row:
        """The row called ``name``."""
        return next(r for r in self.rows if r.name == name)


def display_score(score: float) -> str:
    """A score as the reference page shows it: "58/100"."""
    return f"{round(score)}/100"


def _component_text(view: ModelView, name: str) -> str:
    component = view.score.component(name)
    return f"{component.value:.2f}" + (" (prior)" if component.from_prior else "")


def _component_leader(a: ModelView, b: ModelView, name: str) -> Leader:
    ca, cb = a.score.component(name), b.score.component(name)
    if ca.from_prior or cb.from_prior:
        return Leader.NONE
    if abs(ca.value - cb.value) <= COMPONENT_EPSILON:
        return Leader.TIE
    return Leader.A if ca.value > cb.value else Leader.B


def score_leader(a: ScoreResult, b: ScoreResult) -> Leader:
    """TIE when the scores differ by under a point and their intervals overlap; else the higher one."""
    overlap = a.low <= b.high and b.low <= a.high
    if abs(a.score - b.score) < TIE_POINTS and overlap:
        return Leader.TIE
    if a.score == b.score:
        return Leader.TIE
    return Leader.A if a.score > b.score else Leader.B


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _capability_text(view: ModelView, capability_id: str) -> str:
    evidence = view.capabilities.get(capability_id, CapabilityEvidence())
    if evidence.probed:
        return f"probed: {evidence.passed}/{evidence.records} passed"
    return "claimed"


def _capability_leader(a: ModelView, b: ModelView, capability_id: str) -> Leader:
    ea = a.capabilities.get(capability_id, CapabilityEvidence())
    eb = b.capabilities.get(capability_id, CapabilityEvidence())
    if not (ea.probed and eb.probed and ea.records and eb.records):
        return Leader.NONE
    ra, rb = ea.passed / ea.records, eb.passed / eb.records
    if abs(ra - rb) < 1e-9:
        return Leader.TIE
    return Leader.A if ra > rb else Leader.B


def build_rows(a: ModelView, b: ModelView) -> tuple[Row, ...]:
    """The comparison rows (see the module docstring for their order)."""
    rows = [
        Row("Type", a.card.type, b.card.type, Leader.NONE),
        Row("Score", display_score(a.score.score), display_score(b.score.score), score_leader(a.score, b.score)),
    ]
    for name in SCORE_COMPONENT_ROWS:
        label = a.score.component(name).label
        rows.append(Row(label, _component_text(a, name), _component_text(b, name), _component_leader(a, b, name)))
    rows += [
        Row("Pricing", a.card.fact("pricing") or "—", b.card.fact("pricing") or "—", Leader.NONE),
        Row(
            "Capabilities",
            f"{len(a.card.capabilities)} decomposed",
            f"{len(b.card.capabilities)} decomposed",
            Leader.NONE,
        ),
        Row("Times Matched", str(a.stats.times_matched), str(b.stats.times_matched), Leader.NONE),
        Row(
            "Freshness",
            _component_text(a, "freshness"),
            _component_text(b, "freshness"),
            _component_leader(a, b, "freshness"),
        ),
    ]
    shared = sorted({c.id for c in a.card.capabilities} & {c.id for c in b.card.capabilities})
    for capability_id in shared:
        cap = a.card.capability(capability_id)
        assert cap is not None
        rows.append(
            Row(
                cap.name,
                _capability_text(a, capability_id),
                _capability_text(b, capability_id),
                _capability_leader(a, b, capability_id),
            )
        )
    rows += [
        Row("Publisher", a.card.fact("publisher") or "—", b.card.fact("publisher") or "—", Leader.NONE),
        Row("License", a.card.fact("license") or "—", b.card.fact("license") or "—", Leader.NONE),
        Row("Weights", a.card.weights.origin, b.card.weights.origin, Leader.NONE),
        Row("Evidence records", str(a.stats.total), str(b.stats.total), Leader.NONE),
        Row("Served here as", ", ".join(a.served_as) or "—", ", ".join(b.served_as) or "—", Leader.NONE),
    ]
    return tuple(rows)


def _leads(rows: Sequence[Row], side: Leader) -> list[str]:
    wanted = {"Adoption", "Quality", "Ecosystem", "Match Graph", "Freshness"}
    return [r.name.lower() for r in rows if r.name in wanted and r.leader is side]


def build_verdict(a: ModelView, b: ModelView, rows: Sequence[Row]) -> tuple[str, str, str]:
    """(winner id or "", verdict sentence, summary line) in the reference page's form."""
    sa, sb = display_score(a.score.score), display_score(b.score.score)
    leader = score_leader(a.score, b.score)
    notes: list[str] = []
    if leader is Leader.TIE:
        winner = ""
        verdict = (
            f"{a.name} and {b.name} are tied at {sa} vs {sb}: the difference is under "
            f"{TIE_POINTS:g} point and within the uncertainty."
        )
        summary = f"{a.name} and {b.name} are tied at {sa} vs {sb}."
    else:
        w, l_, w_side, l_side = (a, b, Leader.A, Leader.B) if leader is Leader.A else (b, a, Leader.B, Leader.A)
        winner = w.card.id
        sw, sl = display_score(w.score.score), display_score(l_.score.score)
        summary = f"{w.name} ranks higher at {sw} vs {l_.name} at {sl}."
        verdict = f"{w.name} scores higher at {sw} vs {l_.name} at {sl}."
        lead_w, lead_l = _leads(rows, w_side), _leads(rows, l_side)
        if lead_l and lead_w:
            verdict += f" {l_.name} leads on {_join(lead_l)}, while {w.name} is stronger on {_join(lead_w)}."
        elif lead_w:
            verdict += f" {w.name} is stronger on {_join(lead_w)}."
        elif lead_l:
            verdict += f" {l_.name} leads on {_join(lead_l)}, but {w.name} is ahead overall."
        else:
            verdict += " Neither leads on a component both have evidence for; the difference comes from the priors."
    live_a, live_b = a.stats.live, b.stats.live
    if bool(live_a) != bool(live_b):
        has, lacks = (a, b) if live_a else (b, a)
        notes.append(
            f"Only {has.name} has live probe evidence ({max(live_a, live_b)} records); "
            f"{lacks.name} is scored from catalog facts and priors."
        )
    for view in (a, b):
        if view.score.withheld_random:
            notes.append(
                f"Probe results of {view.name} come from random weights and are not counted as quality "
                f"({view.score.withheld_random} withheld)."
            )
    if notes:
        verdict += " " + " ".join(notes)
    return winner, verdict, summary


def compare_views(a: ModelView, b: ModelView) -> Comparison:
    """Compare two models row by row and give the verdict."""
    rows = build_rows(a, b)
    winner, verdict, summary = build_verdict(a, b, rows)
    notes = []
    if a.score.low <= b.score.high and b.score.low <= a.score.high and winner:
        spans = f"{a.score.low:.0f}-{a.score.high:.0f} vs {b.score.low:.0f}-{b.score.high:.0f}"
        notes.append(f"The 95 % intervals overlap ({spans}).")
    for view in (a, b):
        priors = [view.score.component(n) for n in COMPONENTS if view.score.component(n).from_prior]
        if priors:
            labels = _join([c.label.lower() for c in priors])
            notes.append(f"{view.name}: no evidence for {labels}; the prior {priors[0].value:.2f} stands in.")
    return Comparison(
        a=a,
        b=b,
        rows=rows,
        winner=winner,
        verdict=verdict,
        headline=f"{a.name} vs {b.name}",
        summary=summary,
        notes=tuple(notes),
    )
