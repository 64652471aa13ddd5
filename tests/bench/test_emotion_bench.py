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
    assert set(r["bars"]) == {"served_over_raw", "int8_served_over_raw", "int8_served_over_naive"}
    # The raw reference is the best in-process configuration of the run, whatever its layout or batch.
    for precision, ratio in (("fp32", "served_over_raw"), ("int8", "int8_served_over_raw")):
        ref = after["raw_best"][precision]
        measured = [*r["raw_ort"][precision].values(), *r["instances_in_process"][precision].values()]
        assert ref["before"] == max(measured)
        assert r[f"{ratio}_reference"] == ref["configuration"]
        expected = served[f"{precision}_batching"]["items_per_s"] / ((ref["before"] + ref["after"]) / 2)
        assert r[ratio] == pytest.approx(expected, abs=2e-3)
    host = r["host_path"]
    for section in ("served", "served_previous_defaults"):
        for name in ("kserve_1", "kserve_16", "kserve_64", "classify_1", "classify_64"):
            row = host[section][name]
            assert row["requests"] > 0 and not row["errors"] and row["server_cpu_ms_per_request"] > 0
    assert host["served_previous_defaults"]["server_flags"][:1] == ["--no-work-conserving"]
    best = max(c["images_per_s"] for c in host["raw"]["configs"].values())
    assert host["raw"]["best_images_per_s"] == best
    assert set(host["ratios"]) == set(host["bars"]) == set(host["ratios_previous_defaults"])


def test_graph_bench_checks_every_form(tmp_path: Path) -> None:
    r = _run("emotion_graph.py", tmp_path / "graph.json")
    assert set(r["over_sdpa"]) == {"sdpa", "eager", "exported"}
    assert all(diff <= 1e-4 for diff in r["fp32_max_abs_logit_diff"].values())
    assert all(len(v) == 2 for d in r["rounds"].values() for v in d.values())
