"""The soak, three minutes long: bench/soak.py as a user runs it, judged by its own pass rule.

Every service runs as a real process under valid, hostile and cancelled traffic, with one emotion
replica restarted (SIGTERM) mid-run; the script samples RSS, descriptors, threads, queue depths and
status codes every 10 s. The test runs the script in a subprocess, then checks its verdict and that
the run really exercised what the rule speaks about (every process sampled in both halves, the restart
done, evidence acknowledged and found, hostile and cancelled calls answered as such).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.procs import REPO

MINUTES = 3
# The second half of a 3-minute run is 90 s, and the restarted replica is then under a minute old: its RSS
# still holds warm-up growth (1.8 MiB/min seen). The 30-minute run is judged by the script's 2 MiB/min.
RSS_SLOPE_MB_PER_MIN = 5.0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_soak_three_minutes(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    command = [
        sys.executable, str(REPO / "bench" / "soak.py"), "--minutes", str(MINUTES), "--out", str(out),
        "--work", str(tmp_path / "work"), "--rss-slope-mb-per-min", str(RSS_SLOPE_MB_PER_MIN),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=840)
    print(run.stdout)
    result = json.loads(out.read_text())
    assert run.returncode == 0 and result["passed"], (result["problems"], run.stderr[-3000:])

    assert set(result["processes"]) == {"emotion-a", "emotion-b", "image", "ranker", "gateway"}
    for name, process in result["processes"].items():
        assert all(process["checks"].values()), (name, process["checks"])
    events = [e["event"] for e in result["events"]]
    assert any(e.startswith("SIGTERM emotion-b") for e in events) and "emotion-b exited with code 0" in events
    assert any(e.startswith("emotion-b SERVING again") for e in events)
    phases = {s["phase"] for s in result["samples"]}
    assert {"first half", "second half", "after load"} <= phases

    codes = result["client_codes"]
    assert "lost" not in codes
    assert result["evidence_batches_acknowledged"] > 0 and result["evidence_batches_missing"] == 0
    assert codes["Classify"].get("OK", 0) > 0 and codes["Generate"].get("OK", 0) > 0
    assert set(codes["Classify hostile"]) <= {"INVALID_ARGUMENT"}
    assert codes["ClassifyStream abandoned"].get("CANCELLED", 0) > 0
    assert codes["GenerateStream cancelled"].get("CANCELLED", 0) > 0
    assert set(codes["SubmitEvidence no token"]) == {"UNAUTHENTICATED"}
    assert codes["gateway classify"].get("HTTP 200", 0) > 0
