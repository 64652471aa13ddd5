"""The HTML report's templates: card and evidence text escaped, missing names fail, templates shipped."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from ranker.attribution import Submitter, submitted_as
from ranker.catalog import Catalog, Fact, ModelCard, load_catalog
from ranker.component_chart import component_chart, component_geometry
from ranker.engine import Ranker
from ranker.evidence import EvidenceRecord, EvidenceStore, Source
from ranker.history_chart import history_chart
from ranker.report import PAGE_TEMPLATE, REFERENCE_PAIR, build_report, page_context, render_html
from ranker.scoring import COMPONENTS
from ranker.templating import TEMPLATE_DIR, environment, render

HOSTILE = "<script>alert(1)</script> \"quotes\" & 'apostrophes'"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quotes&#34; &amp; &#39;apostrophes&#39;"
WHEN = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


class _Page(HTMLParser):
    """Elements and text nodes of a page, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[dict[str, str | None]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.append(dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def _hostile_card(card: ModelCard) -> ModelCard:
    facts = {**card.facts, "pricing": Fact(HOSTILE, card.provenance)}
    return dataclasses.replace(card, display_name=HOSTILE, description=HOSTILE, facts=facts)


def _hostile_ranker(store: EvidenceStore) -> Ranker:
    """The bundled catalog with flux-1-pro's name, description and pricing hostile, and hostile live evidence."""
    catalog = Catalog(_hostile_card(c) if c.id == "flux-1-pro" else c for c in load_catalog())
    # Evidence text a remote writer controls through SubmitEvidence: the service string and the writer identity.
    with submitted_as(Submitter(HOSTILE, "SubmitEvidence")):
        store.add(
            EvidenceRecord(
                "emotion-tiny",
                "batch-inference",
                "classifier.batch-order",
                1.0,
                "fraction",
                True,
                WHEN,
                Source.PROBE,
                service_version=HOSTILE,
            )
        )
    ranker = Ranker(catalog, store, samples=50, as_of=dt.date(2026, 11, 26))
    ranker.record_history(["emotion-tiny"], computed_at=WHEN)
    return ranker


def test_card_and_evidence_text_is_escaped_in_the_page(store: EvidenceStore) -> None:
    page = render_html(build_report(_hostile_ranker(store), note=HOSTILE))
    assert "<script" not in page and '"quotes"' not in page and "'apostrophes'" not in page
    # Escaped where it is shown: headline, summary, feature table header, pricing row, verdict, chart legend,
    # leaderboard, the evidence table's service column, the written-by column and the note.
    assert page.count(ESCAPED) >= 10, page.count(ESCAPED)
    legend = page[page.index("<svg") : page.index("</svg>")]
    assert ESCAPED in legend, "the model name in the component chart is escaped too"
    parsed = _parse(page)
    assert "script" not in parsed.tags
    # A browser reads the text back exactly as written: escaped, not lost or mangled.
    assert sum(HOSTILE in text for text in parsed.texts) >= 10
    pricing = next(line for line in page.splitlines() if line.startswith("<tr><th>Pricing</th>"))
    assert pricing.endswith(f"<td>{ESCAPED}</td></tr>")


def test_a_chart_title_cannot_break_out_of_its_attribute() -> None:
    svg = history_chart('x" onload="alert(1)', [])
    parsed = _parse(svg)
    assert parsed.tags[0] == "svg" and "onload" not in parsed.attrs[0]
    assert parsed.attrs[0]["aria-label"] == 'Score history of x" onload="alert(1)'


def test_empty_report_says_so_in_each_section(catalog: Catalog, store: EvidenceStore) -> None:
    data = build_report(Ranker(catalog, store, samples=50, as_of=dt.date(2026, 11, 26)))
    page = render_html(data)
    assert "No live evidence yet: run <code>python -m ranker evaluate</code> with the services up." in page
    assert "<p>No random-weight model was probed.</p>" in page
    assert "<p>No score history yet: the ranker records every score" in page
    assert page.count("<svg") == len(data.comparisons) == 2, "the comparisons' charts only, no history chart"


def test_every_name_the_page_uses_is_required(catalog: Catalog, store: EvidenceStore) -> None:
    context = page_context(build_report(Ranker(catalog, store, samples=50, as_of=dt.date(2026, 11, 26))))
    assert render(PAGE_TEMPLATE, context).startswith("<!DOCTYPE html>")
    silent = []
    for name in context:
        missing = {key: value for key, value in context.items() if key != name}
        try:
            render(PAGE_TEMPLATE, missing)
        except jinja2.UndefinedError as exc:
            assert name in str(exc)
        else:
            silent.append(name)
    assert not silent, f"rendered without {silent}: a missing name must fail, not print as empty"


def test_a_missing_attribute_fails_loudly() -> None:
    template = environment().from_string("<td>{{ card.display_name }}</td>")
    with pytest.raises(jinja2.UndefinedError, match="display_name"):
        template.render(card=object())


def test_every_template_is_package_data_and_compiles() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    globs = [*setuptools["package-data"].get("*", []), *setuptools["package-data"]["ranker"]]
    files = sorted(p.relative_to(ROOT / "ranker").as_posix() for p in (ROOT / "ranker" / TEMPLATE_DIR).iterdir())
    assert PAGE_TEMPLATE in [Path(f).name for f in files]
    unshipped = [f for f in files if not any(fnmatch(f, g) for g in globs)]
    assert not unshipped, f"not in [tool.setuptools.package-data]: {unshipped}"
    for name in environment().list_templates():
        environment().get_template(name)


def test_component_chart_hatches_priors_and_draws_to_scale(catalog: Catalog, store: EvidenceStore) -> None:
    comparison = Ranker(catalog, store, samples=50, as_of=dt.date(2026, 11, 26)).compare(*REFERENCE_PAIR)
    chart = component_geometry(comparison)
    bars = [bar for row in chart.rows for bar in row.bars]
    match_graph = chart.rows[COMPONENTS.index("match_graph")]
    assert all(bar.prior for bar in match_graph.bars), "neither reference model has match evidence"
    assert not all(bar.prior for bar in bars)
    svg = component_chart(comparison)
    assert svg.count('fill="url(#prior)"') == sum(bar.prior for bar in bars)
    assert svg.count("<rect") == 1 + 1 + 2 + len(bars), "pattern tile, background, legend swatches, one per bar"
    # One scale for every bar: width / value is the plot width; whiskers stay ordered inside the plot.
    scales = {round(bar.width / bar.value, 6) for bar in bars if bar.value}
    assert len(scales) == 1
    (plot,) = scales
    for bar in bars:
        assert chart.left <= bar.x_low <= bar.x_high <= chart.left + plot
