"""Exporting bundles: parity enforced, manifest contents, idempotence, local and hub sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from emotion_service.build import embedded
from emotion_service.build.export import ExportError, export_bundle, main, parse_precisions
from emotion_service.build.onnx_convert import (
    DEFAULT_TOLERANCES,
    ParityError,
    ParityTolerance,
    check_parity,
    parity_figures,
)
from emotion_service.build.sources import SourceError, resolve_source
from emotion_service.build.training.model import TinyViTSpec
from emotion_service.bundle import LABELS_REFERENCE, Bundle, load_bundle
from emotion_service.preprocess import softmax
from servicekit.provenance import sha256_file

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """tiny-random in all three precisions (one real export, ~15 s of CPU)."""
    out = tmp_path_factory.mktemp("export") / "tiny-random"
    lines: list[str] = []
    bundle = export_bundle("tiny-random", out, precisions=("fp32", "int8", "fp16"), progress=lines.append)
    assert any("parity check" in line for line in lines)
    assert any(line.startswith("  fp32: max |logit diff|") for line in lines)
    return bundle


def test_manifest_records_provenance_and_parity(exported: Bundle) -> None:
    m = exported.manifest
    assert m["model_id"] == "emoflux/tiny-vit-emotion-random"
    assert m["weights_origin"] == "random" and m["random_weights"] is True
    assert m["quality_domain"] is None
    assert m["labels"] == list(LABELS_REFERENCE)
    assert m["preprocessing"] == {
        "height": 64,
        "width": 64,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "rescale_factor": pytest.approx(1 / 255),
        "resample": "bilinear",
    }
    assert m["opset"] == 20
    assert m["exporter"]["name"] == "torch.onnx.export" and m["exporter"]["dynamo"] is True
    for lib in ("torch", "transformers", "onnx", "onnxruntime", "onnxscript", "python"):
        assert m["versions"][lib] and m["versions"][lib] != "not installed"
    assert m["source"]["kind"] == "embedded" and m["source"]["seed"] == 0
    assert len(m["source"]["sha256"]) == 64
    assert m["input"] == {"name": "pixel_values", "dtype": "float32", "shape": [-1, 3, 64, 64]}
    assert m["output"]["shape"] == [-1, 7]
    assert m["architecture"]["parameters"] > 500_000
    assert m["created_at"].endswith("+00:00")
    # every file is listed with its real sha256
    on_disk = {str(p.relative_to(exported.path)) for p in exported.path.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(m["files"]) == on_disk
    for name, info in m["files"].items():
        assert info["sha256"] == sha256_file(exported.path / name)
    # parity recorded and within the enforced tolerances
    fp32 = m["parity"]["fp32"]
    assert fp32["passed"] and fp32["max_abs_logit_diff"] <= 1e-4 and fp32["tolerance"] == {"max_abs_logit_diff": 1e-4}
    for precision in ("int8", "fp16"):
        record = m["parity"][precision]
        tol = DEFAULT_TOLERANCES[precision]
        assert record["passed"] and record["max_abs_prob_diff"] <= (tol.max_abs_prob_diff or 0)
        assert record["top1_agreement"] >= (tol.min_top1_agreement or 0)
    assert m["parity"]["fp16"]["max_abs_logit_diff"] > fp32["max_abs_logit_diff"]  # really converted


def test_exported_files_have_a_dynamic_batch_axis(exported: Bundle) -> None:
    x = np.random.default_rng(3).uniform(-1, 1, (5, 3, 64, 64)).astype(np.float32)
    for precision, path in exported.onnx_files.items():
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (inp,) = session.get_inputs()
        assert inp.name == "pixel_values" and inp.type == "tensor(float)"
        assert isinstance(inp.shape[0], str), inp.shape  # symbolic batch dimension
        whole = session.run(None, {"pixel_values": x})[0]
        ones = np.concatenate([session.run(None, {"pixel_values": x[i : i + 1]})[0] for i in range(5)])
        assert whole.shape == (5, 7)
        if precision == "fp32":
            assert np.abs(whole - ones).max() < 1e-4
        else:
            # int8 scales activations over the whole batch, so batch companions move results a little
            assert np.abs(softmax(whole) - softmax(ones)).max() <= (
                DEFAULT_TOLERANCES[precision].max_abs_prob_diff or 0
            )
    sizes = {p: path.stat().st_size for p, path in exported.onnx_files.items()}
    assert sizes["int8"] < sizes["fp16"] < sizes["fp32"]


def test_broken_tolerance_fails_the_export(tmp_path: Path) -> None:
    out = tmp_path / "b"
    with pytest.raises(ParityError, match=r"int8 ONNX model fails parity.*max \|prob diff\|"):
        export_bundle(
            "tiny-random",
            out,
            precisions=("fp32", "int8"),
            parity_samples=4,
            tolerances={"int8": ParityTolerance(max_abs_prob_diff=1e-9)},
        )
    assert not out.exists()
    assert not list(tmp_path.glob(".b.tmp-*"))  # no leftovers


def test_fp32_tolerance_is_enforced() -> None:
    ref = np.zeros((2, 7), np.float32)
    assert check_parity("fp32", ref, ref + 5e-5, DEFAULT_TOLERANCES["fp32"])["passed"]
    with pytest.raises(
        ParityError, match=r"fp32 ONNX model fails parity with PyTorch: max \|logit diff\| 0\.0002 > 0\.0001"
    ):
        check_parity("fp32", ref, ref + 2e-4, DEFAULT_TOLERANCES["fp32"])


def test_parity_rules() -> None:
    ref = np.array([[3.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 5.0]], dtype=np.float32)
    flipped_tie = np.array([[3.0, 0.0, 0.0], [0.9, 1.1, 0.0], [0.0, 0.0, 5.0]], dtype=np.float32)
    figures = parity_figures(ref, flipped_tie, tie_margin=0.02)
    assert figures["top1_agreement"] == 1.0  # the flip happened on an exact tie
    assert figures["top1_agreement_all"] == pytest.approx(2 / 3)
    assert figures["decisive_samples"] == 2
    flipped = ref.copy()
    flipped[0] = [0.0, 3.0, 0.0]
    assert parity_figures(ref, flipped, tie_margin=0.02)["top1_agreement"] == 0.5
    broken = DEFAULT_TOLERANCES["int8"].violations(parity_figures(ref, flipped, tie_margin=0.02))
    assert any("top-1 agreement" in b for b in broken) and any("prob diff" in b for b in broken)


def test_if_missing_skips_an_up_to_date_bundle(exported: Bundle) -> None:
    before = (exported.path / "manifest.json").stat().st_mtime_ns
    lines: list[str] = []
    again = export_bundle(
        "tiny-random", exported.path, precisions=("fp32", "int8"), if_missing=True, progress=lines.append
    )
    assert (exported.path / "manifest.json").stat().st_mtime_ns == before
    assert any("up to date" in line for line in lines)
    assert again.manifest == exported.manifest


def test_if_missing_rebuilds_when_a_file_was_tampered(exported: Bundle, tmp_path: Path) -> None:
    import shutil

    out = Path(shutil.copytree(exported.path, tmp_path / "copy"))
    (out / "model.int8.onnx").write_bytes(b"broken")
    rebuilt = export_bundle("tiny-random", out, precisions=("fp32", "int8"), if_missing=True)
    assert rebuilt.precisions == ("fp32", "int8")  # fp16 was not asked for this time
    assert rebuilt.manifest["files"]["model.int8.onnx"]["sha256"] == sha256_file(out / "model.int8.onnx")
    assert (out / "model.int8.onnx").stat().st_size > 1000


def test_cli_if_missing_is_quick_and_prints_progress(exported: Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--source", "tiny-random", "--out", str(exported.path), "--precision", "fp32,int8", "--if-missing"])
    assert rc == 0
    assert "up to date" in capsys.readouterr().err


def test_local_hf_directory_export(exported: Bundle, tmp_path: Path) -> None:
    assert exported.hf_dir is not None
    local = resolve_source(str(exported.hf_dir))
    assert local.kind == "local" and local.weights_origin == "pretrained"
    bundle = export_bundle(str(exported.hf_dir), tmp_path / "local", precisions=("fp32",), parity_samples=4)
    m = bundle.manifest
    assert m["source"]["kind"] == "local" and m["source"]["path"] == str(exported.hf_dir)
    assert m["source"]["files"]["model.safetensors"] == sha256_file(exported.hf_dir / "model.safetensors")
    assert m["weights_origin"] == "pretrained" and m["labels"] == list(LABELS_REFERENCE)
    assert m["parity"]["fp32"]["passed"]
    # same weights -> same ONNX outputs as the embedded export
    x = np.random.default_rng(5).uniform(-1, 1, (2, 3, 64, 64)).astype(np.float32)
    a = ort.InferenceSession(str(bundle.onnx_files["fp32"]), providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(exported.onnx_files["fp32"]), providers=["CPUExecutionProvider"])
    assert np.abs(a.run(None, {"pixel_values": x})[0] - b.run(None, {"pixel_values": x})[0]).max() < 1e-5


def _hf_copy(src: Path, dst: Path) -> Path:
    import shutil

    return Path(shutil.copytree(src, dst))


def test_pickle_weights_are_refused(exported: Bundle, tmp_path: Path) -> None:
    assert exported.hf_dir is not None
    d = _hf_copy(exported.hf_dir, tmp_path / "pickled")
    (d / "model.safetensors").unlink()
    (d / "pytorch_model.bin").write_bytes(b"\x80\x04 pickle")
    with pytest.raises(SourceError, match=r"only pickle-based weights \(pytorch_model.bin\).*refused"):
        resolve_source(str(d))


def test_unacceptable_directories(exported: Bundle, tmp_path: Path) -> None:
    assert exported.hf_dir is not None
    d = _hf_copy(exported.hf_dir, tmp_path / "other")
    config = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    with pytest.raises(SourceError, match="only ViT image classifiers"):
        resolve_source(str(d))
    (d / "config.json").write_text(json.dumps(config))
    (d / "preprocessor_config.json").unlink()
    with pytest.raises(SourceError, match=r"no preprocessor_config\.json"):
        resolve_source(str(d))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match=r"no config\.json"):
        resolve_source(str(empty))
    with pytest.raises(SourceError, match="unknown source"):
        resolve_source("./no/such/dir")


def test_refuses_to_overwrite_a_foreign_directory(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not a model bundle"):
        export_bundle("tiny-random", out, precisions=("fp32",), parity_samples=2)
    assert not list(tmp_path.glob(".precious.tmp-*"))
    assert (out / "notes.txt").read_text() == "keep me"


def test_option_validation() -> None:
    assert parse_precisions("int8") == ("fp32", "int8")
    assert parse_precisions("fp16, fp32") == ("fp32", "fp16")
    with pytest.raises(ExportError, match="unknown bf16"):
        parse_precisions("fp32,bf16")
    with pytest.raises(ExportError, match="opset"):
        export_bundle("tiny-random", Path("/nonexistent/x"), opset=7)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emotion_service.build.export", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"HF_HUB_OFFLINE": "1"},  # offline mode, as the Makefile sets it
        {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "3"},  # no network
    ],
    ids=["offline", "unreachable"],
)
def test_hub_id_without_network_is_a_clear_error(tmp_path: Path, env: dict[str, str]) -> None:
    result = _cli(
        "--source",
        "dima806/facial_emotions_image_detection",
        "--out",
        str(tmp_path / "out"),
        env={**env, "HF_HOME": str(tmp_path / "hf-home")},
    )
    assert result.returncode == 2, result.stderr
    assert "error: cannot fetch 'dima806/facial_emotions_image_detection' from the Hugging Face Hub" in result.stderr
    assert "pass the directory as --source" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_embedded_recipes() -> None:
    assert {
        k: v for k, v in asdict(TinyViTSpec()).items() if k in embedded.TINY_ARCHITECTURE
    } == embedded.TINY_ARCHITECTURE  # the random tiny model has the trained one's architecture
    assert embedded.recipe("tiny-random").weights_origin == "random"
    tiny = embedded.recipe("tiny")
    if embedded.trained_tiny_available():
        assert (tiny.weights_origin, tiny.quality_domain) == ("synthetic-trained", "synthetic faces")
        resolved = resolve_source("tiny")
        assert resolved.model_id == "emoflux/tiny-vit-emotion-synthetic"
        files = resolved.description["files"]
        assert files["model.safetensors"] == sha256_file(embedded.TRAINED_TINY_DIR / "model.safetensors")
        assert resolved.extra["training"]["status"]
        assert resolved.extra["training"]["metrics"]  # final metrics or the periodic check of a checkpoint
        assert resolved.processor_config["size"] == {"height": 64, "width": 64}
    else:
        assert tiny.weights_origin == "random"
    base = embedded.recipe("vit-base-random")
    assert base.architecture["hidden_size"] == 768 and base.architecture["image_size"] == 224
    assert resolve_source("vit-base-random").processor_config["size"] == {"height": 224, "width": 224}
    # the fingerprint does not need torch and is stable
    assert resolve_source("tiny-random").fingerprint == resolve_source("tiny-random").fingerprint
    with pytest.raises(KeyError):
        embedded.recipe("huge")


@pytest.mark.slow
def test_vit_base_random_export(tmp_path: Path) -> None:
    bundle = export_bundle("vit-base-random", tmp_path / "vit", precisions=("fp32", "int8"), optimize=True)
    m = bundle.manifest
    assert m["architecture"]["parameters"] > 85_000_000
    assert m["parity"]["fp32"]["max_abs_logit_diff"] <= 1e-4
    assert m["graph_optimization"]["applied"] and m["graph_optimization"]["fused_operators"]
    assert load_bundle(bundle.path).preprocessing.height == 224
