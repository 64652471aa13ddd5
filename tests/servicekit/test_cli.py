"""Command-line conventions: --x/--no-x booleans, console entry points beside ``python -m``."""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from servicekit.settings import ServerSettings, setting

REPO = Path(__file__).resolve().parents[2]
SCRIPTS: dict[str, str] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]


@dataclasses.dataclass(frozen=True)
class FlagSettings(ServerSettings):
    env_prefix = "FLAG_"
    program = "flag-demo"
    batching: bool = setting(True, "Batch things.")
    compile: bool = setting(False, "Compile things.")


def test_boolean_flags_are_x_and_no_x() -> None:
    assert FlagSettings.load([], env={}).batching is True
    assert FlagSettings.load(["--no-batching"], env={}).batching is False
    assert FlagSettings.load(["--compile"], env={}).compile is True
    # The flag wins over the environment, in both directions.
    assert FlagSettings.load(["--batching"], env={"FLAG_BATCHING": "false"}).batching is True
    assert FlagSettings.load(["--no-compile"], env={"FLAG_COMPILE": "true"}).compile is False


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("false", False), ("no", False), ("1", True)])
def test_environment_variables_keep_taking_true_and_false(raw: str, value: bool) -> None:
    assert FlagSettings.load([], env={"FLAG_BATCHING": raw}).batching is value


def test_a_value_after_a_boolean_flag_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        FlagSettings.load(["--batching", "false"], env={})
    assert info.value.code == 2
    assert "unrecognized arguments: false" in capsys.readouterr().err


def test_help_and_docs_show_both_spellings(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        FlagSettings.load(["--help"], env={})
    out = capsys.readouterr().out
    assert "--batching, --no-batching" in out and "--compile, --no-compile" in out
    table = FlagSettings.describe()
    assert "| `--batching/--no-batching` | `FLAG_BATCHING` |" in table
    assert "| `--port` | `FLAG_PORT` |" in table


def test_every_service_has_a_console_entry_point() -> None:
    assert set(SCRIPTS) == {"emoflux-emotion", "emoflux-image", "emoflux-ranker", "emoflux-gateway"}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_entry_point_target_prints_help(
    script: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module, _, function = SCRIPTS[script].partition(":")
    main = getattr(importlib.import_module(module), function)
    # Console scripts call main() with no arguments; the flags come from sys.argv.
    monkeypatch.setattr(sys, "argv", [script, "--help"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--no-access-log" in out and "usage:" in out


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_installed_console_script_runs(script: str) -> None:
    path = Path(sys.executable).parent / script
    if not path.exists():
        pytest.skip(f"{script} is not installed in {path.parent}: reinstall the package (pip install -e .)")
    done = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--no-access-log" in done.stdout
