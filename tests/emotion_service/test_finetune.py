"""emotion_service.build.finetune: ImageFolder in, new labels, held-out split, a bundle a real server serves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from emotion_service.build.finetune import (
    REPORT,
    Recipe,
    finetune,
    load_image_folder,
    logits_of,
    pixel_values,
    rebuild_head,
    stratified_split,
)
from emotion_service.build.finetune_demo import negative_face
from emotion_service.build.sources import resolve_source
from servicekit.errors import InvalidInput
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2 as pb
from tests.emotion_service.serving import raw_image, serve, settings_for

# "Happy" matches the base's "happy" row (case-insensitive); "wink" is a label the base never had.
LABELS = {"Happy": "happy", "sad": "sad", "wink": "surprise"}


def write_folder(root: Path, per_label: int = 6) -> Path:
    for index, (folder, drawn) in enumerate(LABELS.items()):
        (root / folder).mkdir(parents=True)
        for k in range(per_label):
            negative_face(drawn, 300 + 50 * index + k).save(root / folder / f"{k}.png")
    return root


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("emotion-finetune")
    data = write_folder(root / "data")
    report = finetune(
        data, root / "out", base="tiny", recipe=Recipe(epochs=2, batch_size=8), progress=False, log=lambda _: None
    )
    return root / "out", report


def test_image_folder_labels_come_from_the_sub_folders(tmp_path: Path) -> None:
    data = load_image_folder(write_folder(tmp_path, per_label=2))
    assert data.labels == ("Happy", "sad", "wink") and len(data.images) == 6
    assert data.targets.tolist() == [0, 0, 1, 1, 2, 2]


def test_bad_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a directory"):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "only").mkdir()
    with pytest.raises(InvalidInput, match="at least two label folders"):
        load_image_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="'empty' holds no images"):
        load_image_folder(tmp_path)


def test_split_is_stratified_disjoint_and_deterministic() -> None:
    targets = np.repeat(np.arange(3), 10)
    train, held = stratified_split(targets, 0.2, seed=1)
    again_train, again_held = stratified_split(targets, 0.2, seed=1)
    assert set(train).isdisjoint(held) and len(train) + len(held) == 30
    assert np.bincount(targets[held]).tolist() == [2, 2, 2]
    assert np.array_equal(held, again_held) and np.array_equal(train, again_train)
    with pytest.raises(InvalidInput, match="holdout"):
        stratified_split(targets, 1.0, seed=1)


def test_new_head_keeps_the_rows_of_known_labels() -> None:
    source = resolve_source("tiny")
    base = source.load_model()
    tuned = source.load_model()
    from transformers import ViTImageProcessor

    inputs = pixel_values(ViTImageProcessor(**source.processor_config), [negative_face("happy", s) for s in range(4)])
    info = rebuild_head(tuned, ("Happy", "sad", "wink"))
    assert info == {"copied_rows": {"Happy": "happy", "sad": "sad"}, "new_rows": ["wink"]}
    names = {str(n): int(i) for i, n in base.config.id2label.items()}
    before, after = logits_of(base, inputs), logits_of(tuned, inputs)
    assert torch.allclose(after[:, 0], before[:, names["happy"]], atol=1e-5)
    assert torch.allclose(after[:, 1], before[:, names["sad"]], atol=1e-5)
    assert torch.all(after[:, 2] == 0)
    assert tuned.config.id2label == {0: "Happy", 1: "sad", 2: "wink"}


def test_finetune_writes_a_bundle_with_held_out_accuracy(tuned: tuple[Path, dict]) -> None:
    out, report = tuned
    assert report["labels"] == ["Happy", "sad", "wink"] and report["held_out_images"] == 3
    assert set(report["bundle_accuracy"]) == {"fp32", "int8"}
    assert json.loads((out / REPORT).read_text()) == report
    manifest = json.loads((out / "hf" / "training_manifest.json").read_text())
    assert manifest["fine_tuned_from"]["spec"] == "tiny" and manifest["weights"] == "synthetic-trained"
    assert manifest["data"] == {**manifest["data"], "train": 15, "held_out": 3}
    assert manifest["held_out"]["before"]["shared_labels"] == ["Happy", "sad"]
    assert 0.0 <= manifest["held_out"]["after"]["accuracy"] <= 1.0
    assert (out / "bundle" / "manifest.json").is_file()


@pytest.mark.asyncio
async def test_the_service_serves_the_fine_tuned_bundle_unchanged(tuned: tuple[Path, dict]) -> None:
    out, _ = tuned
    image = np.asarray(negative_face("happy", 999))
    async with serve(settings_for(out / "bundle")) as served:
        reply = await served.stub.Classify(pb.ClassifyRequest(images=[raw_image(image)], precision="int8"))
        info = await served.stub.GetModelInfo(pb.GetModelInfoRequest())
    (face,) = reply.results[0].faces
    assert sorted(s.label for s in face.scores) == ["Happy", "sad", "wink"]
    assert abs(sum(s.score for s in face.scores) - 1.0) < 1e-4
    assert reply.precision == "int8" and reply.weights_origin == pb.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED
    assert "wink" in str(info)
