"""The report: Markdown and a self-contained HTML page that headless Chromium renders (not blank)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ranker.attribution import Submitter, submitted_as
from ranker.catalog import Catalog
from ranker.engine import Ranker
from ranker.evidence import EvidenceRecord, EvidenceStore, Source
from ranker.report import REFERENCE_PAIR, build_report, render_html, render_markdown, write_report

WHEN = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def _probe(
    model: str,
    probe: str,
    value: float,
    passed: bool,
    *,
    random: bool = False,
    source: Source = Source.PROBE,
    capability: str = "batch-inference",
) -> EvidenceRecord:
    return EvidenceRecord(
        model,
        capability,
        probe,
        value,
        "fraction",
        passed,
        WHEN,
        source,
        service_version="emotion_service model=x",
        random_weights=random,
    )


def _ranker(catalog: Catalog, store: EvidenceStore) -> Ranker:
    store.add_many(
        [
            _probe("emotion-tiny", "classifier.batch-order", 1.0, True),
            _probe("emotion-tiny", "classifier.accuracy-synthetic", 0.55, True, capability="emotion-classification"),
            _probe("emotion-tiny", "match.emotion-agreement", 0.4, True, source=Source.MATCH),
            _probe("tiny-flux", "match.emotion-agreement", 0.4, True, source=Source.MATCH, capability="text-to-image"),
            _probe("tiny-flux", "generator.resolution", 1.0, True, capability="configurable-resolution"),
            _probe("emotion-vit-base-random", "classifier.accuracy-synthetic", 0.9, True, random=True),
            _probe("emotion-vit-base-random", "classifier.p99-latency", 0.2, False, random=True),
        ]
    )
    return Ranker(catalog, store, samples=200, as_of=dt.date(2026, 11, 26))


def test_markdown_has_table_verdict_and_random_section_apart(catalog: Catalog, store: EvidenceStore) -> None:
    data = build_report(_ranker(catalog, store))
    assert [c.headline for c in data.comparisons] == [
        "facial_emotions_image_detection vs FLUX.1 Pro",
        "Tiny ViT emotion classifier (embedded) vs Tiny FLUX (embedded)",
    ]
    text = render_markdown(data)
    assert "| Score | 47/100 | 58/100 ✓ |" in text
    assert "| Capabilities | 5 decomposed | 13 decomposed |" in text
    assert "**Verdict.** FLUX.1 Pro scores higher at 58/100 vs facial_emotions_image_detection at 47/100." in text
    trained, random = text.split("## Random-weight models (kept apart)")
    assert "emotion-vit-base-random" not in trained.split("## Live probe evidence")[1]
    assert "classifier.p99-latency" in random and "emotion-vit-base-random" in random
    assert "| Times Matched | 1 | 1 |" in text


def test_html_is_self_contained(catalog: Catalog, store: EvidenceStore) -> None:
    page = render_html(build_report(_ranker(catalog, store)))
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script" not in page
    assert not re.search(r'(src|href)="https?:', page), "no external resources"
    assert page.count("<svg") == 2 and "95 % interval" in page
    assert (
        "facial_emotions_image_detection leads on ecosystem, while FLUX.1 Pro is stronger on adoption and quality."
        in page
    )


def test_rendered_page_is_not_blank(catalog: Catalog, store: EvidenceStore, tmp_path: Path, chromium: str) -> None:
    _, html_path = write_report(build_report(_ranker(catalog, store)), tmp_path / "report")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1200,900",
            "--hide-scrollbars",
            html_path.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (900, 1200)
    assert pixels.std() > 20, f"screenshot looks blank (pixel std {pixels.std():.1f})"
    # Text and table rules: plenty of dark pixels, and the page is not one flat colour.
    assert (pixels < 100).mean() > 0.01 and len(np.unique(pixels)) > 50


def test_reference_comparison_is_scored_at_the_page_date_years_from_now(catalog: Catalog, store: EvidenceStore) -> None:
    # The demo's scoring (a ranker with no pinned date) with the clock five years on: the reference pair still
    # restates the page (as of the day it was read, from the catalog); everything else is scored at "today".
    years_ahead = dt.date(2031, 11, 26)
    ranker = Ranker(catalog, store, today=lambda: years_ahead)
    data = build_report(ranker, [REFERENCE_PAIR])
    (reference,) = data.comparisons
    assert reference.verdict.startswith(
        "FLUX.1 Pro scores higher at 58/100 vs facial_emotions_image_detection at 47/100"
    )
    assert "Scored as of 2026-11-26, the day the reference page was read." in reference.notes
    assert catalog.read_on(REFERENCE_PAIR) == dt.date(2026, 11, 26)
    text = render_markdown(data)
    assert "freshness measured at 2031-11-26" in text and "Scored as of 2026-11-26" in text
    # The clock did move for everything else: the same card scored at today has decayed below the page's 58.
    leader = {entry.card.id: entry.score.score for entry in data.leaderboard}
    assert round(leader["flux-1-pro"]) < 58
    assert round(ranker.at(dt.date(2026, 11, 26)).score("flux-1-pro").score) == 58


def test_only_the_reference_pair_is_pinned_and_an_explicit_date_wins(catalog: Catalog, store: EvidenceStore) -> None:
    future = dt.date(2031, 11, 26)
    ranker = Ranker(catalog, store, samples=50, today=lambda: future)
    assert ranker.comparison_as_of(*REFERENCE_PAIR) == dt.date(2026, 11, 26)
    assert ranker.comparison_as_of("flux-1-pro", "tiny-flux") == future
    assert not any("reference page" in note for note in ranker.compare("flux-1-pro", "tiny-flux").notes)
    pinned = Ranker(catalog, store, samples=50, as_of=future)  # --as-of: the operator's date wins
    assert pinned.comparison_as_of(*REFERENCE_PAIR) == future
    assert not any("reference page" in note for note in pinned.compare(*REFERENCE_PAIR).notes)
    with pytest.raises(ValueError, match="no card with a provenance date"):
        catalog.read_on(["no-such-model"])


def test_report_shows_imported_vs_curated_and_the_history_chart(catalog: Catalog, store: EvidenceStore) -> None:
    from ranker.adoption import adoption_records, load_cohorts
    from ranker.history_chart import history_chart
    from ranker.hub import read_snapshot, retrieved_at

    snapshot = read_snapshot(Path(__file__).parent / "data" / "hub" / "black-forest-labs--FLUX.1-schnell.json")
    when = retrieved_at(snapshot)
    with submitted_as(Submitter("local:operator", "ranker import-adoption")):
        store.add_many(adoption_records("flux-1-schnell", "text-to-image", snapshot, when, load_cohorts()))
    ranker = _ranker(catalog, store)
    for day in (1, 2, 3):
        ranker.record_history(["flux-1-schnell"], computed_at=WHEN + dt.timedelta(days=day))
    data = build_report(ranker)
    md = render_markdown(data)
    row = next(line for line in md.splitlines() if line.startswith("| `flux-1-schnell`"))
    assert row == (
        "| `flux-1-schnell` | 3 | 4 (huggingface:black-forest-labs/FLUX.1-schnell: 4) | 0 | 0 | 0 |"
        " local:operator via ranker import-adoption: 4 |"
    )
    assert "| `emotion-tiny` | " in md and "- `flux-1-schnell`: 3 scores from 2026-11-27" in md
    page = render_html(data)
    assert (
        "<h2>Evidence: curated and imported</h2>" in page and "huggingface:black-forest-labs/FLUX.1-schnell: 4" in page
    )
    chart = re.search(r'<svg[^>]*aria-label="Score history of flux-1-schnell".*?</svg>', page, re.S)
    assert chart is not None and "<polyline" in chart.group(0) and "<polygon" in chart.group(0)
    # One point is a dot, no history is said in words.
    single = history_chart("m", store.history("flux-1-schnell")[:1])
    assert "<circle" in single and "<polyline" not in single
    assert "no history yet" in history_chart("m", [])
