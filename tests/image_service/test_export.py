"""ONNX export of the tiny transformer: manifest, dynamic axes, enforced parity, idempotence."""

from __future__ import annotations

import json
import time
from pathlib import Path

import onnx
import pytest
import torch

from image_service.backends import BackendKind, BackendOptions, create_backend
from image_service.build.export import MANIFEST_FILE, ONNX_FILE, TOLERANCES, is_current, main, source_fingerprint
from servicekit.errors import FailedPrecondition
from tests.image_service.conftest import MODELS_DIR


def test_is_current_needs_matching_weights_and_passing_parity(tmp_path: Path) -> None:
    assert not is_current(tmp_path, "sha256:abc")
    (tmp_path / ONNX_FILE).write_bytes(b"onnx")
    manifest = {"source": {"fingerprint": "sha256:abc"}, "parity": {"passed": True}}
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert is_current(tmp_path, "sha256:abc")
    assert not is_current(tmp_path, "sha256:other")  # weights changed (e.g. the trained pipeline arrived)
    manifest["parity"]["passed"] = False
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert not is_current(tmp_path, "sha256:abc")


def test_source_fingerprint_tracks_the_transformer_weights(tiny_source) -> None:
    assert source_fingerprint(tiny_source) == source_fingerprint(tiny_source)
    assert source_fingerprint(tiny_source).startswith("sha256:")


def test_tensorrt_without_gpu_is_a_clear_failed_precondition() -> None:
    options = BackendOptions(kind=BackendKind.TENSORRT, device=torch.device("cpu"), dtype=torch.float32,
                             onnx_path=Path("x.onnx"))  # fmt: skip
    with pytest.raises(FailedPrecondition, match="tensorrt backend needs a CUDA device"):
        create_backend(options, "FluxTransformer2DModel")
    with pytest.raises(FailedPrecondition, match="Flux2Transformer2DModel needs --backend torch"):
        create_backend(options, "Flux2Transformer2DModel")


@pytest.mark.slow
def test_export_writes_onnx_manifest_and_passes_parity(tmp_path: Path, capsys) -> None:
    out = tmp_path / "tiny-flux-onnx"
    assert main(["--variant", "tiny-flux", "--out", str(out), "--models-dir", str(MODELS_DIR)]) == 0
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["exporter"]["opset"] == 20 and manifest["exporter"]["example_batch"] == 2
    parity = manifest["parity"]
    assert parity["passed"]
    assert parity["transformer"]["max_abs_diff"] <= TOLERANCES["float32"]["transformer"]
    assert parity["pipeline"]["max_abs_diff"] <= TOLERANCES["float32"]["image"] and parity["pipeline"]["images"] == 3
    assert {c["batch"] for c in parity["transformer"]["cases"]} == {1, 2, 3}
    model = onnx.load(str(out / ONNX_FILE))
    dims = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert dims["hidden_states"][:2] == ["batch", "img_seq"]
    assert dims["encoder_hidden_states"][:2] == ["batch", "txt_seq"]
    assert dims["img_ids"][0] == "img_seq" and dims["txt_ids"][0] == "txt_seq"
    assert not any(d.startswith(".") for d in (p.name for p in tmp_path.iterdir()))  # no staging left behind
    capsys.readouterr()
    started = time.monotonic()
    assert main(["--variant", "tiny-flux", "--out", str(out), "--models-dir", str(MODELS_DIR), "--if-missing"]) == 0
    assert time.monotonic() - started < 10 and "nothing to do" in capsys.readouterr().out
