"""A real Prometheus scrapes the three real services on loopback; its HTTP API shows every target up and
the series the dashboard, the alert rules and the autoscalers read."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from PIL import Image

from ranker.catalog import load_catalog
from ranker.demo import free_port
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc
from tests.e2e.procs import REPO, Launcher, ServiceProcess, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLASSIFY_CALLS = 5
IMAGES_PER_CALL = 2
RULES = REPO / "deploy" / "prometheus" / "rules.yml"


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    """The Debian ``prometheus`` binary, installed with apt-get when missing (root and apt needed)."""
    found = shutil.which("prometheus")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("prometheus is not installed and cannot be installed here (needs apt-get as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "prometheus"],
    ):
        subprocess.run(command, check=True, env=env, capture_output=True, timeout=900)
    found = shutil.which("prometheus")
    assert found, "apt-get installed prometheus but it is not on PATH"
    return found


class PrometheusAPI:
    """The few calls of Prometheus's HTTP API the test makes."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        with urllib.request.urlopen(url, timeout=5) as reply:
            body = json.loads(reply.read())
        assert body["status"] == "success", body
        return body["data"]

    def ready(self) -> bool:
        """True once Prometheus answers /-/ready with 200."""
        with urllib.request.urlopen(f"{self.base}/-/ready", timeout=5) as reply:
            return bool(reply.status == 200)

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query; the vector's samples as ``{"metric": {...}, "value": [t, "v"]}``."""
        data = self.get("/api/v1/query", query=promql)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result

    def scalar(self, promql: str) -> float | None:
        """The value of a one-sample query (None when the vector is empty)."""
        result = self.query(promql)
        return float(result[0]["value"][1]) if len(result) == 1 else None


def write_config(path: Path, services: dict[str, ServiceProcess]) -> None:
    """A Prometheus config scraping each service's metrics port every second, with the deploy rules."""
    shutil.copy(RULES, path.parent / "rules.yml")
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": ["rules.yml"],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{service.metrics_port}"]}]}
            for job, service in services.items()
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def start_prometheus(binary: str, config: Path, work: Path) -> tuple[subprocess.Popen[bytes], PrometheusAPI, Path]:
    """Prometheus on a free loopback port, its TSDB under ``work``; returns (process, api, log path)."""
    port = free_port()
    log_path = work / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, PrometheusAPI(port), log_path


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (40 * seed % 256, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


async def drive(emotion: str, image: str, ranker: str) -> None:
    """A few real requests to each service, so that every key series has samples."""
    async with grpc.aio.insecure_channel(emotion) as channel:
        stub = emotion_pb2_grpc.EmotionServiceStub(channel)
        for i in range(CLASSIFY_CALLS):
            images = [emotion_pb2.Image(data=png(i * IMAGES_PER_CALL + j)) for j in range(IMAGES_PER_CALL)]
            reply = await stub.Classify(emotion_pb2.ClassifyRequest(images=images), timeout=30)
            assert len(reply.results) == IMAGES_PER_CALL
    async with grpc.aio.insecure_channel(image) as channel:
        request = image_pb2.GenerateRequest(prompt="a happy face", width=64, height=64, num_inference_steps=3, seed=1)
        generated = await image_pb2_grpc.ImageServiceStub(channel).Generate(request, timeout=120)
        assert len(generated.images) == 1
    async with grpc.aio.insecure_channel(ranker) as channel:
        stub = ranker_pb2_grpc.RankerServiceStub(channel)
        board = await stub.Leaderboard(ranker_pb2.LeaderboardRequest(), timeout=30)
        assert board.entries


async def test_prometheus_scrapes_all_three_services(
    launcher: Launcher, prometheus_binary: str, tmp_path: Path
) -> None:
    emotion = launcher.emotion()
    image = launcher.image()
    ranker = launcher.ranker(tmp_path / "evidence.sqlite3", emotion.address, image.address)
    services = {"emotion": emotion, "image": image, "ranker": ranker}
    config = tmp_path / "prometheus.yml"
    write_config(config, services)
    process, api, log_path = start_prometheus(prometheus_binary, config, tmp_path)
    try:
        await launcher.serving(emotion, image, ranker, timeout=240)
        await drive(emotion.address, image.address, ranker.address)
        wait_until(api.ready, 60, what="prometheus ready")
        check_targets(api, services)
        check_series(api)
        check_rules(api)
    except BaseException:
        print(log_path.read_text(errors="replace")[-4000:])
        raise
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    assert process.returncode == 0, log_path.read_text(errors="replace")[-2000:]


def check_targets(api: PrometheusAPI, services: dict[str, ServiceProcess]) -> None:
    """/api/v1/targets lists exactly the three services, each scraped successfully."""

    def all_up() -> bool:
        active = api.get("/api/v1/targets", state="active")["activeTargets"]
        return len(active) == len(services) and all(t["health"] == "up" for t in active)

    wait_until(all_up, 60, what="every target up")
    active = api.get("/api/v1/targets", state="active")["activeTargets"]
    by_job = {t["labels"]["job"]: t for t in active}
    assert set(by_job) == set(services)
    for job, service in services.items():
        assert by_job[job]["scrapeUrl"] == f"http://127.0.0.1:{service.metrics_port}/metrics"
        assert by_job[job]["lastError"] == ""
    assert api.scalar("sum(up)") == len(services)


def counted(api: PrometheusAPI, promql: str, expected: float) -> bool:
    return api.scalar(promql) == expected


def check_series(api: PrometheusAPI) -> None:
    """The key series exist with the values the driven requests imply."""
    # Each target is scraped on its own clock: wait until the last request of each is in.
    expected = {"emotion": ("Classify", CLASSIFY_CALLS), "image": ("Generate", 1), "ranker": ("Leaderboard", 1)}
    for job, (method, calls) in expected.items():
        handled = f'sum(grpc_server_handled_total{{job="{job}",grpc_method="{method}",grpc_code="OK"}})'
        wait_until(partial(counted, api, handled, calls), 30, what=f"{job} {method} calls counted")
    count = 'sum(grpc_server_handling_seconds_bucket{job="emotion",grpc_method="Classify",le="+Inf"})'
    assert api.scalar(count) == CLASSIFY_CALLS
    buckets = 'grpc_server_handling_seconds_bucket{job="emotion",grpc_method="Classify"}'
    p99 = api.scalar(f"histogram_quantile(0.99, sum by (le) ({buckets}))")
    assert p99 is not None and 0 < p99 < 30
    # Every face went through the dynamic batcher: the batch-size histogram's sum counts them.
    faces = api.scalar('sum(emoflux_emotion_batch_size_sum{job="emotion"})')
    assert faces is not None and faces >= CLASSIFY_CALLS * IMAGES_PER_CALL
    assert api.query('emoflux_emotion_batch_size_bucket{job="emotion",le="+Inf"}')
    assert api.scalar('sum(emoflux_emotion_queue_depth{job="emotion"})') == 0

    steps = api.scalar('sum(emoflux_image_step_seconds_count{job="image"})')
    assert steps is not None and steps >= 1
    assert api.query('emoflux_image_step_seconds_bucket{job="image",variant="tiny-flux"}')
    assert api.scalar('sum(emoflux_image_variant_loaded{job="image"})') == 1

    scores = {
        s["metric"]["model_id"]: float(s["value"][1]) for s in api.query('emoflux_ranker_model_score{job="ranker"}')
    }
    assert set(scores) == {card.id for card in load_catalog()}
    assert all(0 <= v <= 100 for v in scores.values())
    # Interval bounds bracket every score.
    assert not api.query(
        "emoflux_ranker_model_score_low > emoflux_ranker_model_score"
        " or emoflux_ranker_model_score_high < emoflux_ranker_model_score"
    )
    assert len(api.query('emoflux_ranker_model_score_low{job="ranker"}')) == len(scores)

    # Every process exports the standard process and platform collectors, one series per job.
    for series in ("process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"):
        jobs = {s["metric"]["job"] for s in api.query(series)}
        assert jobs == {"emotion", "image", "ranker"}, series


def check_rules(api: PrometheusAPI) -> None:
    """The deploy recording and alerting rules evaluate cleanly against the real series."""

    def evaluated() -> bool:
        groups = api.get("/api/v1/rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return bool(rules) and all(r["health"] == "ok" for r in rules) and all(r.get("lastEvaluation") for r in rules)

    wait_until(evaluated, 30, what="every rule evaluated with health ok")
    wait_until(
        lambda: api.query('emoflux:grpc_requests:rate1m{job="emotion",grpc_method="Classify"}'),
        30,
        what="the request-rate recording rule over the emotion series",
    )
    rate = api.query('emoflux:grpc_requests:rate1m{job="emotion",grpc_method="Classify"}')[0]
    assert math.isfinite(float(rate["value"][1]))
    firing = [a["labels"]["alertname"] for a in api.get("/api/v1/alerts")["alerts"] if a["state"] == "firing"]
    assert firing == []
