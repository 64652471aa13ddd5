"""tools/gpu_check.py in smoke mode (CPU, tiny sizes): every section runs or says why not.

The full smoke run is slow-marked (~15 s of CPU, up to ~70 s wall on a busy 2-core machine); CI also runs
it as ``make gpu-check`` (.ci/run). The time-limit test stays in the default suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.emotion_service.serving import ensure_tiny_bundle

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "gpu_check.py"


def run(out: Path, *args: str, timeout: float = 240) -> tuple[int, dict]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--out", str(out), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    report_path = out / "gpu_check.json"
    assert report_path.exists(), result.stdout[-2000:] + result.stderr[-4000:]
    return result.returncode, json.loads(report_path.read_text())


@pytest.mark.slow
def test_smoke_run_covers_every_section(tmp_path: Path) -> None:
    code, report = run(tmp_path, "--emotion-bundle", str(ensure_tiny_bundle()))
    sections = report["sections"]
    assert list(sections) == [
        "environment", "emotion_bundle", "emotion_raw", "emotion_served", "preprocess",
        "flux_step", "flux_pipeline", "image_served", "flux_compiled",
    ]  # fmt: skip
    failed = {n: r.get("reason") for n, r in sections.items() if r["status"] not in ("ok", "skipped")}
    assert code == 0 and not failed, failed
    assert sections["environment"]["result"]["cuda_available"] is False
    raw = sections["emotion_raw"]["result"]
    assert raw["torch"]["cpu-fp32"]["4"] > 0 and raw["ort"]["cpu-fp32"]["4"] > 0
    assert "CUDAExecutionProvider not offered" in raw["ort"]["cuda"]
    runs = sections["emotion_served"]["result"]["runs"]
    assert {r["input"].split()[0] for r in runs} == {"KServe", "native"}
    assert all(r["img_per_s"] > 0 and r["errors"] == 0 for r in runs)
    assert set(report["served_over_raw"]) == {f"{r['input']} @ {r['clients']}" for r in runs}
    assert sections["preprocess"]["result"]["gpu"] == "skipped: no CUDA device"
    assert sections["flux_step"]["result"]["eager_step_s"] > 0
    assert sections["flux_pipeline"]["result"]["pipeline_s"] > 0
    assert sections["image_served"]["result"]["median_request_s"] > 0
    assert sections["flux_compiled"] == {**sections["flux_compiled"], "status": "skipped"}
    assert "smoke mode" in sections["flux_compiled"]["reason"]
    table = (tmp_path / "gpu_check.md").read_text()
    assert "| section | status | seconds | result |" in table and "| flux_compiled | skipped |" in table


def test_a_section_past_its_limit_is_killed_and_reported(tmp_path: Path) -> None:
    # One process per section: exporting a bundle takes far more than the 6 s budget, so the section's
    # process group (the export included) is killed, the next section is skipped, and the report still comes.
    started = time.monotonic()
    code, report = run(tmp_path, "--isolate", "--sections", "emotion_bundle,environment", "--budget-s", "6", timeout=90)
    # An export left running would hold the output pipes open until it finished (~a minute here).
    assert time.monotonic() - started < 30
    assert code == 1
    bundle, environment = report["sections"]["emotion_bundle"], report["sections"]["environment"]
    assert bundle["status"] == "timeout" and bundle["wall_s"] < 15, bundle
    assert environment == {"status": "skipped", "reason": "the total time budget is spent"}
    assert report["isolation"] == "process per section"
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert leftover.stdout == "", "the export outlived its section"
