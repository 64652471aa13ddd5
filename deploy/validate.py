#!/usr/bin/env python3
"""Offline validation of docker-compose.yml and deploy/: schemas, cross-references and house rules.

Checks, all without network or a container engine:

* compose: the compose-spec JSON schema (check-jsonschema's vendored copy), service wiring (commands,
  ports, HOST=0.0.0.0, health checks, Prometheus and Grafana included, ranker pointed at the other two),
  bind-mounted files exist; the gateway's healthcheck and its Kubernetes probes ask the same endpoint;
* prometheus: every scrape target is a compose service's metrics port, and every service is scraped;
* grafana: the dashboard equals its generator's output, its datasource uid is provisioned;
* kubernetes: base and GPU overlay rendered (``kubectl kustomize`` when installed, and the bundled
  kustomize-lite, which must agree), every object validated strictly against the Kubernetes JSON schemas
  of kubernetes-validate for the oldest and newest supported versions, plus probes, headless Services,
  HPAs, resource requests and GPU limits;
* dockerfiles: base images, pinned torch, constraints, non-root user, command;
* settings: every ``EMOTION_*``/``IMAGE_*``/``RANKER_*``/``GATEWAY_*`` variable set anywhere is one that
  the service's ``--help`` documents (services not yet importable are reported as skipped).

Tools that need packages from Debian (docker-compose, promtool, hadolint) run in tools/validate_deploy.sh.
Exit status 0 when every check passes, 1 otherwise; one line per check.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.grafana import build_dashboard  # noqa: E402
from deploy.kustomize_lite import Resource, render  # noqa: E402

# Kubernetes versions the manifests must be valid for: gRPC probes are GA from 1.27; the newest is the
# newest schema set kubernetes-validate ships.
K8S_VERSIONS = ("1.29", "latest")


@dataclass(frozen=True)
class ServiceSpec:
    """What the deployment files must agree on for one emoflux process."""

    name: str  # compose service / Kubernetes Deployment name
    module: str  # python -m <module>
    prefix: str  # environment prefix
    port: int
    metrics_port: int
    grpc_service: str | None  # full gRPC service name; None for the HTTP gateway


SERVICES = (
    ServiceSpec("emotion", "emotion_service", "EMOTION_", 50051, 9101, "emoflux.emotion.v1.EmotionService"),
    ServiceSpec("image", "image_service", "IMAGE_", 50052, 9102, "emoflux.image.v1.ImageService"),
    ServiceSpec("ranker", "ranker", "RANKER_", 50053, 9103, "emoflux.ranker.v1.RankerService"),
    ServiceSpec("gateway", "gateway", "GATEWAY_", 8080, 8080, None),
)
GRPC_SERVICES = tuple(s for s in SERVICES if s.grpc_service)
# The monitoring containers' own readiness endpoints, probed by their compose healthchecks.
MONITORING_HEALTH = {"prometheus": "http://127.0.0.1:9090/-/ready", "grafana": "http://127.0.0.1:3000/api/health"}
QUEUE_METRICS = {"emotion": "emoflux_emotion_queue_depth", "image": "emoflux_image_queue_depth"}


class CheckFailed(Exception):
    """A check found problems; the message lists them."""


@dataclass
class Report:
    """Results of all checks, printed one line each."""

    failures: list[tuple[str, str]] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def run(self, name: str, check: Callable[[], str | None]) -> None:
        """Run one check; a returned string is a skip reason."""
        try:
            skip = check()
        except CheckFailed as exc:
            self.failures.append((name, str(exc)))
            print(f"FAIL {name}\n     " + str(exc).replace("\n", "\n     "))
            return
        if skip:
            self.skipped.append((name, skip))
            print(f"skip {name}: {skip}")
        else:
            self.passed.append(name)
            print(f"ok   {name}")


def _expect(problems: list[str]) -> None:
    if problems:
        raise CheckFailed("\n".join(problems))


def load_yaml(path: Path) -> Any:
    """One YAML document."""
    return yaml.safe_load(path.read_text())


# -- compose -------------------------------------------------------------------------------------------
def compose_schema(compose_file: Path) -> None:
    """The compose file against the compose-spec JSON schema."""
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(compose_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CheckFailed((result.stdout + result.stderr).strip())


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def compose_wiring(compose: dict[str, Any]) -> None:
    """Commands, ports, bind address, health checks and the ranker's upstreams."""
    problems: list[str] = []
    services = compose.get("services", {})
    for spec in SERVICES:
        service = services.get(spec.name)
        if service is None:
            problems.append(f"services.{spec.name}: missing")
            continue
        where = f"services.{spec.name}"
        if service.get("command") != ["python", "-m", spec.module]:
            problems.append(f"{where}.command: expected ['python', '-m', '{spec.module}']")
        env = _env(service)
        expected_env = {f"{spec.prefix}HOST": "0.0.0.0", f"{spec.prefix}PORT": str(spec.port)}
        if spec.grpc_service:
            expected_env[f"{spec.prefix}METRICS_PORT"] = str(spec.metrics_port)
        for key, value in expected_env.items():
            if env.get(key) != value:
                problems.append(f"{where}.environment.{key}: expected {value!r}, got {env.get(key)!r}")
        published = {str(p).split(":")[-1] for p in service.get("ports", [])}
        for port in {spec.port, spec.metrics_port}:
            if str(port) not in published:
                problems.append(f"{where}.ports: {port} is not published")
        test = service.get("healthcheck", {}).get("test", [])
        joined = " ".join(test)
        if spec.grpc_service and f"/app/deploy/healthcheck.py 127.0.0.1:{spec.port}" not in joined:
            problems.append(f"{where}.healthcheck: expected deploy/healthcheck.py against 127.0.0.1:{spec.port}")
        if not spec.grpc_service and gateway_probe(service) is None:
            problems.append(
                f"{where}.healthcheck: expected deploy/healthcheck.py --http http://127.0.0.1:{spec.port}/<path>"
            )
        build = service.get("build", {})
        dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
        if not dockerfile or not (ROOT / build.get("context", ".") / dockerfile).exists():
            problems.append(f"{where}.build.dockerfile: {dockerfile!r} does not exist")
    ranker_env = _env(services.get("ranker", {}))
    for upstream in ("emotion", "image"):
        spec = next(s for s in SERVICES if s.name == upstream)
        key = f"RANKER_{upstream.upper()}_ADDRESSES"
        if ranker_env.get(key) != f"{upstream}:{spec.port}":
            problems.append(f"services.ranker.environment.{key}: expected '{upstream}:{spec.port}'")
        depends = services.get("ranker", {}).get("depends_on", {})
        if not isinstance(depends, dict) or depends.get(upstream, {}).get("condition") != "service_healthy":
            problems.append(f"services.ranker.depends_on.{upstream}: expected condition service_healthy")
    for name, ready_url in MONITORING_HEALTH.items():
        test = " ".join(services.get(name, {}).get("healthcheck", {}).get("test", []))
        if ready_url not in test:
            problems.append(f"services.{name}.healthcheck: expected a probe of {ready_url}")
    grafana_depends = services.get("grafana", {}).get("depends_on", {})
    if not isinstance(grafana_depends, dict) or grafana_depends.get("prometheus", {}).get("condition") != (
        "service_healthy"
    ):
        problems.append("services.grafana.depends_on.prometheus: expected condition service_healthy")
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith((".", "/")) and not (ROOT / source).exists():
                problems.append(f"services.{name}.volumes: {source} does not exist")
    _expect(problems)


def gateway_probe(service: dict[str, Any]) -> tuple[int, str] | None:
    """(port, path) the gateway's compose healthcheck probes with ``healthcheck.py --http``, if it does."""
    test = service.get("healthcheck", {}).get("test", [])
    if "/app/deploy/healthcheck.py" not in test or "--http" not in test:
        return None
    index = test.index("--http") + 1
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)(/\S*)", test[index]) if index < len(test) else None
    return (int(match.group(1)), match.group(2)) if match else None


def gateway_probes_agree(compose: dict[str, Any], resources: list[Resource]) -> None:
    """The gateway's compose healthcheck and its Kubernetes readiness and liveness probes ask the same thing."""
    spec = next(s for s in SERVICES if s.name == "gateway")
    probe = gateway_probe(compose.get("services", {}).get(spec.name, {}))
    if probe is None:
        raise CheckFailed(
            "services.gateway.healthcheck: expected deploy/healthcheck.py --http http://127.0.0.1:PORT/PATH"
        )
    port, path = probe
    problems: list[str] = []
    if port != spec.port:
        problems.append(f"services.gateway.healthcheck: port {port}, but the gateway listens on {spec.port}")
    container = _deployment_container(resources, spec.name)
    if container is None:
        raise CheckFailed("Deployment/gateway: missing")
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    for name in ("readinessProbe", "livenessProbe"):
        http_get = container.get(name, {}).get("httpGet", {})
        probe_port = ports.get(http_get.get("port"), http_get.get("port"))
        if (http_get.get("path"), probe_port) != (path, spec.port):
            problems.append(
                f"Deployment/gateway: {name} asks {http_get.get('path')!r} on port {probe_port!r}; the compose "
                f"healthcheck asks {path!r} on {spec.port}: they must agree"
            )
    _expect(problems)


# -- prometheus ----------------------------------------------------------------------------------------
def prometheus_targets(prometheus: dict[str, Any], compose: dict[str, Any]) -> None:
    """Every emoflux process is scraped at its compose name and metrics port; rule files exist."""
    problems: list[str] = []
    targets = {
        target
        for job in prometheus.get("scrape_configs", [])
        for static in job.get("static_configs", [])
        for target in static.get("targets", [])
    }
    for spec in SERVICES:
        if f"{spec.name}:{spec.metrics_port}" not in targets:
            problems.append(f"scrape_configs: no target {spec.name}:{spec.metrics_port}")
    services = set(compose.get("services", {}))
    for target in sorted(targets):
        host = target.split(":")[0]
        if host != "localhost" and host not in services:
            problems.append(f"scrape_configs: target {target} is not a compose service")
    for rule_file in prometheus.get("rule_files", []):
        if not (ROOT / "deploy/prometheus" / rule_file).exists():
            problems.append(f"rule_files: {rule_file} does not exist")
    _expect(problems)


# -- grafana -------------------------------------------------------------------------------------------
def grafana_dashboard() -> None:
    """The committed dashboard equals the generator's output; ids unique; panels fit the 24-column grid."""
    problems: list[str] = []
    path = build_dashboard.OUTPUT
    if not path.exists() or path.read_text() != build_dashboard.render():
        problems.append(f"{path.relative_to(ROOT)} is stale: run python deploy/grafana/build_dashboard.py")
    dashboard = json.loads(path.read_text()) if path.exists() else {}
    ids = [panel["id"] for panel in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)):
        problems.append("panels: duplicate ids")
    for panel in dashboard.get("panels", []):
        grid = panel["gridPos"]
        if grid["x"] + grid["w"] > 24:
            problems.append(f"panel {panel['title']!r}: wider than the grid")
        if panel["type"] != "row" and not all(t.get("expr") for t in panel.get("targets", [])):
            problems.append(f"panel {panel['title']!r}: a target has no expression")
    datasources = load_yaml(ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml")["datasources"]
    if "prometheus" not in {d.get("uid") for d in datasources}:
        problems.append("datasources: no datasource with uid 'prometheus' (the dashboard's default)")
    _expect(problems)


def series_in(expr: str) -> set[str]:
    """Series names a PromQL expression reads (recording-rule names ``a:b:c`` and label names excluded)."""
    # Label matchers and grouping clauses name labels, not series: drop them first.
    expr = re.sub(r"\{[^}]*\}|\b(?:by|without)\s*\([^)]*\)", "", expr)
    return set(re.findall(r"(?<![:\w])((?:grpc|emoflux|ranker)_\w+)(?![:\w])", expr))


def dashboard_metrics() -> set[str]:
    """Series names the dashboard queries (with _bucket/_sum/_count/_total as written)."""
    return {
        name
        for row in build_dashboard.ROWS
        for panel in row.panels
        for q in panel.queries
        for name in series_in(q.expr)
    }


# -- kubernetes ----------------------------------------------------------------------------------------
def render_kustomization(directory: Path) -> list[Resource]:
    """Render with the bundled renderer, and check ``kubectl kustomize`` agrees where it is installed."""
    resources = render(directory)
    kubectl = shutil.which("kubectl")
    if kubectl:
        result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CheckFailed(f"kubectl kustomize {directory}: {result.stderr.strip()}")
        reference = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
        if _by_key(reference) != _by_key(resources):
            raise CheckFailed(f"{directory}: kustomize-lite and kubectl kustomize render different objects")
    return resources


def _by_key(resources: list[Resource]) -> dict[tuple[str, str], Resource]:
    return {(r["kind"], r["metadata"]["name"]): r for r in resources}


def k8s_schemas(resources: list[Resource]) -> None:
    """Strict validation of every object against the Kubernetes JSON schemas (unknown fields fail)."""
    import kubernetes_validate

    problems: list[str] = []
    for version in K8S_VERSIONS:
        target = kubernetes_validate.latest_version() if version == "latest" else version
        for resource in resources:
            name = f"{resource['kind']}/{resource['metadata']['name']}"
            try:
                kubernetes_validate.validate(resource, target, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path)
                problems.append(f"k8s {target} {name} at {path or '<root>'}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError as exc:
                problems.append(f"k8s {target} {name}: {exc.message}")
    _expect(problems)


def _deployment_container(resources: list[Resource], name: str) -> dict[str, Any] | None:
    deployment = _by_key(resources).get(("Deployment", name))
    return deployment["spec"]["template"]["spec"]["containers"][0] if deployment else None


def k8s_rules(resources: list[Resource], image_tag: str, gpu: bool) -> None:
    """Probes, headless Services, requests, HPAs, images and (GPU) device limits."""
    problems: list[str] = []
    by_key = _by_key(resources)
    for spec in SERVICES:
        container = _deployment_container(resources, spec.name)
        where = f"Deployment/{spec.name}"
        if container is None:
            problems.append(f"{where}: missing")
            continue
        if container.get("image") != f"emoflux:{image_tag}":
            problems.append(f"{where}: image {container.get('image')!r}, expected 'emoflux:{image_tag}'")
        if container.get("command") != ["python", "-m", spec.module]:
            problems.append(f"{where}: command must be python -m {spec.module}")
        requests = container.get("resources", {}).get("requests", {})
        if not {"cpu", "memory"} <= set(requests):
            problems.append(f"{where}: resources.requests needs cpu and memory")
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        if env.get(f"{spec.prefix}HOST") != "0.0.0.0" or env.get(f"{spec.prefix}PORT") != str(spec.port):
            problems.append(f"{where}: {spec.prefix}HOST must be 0.0.0.0 and {spec.prefix}PORT {spec.port}")
        pod = by_key[("Deployment", spec.name)]["spec"]["template"]["spec"]
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{where}: securityContext.runAsNonRoot must be true")
        if spec.grpc_service:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                grpc_probe = container.get(probe, {}).get("grpc")
                if not grpc_probe or grpc_probe.get("port") != spec.port:
                    problems.append(f"{where}: {probe} must be a gRPC health probe on port {spec.port}")
            if container.get("readinessProbe", {}).get("grpc", {}).get("service") != spec.grpc_service:
                problems.append(f"{where}: readinessProbe.grpc.service must be {spec.grpc_service}")
            service = by_key.get(("Service", spec.name))
            if service is None or service["spec"].get("clusterIP") != "None":
                problems.append(f"Service/{spec.name}: must exist and be headless (clusterIP: None)")
        if gpu and spec.name in QUEUE_METRICS:
            limits = container.get("resources", {}).get("limits", {})
            if str(limits.get("nvidia.com/gpu")) != "1":
                problems.append(f"{where}: resources.limits nvidia.com/gpu must be 1 in the GPU overlay")
    for (kind, name), resource in by_key.items():
        if kind != "HorizontalPodAutoscaler":
            continue
        target = resource["spec"]["scaleTargetRef"]
        if ("Deployment", target["name"]) not in by_key:
            problems.append(f"HPA/{name}: scaleTargetRef {target['name']} is not a Deployment here")
        metrics = resource["spec"].get("metrics", [])
        pods = {m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"}
        has_cpu = any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in metrics)
        if name in QUEUE_METRICS and QUEUE_METRICS[name] not in pods:
            problems.append(f"HPA/{name}: needs a Pods metric {QUEUE_METRICS[name]}")
        if name in QUEUE_METRICS and not gpu and not has_cpu:
            problems.append(f"HPA/{name}: needs a CPU utilization target")
    for name in QUEUE_METRICS:
        if ("HorizontalPodAutoscaler", name) not in by_key:
            problems.append(f"HorizontalPodAutoscaler/{name}: missing")
    _expect(problems)


# -- dockerfiles ---------------------------------------------------------------------------------------
def _final_stage(text: str) -> str:
    return re.split(r"(?m)^FROM\s", text)[-1]


def dockerfiles() -> None:
    """Base images, pinned torch from constraints, non-root final stage, default command."""
    problems: list[str] = []
    cpu = (ROOT / "deploy/docker/Dockerfile").read_text()
    gpu = (ROOT / "deploy/docker/Dockerfile.gpu").read_text()
    if not re.search(r"(?m)^ARG PYTHON_IMAGE=python:3\.11-slim", cpu):
        problems.append("Dockerfile: base must be python:3.11-slim")
    if not re.search(r"(?m)^ARG CUDA_IMAGE=nvidia/cuda:", gpu):
        problems.append("Dockerfile.gpu: base must be an nvidia/cuda image")
    if "['gpu']" not in gpu or "['cpu']" in gpu:
        problems.append("Dockerfile.gpu: must install the gpu extra (onnxruntime-gpu, tensorrt), not the cpu one")
    if "['cpu']" not in cpu or "['gpu']" in cpu:
        problems.append("Dockerfile: must install the cpu extra (onnxruntime), not the gpu one")
    for name, text, constraints in (
        ("Dockerfile", cpu, "constraints.txt"),
        ("Dockerfile.gpu", gpu, "constraints-gpu.txt"),
    ):
        if "torch==2.13.0" not in text or f"-c {constraints}" not in text:
            problems.append(f"{name}: must install torch==2.13.0 and everything with -c {constraints}")
        if not re.search(r"(?m)^ARG TORCH_INDEX_URL=", text):
            problems.append(f"{name}: the torch index must be a build argument (TORCH_INDEX_URL)")
        final = _final_stage(text)
        users = re.findall(r"(?m)^USER\s+(\S+)", final)
        if not users or users[-1].split(":")[0] in ("root", "0"):
            problems.append(f"{name}: the final stage must run as a non-root USER")
        if not re.search(r'(?m)^CMD \["python", "-m", "[a-z_]+"\]', final):
            problems.append(f"{name}: CMD must be python -m <service>")
        if "deploy/healthcheck.py" not in final:
            problems.append(f"{name}: HEALTHCHECK must use deploy/healthcheck.py")
        problems.extend(f"{name}: {problem}" for problem in _dangling_python_references(text))
    _expect(problems)


# -- GPU stack -----------------------------------------------------------------------------------------
ONNXRUNTIMES = ("onnxruntime", "onnxruntime-gpu")
ENGINE_CACHE_ENV = {"emotion": "EMOTION_TRT_CACHE_DIR", "image": "IMAGE_ENGINE_CACHE_DIR"}


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1).lower().replace("_", "-") if match else requirement


def _constraint_pins(text: str) -> dict[str, str]:
    """``name -> requirement`` of a constraints file (comments and blank lines skipped)."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins[_requirement_name(line)] = line.replace(" ", "")
    return pins


def gpu_stack(pyproject: dict[str, Any], constraints_gpu: str, dockerfile_gpu: str) -> None:
    """One ONNX Runtime per install, the `gpu` extra pinned as constraints-gpu.txt, one CUDA major everywhere."""
    problems: list[str] = []
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    base = {_requirement_name(r) for r in project.get("dependencies", [])}
    for name in sorted(base & {*ONNXRUNTIMES, "tensorrt"} | {n for n in base if n.startswith("tensorrt")}):
        problems.append(
            f"pyproject dependencies: {name} belongs in the cpu or gpu extra (one ONNX Runtime per install)"
        )
    cpu = {_requirement_name(r) for r in extras.get("cpu", [])}
    if "onnxruntime" not in cpu or cpu & {"onnxruntime-gpu"}:
        problems.append("pyproject extra cpu: must bring onnxruntime (and not onnxruntime-gpu)")
    gpu = {_requirement_name(r): r.replace(" ", "") for r in extras.get("gpu", [])}
    if "onnxruntime-gpu" not in gpu or "onnxruntime" in gpu:
        problems.append("pyproject extra gpu: must bring onnxruntime-gpu (and not onnxruntime)")
    pins = _constraint_pins(constraints_gpu)
    for name, requirement in sorted(gpu.items()):
        if "==" not in requirement:
            problems.append(f"pyproject extra gpu: {requirement} is not pinned (==)")
        if pins.get(name) != requirement:
            problems.append(f"constraints-gpu.txt: {name} is {pins.get(name)!r}, the gpu extra says {requirement!r}")
    majors: dict[str, int] = {}
    tensorrt = [n for n in gpu if n.startswith("tensorrt")]
    if len(tensorrt) != 1 or not re.fullmatch(r"tensorrt-cu(\d+)", tensorrt[0]):
        problems.append(f"pyproject extra gpu: expected one tensorrt-cuXX package, got {tensorrt}")
    else:
        majors["tensorrt-cuXX"] = int(tensorrt[0].removeprefix("tensorrt-cu"))
    image = re.search(r"(?m)^ARG CUDA_IMAGE=nvidia/cuda:(\d+)\.", dockerfile_gpu)
    index = re.search(r"(?m)^ARG TORCH_INDEX_URL=\S*/cu(\d+)\d\b", dockerfile_gpu)
    declared = re.search(r"(?m)^# cuda-major: (\d+)", constraints_gpu)
    for where, match in (("Dockerfile.gpu CUDA_IMAGE", image), ("Dockerfile.gpu TORCH_INDEX_URL", index),
                         ("constraints-gpu.txt cuda-major", declared)):  # fmt: skip
        if match is None:
            problems.append(f"{where}: no CUDA version found")
        else:
            majors[where] = int(match.group(1))
    if len(set(majors.values())) > 1:
        problems.append(f"CUDA major versions disagree: {majors}")
    if "check_single_onnxruntime()" not in dockerfile_gpu:
        problems.append("Dockerfile.gpu: the build must check that exactly one ONNX Runtime is installed")
    _expect(problems)


def _under(path: str, mounts: list[str]) -> bool:
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)


def gpu_engine_caches(compose: dict[str, Any], gpu_resources: list[Resource], dockerfile_gpu: str) -> None:
    """GPU deployments point the engine-cache settings at a mounted volume (the root filesystem is read-only)."""
    problems: list[str] = []
    for name, service in compose.get("services", {}).items():
        if "gpu" not in service.get("profiles", []):
            continue
        command = service.get("command", [])
        owner = next((k for k in ENGINE_CACHE_ENV if command == ["python", "-m", f"{k}_service"]), None)
        if owner is None:
            continue
        variable = ENGINE_CACHE_ENV[owner]
        path = _env(service).get(variable)
        mounts = [str(v).split(":")[1] for v in service.get("volumes", []) if ":" in str(v)]
        if not path or not _under(path, mounts):
            problems.append(f"compose services.{name}: {variable}={path!r} is not under a mounted volume {mounts}")
    for spec_name, variable in ENGINE_CACHE_ENV.items():
        container = _deployment_container(gpu_resources, spec_name)
        if container is None:
            problems.append(f"k8s GPU overlay: no Deployment {spec_name}")
            continue
        path = next((e.get("value") for e in container.get("env", []) if e["name"] == variable), None)
        mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
        if not path or not _under(path, mounts):
            problems.append(
                f"k8s GPU overlay Deployment/{spec_name}: {variable}={path!r} is not under a mount {mounts}"
            )
        default = re.search(rf"\b{variable}=(\S+)", dockerfile_gpu)
        made = " ".join(re.findall(r"mkdir -p ([^\n&]+)", dockerfile_gpu)).split()
        if default is None or default.group(1) not in made:
            problems.append(f"Dockerfile.gpu: {variable} must default to a directory the image creates ({made})")
    _expect(problems)


TOKENS_ENV = {"ranker": "RANKER_AUTH_TOKENS_FILE", "gateway": "GATEWAY_AUTH_TOKENS_FILE"}


def tokens_from_secrets(compose: dict[str, Any], resources: list[Resource]) -> None:
    """The ranker and the gateway read their bearer-token grants from a mounted secret, never the image."""
    problems: list[str] = []
    services = compose.get("services", {})
    for name, variable in TOKENS_ENV.items():
        service = services.get(name, {})
        path = _env(service).get(variable)
        secrets = [s if isinstance(s, str) else s.get("target", s.get("source")) for s in service.get("secrets", [])]
        mounts = [f"/run/secrets/{secret}" for secret in secrets if secret]
        if not path or not _under(path, mounts):
            problems.append(f"compose services.{name}: {variable}={path!r} is not a mounted secret {mounts}")
        container = _deployment_container(resources, name)
        if container is None:
            problems.append(f"k8s: no Deployment {name}")
            continue
        path = next((e.get("value") for e in container.get("env", []) if e["name"] == variable), None)
        deployment = next(r for r in resources if r["kind"] == "Deployment" and r["metadata"]["name"] == name)
        secret_volumes = {v["name"] for v in deployment["spec"]["template"]["spec"].get("volumes", []) if "secret" in v}
        mounts = [m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in secret_volumes]
        if not path or not _under(path, mounts):
            problems.append(f"k8s Deployment/{name}: {variable}={path!r} is not under a secret volume {mounts}")
    _expect(problems)


def _dangling_python_references(text: str) -> list[str]:
    """Modules run with ``python -m`` and names imported in ``python -c`` that this checkout lacks."""
    problems: list[str] = []
    for module in sorted(set(re.findall(r"python -m ([a-z_][a-z0-9_.]*)", text)) - {"venv", "pip"}):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            continue  # a service that has not landed yet; the settings check reports it as skipped
        if importlib.util.find_spec(module) is None:
            problems.append(f"python -m {module}: no such module")
    for module, names in re.findall(r"from ([a-z_][a-z0-9_.]*) import ([A-Za-z_, ]+);", text):
        if module in ("pathlib",) or importlib.util.find_spec(module.split(".")[0]) is None:
            continue
        loaded = importlib.import_module(module)
        problems.extend(
            f"from {module} import {n.strip()}: no such name"
            for n in names.split(",")
            if not hasattr(loaded, n.strip())
        )
    return problems


# -- settings ------------------------------------------------------------------------------------------
def env_names_in_files(compose: dict[str, Any], resources: list[list[Resource]]) -> Iterator[tuple[str, str]]:
    """(where, variable) for every environment variable set by compose or Kubernetes."""
    for name, service in compose.get("services", {}).items():
        for key in _env(service):
            yield f"compose services.{name}", key
    for rendered in resources:
        for resource in rendered:
            if resource["kind"] != "Deployment":
                continue
            for container in resource["spec"]["template"]["spec"]["containers"]:
                for env in container.get("env", []):
                    yield f"k8s Deployment/{resource['metadata']['name']}", env["name"]


def documented_env(module: str, prefix: str) -> set[str] | None:
    """Environment variables the service documents, or None when the module is absent.

    Read from the ``<module>.settings`` class with the service's prefix (fast, in-process) when there is
    one, else from ``python -m module --help``.
    """
    if importlib.util.find_spec(module) is None or importlib.util.find_spec(f"{module}.__main__") is None:
        return None
    from servicekit.settings import BaseSettings

    if importlib.util.find_spec(f"{module}.settings") is not None:
        namespace = vars(importlib.import_module(f"{module}.settings"))
        classes = [
            value
            for value in namespace.values()
            if isinstance(value, type) and issubclass(value, BaseSettings) and value.env_prefix == prefix
        ]
        if classes:
            return {cls.env_name(f.name) for cls in classes for f in dataclasses.fields(cls)}
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    if result.returncode != 0:
        raise CheckFailed(f"python -m {module} --help failed: {result.stderr.strip()[-500:]}")
    # argparse may wrap "[env NAME]" across lines; join before matching.
    return set(re.findall(r"\[env\s+([A-Z0-9_]+)\]", " ".join(result.stdout.split())))


def settings_exist(compose: dict[str, Any], resources: list[list[Resource]], skipped: list[str]) -> None:
    """Every service variable the deployment sets is one its ``--help`` documents."""
    problems: list[str] = []
    documented: dict[str, set[str] | None] = {}
    for spec in SERVICES:
        documented[spec.prefix] = documented_env(spec.module, spec.prefix)
        if documented[spec.prefix] is None:
            skipped.append(spec.module)
    for where, name in sorted(set(env_names_in_files(compose, resources))):
        owner = next((s for s in SERVICES if name.startswith(s.prefix)), None)
        if owner is None:
            continue
        known = documented[owner.prefix]
        if known is not None and name not in known:
            problems.append(f"{where}: {name} is not a setting of {owner.module} (see python -m {owner.module} --help)")
    _expect(problems)


def main(argv: list[str] | None = None) -> int:
    """Run every check and print one line per check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-settings", action="store_true", help="skip the --help cross-check (faster)")
    args = parser.parse_args(argv)
    report = Report()
    compose_file = ROOT / "docker-compose.yml"
    compose = load_yaml(compose_file)
    rendered: dict[str, list[Resource]] = {}

    def render_check(name: str) -> Callable[[], None]:
        def check() -> None:
            try:
                rendered[name] = render_kustomization(ROOT / "deploy/k8s" / name)
            except ValueError as exc:
                raise CheckFailed(str(exc)) from exc

        return check

    report.run("compose: compose-spec schema", lambda: compose_schema(compose_file))
    report.run("compose: services wired", lambda: compose_wiring(compose))
    report.run(
        "prometheus: targets and rule files",
        lambda: prometheus_targets(load_yaml(ROOT / "deploy/prometheus/prometheus.yml"), compose),
    )
    report.run("grafana: dashboard and datasource", grafana_dashboard)
    report.run("dockerfiles: base, torch pin, non-root, command", dockerfiles)
    report.run(
        "gpu: one ONNX Runtime, pinned gpu extra, one CUDA major",
        lambda: gpu_stack(
            tomllib.loads((ROOT / "pyproject.toml").read_text()),
            (ROOT / "constraints-gpu.txt").read_text(),
            (ROOT / "deploy/docker/Dockerfile.gpu").read_text(),
        ),
    )
    for overlay, tag, gpu in (("base", "cpu", False), ("overlays/gpu", "gpu", True)):
        report.run(f"k8s {overlay}: render", render_check(overlay))
        if overlay in rendered:
            resources = rendered[overlay]
            report.run(
                f"k8s {overlay}: schemas {'/'.join(K8S_VERSIONS)} (strict)", functools.partial(k8s_schemas, resources)
            )
            report.run(f"k8s {overlay}: probes, services, HPAs", functools.partial(k8s_rules, resources, tag, gpu))
            report.run(
                f"k8s {overlay}: gateway probes agree with compose",
                functools.partial(gateway_probes_agree, compose, resources),
            )
            report.run(
                f"auth {overlay}: token grants from mounted secrets (compose, k8s)",
                functools.partial(tokens_from_secrets, compose, resources),
            )
            if gpu:
                report.run(
                    "gpu: engine caches on mounted volumes (compose gpu profile, k8s GPU overlay)",
                    functools.partial(
                        gpu_engine_caches, compose, resources, (ROOT / "deploy/docker/Dockerfile.gpu").read_text()
                    ),
                )
    if not args.no_settings:
        skipped: list[str] = []

        def settings_check() -> str | None:
            settings_exist(compose, list(rendered.values()), skipped)
            return f"not importable yet: {', '.join(skipped)}" if skipped else None

        report.run("settings: every variable is documented by --help", settings_check)
    total = len(report.passed) + len(report.failures)
    print(f"deploy/validate.py: {len(report.passed)} of {total} checks passed, {len(report.skipped)} skipped")
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
