"""Balanced, deterministic datasets and labelled sample grids."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from synthfaces.labels import LABELS, label_index
from synthfaces.render import render


def _image_seeds(seed: int, n: int) -> np.ndarray:
    """Independent per-image seeds derived from the dataset seed."""
    return np.random.default_rng([int(seed), 0x5EED]).integers(0, 2**62, size=n, dtype=np.int64)


def make_dataset(
    n: int,
    seed: int,
    size: int = 64,
    clean: bool = False,
    labels: Sequence[int | str] | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` faces balanced over ``labels`` (default: all seven), in shuffled order.

    Returns ``(images, targets)``: uint8 ``[n, size, size, 3]`` and int64 ``[n]``. Class counts
    differ by at most one. The result is a pure function of the arguments.

    Args:
        n: number of faces.
        seed: dataset seed (non-negative); per-face seeds are derived from it.
        size: image width and height in pixels.
        clean: render clean faces (see :func:`synthfaces.render`).
        labels: label indices or names to draw from (default: all of :data:`LABELS`).
        progress: print a progress line to stderr every ~5 % (long generations).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    classes = list(range(len(LABELS))) if labels is None else [label_index(x) for x in labels]
    if not classes:
        raise ValueError("labels must name at least one label")
    rng = np.random.default_rng([int(seed), 0xDA7A])
    targets = np.array([classes[i % len(classes)] for i in range(n)], dtype=np.int64)
    targets = targets[rng.permutation(n)]
    seeds = _image_seeds(seed, n)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    step = max(1, n // 20)
    for i in range(n):
        images[i] = np.asarray(render(int(targets[i]), int(seeds[i]), size=size, clean=clean))
        if progress and (i + 1) % step == 0:
            print(f"synthfaces: {i + 1}/{n} faces", file=sys.stderr, flush=True)
    return images, targets


def sample_grid(
    path: str | os.PathLike[str],
    seed: int = 0,
    per_label: int = 8,
    size: int = 64,
    clean: bool = False,
) -> None:
    """Write a PNG grid with one row per label (name on the left) and ``per_label`` faces each."""
    if per_label < 1:
        raise ValueError(f"per_label must be >= 1, got {per_label}")
    pad, label_w = 4, 76
    width = label_w + per_label * (size + pad) + pad
    height = len(LABELS) * (size + pad) + pad
    grid = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for row, name in enumerate(LABELS):
        y = pad + row * (size + pad)
        draw.text((6, y + size // 2 - 6), name, fill=(0, 0, 0))
        for col in range(per_label):
            face = render(row, seed * 1000 + col, size=size, clean=clean)
            grid.paste(face, (label_w + pad + col * (size + pad), y))
    grid.save(path)
