"""The bundle manifest's provenance, read once into typed fields, and what a backend reports of it."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emotion_service.bundle import load_bundle
from emotion_service.provenance import read_provenance

MANIFEST: dict[str, Any] = {
    "source": {"kind": "hub", "repo_id": "org/vit", "commit": "abc123"},
    "exporter": {"name": "torch.onnx.export", "dynamo": True},
    "versions": {"torch": "2.13.0", "onnxruntime": "1.32.0"},
    "opset": 20,
    "created_at": "2026-11-30T03:50:07+00:00",
    "onnx": {"fp32": "model.fp32.onnx", "int8": "model.int8.onnx"},
    "files": {
        "model.fp32.onnx": {"sha256": "a" * 64},
        "model.int8.onnx": {"sha256": "b" * 64},
        "hf/model.safetensors": {"sha256": "c" * 64},
    },
    "parity": {"fp32": {"max_abs_logit_diff": 5e-6}, "int8": 0.25},
}


def test_onnx_backends_report_their_precisions_file_and_parity() -> None:
    provenance = read_provenance(MANIFEST, "hf")
    fp32 = provenance.served("fp32", "onnxruntime")
    assert fp32.source == "org/vit@abc123"
    assert fp32.exporter == "torch.onnx.export(dynamo) torch 2.13.0"
    assert (fp32.sha256, fp32.opset, fp32.parity_max_abs_diff) == ("a" * 64, 20, 5e-6)
    assert fp32.created_at == datetime(2026, 11, 30, 3, 50, 7, tzinfo=UTC)
    assert fp32.library_versions == {"torch": "2.13.0", "onnxruntime": "1.32.0"}
    int8 = provenance.served("int8", "onnxruntime")
    assert (int8.sha256, int8.parity_max_abs_diff) == ("b" * 64, 0.25)
    assert provenance.served("fp16", "onnxruntime").sha256 == ""  # not exported: nothing to vouch for


def test_the_torch_backend_reports_the_safetensors_and_no_onnx_facts() -> None:
    torch = read_provenance(MANIFEST, "hf").served("fp32", "torch")
    assert (torch.sha256, torch.opset, torch.parity_max_abs_diff) == ("c" * 64, 0, -1.0)
    without_hf = read_provenance(MANIFEST, None).served("fp32", "torch")
    assert without_hf.sha256 == "a" * 64  # no Hugging Face directory: it serves what the bundle has


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ({"kind": "embedded", "name": "tiny"}, "builtin:tiny"),
        ({"kind": "embedded", "spec": "tiny"}, "builtin:tiny"),
        ({"kind": "hub", "spec": "org/vit"}, "org/vit"),
        ({"kind": "local", "path": "/models/vit"}, "/models/vit"),
        ("plain text", "plain text"),
        (42, ""),
        (None, ""),
    ],
)
def test_source_forms(source: Any, name: str) -> None:
    assert read_provenance({"source": source}, None).source == name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),  # naive is UTC
        ("yesterday", None),
        ("", None),
        (math.nan, None),
        (True, None),
        ([], None),
    ],
)
def test_created_at_forms(value: Any, expected: datetime | None) -> None:
    assert read_provenance({"created_at": value}, None).created_at == expected


def test_missing_or_malformed_fields_read_as_unknown() -> None:
    served = read_provenance(
        {"files": ["x"], "onnx": "model.onnx", "parity": {"fp32": math.inf}, "opset": "20", "versions": 3},
        None,
    ).served("fp32", "onnxruntime")
    assert (served.source, served.sha256, served.exporter, served.opset) == ("", "", "", 0)
    assert served.parity_max_abs_diff == -1.0 and served.created_at is None and served.library_versions == {}


def test_a_loaded_bundle_carries_its_provenance(tiny_bundle: Path) -> None:
    bundle = load_bundle(tiny_bundle)
    served = bundle.provenance.served("fp32", "onnxruntime")
    assert served.sha256 == bundle.manifest["files"]["model.fp32.onnx"]["sha256"]
    assert served.source == "builtin:tiny" and served.opset == bundle.manifest["opset"]
    assert served.parity_max_abs_diff == bundle.manifest["parity"]["fp32"]["max_abs_logit_diff"]
