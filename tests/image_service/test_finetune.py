"""image_service.build.finetune: captioned folders in, a resumable LoRA run, an adapter the service loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file

from image_service.adapters import ADAPTER_FILE, ADAPTER_MANIFEST, inspect_adapter
from image_service.build.finetune import LoraRecipe, finetune, load_images, main
from image_service.build.finetune_demo import dark_face, dark_skin_seeds, has_dark_skin, skin_tone_index, write_dataset
from image_service.sources import VariantSource
from servicekit.errors import InvalidInput

RECIPE = LoraRecipe(rank=4, alpha=4, steps=6, batch_size=2, lr=1e-3, size=64, seed=3)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("captioned")
    write_dataset(folder, per_label=1)
    return folder


def quiet(_: str) -> None:
    """Log sink."""


def test_captions_from_text_files_or_metadata_jsonl(data: Path, tmp_path: Path) -> None:
    loaded = load_images(data, 32)
    assert loaded.images.shape == (7, 32, 32, 3) and len(loaded.captions) == 7
    assert loaded.captions[loaded.files.index("happy-000.png")] == "a photo of a happy face"
    # The Hugging Face ImageFolder layout: metadata.jsonl instead of .txt files.
    other = tmp_path / "jsonl"
    other.mkdir()
    dark_face(0, 1).save(other / "a.png")
    (other / "metadata.jsonl").write_text(json.dumps({"file_name": "a.png", "text": "a photo of a sad face"}) + "\n")
    assert load_images(other, 64).captions == ["a photo of a sad face"]


def test_missing_captions_and_empty_folders_are_refused(tmp_path: Path) -> None:
    dark_face(0, 1).save(tmp_path / "lonely.png")
    with pytest.raises(InvalidInput, match=r"lonely\.png: no caption"):
        load_images(tmp_path, 64)
    with pytest.raises(InvalidInput, match="not a directory"):
        load_images(tmp_path / "missing", 64)
    (tmp_path / "lonely.png").unlink()
    with pytest.raises(InvalidInput, match="no captioned images"):
        load_images(tmp_path, 64)


def test_finetune_writes_an_adapter_with_provenance(tiny_source: VariantSource, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    weights = finetune(
        tiny_source, data, out, RECIPE, description="blue", checkpoint_every=3, progress=False, log=quiet
    )
    assert weights == out / ADAPTER_FILE
    manifest = json.loads((out / ADAPTER_MANIFEST).read_text())
    assert manifest["base_variant"] == "tiny-flux" and manifest["description"] == "blue"
    assert manifest["recipe"]["rank"] == 4 and manifest["data"]["images"] == 7
    assert manifest["metrics"]["steps"] == 6 and manifest["versions"]["peft"] != "not installed"
    assert len(manifest["base"]["transformer_sha256"]) == 1
    info = inspect_adapter("blue", out, "ignored")
    assert (info.rank, info.base_variant, info.sha256) == (4, "tiny-flux", manifest["adapter_sha256"])
    assert (out / "checkpoints" / "step-3" / "state.json").is_file()


def test_an_interrupted_run_resumes_to_the_same_adapter(tiny_source: VariantSource, data: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    finetune(tiny_source, data, whole, RECIPE, checkpoint_every=3, progress=False, log=quiet)
    # A run that stopped after step 3: only its checkpoint exists. Continuing must reach the same weights.
    resumed = tmp_path / "resumed"
    shutil.copytree(whole / "checkpoints" / "step-3", resumed / "checkpoints" / "step-3")
    messages: list[str] = []
    finetune(tiny_source, data, resumed, RECIPE, checkpoint_every=3, progress=False, log=messages.append)
    assert any("resumed from" in m and "step 3" in m for m in messages)
    first, second = load_file(str(whole / ADAPTER_FILE)), load_file(str(resumed / ADAPTER_FILE))
    assert first.keys() == second.keys()
    assert all((first[k] - second[k]).abs().max() < 1e-6 for k in first)
    manifest = json.loads((resumed / ADAPTER_MANIFEST).read_text())
    assert manifest["metrics"]["resumed_from_step"] == 3


def test_cli_trains_the_embedded_model(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert main(["--data", str(data), "--out", str(out), "--steps", "2", "--batch-size", "2", "--no-progress"]) == 0
    assert (out / ADAPTER_FILE).is_file()


def test_dark_skin_statistic_separates_the_darkest_tone() -> None:
    import synthfaces

    dark = [dark_face(label, seed) for label in range(7) for seed in dark_skin_seeds(label, 3, 50)]
    assert all(skin_tone_index(0, s) == 5 for s in dark_skin_seeds(0, 3, 50))
    assert all(map(has_dark_skin, dark))
    lighter = [
        synthfaces.render(label, seed, size=64, clean=True)
        for label in range(7)
        for seed in range(12)
        if skin_tone_index(label, seed) != 5
    ]
    assert lighter and not any(map(has_dark_skin, lighter))
