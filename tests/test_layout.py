"""The shape every service shares: composition roots, servicer names, converter modules, build-time code apart."""

from __future__ import annotations

import importlib
import inspect

import pytest

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
