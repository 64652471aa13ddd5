"""Training data: synthetic faces generated once into memory (cached on disk), batches, augmentation."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

import synthfaces


def load_or_make(n: int, seed: int, size: int, clean: bool, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` faces (see :func:`synthfaces.make_dataset`), reusing a cached copy if present.

    The cache only saves time on resumed or repeated runs: the arrays are a pure function of the
    arguments, so a cached copy is identical to a fresh one.
    """
    path = None
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path = cache_dir / f"faces_n{n}_s{seed}_px{size}_{'clean' if clean else 'full'}.npz"
        if path.exists():
            with np.load(path) as z:
                return z["images"], z["targets"]
    start = time.monotonic()
    print(
        f"generating {n} {'clean' if clean else 'full'} faces (seed {seed}, {size}px)",
        file=sys.stderr,
        flush=True,
    )
    images, targets = synthfaces.make_dataset(n, seed, size=size, clean=clean, progress=n >= 2000)
    print(f"generated {n} faces in {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
    if path is not None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, images=images, targets=targets)
        tmp.replace(path)
    return images, targets


def to_pixel_values(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 NHWC -> float NCHW normalised like the model's processor (x/255 - 0.5) / 0.5."""
    x = torch.as_tensor(images).permute(0, 3, 1, 2).float()
    return x.mul_(2.0 / 255.0).sub_(1.0)


def augment(images: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Random horizontal flips and small translations (edge-replicated) of a uint8 NHWC batch.

    Flips keep every label valid (expressions are left/right symmetric or, for disgust, occur on
    either side); shifts add positions beyond the renderer's own jitter.
    """
    n, h, w, _ = images.shape
    out = images.copy()
    flip = rng.random(n) < 0.5
    out[flip] = out[flip, :, ::-1]
    if max_shift > 0:
        m = max_shift
        padded = np.pad(out, ((0, 0), (m, m), (m, m), (0, 0)), mode="edge")
        offsets = np.asarray(rng.integers(0, 2 * m + 1, size=(n, 2)))
        for i in range(n):
            y0, x0 = int(offsets[i, 0]), int(offsets[i, 1])
            out[i] = padded[i, y0 : y0 + h, x0 : x0 + w]
    return out


def difficulty_schedule(
    fraction: float, ramp: float, full_share: float, rng: np.random.Generator, n: int
) -> np.ndarray:
    """Per-face nuisance strength for a batch at ``fraction`` of training (curriculum).

    During the first ``ramp`` of training the ceiling rises linearly from 0 (clean-like faces)
    to 1 and faces are drawn below it, biased towards it (ceiling * sqrt(U)). Afterwards a
    ``full_share`` of faces has the full nuisance strength 1 and the rest sqrt(U), so easy faces
    keep anchoring what was learnt while most of the signal comes from the target domain.
    """
    u = np.sqrt(rng.random(n))
    if ramp > 0 and fraction < ramp:
        return np.asarray((fraction / ramp) * u)
    return np.where(rng.random(n) < full_share, 1.0, u)


class FaceStream:
    """Fresh faces every batch: labels uniform, per-face seeds from one data seed.

    Rendering a 64x64 face takes ~2 ms, a small cost next to a training step, and fresh faces
    rule out memorising a fixed set. The stream's position is its generator state (resumable).
    """

    def __init__(self, seed: int, size: int) -> None:
        self.rng = np.random.default_rng([int(seed), 0x7EA1])
        self.size = size

    def batch(self, difficulties: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Render ``len(difficulties)`` faces; returns uint8 NHWC images and int64 targets."""
        n = len(difficulties)
        labels = self.rng.integers(0, len(synthfaces.LABELS), size=n)
        seeds = self.rng.integers(0, 2**62, size=n)
        images = np.empty((n, self.size, self.size, 3), dtype=np.uint8)
        for i in range(n):
            d = float(min(1.0, max(0.0, difficulties[i])))
            images[i] = np.asarray(synthfaces.render(int(labels[i]), int(seeds[i]), self.size, difficulty=d))
        return images, labels.astype(np.int64)
