"""served_over_raw divides by the best in-process configuration of the run, whatever its layout or batch."""

from __future__ import annotations

from bench.emotion import INSTANCES, best_configuration, describe_configuration


def _results(all_cores: dict[str, float], instances: dict[str, float]) -> dict[str, dict[str, dict[str, float]]]:
    return {"raw_ort": {"fp32": all_cores}, "instances_in_process": {"fp32": instances}}


def test_the_served_layout_wins_when_it_is_faster() -> None:
    results = _results({"1": 5.0, "8": 4.9, "32": 4.2}, {"1": 5.3, "2": 5.2, "4": 5.1})
    assert best_configuration(results, "fp32") == ("instances", 1)
    assert describe_configuration("instances", 1) == f"{INSTANCES} x 1-thread instances, batch 1"


def test_any_batch_of_one_session_wins_when_it_is_faster() -> None:
    results = _results({"1": 5.0, "8": 5.6, "32": 4.2}, {"1": 5.3, "2": 5.2})
    assert best_configuration(results, "fp32") == ("all_cores", 8)
    assert describe_configuration("all_cores", 8) == "one session on all cores, batch 8"
