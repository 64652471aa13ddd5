"""The committed tiny FLUX pipeline draws the expression it is prompted for, and the trainer works.

The quick test measures agreement between the prompted expression and the embedded emotion
classifier on a small sample (7 prompts x 6 seeds). The committed manifest records the full
measurement (7 x 30); the threshold here is looser (45 %, chance is 14 %) because 42 images give a
noisy estimate. Quality is measured on the generator's training domain: synthetic cartoon faces.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from diffusers import FluxPipeline

from image_service.build.training.evaluate import Classifier, InferenceSettings, agreement, generate
from image_service.build.training.prompts import LABELS

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "image_service" / "embedded" / "tiny-flux"
CLASSIFIER = ROOT / "emotion_service" / "embedded" / "tiny"
QUICK_SEEDS = list(range(1000, 1006))  # not the seeds of the manifest's measurement
QUICK_THRESHOLD = 0.45


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def manifest() -> dict[str, object]:
    data: dict[str, object] = json.loads((PIPELINE / "training_manifest.json").read_text())
    return data


def _settings(manifest: dict[str, object]) -> InferenceSettings:
    rec = manifest["recommended_inference"]
    assert isinstance(rec, dict)
    return InferenceSettings(
        num_inference_steps=rec["num_inference_steps"],
        guidance_scale=rec["guidance_scale"],
        true_cfg_scale=rec["true_cfg_scale"],
        height=rec["height"],
        width=rec["width"],
        max_sequence_length=rec["max_sequence_length"],
    )


def test_manifest_describes_the_committed_files(manifest: dict[str, object]) -> None:
    assert manifest["weights"] == "synthetic-trained"
    assert manifest["final"] is True
    metrics = manifest["metrics"]
    assert isinstance(metrics, dict)
    assert metrics["quality_domain"] == "synthetic faces"
    evaluation = metrics["evaluation"]
    assert evaluation["agreement_overall"] >= 0.60
    assert min(evaluation["agreement_per_emotion"].values()) >= 0.43
    checksums = manifest["files_sha256"]
    assert isinstance(checksums, dict)
    on_disk = {
        str(p.relative_to(PIPELINE)) for p in PIPELINE.rglob("*") if p.is_file() and p.name != "training_manifest.json"
    }
    assert set(checksums) == on_disk
    for name, digest in checksums.items():
        assert hashlib.sha256((PIPELINE / name).read_bytes()).hexdigest() == digest, name
    assert manifest["size_bytes"] <= 10 * 1024 * 1024


def test_committed_pipeline_draws_the_prompted_expression(manifest: dict[str, object]) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    pipe = FluxPipeline.from_pretrained(PIPELINE)
    pipe.set_progress_bar_config(disable=True)
    metrics, images = agreement(pipe, Classifier(CLASSIFIER), QUICK_SEEDS, _settings(manifest))
    assert all(len(images[label]) == len(QUICK_SEEDS) for label in LABELS)
    first = np.asarray(images["happy"][0])
    assert first.shape == (64, 64, 3)
    assert first.std() > 10, "a blank image is not a face"
    assert metrics["agreement_overall"] >= QUICK_THRESHOLD, metrics


def test_committed_pipeline_is_deterministic_per_seed(manifest: dict[str, object]) -> None:
    pipe = FluxPipeline.from_pretrained(PIPELINE)
    pipe.set_progress_bar_config(disable=True)
    settings = _settings(manifest)
    a = generate(pipe, "sad", [5, 6], settings)
    b = generate(pipe, "sad", [6], settings)
    # Same seed, different batch: equal up to float rounding (batched matmuls may round differently).
    same = np.abs(np.asarray(a[1], dtype=int) - np.asarray(b[0], dtype=int))
    assert same.max() <= 2
    assert np.abs(np.asarray(a[0], dtype=int) - np.asarray(a[1], dtype=int)).max() > 20


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_short_training_run_learns_and_saves_a_loadable_pipeline(tmp_path: Path) -> None:
    out = tmp_path / "tiny-flux"
    cmd = [
        sys.executable,
        "-m",
        "image_service.build.train",
        "--out",
        str(out),
        "--faces",
        "140",
        "--vae-steps",
        "30",
        "--flow-steps",
        "120",
        "--batch-size",
        "8",
        "--warmup",
        "20",
        "--decoder-steps",
        "10",
        "--checkpoint-every",
        "60",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=840, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "training_manifest.json").read_text())
    metrics = manifest["metrics"]
    assert manifest["steps"] == {"vae": 30, "flow": 120, "decoder": 10}
    assert metrics["vae_rec_loss_last"] < metrics["vae_rec_loss_first"]
    assert metrics["flow_loss_last"] < 0.9 * metrics["flow_loss_first"]
    pipe = FluxPipeline.from_pretrained(out)
    pipe.set_progress_bar_config(disable=True)
    settings = InferenceSettings(num_inference_steps=4)
    image = pipe("a photo of a happy face", **settings.call_kwargs(), output_type="np").images[0]
    assert image.shape == (64, 64, 3)
    assert np.isfinite(image).all()
