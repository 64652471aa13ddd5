"""The profile summary counts py-spy's collapsed stacks the way docs/emotion.md reads them."""

from __future__ import annotations

import pytest

from bench.profile_emotion import frame_name, summarise

RAW = """\
_bootstrap (threading.py:1002);run (onnxruntime_inference_collection.py:266) 6
_run_once (asyncio/base_events.py:1922);_run (asyncio/events.py:80);parse_pixels (emotion_service/kserve.py:99) 3
_run_once (asyncio/base_events.py:1922);_run (asyncio/events.py:84) 1
not a stack line
"""


def test_frames_of_one_function_count_together() -> None:
    assert frame_name("run (/x/site-packages/onnxruntime/onnxruntime_inference_collection.py:266)") == (
        "run (onnxruntime_inference_collection.py)"
    )
    assert frame_name("<module> (bench/profile_emotion.py:1)") == "<module> (profile_emotion.py)"


def test_self_and_total_shares() -> None:
    summary = summarise(RAW, top=10)
    assert summary["samples"] == 10
    assert summary["self"] == [
        ["run (onnxruntime_inference_collection.py)", 0.6],
        ["parse_pixels (kserve.py)", 0.3],
        ["_run (events.py)", 0.1],
    ]
    total = dict(summary["total"])
    assert total["_run (events.py)"] == pytest.approx(0.4)  # on the stack of 4 of the 10 samples
    assert total["run (onnxruntime_inference_collection.py)"] == pytest.approx(0.6)
