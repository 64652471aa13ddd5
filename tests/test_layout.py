"""The shape every service shares: composition roots, servicer names, converter modules, build-time code apart."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emotion_service.serving import ensure_tiny_bundle

REPO = Path(__file__).resolve().parent.parent

SERVICES = {
    "emotion_service": ("EmotionComponent", ("service.EmotionServicer", "kserve.KServeServicer")),
    "image_service": ("ImageComponent", ("service.ImageServicer",)),
    "gateway": ("GatewayComponent", ()),
}


@pytest.mark.parametrize("package", sorted(SERVICES))
def test_composition_root_and_servicer_names(package: str) -> None:
    component_class, servicers = SERVICES[package]
    component = importlib.import_module(f"{package}.component")
    build = component.build_component
    assert inspect.signature(build).return_annotation in (component_class, getattr(component, component_class))
    assert list(inspect.signature(build).parameters) == ["settings", "registry"]
    for path in servicers:
        module, name = path.split(".")
        assert inspect.isclass(getattr(importlib.import_module(f"{package}.{module}"), name))


@pytest.mark.parametrize("package", sorted(SERVICES))
def test_converters_follow_the_naming_scheme(package: str) -> None:
    wire = importlib.import_module(f"{package}.wire")
    public = [
        name
        for name, value in vars(wire).items()
        if inspect.isfunction(value) and value.__module__ == wire.__name__ and not name.startswith("_")
    ]
    converters = [name for name in public if name.endswith(("_to_pb", "_from_pb"))]
    assert converters, f"{package}.wire has no <thing>_to_pb / <thing>_from_pb converter"


SERVING_MODULES = (
    "emotion_service.__main__",
    "emotion_service.component",
    "image_service.__main__",
    "image_service.component",
    "gateway.__main__",
    "gateway.component",
)
BUILD_PACKAGES = ("emotion_service.build", "image_service.build")

_SERVE_WITHOUT_BUILD = """
import asyncio, importlib, sys
from pathlib import Path
from prometheus_client import CollectorRegistry
for name in sys.argv[2:]:
    importlib.import_module(name)
from emotion_service.component import build_component
from emotion_service.domain import ClassifyOptions, ImageInput, RawPixels
from emotion_service.settings import EmotionSettings

async def serve_one() -> None:
    settings = EmotionSettings(bundle=Path(sys.argv[1]), precisions=("fp32", "int8"), port=0, metrics_port=-1)
    component = build_component(settings, CollectorRegistry())
    await component.start()
    try:
        image = ImageInput(raw=RawPixels(8, 8, bytes(8 * 8 * 3)))
        await component.runtime.classify([image], ClassifyOptions(face_mode="detect"))
        await component.runtime.classify([image], ClassifyOptions(precision="int8"))
    finally:
        await component.stop()

asyncio.run(serve_one())
print("\\n".join(sorted(m for m in sys.modules if m.startswith(("emotion_service.build", "image_service.build")))))
"""


def test_serving_loads_no_build_time_code() -> None:
    """Importing every serving entry point and answering requests leaves the build packages unloaded."""
    tiny_bundle = ensure_tiny_bundle()
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_WITHOUT_BUILD, str(tiny_bundle), *SERVING_MODULES],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "", f"serving loaded build-time modules: {result.stdout.split()}"


@pytest.mark.parametrize("package", BUILD_PACKAGES)
def test_build_packages_exist_and_are_what_the_entry_points_name(package: str) -> None:
    for module in ("export", "train"):
        assert importlib.util.find_spec(f"{package}.{module}") is not None


def _readme_layout() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("## Layout\n", 1)[1].split("```", 2)[1]
    return block.strip("\n").splitlines()


def test_readme_layout_names_only_what_is_in_the_tree() -> None:
    """Every directory and module the README's layout section names exists where it says."""
    package = REPO
    named: list[Path] = []
    for line in _readme_layout():
        if line and not line.startswith(" "):  # a top-level directory, then what it holds
            package = REPO / line.split()[0]
            named.append(package)
        elif line.startswith("  ") and not line.startswith("   "):  # a module or folder of that package
            named += [package / token.rstrip(",") for token in line.split("  ")[1].split() if token.endswith("/")]
        named += [package / module for module in re.findall(r"[\w/]+\.py\b", line)]
    missing = [str(p.relative_to(REPO)) for p in named if not p.exists()]
    assert not missing, f"README layout names what the tree lacks: {missing}"
    assert len(named) > 20


def test_readme_layout_lists_every_top_level_package() -> None:
    top = {line.split()[0].rstrip("/") for line in _readme_layout() if line and not line.startswith(" ")}
    packages = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()}
    assert packages <= top, f"packages missing from the README layout: {sorted(packages - top)}"
