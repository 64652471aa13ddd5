"""The comparison report: Markdown and a self-contained HTML page (inline CSS and SVG, no scripts).

The Markdown is assembled here line by line; the HTML page is rendered from the autoescaped Jinja2
templates in ``ranker/templates`` (``report.html.j2`` and one file per section).

The page follows the reference comparison page: a headline with both scores, the feature table,
the verdict, then a chart of the score components with their bootstrap intervals. Below come the
leaderboard, live probe evidence of the served variants, and evidence from random-weight models
in a section of its own (conformance and speed only, never quality).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ranker.compare import Comparison, Leader, ModelView
from ranker.component_chart import component_geometry
from ranker.engine import LeaderboardEntry, Ranker, measured_here
from ranker.evidence import EvidenceRecord, HistoryEntry, utc_now
from ranker.history_chart import history_geometry
from ranker.report_evidence import (
    HISTORY_EMPTY,
    ORIGIN_NOTE,
    EvidenceOrigin,
    evidence_origin,
    history_markdown,
    origins_markdown,
)
from ranker.scoring import COMPONENT_LABELS, COMPONENTS, ScoringPolicy
from ranker.templating import render

REFERENCE_PAIR = ("facial-emotions-image-detection", "flux-1-pro")
SERVED_PAIR = ("emotion-tiny", "tiny-flux")
PAGE_TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class ModelEvidence:
    """Live (probe and match) records of one model, for the evidence tables."""

    view: ModelView
    records: tuple[EvidenceRecord, ...]


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows."""

    title: str
    generated_at: dt.datetime
    as_of: dt.date
    comparisons: tuple[Comparison, ...]
    leaderboard: tuple[LeaderboardEntry, ...]
    evidence: tuple[ModelEvidence, ...]
    policy: ScoringPolicy
    note: str = ""
    origins: tuple[EvidenceOrigin, ...] = ()
    histories: Mapping[str, tuple[HistoryEntry, ...]] = field(default_factory=dict)


def build_report(ranker: Ranker, pairs: Sequence[tuple[str, str]] = (), note: str = "") -> ReportData:
    """Gather comparisons (default: the reference pair, and the served pair when both have evidence)."""
    if not pairs:
        pairs = [REFERENCE_PAIR]
        if all(m in ranker.catalog for m in SERVED_PAIR):
            pairs.append(SERVED_PAIR)
    evidence = []
    for card in ranker.catalog:
        live = tuple(r for r in ranker.store.records(card.id) if measured_here(r))
        if live:
            evidence.append(ModelEvidence(ranker.view(card.id), live))
    return ReportData(
        title="emoflux model comparison",
        generated_at=utc_now(),
        as_of=ranker.as_of(),
        comparisons=tuple(ranker.compare(a, b) for a, b in pairs),
        leaderboard=tuple(ranker.leaderboard()),
        evidence=tuple(evidence),
        policy=ranker.policy,
        note=note,
        origins=tuple(evidence_origin(ranker.store, card) for card in ranker.catalog),
        histories={card.id: tuple(h) for card in ranker.catalog if (h := ranker.store.history(card.id))},
    )


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _latest(records: Sequence[EvidenceRecord]) -> list[EvidenceRecord]:
    """The newest record of each (probe, capability), newest run first."""
    seen: dict[tuple[str, str], EvidenceRecord] = {}
    for record in records:
        key = (record.probe, record.capability)
        if key not in seen or record.observed_at >= seen[key].observed_at:
            seen[key] = record
    return sorted(seen.values(), key=lambda r: (r.probe, r.capability))


def render_markdown(data: ReportData) -> str:
    """The report as Markdown."""
    out = [f"# {data.title}", ""]
    out.append(f"Generated {data.generated_at:%Y-%m-%d %H:%M} UTC; freshness measured at {data.as_of.isoformat()}.")
    if data.note:
        out += ["", data.note]
    for comparison in data.comparisons:
        a, b = comparison.a, comparison.b
        out += ["", f"## {comparison.headline}", "", f"**{comparison.summary}** Capability-level comparison backed by"]
        out[-1] += " live probe and match evidence where a model is served here."
        out += ["", f"| Feature | {_md_escape(a.name)} | {_md_escape(b.name)} |", "|---|---|---|"]
        for row in comparison.rows:
            value_a = _md_escape(row.value_a) + (" ✓" if row.leader is Leader.A else "")
            value_b = _md_escape(row.value_b) + (" ✓" if row.leader is Leader.B else "")
            out.append(f"| {_md_escape(row.name)} | {value_a} | {value_b} |")
        out += ["", f"**Verdict.** {comparison.verdict}", ""]
        out.append("| Component | weight | " + " | ".join(f"{v.name} (95 % interval)" for v in (a, b)) + " |")
        out.append("|---|---|---|---|")
        for name in COMPONENTS:
            cells = []
            for view in (a, b):
                c = view.score.component(name)
                cells.append(f"{c.value:.2f} [{c.low:.2f}, {c.high:.2f}]" + (" prior" if c.from_prior else ""))
            out.append(f"| {COMPONENT_LABELS[name]} | {a.score.component(name).weight:.2f} | {cells[0]} | {cells[1]} |")
        out.append(
            f"| Score | | {a.score.score:.1f} [{a.score.low:.1f}, {a.score.high:.1f}] |"
            f" {b.score.score:.1f} [{b.score.low:.1f}, {b.score.high:.1f}] |"
        )
        for note in comparison.notes:
            out += ["", f"- {note}"]
    out += ["", "## Leaderboard", "", "| Rank | Model | Type | Weights | Score | 95 % interval |"]
    out.append("|---|---|---|---|---|---|")
    for entry in data.leaderboard:
        out.append(
            f"| {entry.rank} | {_md_escape(entry.card.display_name)} (`{entry.card.id}`) | {entry.card.artifact_type} |"
            f" {entry.card.weights.origin} | {entry.score.score:.1f} | {entry.score.low:.1f}-{entry.score.high:.1f} |"
        )
    out += origins_markdown(data.origins) + history_markdown(data.histories)
    trained = [e for e in data.evidence if not _random(e)]
    random = [e for e in data.evidence if _random(e)]
    out += ["", "## Live probe evidence", ""]
    if not data.evidence:
        out.append("No live evidence yet: run `python -m ranker evaluate` with the services up.")
    for item in trained:
        out += _md_evidence(item)
    out += ["", "## Random-weight models (kept apart)", ""]
    out.append(
        "These results come from random weights. They show the serving path works and how fast it is;"
        " they say nothing about any model's quality and are not counted as quality or match evidence."
    )
    if not random:
        out += ["", "No random-weight model was probed."]
    for item in random:
        out += _md_evidence(item)
    w = data.policy.default
    out += [
        "",
        "## Method",
        "",
        f"Score = 100 x ({w.adoption:.2f} adoption + {w.quality:.2f} quality + {w.ecosystem:.2f} ecosystem"
        f" + {w.match_graph:.2f} match graph + {w.freshness:.2f} freshness); a component without evidence"
        f" takes the prior {data.policy.prior:.2f}, so a model with no evidence scores {100 * data.policy.prior:.0f}."
        " Intervals: seeded bootstrap over the evidence. See docs/scoring.md.",
        "",
    ]
    return "\n".join(out)


def _random(item: ModelEvidence) -> bool:
    return item.view.card.weights.random or all(r.random_weights for r in item.records)


def _md_evidence(item: ModelEvidence) -> list[str]:
    view = item.view
    lines = [
        "",
        f"### {view.name} (`{view.card.id}`, {view.card.weights.origin} weights, relates to"
        f" `{view.card.relates_to or '-'}`)",
        "",
        "| Probe | Capability | Value | Passed | Service |",
        "|---|---|---|---|---|",
    ]
    for r in _latest(item.records):
        lines.append(
            f"| {r.probe} | {r.capability} | {r.value:.4g} {r.unit} | {'yes' if r.passed else 'no'} |"
            f" {_md_escape(r.service_version) or '-'} |"
        )
    return lines


# ----------------------------------------------------------------------------------------------- HTML


def page_context(data: ReportData) -> dict[str, Any]:
    """The names ``templates/report.html.j2`` renders: domain objects and chart geometry, never markup."""
    return {
        "title": data.title,
        "generated_at": data.generated_at,
        "as_of": data.as_of,
        "note": data.note,
        "comparisons": tuple((c, component_geometry(c)) for c in data.comparisons),
        "Leader": Leader,
        "leaderboard": data.leaderboard,
        "origins": data.origins,
        "origin_note": ORIGIN_NOTE,
        "histories": tuple(history_geometry(model_id, entries) for model_id, entries in sorted(data.histories.items())),
        "history_empty": HISTORY_EMPTY,
        "live": tuple(ModelEvidence(e.view, tuple(_latest(e.records))) for e in data.evidence if not _random(e)),
        "random": tuple(ModelEvidence(e.view, tuple(_latest(e.records))) for e in data.evidence if _random(e)),
        "weights": data.policy.default,
        "prior": data.policy.prior,
    }


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML page (every text from cards and evidence escaped by the template)."""
    return render(PAGE_TEMPLATE, page_context(data))


def write_report(data: ReportData, out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text(render_markdown(data), encoding="utf-8")
    html_path.write_text(render_html(data), encoding="utf-8")
    return md_path, html_path
