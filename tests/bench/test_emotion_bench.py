"""The emotion benchmarks run end to end (tiny-random, short windows) and write what the note quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(script: str, out: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--quick", "--out", str(out), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "wrote" in proc.stdout
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_serving_bench_reports_both_ratios(tmp_path: Path) -> None:
    r = _run("emotion.py", tmp_path / "emotion.json", "--source", "tiny-random")
    served = r["served"]
    assert set(served["max_batch_size"]) == {"fp32", "int8"}
    for key in ("fp32_batching", "fp32_no_batching", "int8_batching", "int8_no_batching"):
        assert served[key]["completed"] > 0 and not served[key]["errors"]
    after = r["references_after_served"]
    expected = served["int8_batching"]["items_per_s"] / ((r["naive"]["images_per_s"] + after["naive"]) / 2)
    assert r["int8_served_over_naive"] == pytest.approx(expected, abs=1e-3)
    assert set(r["bars"]) == {"served_over_raw", "int8_served_over_naive"}


def test_graph_bench_checks_every_form(tmp_path: Path) -> None:
    r = _run("emotion_graph.py", tmp_path / "graph.json")
    assert set(r["over_sdpa"]) == {"sdpa", "eager", "exported"}
    assert all(diff <= 1e-4 for diff in r["fp32_max_abs_logit_diff"].values())
    assert all(len(v) == 2 for d in r["rounds"].values() for v in d.values())
