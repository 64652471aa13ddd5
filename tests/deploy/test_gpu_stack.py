"""The GPU install and deployment agree: one ONNX Runtime, pinned CUDA 13 set, engine caches on volumes."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import validate
from deploy.kustomize_lite import Resource, render
from emotion_service.backends.providers import check_single_onnxruntime, installed_onnxruntimes
from servicekit.errors import FailedPrecondition

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def constraints_gpu() -> str:
    return (ROOT / "constraints-gpu.txt").read_text()


@pytest.fixture(scope="module")
def dockerfile_gpu() -> str:
    return (ROOT / "deploy/docker/Dockerfile.gpu").read_text()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def gpu() -> list[Resource]:
    return render(ROOT / "deploy/k8s/overlays/gpu")


def test_the_gpu_stack_is_coherent(pyproject: dict[str, Any], constraints_gpu: str, dockerfile_gpu: str) -> None:
    validate.gpu_stack(pyproject, constraints_gpu, dockerfile_gpu)
    extras = pyproject["project"]["optional-dependencies"]
    assert extras["gpu"] == ["onnxruntime-gpu==1.31.1", "tensorrt-cu13==11.4.0.106"]
    assert not [r for r in pyproject["project"]["dependencies"] if r.startswith("onnxruntime")]


def test_an_incoherent_gpu_stack_is_caught(
    pyproject: dict[str, Any], constraints_gpu: str, dockerfile_gpu: str
) -> None:
    both = copy.deepcopy(pyproject)
    both["project"]["dependencies"].append("onnxruntime>=1.22")
    with pytest.raises(validate.CheckFailed, match="onnxruntime belongs in the cpu or gpu extra"):
        validate.gpu_stack(both, constraints_gpu, dockerfile_gpu)
    unpinned = copy.deepcopy(pyproject)
    unpinned["project"]["optional-dependencies"]["gpu"] = ["onnxruntime-gpu>=1.22", "tensorrt>=10"]
    with pytest.raises(validate.CheckFailed, match=r"not pinned[\s\S]*expected one tensorrt-cuXX"):
        validate.gpu_stack(unpinned, constraints_gpu, dockerfile_gpu)
    cuda12_base = dockerfile_gpu.replace("nvidia/cuda:13.0.2", "nvidia/cuda:12.8.1")
    with pytest.raises(validate.CheckFailed, match="CUDA major versions disagree"):
        validate.gpu_stack(pyproject, constraints_gpu, cuda12_base)
    drifted = constraints_gpu.replace("onnxruntime-gpu==1.31.1", "onnxruntime-gpu==1.30.0")
    message = re.escape("constraints-gpu.txt: onnxruntime-gpu is 'onnxruntime-gpu==1.30.0'")
    with pytest.raises(validate.CheckFailed, match=message):
        validate.gpu_stack(pyproject, drifted, dockerfile_gpu)


def test_exactly_one_onnxruntime_distribution() -> None:
    assert check_single_onnxruntime(["numpy", "onnxruntime_gpu"]) == "onnxruntime-gpu"
    assert installed_onnxruntimes(["onnxruntime", "ONNXRuntime-GPU"]) == ["onnxruntime", "onnxruntime-gpu"]
    with pytest.raises(FailedPrecondition, match=r"exactly one ONNX Runtime distribution, found \['onnxruntime', "):
        check_single_onnxruntime(["onnxruntime", "onnxruntime-gpu"])
    with pytest.raises(FailedPrecondition, match="found none"):
        check_single_onnxruntime(["numpy"])
    assert check_single_onnxruntime() == "onnxruntime"  # this environment: the CPU build only


def test_gpu_deployments_cache_engines_on_volumes(
    compose: dict[str, Any], gpu: list[Resource], dockerfile_gpu: str
) -> None:
    validate.gpu_engine_caches(compose, gpu, dockerfile_gpu)
    services = compose["services"]
    assert {"emotion-gpu", "image-gpu"} <= {n for n, s in services.items() if "gpu" in s.get("profiles", [])}
    assert validate._env(services["emotion-gpu"])["EMOTION_DEVICE"] == "tensorrt"


def test_engine_cache_mistakes_are_caught(compose: dict[str, Any], gpu: list[Resource], dockerfile_gpu: str) -> None:
    no_volume = copy.deepcopy(compose)
    del no_volume["services"]["emotion-gpu"]["volumes"]
    with pytest.raises(validate.CheckFailed, match="emotion-gpu: EMOTION_TRT_CACHE_DIR='/var/cache/emoflux/tensorrt'"):
        validate.gpu_engine_caches(no_volume, gpu, dockerfile_gpu)
    unset = copy.deepcopy(gpu)
    container = validate._deployment_container(unset, "emotion")
    assert container is not None
    container["env"] = [e for e in container["env"] if e["name"] != "EMOTION_TRT_CACHE_DIR"]
    with pytest.raises(validate.CheckFailed, match="Deployment/emotion: EMOTION_TRT_CACHE_DIR=None"):
        validate.gpu_engine_caches(compose, unset, dockerfile_gpu)
    with pytest.raises(validate.CheckFailed, match="IMAGE_ENGINE_CACHE_DIR must default to a directory"):
        validate.gpu_engine_caches(compose, gpu, dockerfile_gpu.replace(" /var/cache/emoflux/image-engines", ""))
