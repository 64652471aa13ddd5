"""Deployment files: schemas, wiring and house rules (fast, offline), and the full validator (slow, apt)."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import validate
from deploy.kustomize_lite import Resource, render

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return validate.load_yaml(ROOT / "docker-compose.yml")


@pytest.fixture(scope="module")
def base() -> list[Resource]:
    return render(ROOT / "deploy/k8s/base")


@pytest.fixture(scope="module")
def gpu() -> list[Resource]:
    return render(ROOT / "deploy/k8s/overlays/gpu")


def _find(resources: list[Resource], kind: str, name: str) -> Resource:
    return next(r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name)


# -- compose ---------------------------------------------------------------------------------------------
def test_compose_matches_the_compose_spec_schema() -> None:
    validate.compose_schema(ROOT / "docker-compose.yml")


def test_compose_schema_rejects_a_typo(tmp_path: Path, compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["emotion"]["healthcheck"]["intervall"] = "10s"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(validate.CheckFailed, match="intervall"):
        validate.compose_schema(path)


def test_compose_wiring(compose: dict[str, Any]) -> None:
    validate.compose_wiring(compose)
    services = compose["services"]
    assert {"emotion", "image", "ranker", "gateway", "prometheus", "grafana"} <= set(services)
    ranker_env = services["ranker"]["environment"]
    assert (ranker_env["RANKER_EMOTION_ADDRESSES"], ranker_env["RANKER_IMAGE_ADDRESSES"]) == (
        "emotion:50051",
        "image:50052",
    )


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (("ranker", "environment", "RANKER_EMOTION_ADDRESSES"), "127.0.0.1:50051", "RANKER_EMOTION_ADDRESSES"),
        (("emotion", "environment", "EMOTION_HOST"), "127.0.0.1", "EMOTION_HOST"),
        (("image", "command"), ["python", "-m", "emotion_service"], "services.image.command"),
        (("emotion", "healthcheck", "test"), ["CMD", "true"], "services.emotion.healthcheck"),
        (("grafana", "volumes"), ["./deploy/grafana/nope:/etc/grafana/provisioning:ro"], "does not exist"),
        (("prometheus", "healthcheck"), {}, "services.prometheus.healthcheck"),
        (("grafana", "healthcheck", "test"), ["CMD", "true"], "services.grafana.healthcheck"),
        (("grafana", "depends_on"), ["prometheus"], "services.grafana.depends_on.prometheus"),
        (
            ("gateway", "healthcheck", "test"),
            ["CMD", "python", "-c", "print('http://127.0.0.1:8080/health')"],
            "services.gateway.healthcheck",
        ),
    ],
)
def test_compose_wiring_finds_mistakes(
    compose: dict[str, Any], path: tuple[str, ...], value: Any, fragment: str
) -> None:
    broken = copy.deepcopy(compose)
    node = broken["services"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(validate.CheckFailed, match=fragment):
        validate.compose_wiring(broken)


@pytest.mark.parametrize("overlay", ["base", "gpu"])
def test_gateway_compose_healthcheck_and_k8s_probes_agree(
    compose: dict[str, Any], base: list[Resource], gpu: list[Resource], overlay: str
) -> None:
    from gateway.app import PROBE_PATH

    validate.gateway_probes_agree(compose, base if overlay == "base" else gpu)
    # ...and what they agree on is the gateway's own probe route.
    assert validate.gateway_probe(compose["services"]["gateway"]) == (8080, PROBE_PATH)


@pytest.mark.parametrize("probe", ["readinessProbe", "livenessProbe"])
def test_gateway_probes_disagreeing_with_compose_are_caught(
    compose: dict[str, Any], base: list[Resource], probe: str
) -> None:
    broken = copy.deepcopy(base)
    _find(broken, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0][probe]["httpGet"]["path"] = (
        "/metrics"
    )
    with pytest.raises(validate.CheckFailed, match=f"{probe} asks '/metrics'.*must agree"):
        validate.gateway_probes_agree(compose, broken)
    moved = copy.deepcopy(compose)
    moved["services"]["gateway"]["healthcheck"]["test"][-1] = "http://127.0.0.1:8080/health"
    with pytest.raises(validate.CheckFailed, match="the compose healthcheck asks '/health'"):
        validate.gateway_probes_agree(moved, base)


# -- prometheus and grafana ------------------------------------------------------------------------------
def test_prometheus_scrapes_every_service(compose: dict[str, Any]) -> None:
    prometheus = validate.load_yaml(ROOT / "deploy/prometheus/prometheus.yml")
    validate.prometheus_targets(prometheus, compose)
    prometheus["scrape_configs"] = [j for j in prometheus["scrape_configs"] if j["job_name"] != "ranker"]
    with pytest.raises(validate.CheckFailed, match="ranker:9103"):
        validate.prometheus_targets(prometheus, compose)


def test_grafana_dashboard_is_generated_and_covers_the_signals() -> None:
    validate.grafana_dashboard()
    titles = {p["title"] for p in validate.build_dashboard.build()["panels"]}
    assert {
        "Request rate",
        "p50 latency",
        "p99 latency",
        "Batch size",
        "Queue depth",
        "Denoising step time",
        "Scores",
    } <= titles
    exprs = " ".join(q.expr for row in validate.build_dashboard.ROWS for p in row.panels for q in p.queries)
    assert "histogram_quantile(0.99, sum by (job, grpc_method, le) (rate(grpc_server_handling_seconds_bucket" in exprs


def test_dockerfiles_follow_the_rules() -> None:
    validate.dockerfiles()


# -- kubernetes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overlay", ["base", "overlays/gpu"])
def test_k8s_renders_and_validates_strictly(overlay: str) -> None:
    resources = validate.render_kustomization(ROOT / "deploy/k8s" / overlay)  # also compares with kubectl
    validate.k8s_schemas(resources)
    validate.k8s_rules(resources, "gpu" if "gpu" in overlay else "cpu", gpu="gpu" in overlay)


def test_k8s_schema_validation_catches_unknown_fields_and_types(base: list[Resource]) -> None:
    broken = copy.deepcopy(base)
    deployment = _find(broken, "Deployment", "emotion")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["prot"] = 50051
    _find(broken, "Deployment", "image")["spec"]["replicas"] = "2"
    with pytest.raises(validate.CheckFailed) as info:
        validate.k8s_schemas(broken)
    assert "'prot' was unexpected" in str(info.value)
    assert "Deployment/image at spec.replicas: '2' is not of type 'integer'" in str(info.value)


def test_k8s_rules_catch_wiring_mistakes(base: list[Resource]) -> None:
    broken = copy.deepcopy(base)
    del _find(broken, "Service", "image")["spec"]["clusterIP"]
    del _find(broken, "Deployment", "ranker")["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    _find(broken, "HorizontalPodAutoscaler", "emotion")["spec"]["metrics"].pop()
    with pytest.raises(validate.CheckFailed) as info:
        validate.k8s_rules(broken, "cpu", gpu=False)
    message = str(info.value)
    assert "Service/image: must exist and be headless" in message
    assert "Deployment/ranker: readinessProbe must be a gRPC health probe" in message
    assert "HPA/emotion: needs a Pods metric emoflux_emotion_queue_depth" in message


def test_gpu_overlay_requests_gpus_and_uses_the_gpu_image(base: list[Resource], gpu: list[Resource]) -> None:
    for name in ("emotion", "image"):
        container = _find(gpu, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert container["image"] == "emoflux:gpu"
        base_container = _find(base, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert "nvidia.com/gpu" not in base_container["resources"]["limits"]
    env = {
        e["name"]: e["value"]
        for e in _find(gpu, "Deployment", "emotion")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["EMOTION_DEVICE"] == "tensorrt"
    metrics = _find(gpu, "HorizontalPodAutoscaler", "emotion")["spec"]["metrics"]
    assert [m["type"] for m in metrics] == ["Pods"]
    assert _find(gpu, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0]["image"] == "emoflux:gpu"


def test_headless_services_for_round_robin(base: list[Resource]) -> None:
    for name in ("emotion", "image", "ranker"):
        assert _find(base, "Service", name)["spec"]["clusterIP"] == "None"
    ranker_env = {
        e["name"]: e["value"]
        for e in _find(base, "Deployment", "ranker")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert ranker_env["RANKER_EMOTION_ADDRESSES"] == "dns:///emotion:50051"


# -- settings --------------------------------------------------------------------------------------------
def test_every_variable_set_is_a_real_setting(
    compose: dict[str, Any], base: list[Resource], gpu: list[Resource]
) -> None:
    skipped: list[str] = []
    validate.settings_exist(compose, [base, gpu], skipped)
    broken = copy.deepcopy(compose)
    broken["services"]["gateway"]["environment"]["GATEWAY_EMOTION_ADRESSES"] = "x:1"
    with pytest.raises(validate.CheckFailed, match="GATEWAY_EMOTION_ADRESSES is not a setting of gateway"):
        validate.settings_exist(broken, [], [])


# -- the whole validator ---------------------------------------------------------------------------------
def test_validator_script_passes_without_installs() -> None:
    """deploy/validate.py as CI runs it (the parts that need no Debian package)."""
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "deploy/validate.py"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("apt-get") is None and shutil.which("promtool") is None, reason="needs apt-get or promtool"
)
def test_validate_deploy_script_with_debian_tools() -> None:
    """tools/validate_deploy.sh: installs docker-compose, prometheus, hadolint if missing, then every check."""
    env = dict(os.environ, PY=str(ROOT / ".venv/bin/python"))
    result = subprocess.run(
        ["bash", "tools/validate_deploy.sh"], cwd=ROOT, capture_output=True, text=True, timeout=900, env=env
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "validate_deploy: all 4 check groups passed" in result.stdout
