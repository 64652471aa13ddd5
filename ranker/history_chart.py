"""A small inline SVG line chart of one model's score history (score and its interval band)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from ranker.evidence import HistoryEntry

LINE = "#2563eb"
BAND = "#bfdbfe"


def history_chart(title: str, entries: Sequence[HistoryEntry], width: int = 480, height: int = 160) -> str:
    """Score (0..100) over computation time, with the interval as a band; one point is drawn as a dot."""
    left, right, top, bottom = 36.0, 12.0, 22.0, 24.0
    plot_w, plot_h = width - left - right, height - top - bottom
    points = sorted(entries, key=lambda e: e.computed_at)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="Score history of {html.escape(title, quote=True)}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="14" font-size="12" fill="#0f172a">{html.escape(title)}</text>',
    ]
    for tick in (0, 50, 100):
        y = top + plot_h * (1 - tick / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#64748b">{tick}</text>'
        )
    if not points:
        parts.append(
            f'<text x="{left + 8}" y="{top + plot_h / 2:.1f}" font-size="11" fill="#64748b">no history yet</text>'
        )
        return "".join(parts) + "</svg>"
    start, end = points[0].computed_at, points[-1].computed_at
    span = max((end - start).total_seconds(), 1.0)

    def x_of(when: dt.datetime) -> float:
        return left + plot_w * ((when - start).total_seconds() / span if len(points) > 1 else 0.5)

    def y_of(score: float) -> float:
        return top + plot_h * (1 - min(100.0, max(0.0, score)) / 100)

    if len(points) > 1:
        upper = [f"{x_of(p.computed_at):.1f},{y_of(p.high):.1f}" for p in points]
        lower = [f"{x_of(p.computed_at):.1f},{y_of(p.low):.1f}" for p in reversed(points)]
        parts.append(f'<polygon points="{" ".join(upper + lower)}" fill="{BAND}" opacity="0.7"/>')
        line = " ".join(f"{x_of(p.computed_at):.1f},{y_of(p.score):.1f}" for p in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for p in points:
        parts.append(f'<circle cx="{x_of(p.computed_at):.1f}" cy="{y_of(p.score):.1f}" r="2.5" fill="{LINE}"/>')
    for when, anchor in ((start, "start"), (end, "end")):
        parts.append(
            f'<text x="{x_of(when) if len(points) > 1 else left:.1f}" y="{height - 6}" font-size="10"'
            f' text-anchor="{anchor}" fill="#64748b">{when:%Y-%m-%d %H:%M}</text>'
        )
    last = points[-1]
    parts.append(
        f'<text x="{width - right}" y="14" font-size="11" text-anchor="end" fill="#334155">'
        f"latest {last.score:.1f} [{last.low:.1f}, {last.high:.1f}]</text>"
    )
    return "".join(parts) + "</svg>"
