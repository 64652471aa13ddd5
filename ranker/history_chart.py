"""A small inline SVG line chart of one model's score history (score and its interval band).

The geometry is computed here from numbers; the markup is the ``history_chart`` macro of
``templates/charts.svg.j2``, which escapes the title.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ranker.evidence import HistoryEntry
from ranker.templating import render_macro

LINE = "#2563eb"
BAND = "#bfdbfe"


@dataclass(frozen=True)
class Gridline:
    """A horizontal score gridline and its label."""

    y: float
    label: int


@dataclass(frozen=True)
class Point:
    """A point in chart coordinates."""

    x: float
    y: float


@dataclass(frozen=True)
class TimeLabel:
    """A date label under the plot."""

    x: float
    anchor: str
    when: dt.datetime


@dataclass(frozen=True)
class HistoryChart:
    """Everything the history chart draws, in chart coordinates."""

    title: str
    width: int
    height: int
    left: float
    right: float
    empty_y: float
    gridlines: tuple[Gridline, ...]
    band: tuple[Point, ...]
    line: tuple[Point, ...]
    dots: tuple[Point, ...]
    time_labels: tuple[TimeLabel, ...]
    latest: HistoryEntry | None
    line_color: str = LINE
    band_color: str = BAND


def history_geometry(title: str, entries: Sequence[HistoryEntry], width: int = 480, height: int = 160) -> HistoryChart:
    """Lay out score (0..100) over computation time, the interval as a band; one point is a dot."""
    left, right, top, bottom = 36.0, 12.0, 22.0, 24.0
    plot_w, plot_h = width - left - right, height - top - bottom
    points = sorted(entries, key=lambda e: e.computed_at)
    gridlines = tuple(Gridline(top + plot_h * (1 - tick / 100), tick) for tick in (0, 50, 100))
    empty = HistoryChart(title, width, height, left, right, top + plot_h / 2, gridlines, (), (), (), (), None)
    if not points:
        return empty
    start, end = points[0].computed_at, points[-1].computed_at
    span = max((end - start).total_seconds(), 1.0)

    def x_of(when: dt.datetime) -> float:
        return left + plot_w * ((when - start).total_seconds() / span if len(points) > 1 else 0.5)

    def y_of(score: float) -> float:
        return top + plot_h * (1 - min(100.0, max(0.0, score)) / 100)

    band: tuple[Point, ...] = ()
    line: tuple[Point, ...] = ()
    if len(points) > 1:
        upper = [Point(x_of(p.computed_at), y_of(p.high)) for p in points]
        lower = [Point(x_of(p.computed_at), y_of(p.low)) for p in reversed(points)]
        band = tuple(upper + lower)
        line = tuple(Point(x_of(p.computed_at), y_of(p.score)) for p in points)
    dots = tuple(Point(x_of(p.computed_at), y_of(p.score)) for p in points)
    labels = tuple(
        TimeLabel(x_of(when) if len(points) > 1 else left, anchor, when)
        for when, anchor in ((start, "start"), (end, "end"))
    )
    return HistoryChart(
        title, width, height, left, right, empty.empty_y, gridlines, band, line, dots, labels, points[-1]
    )


def history_chart(title: str, entries: Sequence[HistoryEntry], width: int = 480, height: int = 160) -> str:
    """The history chart as an SVG element (the same markup the report page embeds)."""
    return str(render_macro("charts.svg.j2", "history_chart", history_geometry(title, entries, width, height)))
