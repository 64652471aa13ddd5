"""Properties of the synthetic face generator that training, tests and probes rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import synthfaces
from synthfaces.render import CLEAN_BACKGROUND


def test_labels_match_reference_order() -> None:
    assert synthfaces.LABELS == ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")
    assert synthfaces.label_index("Happy") == 6
    assert synthfaces.label_index(0) == 0


@pytest.mark.parametrize("clean", [False, True])
def test_same_seed_same_bytes(clean: bool) -> None:
    a = synthfaces.render("fear", 123, size=64, clean=clean)
    b = synthfaces.render(4, 123, size=64, clean=clean)
    assert a.tobytes() == b.tobytes()


def test_different_seeds_and_labels_differ() -> None:
    base = np.asarray(synthfaces.render(0, 1))
    assert not np.array_equal(base, np.asarray(synthfaces.render(0, 2)))
    assert not np.array_equal(base, np.asarray(synthfaces.render(1, 1)))


def test_render_does_not_touch_global_rng() -> None:
    np.random.seed(5)
    expected = np.random.random()
    np.random.seed(5)
    synthfaces.render(2, 9)
    assert np.random.random() == expected


@pytest.mark.parametrize("size", [32, 48, 64, 96, 128, 224])
@pytest.mark.parametrize("label", range(len(synthfaces.LABELS)))
def test_every_label_renders_at_every_size(label: int, size: int) -> None:
    img = synthfaces.render(label, seed=label * 31 + size, size=size)
    assert isinstance(img, Image.Image)
    assert img.mode == "RGB"
    assert img.size == (size, size)
    a = np.asarray(img)
    assert a.std() > 10  # something was drawn, not a flat image


def test_clean_mode_has_plain_background_and_centred_face() -> None:
    for label in range(len(synthfaces.LABELS)):
        a = np.asarray(synthfaces.render(label, seed=label, size=64, clean=True)).astype(int)
        border = np.concatenate(
            [a[:2].reshape(-1, 3), a[-2:].reshape(-1, 3), a[:, :2].reshape(-1, 3), a[:, -2:].reshape(-1, 3)]
        )
        assert (border == np.array(CLEAN_BACKGROUND)).all()
        # The face covers the centre: the central pixel is not background.
        assert (a[32, 32] != np.array(CLEAN_BACKGROUND)).any()
        # Left/right balance of non-background pixels: upright and centred.
        fg = (a != np.array(CLEAN_BACKGROUND)).any(axis=2)
        cols = np.nonzero(fg.any(axis=0))[0]
        assert abs((cols.min() + cols.max()) / 2 - 31.5) <= 1.5


def test_full_mode_backgrounds_vary() -> None:
    corners = {tuple(np.asarray(synthfaces.render(3, s))[0, 0]) for s in range(10)}
    assert len(corners) > 5


def test_faces_are_large() -> None:
    # STACK.md: a tiny ViT never left chance level with small faces. Clean faces use radius 0.40.
    a = np.asarray(synthfaces.render("neutral", 0, size=100, clean=True)).astype(int)
    fg = (a != np.array(CLEAN_BACKGROUND)).any(axis=2)
    rows = np.nonzero(fg.any(axis=1))[0]
    assert rows.max() - rows.min() + 1 >= 75


def test_make_dataset_shapes_balance_and_determinism() -> None:
    x, y = synthfaces.make_dataset(30, seed=3, size=32)
    assert x.shape == (30, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (30,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=7)
    assert counts.max() - counts.min() <= 1
    x2, y2 = synthfaces.make_dataset(30, seed=3, size=32)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, _ = synthfaces.make_dataset(30, seed=4, size=32)
    assert not np.array_equal(x, x3)
    # Rows are the rendered faces themselves.
    assert len({x[i].tobytes() for i in range(30)}) == 30


def test_make_dataset_label_subset() -> None:
    _, y = synthfaces.make_dataset(10, seed=0, size=32, labels=[4, 5], clean=True)
    assert set(y.tolist()) == {4, 5}
    assert np.bincount(y, minlength=7)[4] == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"label": 7, "seed": 0},
        {"label": "joy", "seed": 0},
        {"label": 0, "seed": -1},
        {"label": 0, "seed": 0, "size": 8},
        {"label": 0, "seed": 0, "size": 5000},
    ],
)
def test_render_rejects_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        synthfaces.render(**kwargs)  # type: ignore[arg-type]


def test_sample_grid_and_cli(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    synthfaces.sample_grid(out, seed=1, per_label=3, size=32)
    img = Image.open(out)
    assert img.height == 7 * (32 + 4) + 4
    cli_out = tmp_path / "cli.png"
    subprocess.run(
        [sys.executable, "-m", "synthfaces", "grid", "--out", str(cli_out), "--per-label", "2"],
        check=True,
        timeout=60,
    )
    assert Image.open(cli_out).size[1] == 7 * (64 + 4) + 4


def test_difficulty_one_is_the_default_and_lower_is_closer_to_clean() -> None:
    for label in range(len(synthfaces.LABELS)):
        default = synthfaces.render(label, 77)
        assert synthfaces.render(label, 77, difficulty=1.0).tobytes() == default.tobytes()
    # At difficulty 0 the background is the clean grey and the face sits in the middle.
    a = np.asarray(synthfaces.render("angry", 3, size=64, difficulty=0.0)).astype(int)
    assert np.abs(a[0, 0] - np.array(CLEAN_BACKGROUND)).max() <= 1
    assert (a[32, 32] != np.array(CLEAN_BACKGROUND)).any()
    with pytest.raises(ValueError, match="difficulty"):
        synthfaces.render(0, 0, difficulty=1.5)
