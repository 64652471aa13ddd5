"""Every series the dashboard, the alert rules and the autoscalers query is one the services export."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from deploy import validate
from deploy.kustomize_lite import render
from gateway.metrics import HttpMetrics
from servicekit.metrics import RpcMetrics, standard_collectors

ROOT = Path(__file__).resolve().parents[2]
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
    "info": ("_info",),
    "summary": ("_sum", "_count"),
}
# The metrics class of each service, as (module, class name).
_SERVICE_METRICS = {
    "emotion_service": ("emotion_service.metrics", "EmotionMetrics"),
    "image_service": ("image_service.metrics", "ImageMetrics"),
    "ranker": ("ranker.metrics", "RankerMetrics"),
}


def exported_series() -> set[str]:
    """Series names exposed by every service's metric declarations (empty registries: names only)."""
    registry = CollectorRegistry()
    RpcMetrics(registry)
    HttpMetrics(registry)
    standard_collectors(registry)
    missing = []
    for service, (module, cls) in _SERVICE_METRICS.items():
        try:
            getattr(importlib.import_module(module), cls)(registry)
        except ModuleNotFoundError:
            missing.append(service)
    if missing:
        pytest.skip(f"services not landed yet: {', '.join(missing)}")
    names: set[str] = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in _SUFFIXES[family.type])
    return names


def test_dashboard_queries_only_exported_series() -> None:
    queried = validate.dashboard_metrics()
    assert len(queried) > 15
    assert queried - exported_series() == set()


def test_alert_rules_query_exported_series() -> None:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules.yml").read_text())
    exported = exported_series()
    for group in rules["groups"]:
        for rule in group["rules"]:
            for name in validate.series_in(rule["expr"]):
                assert name in exported, f"{rule.get('alert') or rule.get('record')}: {name}"
    # The queue-depth alert selects by regex: both services must export the series it means.
    assert {"emoflux_emotion_queue_depth", "emoflux_image_queue_depth"} <= exported


def test_autoscaler_queue_metrics_are_exported() -> None:
    exported = exported_series()
    for resource in render(ROOT / "deploy/k8s/base"):
        if resource["kind"] == "HorizontalPodAutoscaler":
            for metric in resource["spec"]["metrics"]:
                if metric["type"] == "Pods":
                    assert metric["pods"]["metric"]["name"] in exported


# Names the project does not own: the gRPC server convention and prometheus_client's standard collectors.
_STANDARD_PREFIXES = ("grpc_server_", "process_", "python_")


def test_every_project_metric_has_the_one_prefix() -> None:
    exported = exported_series()
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"} <= exported
    strays = sorted(n for n in exported if not n.startswith(("emoflux_", *_STANDARD_PREFIXES)))
    assert strays == []
    services = {n.split("_")[1] for n in exported if n.startswith("emoflux_")}
    assert services == {"emotion", "image", "ranker", "gateway"}
