"""The comparison's component chart: per component (and the score / 100) one bar per model with its 95 % interval.

The geometry is computed here from the scores; the markup is the ``component_chart`` macro of
``templates/charts.svg.j2``, which escapes the model names and row labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from ranker.compare import Comparison
from ranker.scoring import COMPONENT_LABELS, COMPONENTS
from ranker.templating import render_macro

COLOR_A = "#2563eb"
COLOR_B = "#ea580c"


@dataclass(frozen=True)
class Legend:
    """A model's colour swatch and name above the plot."""

    x: float
    name: str
    color: str


@dataclass(frozen=True)
class Tick:
    """A vertical gridline at ``value`` (0..1) along the x axis."""

    x: float
    value: float


@dataclass(frozen=True)
class Bar:
    """One model's bar on one row: the value, its interval whisker and the value label."""

    y: float
    width: float
    color: str
    prior: bool
    value: float
    x_low: float
    x_high: float
    label_x: float


@dataclass(frozen=True)
class ChartRow:
    """A labelled group of bars (one per model)."""

    label: str
    label_y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class ComponentChart:
    """Everything the component chart draws, in chart coordinates."""

    width: int
    height: float
    left: float
    top: float
    bar: float
    legend: tuple[Legend, ...]
    ticks: tuple[Tick, ...]
    rows: tuple[ChartRow, ...]


def component_geometry(comparison: Comparison, width: int = 960) -> ComponentChart:
    """Lay out the component chart of ``comparison``; a component resting on the prior is drawn hatched."""
    a, b = comparison.a, comparison.b
    values: list[tuple[str, list[tuple[float, float, float, bool]]]] = []
    for name in COMPONENTS:
        pair = [(c.value, c.low, c.high, c.from_prior) for c in (view.score.component(name) for view in (a, b))]
        values.append((f"{COMPONENT_LABELS[name]} (w {a.score.component(name).weight:.2f})", pair))
    values.append(
        (
            "Score / 100",
            [(v.score.score / 100, v.score.low / 100, v.score.high / 100, v.score.all_prior) for v in (a, b)],
        )
    )
    left, right, top, bar, gap, group = 190.0, 30.0, 46.0, 16.0, 4.0, 52.0
    plot = width - left - right
    height = top + group * len(values) + 30
    colors = (COLOR_A, COLOR_B)
    rows = []
    for r, (label, pair) in enumerate(values):
        y0 = top + r * group
        bars = tuple(
            Bar(
                y=y0 + i * (bar + gap),
                width=plot * value,
                color=colors[i],
                prior=prior,
                value=value,
                x_low=left + plot * low,
                x_high=left + plot * high,
                label_x=left + plot * max(value, high) + 6,
            )
            for i, (value, low, high, prior) in enumerate(pair)
        )
        rows.append(ChartRow(label, y0 + bar + 6, bars))
    return ComponentChart(
        width=width,
        height=height,
        left=left,
        top=top,
        bar=bar,
        legend=tuple(Legend(left + i * 300, view.name, colors[i]) for i, view in enumerate((a, b))),
        ticks=tuple(Tick(left + plot * tick / 10, tick / 10) for tick in range(0, 11, 2)),
        rows=tuple(rows),
    )


def component_chart(comparison: Comparison, width: int = 960) -> str:
    """The component chart as an SVG element (the same markup the report page embeds)."""
    return str(render_macro("charts.svg.j2", "component_chart", component_geometry(comparison, width)))
