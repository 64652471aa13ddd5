"""The deployments hand the ranker and the gateway their token grants from a mounted secret."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import validate
from deploy.kustomize_lite import Resource, render
from servicekit.auth import TokenStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


@pytest.fixture(scope="module")
def base() -> list[Resource]:
    return render(ROOT / "deploy/k8s/base")


def test_tokens_come_from_mounted_secrets(compose: dict[str, Any], base: list[Resource]) -> None:
    validate.tokens_from_secrets(compose, base)
    # The shipped file grants nothing (comments only) but is a valid tokens file.
    assert len(TokenStore(ROOT / "deploy/secrets/tokens.txt")) == 0


def test_a_tokens_file_off_the_secret_is_caught(compose: dict[str, Any], base: list[Resource]) -> None:
    moved = copy.deepcopy(compose)
    moved["services"]["gateway"]["environment"]["GATEWAY_AUTH_TOKENS_FILE"] = "/app/tokens.txt"
    with pytest.raises(validate.CheckFailed, match=r"services\.gateway: GATEWAY_AUTH_TOKENS_FILE='/app/tokens\.txt'"):
        validate.tokens_from_secrets(moved, base)
    unmounted = copy.deepcopy(base)
    container = validate._deployment_container(unmounted, "ranker")
    assert container is not None
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["name"] != "tokens"]
    with pytest.raises(validate.CheckFailed, match="Deployment/ranker: RANKER_AUTH_TOKENS_FILE"):
        validate.tokens_from_secrets(compose, unmounted)
