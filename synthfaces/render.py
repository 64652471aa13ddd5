"""Render one synthetic expressive face: head, hair, background and photographic nuisances."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from synthfaces.expressions import EXPRESSIONS, Face, _mix
from synthfaces.labels import label_index
from synthfaces.pen import Color, Pen, ellipse_points

MIN_SIZE = 16
MAX_SIZE = 1024
SUPERSAMPLE = 2  # draw at 2x and box-downsample: cheap antialiasing

CLEAN_BACKGROUND: Color = (232, 232, 232)

SKIN_TONES: tuple[Color, ...] = (
    (255, 224, 196),
    (241, 194, 160),
    (226, 170, 128),
    (205, 140, 100),
    (176, 116, 80),
    (140, 92, 62),
)
HAIR_COLORS: tuple[Color, ...] = (
    (24, 20, 18),
    (70, 44, 26),
    (120, 78, 40),
    (205, 170, 100),
    (150, 60, 30),
    (150, 150, 150),
)


def _jitter(rng: np.random.Generator, color: Color, amount: int) -> Color:
    d = rng.integers(-amount, amount + 1, size=3)
    return (
        int(np.clip(color[0] + d[0], 0, 255)),
        int(np.clip(color[1] + d[1], 0, 255)),
        int(np.clip(color[2] + d[2], 0, 255)),
    )


def _random_color(rng: np.random.Generator) -> Color:
    c = rng.integers(0, 256, size=3)
    return (int(c[0]), int(c[1]), int(c[2]))


def _clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, s: int, difficulty: float) -> None:
    """A few random shapes behind the face (the face is drawn over them)."""
    count = int(rng.integers(2, 9))
    keep = round(count * difficulty)
    for k in range(count):
        x0, y0 = rng.uniform(-0.2, 1.0, size=2) * s
        w, h = rng.uniform(0.08, 0.5, size=2) * s
        box = (float(x0), float(y0), float(x0 + w), float(y0 + h))
        kind = int(rng.integers(0, 3))
        color = _random_color(rng)
        width = max(1, int(rng.uniform(0.01, 0.05) * s)) if kind == 2 else 0
        if k >= keep:  # values are still drawn so that the generator stays in step
            continue
        if kind == 0:
            draw.rectangle(box, fill=color)
        elif kind == 1:
            draw.ellipse(box, fill=color)
        else:
            draw.line(box, fill=color, width=width)


def _hair(pen: Pen, rng: np.random.Generator, half_width: float, color: Color) -> list[tuple[float, float]]:
    """Draw the hair mass behind the head; return the fringe polygon to draw over the face."""
    if rng.random() < 0.4:  # long hair falling beside the face
        pen.ellipse(0.0, 0.12, half_width * 1.2, 1.12, color, n=32)
    else:
        pen.ellipse(0.0, -0.1, half_width * 1.1, 1.0, color, n=32)
    # Fringe: the top of the head down to a wavy edge that stays above the brows.
    edge = -0.8 + rng.uniform(-0.03, 0.03)
    top = [(x, y) for x, y in ellipse_points(0.0, 0.0, half_width * 1.04, 1.04, 40) if y < edge]
    top.sort(key=lambda p: p[0])
    waves = np.linspace(half_width * 1.0, -half_width * 1.0, 7)
    bottom = [(float(x), edge + 0.04 * (i % 2)) for i, x in enumerate(waves)]
    return [*top, *bottom]


def _nuisances(img: Image.Image, rng: np.random.Generator, difficulty: float) -> Image.Image:
    """Photographic variation applied at output size: blur, lighting, colour cast, noise."""
    if rng.random() < 0.35 * difficulty:
        img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.9)) * img.width / 64))
    a = np.asarray(img, dtype=np.float32)
    n = a.shape[0]
    # Lighting gradient along a random direction.
    theta = rng.uniform(0, 2 * np.pi)
    strength = rng.uniform(0.0, 0.35) * difficulty
    coords = (np.arange(n, dtype=np.float32) / max(n - 1, 1)) - 0.5
    ramp = np.cos(theta) * coords[None, :] + np.sin(theta) * coords[:, None]
    light = 1.0 + strength * ramp * 2 + rng.uniform(-0.15, 0.1) * difficulty
    cast = (1.0 + (rng.uniform(0.85, 1.15, size=3) - 1.0) * difficulty).astype(np.float32)
    a = a * light[:, :, None] * cast[None, None, :]
    sigma = rng.uniform(0.0, 8.0) * difficulty
    a = a + rng.normal(0.0, sigma, size=a.shape).astype(np.float32)
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8), "RGB")


def render(label: int | str, seed: int, size: int = 64, clean: bool = False, difficulty: float = 1.0) -> Image.Image:
    """Render one RGB face showing expression ``label``, deterministic in (label, seed).

    Args:
        label: an index into :data:`synthfaces.LABELS` or a label name.
        seed: a non-negative integer; the same (label, seed) gives the same face geometry at
            every size and the same bytes at the same size.
        size: output width and height in pixels, in [16, 1024].
        clean: centred, upright face on a plain background, without hair, clutter, blur,
            lighting or noise (skin tone and expression strength still vary slightly).
        difficulty: strength of the nuisances in non-clean mode, in [0, 1]: 1 (the default) is
            the full variation; lower values shrink position, rotation and size jitter, clutter,
            background colour, blur, lighting, colour cast and noise towards the clean face
            (used as a training curriculum). Ignored when ``clean`` is true.

    Raises:
        ValueError: a bad label, a negative seed, a size outside [16, 1024] or a difficulty
            outside [0, 1].
    """
    idx = label_index(label)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        raise ValueError(f"size must be an integer, got {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be in [{MIN_SIZE}, {MAX_SIZE}], got {size}")
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be in [0, 1], got {difficulty}")
    d = float(difficulty)

    rng = np.random.default_rng([int(seed), idx])
    s = int(size) * SUPERSAMPLE
    skin = _jitter(rng, SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], 6 if clean else 12)
    hair = _jitter(rng, HAIR_COLORS[int(rng.integers(len(HAIR_COLORS)))], 10)
    brow = _mix(hair, (15, 10, 8), 0.6)
    half_width = float(rng.uniform(0.76, 0.86))

    if clean:
        img = Image.new("RGB", (s, s), CLEAN_BACKGROUND)
        draw = ImageDraw.Draw(img)
        radius, angle, cx, cy = 0.40 * s, 0.0, s / 2, s / 2
    else:
        img = Image.new("RGB", (s, s), _mix(CLEAN_BACKGROUND, _random_color(rng), d))
        draw = ImageDraw.Draw(img)
        _clutter(draw, rng, s, d)
        radius = (0.40 + d * (float(rng.uniform(0.34, 0.43)) - 0.40)) * s
        angle = d * float(rng.uniform(-18, 18))
        cx, cy = (0.5 + d * rng.uniform(-0.07, 0.07, size=2)) * s
    pen = Pen(draw, float(cx), float(cy), radius, angle)

    fringe = _hair(pen, rng, half_width, hair) if not clean and rng.random() < 0.85 else None
    ear = _mix(skin, (60, 30, 20), 0.12)
    for side in (-1.0, 1.0):
        pen.ellipse(side * half_width * 0.98, -0.02, 0.13, 0.21, ear, _mix(skin, (40, 20, 20), 0.3), 0.025, n=16)
    pen.ellipse(0.0, 0.0, half_width, 1.0, skin, _mix(skin, (40, 20, 20), 0.35), 0.03, n=48)
    if fringe is not None:
        pen.polygon(fringe, hair)

    EXPRESSIONS[idx](Face(pen, rng, skin, brow))

    out = img.reduce(SUPERSAMPLE)
    if not clean:
        out = _nuisances(out, rng, d)
    return out
