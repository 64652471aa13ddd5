"""The bundled kustomize subset: JSON 6902 operations, image rewrites, targets, refusal of the unknown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.kustomize_lite import KustomizeError, apply_operation, render


def test_json6902_operations() -> None:
    doc: dict[str, Any] = {
        "spec": {"containers": [{"name": "a", "env": []}], "metrics": [{"type": "Resource"}, {"type": "Pods"}]}
    }
    apply_operation(doc, {"op": "add", "path": "/spec/containers/0/env/-", "value": {"name": "X"}})
    apply_operation(doc, {"op": "add", "path": "/spec/containers/0/limits", "value": {"nvidia.com/gpu": 1}})
    apply_operation(doc, {"op": "add", "path": "/spec/containers/0/limits/a~1b", "value": 2})
    apply_operation(doc, {"op": "test", "path": "/spec/metrics/0/type", "value": "Resource"})
    apply_operation(doc, {"op": "remove", "path": "/spec/metrics/0"})
    apply_operation(doc, {"op": "replace", "path": "/spec/containers/0/name", "value": "b"})
    assert doc == {
        "spec": {
            "containers": [{"name": "b", "env": [{"name": "X"}], "limits": {"nvidia.com/gpu": 1, "a/b": 2}}],
            "metrics": [{"type": "Pods"}],
        }
    }
    with pytest.raises(KustomizeError, match="expected 'Resource'"):
        apply_operation(doc, {"op": "test", "path": "/spec/metrics/0/type", "value": "Resource"})
    with pytest.raises(KustomizeError, match="does not exist"):
        apply_operation(doc, {"op": "replace", "path": "/spec/nothing", "value": 1})
    with pytest.raises(KustomizeError, match="unsupported"):
        apply_operation(doc, {"op": "move", "path": "/spec", "from": "/x"})


def _write(directory: Path, name: str, content: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    text = (
        content
        if isinstance(content, str)
        else yaml.safe_dump_all(content)
        if isinstance(content, list)
        else yaml.safe_dump(content)
    )
    (directory / name).write_text(text)


def _deployment(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}},
    }


def test_overlay_rewrites_images_and_patches_targets_by_regex(tmp_path: Path) -> None:
    _write(
        tmp_path / "base", "app.yaml", [_deployment("one", "emoflux"), _deployment("two", "registry:5000/other:1.0")]
    )
    _write(
        tmp_path / "base",
        "kustomization.yaml",
        {"resources": ["app.yaml"], "images": [{"name": "emoflux", "newTag": "cpu"}]},
    )
    _write(
        tmp_path / "gpu",
        "patch.yaml",
        yaml.safe_dump([{"op": "add", "path": "/metadata/labels", "value": {"gpu": "yes"}}]),
    )
    _write(
        tmp_path / "gpu",
        "kustomization.yaml",
        {
            "resources": ["../base"],
            "images": [
                {"name": "emoflux", "newName": "reg/emoflux", "newTag": "gpu"},
                {"name": "registry:5000/other", "newTag": "2.0"},
            ],
            "patches": [{"path": "patch.yaml", "target": {"kind": "Deployment", "name": "one|three"}}],
        },
    )
    one, two = render(tmp_path / "gpu")
    assert one["spec"]["template"]["spec"]["containers"][0]["image"] == "reg/emoflux:gpu"
    assert two["spec"]["template"]["spec"]["containers"][0]["image"] == "registry:5000/other:2.0"
    assert one["metadata"]["labels"] == {"gpu": "yes"} and "labels" not in two["metadata"]


def test_unsupported_features_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "kustomization.yaml", {"resources": [], "commonLabels": {"a": "b"}})
    with pytest.raises(KustomizeError, match="unsupported fields"):
        render(tmp_path)
    _write(tmp_path, "app.yaml", _deployment("one", "x"))
    _write(
        tmp_path,
        "kustomization.yaml",
        {"resources": ["app.yaml"], "patches": [{"patch": "- op: remove\n  path: /spec", "target": {"name": "zero"}}]},
    )
    with pytest.raises(KustomizeError, match="matches no resource"):
        render(tmp_path)
