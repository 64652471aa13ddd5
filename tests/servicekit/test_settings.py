"""Settings: defaults, environment, CLI precedence and validation messages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from servicekit.settings import ServerSettings, setting


@dataclasses.dataclass(frozen=True)
class DemoSettings(ServerSettings):
    env_prefix = "DEMO_"
    sizes: tuple[int, ...] = setting((1, 2), "Preferred sizes.")
    ratio: float = setting(0.5, "A ratio.")


def test_defaults_env_and_cli_precedence() -> None:
    assert DemoSettings.load([], env={}).port == 0
    from_env = DemoSettings.load([], env={"DEMO_PORT": "5000", "DEMO_SIZES": "4,8", "DEMO_ACCESS_LOG": "false"})
    assert (from_env.port, from_env.sizes, from_env.access_log) == (5000, (4, 8), False)
    both = DemoSettings.load(["--port", "6000", "--ratio", "0.25"], env={"DEMO_PORT": "5000"})
    assert (both.port, both.ratio) == (6000, 0.25)
    assert DemoSettings.load(["--tls-cert", "a.pem", "--tls-key", "a.key"], env={}).tls_cert == Path("a.pem")


def test_invalid_values_name_the_variable() -> None:
    with pytest.raises(SystemExit, match="DEMO_PORT"):
        DemoSettings.load([], env={"DEMO_PORT": "many"})
    with pytest.raises(SystemExit, match="tls_cert and tls_key"):
        DemoSettings.load(["--tls-cert", "a.pem"], env={})
    with pytest.raises(SystemExit, match="port must be in"):
        DemoSettings.load(["--port", "70000"], env={})


def test_describe_documents_every_field() -> None:
    table = DemoSettings.describe()
    for field in dataclasses.fields(DemoSettings):
        assert f"`{DemoSettings.env_name(field.name)}`" in table
