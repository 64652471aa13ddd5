"""The comparison report: Markdown and a self-contained HTML page (inline CSS and SVG, no scripts).

The page follows the reference comparison page: a headline with both scores, the feature table,
the verdict, then a chart of the score components with their bootstrap intervals. Below come the
leaderboard, live probe evidence of the served variants, and evidence from random-weight models
in a section of its own (conformance and speed only, never quality).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ranker.compare import Comparison, Leader, ModelView
from ranker.engine import LeaderboardEntry, Ranker, measured_here
from ranker.evidence import EvidenceRecord, HistoryEntry, utc_now
from ranker.report_evidence import (
    EvidenceOrigin,
    evidence_origin,
    histories_html,
    history_markdown,
    origins_html,
    origins_markdown,
)
from ranker.scoring import COMPONENT_LABELS, COMPONENTS, ScoringPolicy

REFERENCE_PAIR = ("facial-emotions-image-detection", "flux-1-pro")
SERVED_PAIR = ("emotion-tiny", "tiny-flux")
COLOR_A = "#2563eb"
COLOR_B = "#ea580c"


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

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
main{max-width:1080px;margin:0 auto;padding:28px 32px}
h1{font-size:28px;margin:0 0 4px} h2{font-size:22px;margin:36px 0 8px} h3{font-size:17px;margin:22px 0 6px}
.sub{color:#475569;margin:0 0 18px}
.headline{font-size:18px;background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:14px 18px}
table{border-collapse:collapse;width:100%;background:#fff;margin:10px 0;border:1px solid #e2e8f0}
th,td{padding:7px 10px;border-bottom:1px solid #e2e8f0;text-align:left;font-size:14px}
th{background:#f1f5f9} td.lead{font-weight:700;background:#ecfdf5}
.verdict{background:#fff7ed;border-left:5px solid #ea580c;padding:12px 16px;margin:14px 0;font-size:16px}
.note{color:#475569;font-size:13px;margin:4px 0}
.random{background:#fef2f2;border:1px solid #fecaca;border-radius:10px;padding:6px 16px 14px}
.pass{color:#15803d;font-weight:600} .fail{color:#b91c1c;font-weight:600}
.chart{background:#fff;border:1px solid #e2e8f0;border-radius:10px;padding:8px;margin:10px 0}
footer{color:#64748b;font-size:12px;margin-top:36px}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def component_chart(comparison: Comparison, width: int = 960) -> str:
    """An inline SVG: per component (and the score / 100) one bar per model with its 95 % interval."""
    a, b = comparison.a, comparison.b
    rows: list[tuple[str, list[tuple[float, float, float, bool]]]] = []
    for name in COMPONENTS:
        values = []
        for view in (a, b):
            c = view.score.component(name)
            values.append((c.value, c.low, c.high, c.from_prior))
        rows.append((f"{COMPONENT_LABELS[name]} (w {a.score.component(name).weight:.2f})", values))
    rows.append(
        (
            "Score / 100",
            [(v.score.score / 100, v.score.low / 100, v.score.high / 100, v.score.all_prior) for v in (a, b)],
        )
    )
    left, right, top, bar, gap, group = 190.0, 30.0, 46.0, 16.0, 4.0, 52.0
    plot = width - left - right
    height = top + group * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="Score components with 95 % intervals">',
        '<defs><pattern id="prior" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#e2e8f0"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#94a3b8" stroke-width="3"/>'
        "</pattern></defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for i, (label, color) in enumerate(((a.name, COLOR_A), (b.name, COLOR_B))):
        x = left + i * 300
        parts.append(f'<rect x="{x}" y="12" width="14" height="14" fill="{color}"/>')
        parts.append(f'<text x="{x + 20}" y="24" font-size="13" fill="#0f172a">{_e(label)}</text>')
    parts.append(f'<text x="{left + 600}" y="24" font-size="12" fill="#475569">hatched: prior (no evidence)</text>')
    for tick in range(0, 11, 2):
        x = left + plot * tick / 10
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 26}" stroke="#e2e8f0"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{height - 10}" font-size="11" text-anchor="middle" fill="#64748b">'
            f"{tick / 10:.1f}</text>"
        )
    for r, (label, values) in enumerate(rows):
        y0 = top + r * group
        parts.append(
            f'<text x="{left - 10}" y="{y0 + bar + 6}" font-size="13" text-anchor="end" fill="#0f172a">'
            f"{_e(label)}</text>"
        )
        for i, (value, low, high, prior) in enumerate(values):
            color = COLOR_A if i == 0 else COLOR_B
            y = y0 + i * (bar + gap)
            fill = "url(#prior)" if prior else color
            parts.append(
                f'<rect x="{left}" y="{y}" width="{plot * value:.1f}" height="{bar}" fill="{fill}" stroke="{color}"'
                f' stroke-width="1.5" rx="2"/>'
            )
            x_low, x_high, mid = left + plot * low, left + plot * high, y + bar / 2
            parts.append(
                f'<line x1="{x_low:.1f}" y1="{mid}" x2="{x_high:.1f}" y2="{mid}" stroke="#0f172a" stroke-width="1.5"/>'
            )
            for x in (x_low, x_high):
                parts.append(
                    f'<line x1="{x:.1f}" y1="{y + 3}" x2="{x:.1f}" y2="{y + bar - 3}" stroke="#0f172a"'
                    ' stroke-width="1.5"/>'
                )
            parts.append(
                f'<text x="{left + plot * max(value, high) + 6:.1f}" y="{y + bar - 3}" font-size="11" fill="#334155">'
                f"{value:.2f}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _html_comparison(comparison: Comparison) -> str:
    a, b = comparison.a, comparison.b
    rows = []
    for row in comparison.rows:
        ca = ' class="lead"' if row.leader is Leader.A else ""
        cb = ' class="lead"' if row.leader is Leader.B else ""
        rows.append(f"<tr><th>{_e(row.name)}</th><td{ca}>{_e(row.value_a)}</td><td{cb}>{_e(row.value_b)}</td></tr>")
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in comparison.notes)
    return (
        f"<section><h2>{_e(comparison.headline)}</h2>"
        f'<p class="headline"><strong>{_e(comparison.summary)}</strong> Capability-level comparison backed by live'
        " probe and match evidence where a model is served here.</p>"
        f"<table><thead><tr><th>Feature</th><th>{_e(a.name)}</th><th>{_e(b.name)}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<div class="verdict"><strong>Verdict.</strong> {_e(comparison.verdict)}</div>'
        f'<div class="chart">{component_chart(comparison)}</div>{notes}</section>'
    )


def _html_evidence(item: ModelEvidence) -> str:
    view = item.view
    rows = "".join(
        f"<tr><td>{_e(r.probe)}</td><td>{_e(r.capability)}</td><td>{r.value:.4g} {_e(r.unit)}</td>"
        f'<td class="{"pass" if r.passed else "fail"}">{"passed" if r.passed else "failed"}</td>'
        f"<td>{_e(r.service_version or '-')}</td></tr>"
        for r in _latest(item.records)
    )
    return (
        f"<h3>{_e(view.name)} <code>{_e(view.card.id)}</code>: {_e(view.card.weights.origin)} weights, relates to"
        f" <code>{_e(view.card.relates_to or '-')}</code>, score {view.score.score:.1f}</h3>"
        "<table><thead><tr><th>Probe</th><th>Capability</th><th>Value</th><th>Outcome</th><th>Service</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML page."""
    board = "".join(
        f"<tr><td>{e.rank}</td><td>{_e(e.card.display_name)} <code>{_e(e.card.id)}</code></td>"
        f"<td>{_e(e.card.artifact_type)}</td><td>{_e(e.card.weights.origin)}</td><td>{e.score.score:.1f}</td>"
        f"<td>{e.score.low:.1f}-{e.score.high:.1f}</td></tr>"
        for e in data.leaderboard
    )
    trained = [e for e in data.evidence if not _random(e)]
    random = [e for e in data.evidence if _random(e)]
    live = "".join(_html_evidence(e) for e in trained) or (
        "<p>No live evidence yet: run <code>python -m ranker evaluate</code> with the services up.</p>"
    )
    random_html = "".join(_html_evidence(e) for e in random) or "<p>No random-weight model was probed.</p>"
    w = data.policy.default
    note = f'<p class="sub">{_e(data.note)}</p>' if data.note else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(data.title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(data.title)}</h1>"
        f'<p class="sub">Generated {data.generated_at:%Y-%m-%d %H:%M} UTC; freshness measured at'
        f" {data.as_of.isoformat()}.</p>{note}"
        + "".join(_html_comparison(c) for c in data.comparisons)
        + "<h2>Leaderboard</h2><table><thead><tr><th>Rank</th><th>Model</th><th>Type</th><th>Weights</th>"
        f"<th>Score</th><th>95 % interval</th></tr></thead><tbody>{board}</tbody></table>"
        + origins_html(data.origins)
        + histories_html(data.histories)
        + f"<h2>Live probe evidence</h2>{live}"
        '<h2>Random-weight models (kept apart)</h2><div class="random"><p>These results come from random weights.'
        " They show the serving path works and how fast it is; they say nothing about any model's quality and are"
        f" not counted as quality or match evidence.</p>{random_html}</div>"
        f"<h2>Method</h2><p>Score = 100 &times; ({w.adoption:.2f} adoption + {w.quality:.2f} quality +"
        f" {w.ecosystem:.2f} ecosystem + {w.match_graph:.2f} match graph + {w.freshness:.2f} freshness). A component"
        f" without evidence takes the prior {data.policy.prior:.2f}, so a model with no evidence scores"
        f" {100 * data.policy.prior:.0f}. Intervals: seeded bootstrap over the evidence (docs/scoring.md).</p>"
        "<footer>emoflux ranker</footer></main></body></html>"
    )


def write_report(data: ReportData, out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text(render_markdown(data), encoding="utf-8")
    html_path.write_text(render_html(data), encoding="utf-8")
    return md_path, html_path
