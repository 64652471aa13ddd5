"""``python -m ranker evaluate|compare|report`` and the settings they accept."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ranker.cli import main
from ranker.settings import RankerSettings
from tests.ranker.conftest import StartFakes, dead_address

REPO = Path(__file__).resolve().parents[2]


def test_settings_defaults_env_and_flags() -> None:
    defaults = RankerSettings.load([], env={})
    assert (defaults.port, defaults.metrics_port) == (50053, 9103)
    assert defaults.db_path == Path("build/ranker/evidence.sqlite3")
    assert defaults.emotion_addresses == "127.0.0.1:50051" and defaults.image_addresses == "127.0.0.1:50052"
    env = {"RANKER_EMOTION_ADDRESSES": "10.0.0.1:1,10.0.0.2:1", "RANKER_AS_OF": "2026-11-26"}
    loaded = RankerSettings.load(["--port", "7000"], env=env)
    assert loaded.port == 7000 and loaded.emotion_addresses == "10.0.0.1:1,10.0.0.2:1"
    with pytest.raises(SystemExit, match="as_of must be a date"):
        RankerSettings.load(["--as-of", "tomorrow"], env={})
    with pytest.raises(SystemExit, match="image_addresses must list"):
        RankerSettings.load(["--image-addresses", " , "], env={})
    assert "RANKER_DB_PATH" in RankerSettings.describe()


def test_compare_prints_the_reference_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "e.sqlite3")
    assert (
        main(["compare", "facial-emotions-image-detection", "flux-1-pro", "--db-path", db, "--as-of", "2026-11-26"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Score             47/100" in out and "58/100 *" in out
    assert "Verdict: FLUX.1 Pro scores higher at 58/100 vs facial_emotions_image_detection at 47/100." in out
    assert main(["compare", "flux-1-pro", "tiny-flux", "--json", "--db-path", db]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["winner"] in ("flux-1-pro", "tiny-flux", "") and data["rows"][0][0] == "Type"
    assert main(["compare", "flux-1-pro", "nope", "--db-path", db]) == 2
    assert "model_b: unknown model 'nope'" in capsys.readouterr().err


async def test_evaluate_then_report(tmp_path: Path, start_fakes: StartFakes) -> None:
    fakes = await start_fakes()
    address = f"127.0.0.1:{fakes.port}"
    db = str(tmp_path / "e.sqlite3")
    common = ["--db-path", db, "--emotion-addresses", address, "--image-addresses", address, "--load-requests", "8"]
    # The stand-ins serve from this event loop: run the commands in a thread so it stays free.
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ranker", "evaluate", "--models", "emotion-tiny,tiny-flux", *common],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "probes run 15, failed 1, skipped 0" in result.stdout, result.stdout  # the stand-in guesses at chance
    assert "evaluating" in result.stderr and "match.emotion-agreement" in result.stderr  # progress bar and lines
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ranker", "report", "--out", str(tmp_path / "report"), "--db-path", db],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "report" / "report.html").is_file()
    assert "Tiny ViT emotion classifier (embedded) vs Tiny FLUX (embedded)" in result.stdout


def test_evaluate_with_nothing_running_records_unavailable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = dead_address()
    args = [
        "evaluate",
        "--no-match",
        "--db-path",
        str(tmp_path / "e.sqlite3"),
        "--emotion-addresses",
        dead,
        "--image-addresses",
        dead,
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "unavailable" in captured.err and "records stored" in captured.out
