"""A small kustomize for this repository's manifests, used where ``kubectl kustomize`` is not installed.

It implements exactly the kustomization features deploy/k8s uses and refuses any other field, so it can
never silently render something different from kustomize: ``resources`` (files and directories holding a
kustomization), ``images`` (``newName``/``newTag``/``digest`` on container images) and ``patches`` given
as JSON 6902 operation lists with a ``target`` (group, version, kind, name as an anchored regex). The
validator checks that its output equals ``kubectl kustomize`` wherever both exist.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]
_SUPPORTED = {"apiVersion", "kind", "resources", "images", "patches"}
_POD_SPEC_PATHS = (("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec"), ("spec",))


class KustomizeError(ValueError):
    """The kustomization uses a feature this renderer does not implement, or a patch does not apply."""


def load_documents(path: Path) -> list[Resource]:
    """Every non-empty YAML document of a file."""
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def render(directory: Path) -> list[Resource]:
    """Render the kustomization in ``directory`` into a list of resources."""
    kustomization_file = directory / "kustomization.yaml"
    if not kustomization_file.exists():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    kustomization = yaml.safe_load(kustomization_file.read_text()) or {}
    unsupported = sorted(set(kustomization) - _SUPPORTED)
    if unsupported:
        raise KustomizeError(f"{kustomization_file}: unsupported fields {unsupported}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        resources.extend(render(path) if path.is_dir() else load_documents(path))
    for image in kustomization.get("images", []):
        _set_image(resources, image)
    for patch in kustomization.get("patches", []):
        _apply_patch(directory, resources, patch)
    return resources


def _containers(resource: Resource) -> list[dict[str, Any]]:
    for path in _POD_SPEC_PATHS:
        node: Any = resource
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and ("containers" in node or "initContainers" in node):
            return [*node.get("initContainers", []), *node.get("containers", [])]
    return []


def _image_name(image: str) -> str:
    name = image.split("@", 1)[0]
    # A tag follows the last ':' that comes after the last '/' (a registry port does not count).
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _set_image(resources: list[Resource], image: dict[str, Any]) -> None:
    unknown = set(image) - {"name", "newName", "newTag", "digest"}
    if unknown:
        raise KustomizeError(f"images: unsupported fields {sorted(unknown)}")
    for resource in resources:
        for container in _containers(resource):
            if _image_name(container.get("image", "")) != image["name"]:
                continue
            name = image.get("newName", image["name"])
            if "digest" in image:
                container["image"] = f"{name}@{image['digest']}"
            elif "newTag" in image:
                container["image"] = f"{name}:{image['newTag']}"
            else:
                tag = container["image"][len(image["name"]) :]
                container["image"] = f"{name}{tag}"


def _matches(resource: Resource, target: dict[str, Any]) -> bool:
    unknown = set(target) - {"group", "version", "kind", "name"}
    if unknown:
        raise KustomizeError(f"patches.target: unsupported fields {sorted(unknown)}")
    group, _, version = resource.get("apiVersion", "").rpartition("/")
    actual = {
        "group": group,
        "version": version,
        "kind": resource.get("kind", ""),
        "name": resource["metadata"]["name"],
    }
    return all(re.fullmatch(str(pattern), actual[key]) for key, pattern in target.items())


def _apply_patch(directory: Path, resources: list[Resource], patch: dict[str, Any]) -> None:
    unknown = set(patch) - {"path", "patch", "target"}
    if unknown or "target" not in patch:
        raise KustomizeError(f"patches: only JSON 6902 patches with a target are supported, got {sorted(patch)}")
    text = (directory / patch["path"]).read_text() if "path" in patch else patch["patch"]
    operations = yaml.safe_load(text)
    if not isinstance(operations, list):
        raise KustomizeError(f"patches: {patch.get('path', 'inline patch')} is not a JSON 6902 operation list")
    matched = [r for r in resources if _matches(r, patch["target"])]
    if not matched:
        raise KustomizeError(f"patches: target {patch['target']} matches no resource")
    for resource in matched:
        for operation in operations:
            apply_operation(resource, operation)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer must start with '/': {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(document: Any, parts: list[str], path: str) -> Any:
    node = document
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError) as exc:
            raise KustomizeError(f"JSON pointer {path!r}: no {part!r}") from exc
    return node


def apply_operation(document: Any, operation: dict[str, Any]) -> None:
    """Apply one JSON 6902 operation (add, replace, remove, test) in place."""
    op, path = operation.get("op"), operation.get("path", "")
    parts = _pointer(path)
    parent, last = _parent(document, parts, path), parts[-1]
    value = copy.deepcopy(operation.get("value"))
    if op == "add":
        if isinstance(parent, list):
            if last == "-":
                parent.append(value)
            else:
                parent.insert(int(last), value)
        else:
            parent[last] = value
    elif op in ("replace", "remove", "test"):
        key: Any = int(last) if isinstance(parent, list) else last
        try:
            current = parent[key]
        except (KeyError, IndexError) as exc:
            raise KustomizeError(f"{op} {path!r}: the path does not exist") from exc
        if op == "replace":
            parent[key] = value
        elif op == "remove":
            del parent[key]
        elif current != value:
            raise KustomizeError(f"test {path!r}: expected {value!r}, found {current!r}")
    else:
        raise KustomizeError(f"unsupported JSON 6902 operation {op!r}")
