"""Model cards from Hugging Face model info: online through ``HfApi`` or offline from a snapshot file.

A snapshot is the JSON the hub's ``/api/models/<id>`` answers (the shape ``HfApi.model_info``
parses, checked here by building a ``huggingface_hub.ModelInfo`` from it) plus one key this
module adds, ``retrievedAt``, the UTC time the snapshot was taken (the date of every fact read
from it). :func:`card_data` turns it into catalog card data: the pipeline tag gives the artifact
type and the main capability, tags add capabilities, and license, library, size, base model and
dates become facts; every fact and capability names its source (the model page) and date.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huggingface_hub import ModelInfo

from servicekit.errors import FailedPrecondition, InvalidInput

RETRIEVED_AT = "retrievedAt"
# What the add-model command asks the hub for (``expand`` properties of /api/models/<id>).
EXPAND = (
    "author",
    "baseModels",
    "cardData",
    "config",
    "createdAt",
    "downloads",
    "downloadsAllTime",
    "gated",
    "lastModified",
    "library_name",
    "likes",
    "pipeline_tag",
    "safetensors",
    "siblings",
    "tags",
)
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
# Pipeline tag → the catalog's artifact type (a tag not listed becomes its own artifact type).
ARTIFACT_TYPES: dict[str, str] = {
    "image-classification": "image-classifier",
    "text-to-image": "text-to-image",
    "image-to-image": "image-to-image",
    "text-generation": "text-generator",
    "automatic-speech-recognition": "speech-recognizer",
}
# Tags that state a capability beyond the pipeline tag: tag → (capability id, name, description).
TAG_CAPABILITIES: dict[str, tuple[str, str, str]] = {
    "image-to-image": ("image-to-image", "Image to image", "The hub lists image-to-image use."),
    "inpainting": ("inpainting", "Inpainting", "The hub lists inpainting."),
    "lora": ("lora-adapters", "LoRA adapters", "Distributed as or for LoRA adapters."),
    "controlnet": ("controlnet", "ControlNet conditioning", "Conditioning through ControlNet."),
    "endpoints_compatible": ("hosted-inference", "Hosted inference", "The hub marks it endpoints-compatible."),
    "onnx": ("onnx-export", "ONNX weights", "ONNX weights are published."),
}
EMOTION_WORDS = ("emotion", "facial-expression", "fer2013", "affect")


def check_hub_id(hub_id: str, field: str = "hub_id") -> str:
    """Reject an empty or malformed ``owner/name`` id with a message naming ``field``."""
    if not hub_id:
        raise InvalidInput(f"{field}: must not be empty")
    if not HUB_ID.match(hub_id) or len(hub_id) > 96:
        raise InvalidInput(f"{field}: expected a hub id 'owner/name', got {hub_id!r}")
    return hub_id


def parse_snapshot(data: Any, where: str) -> dict[str, Any]:
    """Check a model-info snapshot (a JSON object ``ModelInfo`` accepts, with an ``id``); return it."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected a JSON object (the hub's model info), got {type(data).__name__}")
    if not isinstance(data.get("id"), str):
        raise InvalidInput(f"{where}.id: required, the hub id 'owner/name'")
    check_hub_id(data["id"], f"{where}.id")
    try:
        ModelInfo(**data)  # type: ignore[no-untyped-call]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{where}: not in the model-info shape: {type(exc).__name__}: {exc}") from None
    if RETRIEVED_AT in data:
        retrieved_at(data, where)
    return data


def read_snapshot(path: Path) -> dict[str, Any]:
    """Read a snapshot file written by ``--save`` (or any saved /api/models/<id> answer)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read a JSON snapshot: {exc}") from None
    return parse_snapshot(data, path.name)


def write_snapshot(data: Mapping[str, Any], path: Path) -> None:
    """Write a snapshot (sorted keys, so two saves of the same answer are byte-identical)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def fetch_snapshot(hub_id: str, now: dt.datetime | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Ask the hub for a model's info (the request ``HfApi.model_info`` makes), stamped ``retrievedAt``.

    A hub that cannot be reached (no network, offline mode) or that does not know the id is
    FailedPrecondition: the caller can still work from a snapshot file.
    """
    from huggingface_hub import HfApi, get_session, hf_raise_for_status
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    check_hub_id(hub_id)
    try:
        reply = get_session().get(
            f"{HfApi().endpoint}/api/models/{hub_id}",
            headers=build_hf_headers(),
            params={"expand": list(EXPAND)},
            timeout=timeout,
        )
        hf_raise_for_status(reply)
        data = dict(reply.json())
    except Exception as exc:  # httpx, hub and offline-mode errors alike: say what failed and what else works
        raise FailedPrecondition(
            f"hub_id: cannot read the model info of {hub_id!r} from the hub ({type(exc).__name__}: {exc});"
            " use a snapshot file (--from) or model_info_json"
        ) from None
    data[RETRIEVED_AT] = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat()
    return parse_snapshot(data, hub_id)


def retrieved_at(data: Mapping[str, Any], where: str = "snapshot") -> dt.datetime:
    """When the snapshot was taken (``retrievedAt``), timezone-aware."""
    text = data.get(RETRIEVED_AT)
    if not isinstance(text, str):
        raise InvalidInput(f"{where}.{RETRIEVED_AT}: required (the UTC time the snapshot was taken)")
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{where}.{RETRIEVED_AT}: not an ISO 8601 time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def slug_of(hub_id: str) -> str:
    """The catalog id of a hub model: its name part, lower-cased, words joined by single hyphens."""
    name = hub_id.split("/", 1)[-1].lower()
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


def _params_text(total: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if total >= size:
            return f"{total / size:.3g}{unit}"
    return str(total)


def _license(info: ModelInfo) -> str:
    card = info.card_data
    value = getattr(card, "license", None) if card is not None else None
    if isinstance(value, str) and value:
        return value
    return next((t.split(":", 1)[1] for t in info.tags or [] if t.startswith("license:")), "")


def _base_model(info: ModelInfo) -> str:
    card = info.card_data
    value = getattr(card, "base_model", None) if card is not None else None
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and value:
        return value
    return next((t.split(":", 1)[1] for t in info.tags or [] if t.startswith("base_model:") and t.count(":") == 1), "")


def card_data(data: Mapping[str, Any], model_id: str = "") -> dict[str, Any]:
    """Catalog card data (the YAML mapping :func:`ranker.catalog.parse_card` reads) from a snapshot."""
    snapshot = parse_snapshot(dict(data), "snapshot")
    info = ModelInfo(**snapshot)  # type: ignore[no-untyped-call]
    when = retrieved_at(snapshot).date().isoformat()
    page = f"https://huggingface.co/{info.id}"
    model_id = model_id or slug_of(info.id)
    pipeline = info.pipeline_tag or ""
    if not pipeline:
        raise InvalidInput(f"{info.id}: the model info has no pipeline_tag, so its artifact type is unknown")
    artifact_type = ARTIFACT_TYPES.get(pipeline, re.sub(r"[^a-z0-9]+", "-", pipeline.lower()).strip("-"))

    def fact(value: str, field: str) -> dict[str, str]:
        return {"value": value, "source": page, "date": when, "note": f"hub model info field {field}"}

    facts: dict[str, dict[str, str]] = {"publisher": fact(info.author or info.id.split("/")[0], "author")}
    if license_ := _license(info):
        facts["license"] = fact(license_, "cardData.license")
    if info.library_name:
        facts["library"] = fact(info.library_name, "library_name")
    if info.safetensors is not None:
        facts["parameters"] = fact(_params_text(int(info.safetensors.total)), "safetensors.total")
    architectures = (info.config or {}).get("architectures") if isinstance(info.config, dict) else None
    if isinstance(architectures, list) and architectures:
        facts["architecture"] = fact(str(architectures[0]), "config.architectures")
    if base := _base_model(info):
        facts["base_model"] = fact(base, "cardData.base_model")
    if info.created_at is not None:
        facts["released"] = fact(info.created_at.date().isoformat(), "createdAt")
    if info.last_modified is not None:
        facts["updated"] = fact(info.last_modified.date().isoformat(), "lastModified")

    def capability(cap_id: str, name: str, description: str, field: str) -> dict[str, str]:
        return {"id": cap_id, "name": name, "description": description, "source": page, "date": when,
                "note": f"hub model info field {field}"}  # fmt: skip

    words = " ".join([info.id.lower(), *(t.lower() for t in info.tags or [])])
    capabilities = [
        capability(pipeline, pipeline.replace("-", " ").capitalize(), f"Hub pipeline tag {pipeline}.", "pipeline_tag")
    ]
    if pipeline == "image-classification" and any(w in words for w in EMOTION_WORDS):
        capabilities.append(
            capability("emotion-classification", "Facial emotion classification",
                       "Image classification into facial-expression labels (named in the id or tags).", "tags")
        )  # fmt: skip
    seen = {c["id"] for c in capabilities}
    for tag in info.tags or []:
        found = TAG_CAPABILITIES.get(tag)
        if found and found[0] not in seen:
            seen.add(found[0])
            capabilities.append(capability(*found, f"tags ({tag})"))
    if any((s.rfilename or "").endswith(".safetensors") for s in info.siblings or []):
        capabilities.append(
            capability(
                "safetensors-weights", "Safetensors weights", "Weights published as safetensors files.", "siblings"
            )
        )
    base = facts.get("base_model", {}).get("value", "")
    card: dict[str, Any] = {
        "id": model_id,
        "hub_id": info.id,
        "display_name": info.id.split("/", 1)[1],
        "type": "Model",
        "artifact_type": artifact_type,
        "description": f"{info.id} on the Hugging Face hub ({pipeline}"
        + (f", library {info.library_name}" if info.library_name else "")
        + (f", fine-tuned from {base}" if base else "")
        + "). Card created from the hub's model info by python -m ranker add-model.",
        "source": page,
        "date": when,
        "reference": True,
        "facts": facts,
        "capabilities": capabilities,
    }
    return card
