#!/usr/bin/env python3
"""Generate the emoflux Grafana dashboard (``dashboards/emoflux.json``) from one readable description.

Run ``python deploy/grafana/build_dashboard.py`` after editing; ``tests/deploy`` checks that the committed
JSON matches this script's output and that every metric it queries is one the services export.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("dashboards") / "emoflux.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    """One PromQL expression and its legend."""

    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    """A time-series panel: title, unit and queries (Grafana unit ids, e.g. 's', 'reqps', 'short')."""

    title: str
    unit: str
    queries: tuple[Query, ...]
    description: str = ""
    width: int = 12


@dataclass(frozen=True)
class Row:
    """A titled row of panels."""

    title: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)


def quantile(q: float, bucket: str, by: str, selector: str = "") -> str:
    """``histogram_quantile`` over a rate of ``bucket`` summed by ``by`` and ``le``."""
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({bucket}{{{selector}}}[{RATE}])))"


def mean(histogram: str, by: str) -> str:
    """Mean observation of a histogram over the rate window."""
    total = f"sum by ({by}) (rate({histogram}_sum[{RATE}]))"
    count = f"sum by ({by}) (rate({histogram}_count[{RATE}]))"
    return f"{total} / clamp_min({count}, 1e-9)"


ROWS: tuple[Row, ...] = (
    Row(
        "Traffic",
        (
            Panel(
                "Request rate",
                "reqps",
                (
                    Query(
                        f"sum by (job, grpc_method) (rate(grpc_server_handled_total[{RATE}]))",
                        "{{job}} {{grpc_method}}",
                    ),
                ),
                "RPCs completed per second, by service and method.",
            ),
            Panel(
                "Errors by code",
                "reqps",
                (
                    Query(
                        f'sum by (job, grpc_code) (rate(grpc_server_handled_total{{grpc_code!="OK"}}[{RATE}]))',
                        "{{job}} {{grpc_code}}",
                    ),
                ),
                "Non-OK RPC completions per second, by status code.",
            ),
        ),
    ),
    Row(
        "Latency",
        (
            Panel(
                "p50 latency",
                "s",
                (
                    Query(
                        quantile(0.5, "grpc_server_handling_seconds_bucket", "job, grpc_method", 'grpc_type="unary"'),
                        "{{job}} {{grpc_method}}",
                    ),
                ),
                "Median server-side time from RPC start to status (unary RPCs).",
            ),
            Panel(
                "p99 latency",
                "s",
                (
                    Query(
                        quantile(0.99, "grpc_server_handling_seconds_bucket", "job, grpc_method", 'grpc_type="unary"'),
                        "{{job}} {{grpc_method}}",
                    ),
                ),
                "99th percentile server-side time from RPC start to status (unary RPCs).",
            ),
            Panel(
                "In-flight RPCs",
                "short",
                (Query("sum by (job) (grpc_server_in_flight_rpcs)", "{{job}}"),),
                "RPCs being handled now, streams included.",
            ),
        ),
    ),
    Row(
        "Batching",
        (
            Panel(
                "Batch size",
                "short",
                (
                    Query(mean("emoflux_emotion_batch_size", "batcher"), "emotion mean {{batcher}}"),
                    Query(quantile(0.99, "emoflux_emotion_batch_size_bucket", "batcher"), "emotion p99 {{batcher}}"),
                    Query(mean("emoflux_image_batch_size", "batcher"), "image mean {{batcher}}"),
                ),
                "Items per executed batch (faces for emotion_service, requests per pipeline run for image_service).",
            ),
            Panel(
                "Queue depth",
                "short",
                (
                    Query("sum by (batcher) (emoflux_emotion_queue_depth)", "emotion {{batcher}}"),
                    Query("sum by (batcher) (emoflux_image_queue_depth)", "image {{batcher}}"),
                ),
                "Items waiting in the batching queues (the autoscaler's queue-depth signal).",
            ),
            Panel(
                "Queue wait p99",
                "s",
                (
                    Query(
                        quantile(0.99, "emoflux_emotion_queue_wait_seconds_bucket", "batcher"), "emotion {{batcher}}"
                    ),
                    Query(quantile(0.99, "emoflux_image_queue_wait_seconds_bucket", "batcher"), "image {{batcher}}"),
                ),
                "Time an item waited before its batch started.",
            ),
            Panel(
                "Batch compute p50",
                "s",
                (
                    Query(
                        quantile(0.5, "emoflux_emotion_batch_compute_seconds_bucket", "batcher"), "emotion {{batcher}}"
                    ),
                    Query(quantile(0.5, "emoflux_image_batch_compute_seconds_bucket", "batcher"), "image {{batcher}}"),
                ),
                "Time to execute one batch.",
            ),
        ),
    ),
    Row(
        "Generation",
        (
            Panel(
                "Denoising step time",
                "s",
                (
                    Query(
                        quantile(0.5, "emoflux_image_step_seconds_bucket", "variant, backend"),
                        "p50 {{variant}} {{backend}}",
                    ),
                    Query(
                        quantile(0.99, "emoflux_image_step_seconds_bucket", "variant, backend"),
                        "p99 {{variant}} {{backend}}",
                    ),
                ),
                "Time of one denoising step of the FLUX transformer.",
            ),
            Panel(
                "Images generated",
                "short",
                (Query(f"sum by (variant) (rate(emoflux_image_images_generated_total[{RATE}]))", "{{variant}}"),),
                "Images generated per second, by variant.",
            ),
        ),
    ),
    Row(
        "Ranking",
        (
            Panel(
                "Scores",
                "short",
                (
                    Query("max by (model_id) (emoflux_ranker_model_score)", "{{model_id}}"),
                    Query("max by (model_id) (emoflux_ranker_model_score_low)", "{{model_id}} low"),
                    Query("max by (model_id) (emoflux_ranker_model_score_high)", "{{model_id}} high"),
                ),
                "Current score (0..100) of every ranked model with its bootstrap interval.",
                width=8,
            ),
            Panel(
                "Score components",
                "percentunit",
                (Query("max by (model_id, component) (emoflux_ranker_model_component)", "{{model_id}} {{component}}"),),
                "Component values in [0, 1] behind the scores.",
                width=8,
            ),
            Panel(
                "Probe runs",
                "short",
                (
                    Query(
                        f"sum by (probe, outcome) (increase(emoflux_ranker_probe_runs_total[{RATE}]))",
                        "{{probe}} {{outcome}}",
                    ),
                ),
                "Live probes run by the ranker, by outcome.",
                width=8,
            ),
        ),
    ),
    Row(
        "HTTP gateway",
        (
            Panel(
                "HTTP requests by status",
                "reqps",
                (Query(f"sum by (code) (rate(emoflux_gateway_http_requests_total[{RATE}]))", "{{code}}"),),
                "Hugging Face Inference API requests per second, by HTTP status.",
            ),
            Panel(
                "HTTP p99 latency",
                "s",
                (Query(quantile(0.99, "emoflux_gateway_http_request_seconds_bucket", "route"), "{{route}}"),),
                "99th percentile time to answer an HTTP request, by route.",
            ),
        ),
    ),
    Row(
        "Processes",
        (
            Panel(
                "CPU",
                "percentunit",
                (Query(f"sum by (job, instance) (rate(process_cpu_seconds_total[{RATE}]))", "{{job}} {{instance}}"),),
                "CPU time per second of each process (1 = one core busy).",
                width=8,
            ),
            Panel(
                "Resident memory",
                "bytes",
                (Query("max by (job, instance) (process_resident_memory_bytes)", "{{job}} {{instance}}"),),
                "Resident set size of each process.",
                width=8,
            ),
            Panel(
                "Open file descriptors",
                "short",
                (Query("max by (job, instance) (process_open_fds)", "{{job}} {{instance}}"),),
                "File descriptors (sockets included) each process holds open.",
                width=8,
            ),
        ),
    ),
)


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {
            "defaults": {"unit": panel.unit, "custom": {"lineWidth": 1, "fillOpacity": 10}},
            "overrides": [],
        },
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": q.expr, "legendFormat": q.legend}
            for i, q in enumerate(panel.queries)
        ],
    }


def build() -> dict[str, Any]:
    """The dashboard as a Grafana JSON model (schema version 39)."""
    panels: list[dict[str, Any]] = []
    panel_id, y = 1, 0
    for row in ROWS:
        panels.append(
            {
                "id": panel_id,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        panel_id, y, x = panel_id + 1, y + 1, 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y = 0, y + 8
            panels.append(_panel_json(panel, panel_id, x, y))
            panel_id, x = panel_id + 1, x + panel.width
        y += 8
    return {
        "uid": "emoflux",
        "title": "emoflux",
        "description": "Traffic, latency, batching, generation and ranking of the emoflux services.",
        "tags": ["emoflux", "grpc"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "annotations": {"list": []},
        "links": [],
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {"selected": True, "text": "Prometheus", "value": "prometheus"},
                    "hide": 0,
                    "refresh": 1,
                    "options": [],
                }
            ]
        },
        "panels": panels,
    }


def render() -> str:
    """The dashboard JSON text exactly as committed."""
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    """Write the dashboard, or with ``--check`` fail when the committed file is stale."""
    text = render()
    if "--check" in sys.argv[1:]:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run python {Path(__file__).as_posix()}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
