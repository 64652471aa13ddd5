"""Brows, eyes, mouth and small extras that encode each of the seven expressions.

Every expression is drawn by one function with the same signature. Magnitudes are jittered with
the caller's generator so that each class varies, but the cues that define a class (brow slope,
eye opening, mouth shape) stay clear enough for a person to name the expression. Strokes are
thick on purpose: a tiny ViT learns thin brow and mouth lines last.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from synthfaces.pen import Color, Pen, Point, bezier

# Feature anchors in face units (face half-height 1, y points down).
EYE_X = 0.32
EYE_Y = -0.10
BROW_Y = -0.36
NOSE_Y = 0.18
MOUTH_Y = 0.50

BROW_W = 0.10  # brow stroke width
LINE_W = 0.075  # mouth stroke width

SCLERA: Color = (247, 247, 244)
PUPIL: Color = (28, 24, 30)
LINE: Color = (58, 22, 24)
MOUTH_IN: Color = (96, 18, 32)
TEETH: Color = (252, 252, 246)
TONGUE: Color = (222, 92, 108)
TEAR: Color = (80, 160, 245)


def _mix(a: Color, b: Color, t: float) -> Color:
    """Blend colour ``a`` towards ``b`` by ``t`` in [0, 1]."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


class Face:
    """What the expression functions need: the pen, the generator and the face's colours."""

    def __init__(self, pen: Pen, rng: np.random.Generator, skin: Color, brow: Color) -> None:
        self.pen = pen
        self.rng = rng
        self.skin = skin
        self.brow = brow
        self.shade = _mix(skin, (40, 20, 20), 0.45)

    def u(self, lo: float, hi: float) -> float:
        """A uniform draw in [lo, hi)."""
        return float(self.rng.uniform(lo, hi))

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return bool(self.rng.random() < p)

    # ----------------------------------------------------------------- shared features
    def brows(
        self,
        inner_dy: float,
        outer_dy: float,
        arch: float = 0.0,
        inner_x: float = 0.12,
        asym: float = 0.0,
        width: float = BROW_W,
    ) -> None:
        """Both brows from inner to outer end; negative dy raises, ``arch`` bows upwards."""
        for side in (-1.0, 1.0):
            lift = asym * side  # one brow higher than the other when asym != 0
            p0 = (side * inner_x, BROW_Y + inner_dy + lift)
            p2 = (side * 0.52, BROW_Y + outer_dy + lift)
            ctrl = ((p0[0] + p2[0]) / 2, (p0[1] + p2[1]) / 2 - 2 * arch)
            self.pen.line(bezier(p0, ctrl, p2, 10), self.brow, width)

    def open_eyes(
        self,
        rx: float,
        ry: float,
        pupil: float,
        look: Point = (0.0, 0.0),
        lid_slope: float = 0.0,
    ) -> None:
        """Open eyes, optionally under a heavy upper lid.

        ``lid_slope`` > 0 tilts the lid down towards the nose (anger), < 0 down towards the
        temples (sadness).
        """
        pen = self.pen
        for side in (-1.0, 1.0):
            cx = side * EYE_X
            pen.ellipse(cx, EYE_Y, rx, ry, SCLERA, LINE, 0.03, n=20)
            pr = min(pupil, ry * 0.95, rx * 0.95)
            pen.dot(cx + look[0] * (rx - pr), EYE_Y + look[1] * max(ry - pr, 0.0), pr, PUPIL)
            if lid_slope != 0.0:
                inner = (cx - side * rx * 1.15, EYE_Y - ry + lid_slope * 0.5)
                outer = (cx + side * rx * 1.15, EYE_Y - ry - lid_slope * 0.5)
                lid = [inner, outer, (outer[0], outer[1] - 0.06), (inner[0], inner[1] - 0.06)]
                pen.polygon(lid, self.skin)
                pen.line([inner, outer], LINE, 0.045)

    def arc_eyes(self, height: float) -> None:
        """Closed, upward-curved eyes of a broad smile."""
        for side in (-1.0, 1.0):
            cx = side * EYE_X
            pts = bezier((cx - 0.13, EYE_Y + 0.03), (cx, EYE_Y - height), (cx + 0.13, EYE_Y + 0.03))
            self.pen.line(pts, PUPIL, 0.06)

    def nose(self) -> None:
        """A small nose that is the same for every expression."""
        pts = bezier((-0.07, NOSE_Y), (0.0, NOSE_Y + 0.08), (0.07, NOSE_Y), 8)
        self.pen.line(pts, self.shade, 0.04)

    def mouth_shape(self, top: list[Point], bottom: list[Point], teeth_depth: float = 0.0) -> None:
        """An open mouth bounded by ``top`` (left to right) and ``bottom`` (right to left)."""
        pen = self.pen
        pen.polygon(top + bottom, MOUTH_IN)
        if teeth_depth > 0:
            lower = [(x, y + teeth_depth) for x, y in top[1:-1]]
            pen.polygon(top[1:-1] + lower[::-1], TEETH)
        pen.polygon(top + bottom, None, LINE, 0.05)

    # ----------------------------------------------------------------- extras
    def tears(self) -> None:
        """Tear drops under one or both eyes."""
        sides = (-1.0, 1.0) if self.chance(0.5) else (float(self.rng.choice([-1.0, 1.0])),)
        for side in sides:
            x = side * (EYE_X + self.u(-0.04, 0.06))
            y = EYE_Y + self.u(0.16, 0.26)
            self.pen.polygon([(x, y - 0.09), (x + 0.045, y), (x, y + 0.04), (x - 0.045, y)], TEAR)

    def blush(self) -> None:
        """Pink cheeks."""
        color = _mix(self.skin, (235, 90, 110), 0.45)
        for side in (-1.0, 1.0):
            self.pen.ellipse(side * 0.45, 0.22, 0.12, 0.07, color, n=16)


# --------------------------------------------------------------------- expressions
def sad(f: Face) -> None:
    """Inner brows raised, drooping lids, eyes down, mouth corners down, maybe tears."""
    f.brows(inner_dy=-f.u(0.11, 0.17), outer_dy=f.u(0.04, 0.08), inner_x=0.11)
    f.open_eyes(0.12, f.u(0.06, 0.08), 0.055, look=(0.0, 0.8), lid_slope=-f.u(0.05, 0.09))
    f.nose()
    mw, drop, lift = f.u(0.17, 0.25), f.u(0.07, 0.11), f.u(0.11, 0.17)
    f.pen.line(bezier((-mw, MOUTH_Y + drop), (0.0, MOUTH_Y - lift), (mw, MOUTH_Y + drop)), LINE, LINE_W)
    if f.chance(0.55):
        f.tears()


def disgust(f: Face) -> None:
    """Lowered, uneven brows, squinted eyes, wrinkled nose, one side of the upper lip raised."""
    side = float(f.rng.choice([-1.0, 1.0]))
    f.brows(inner_dy=f.u(0.05, 0.09), outer_dy=f.u(-0.01, 0.02), asym=side * f.u(0.03, 0.05))
    f.open_eyes(0.12, f.u(0.035, 0.05), 0.04)
    for side_eye in (-1.0, 1.0):  # raised lower lids
        cx = side_eye * EYE_X
        f.pen.line(bezier((cx - 0.12, EYE_Y + 0.07), (cx, EYE_Y + 0.02), (cx + 0.12, EYE_Y + 0.07)), f.shade, 0.035)
    f.nose()
    for k in range(3):  # nose wrinkles on the bridge
        y = -0.02 + 0.065 * k
        f.pen.line(bezier((-0.08, y + 0.02), (0.0, y - 0.02), (0.08, y + 0.02), 6), f.shade, 0.03)
    mw = f.u(0.2, 0.26)
    raise_ = f.u(0.1, 0.15)
    top = [
        (-side * mw, MOUTH_Y + 0.05),
        (-side * 0.3 * mw, MOUTH_Y + 0.02),
        (side * 0.35 * mw, MOUTH_Y - raise_ * 0.6),
        (side * mw, MOUTH_Y - raise_),
    ]
    bottom = [
        (side * mw * 0.9, MOUTH_Y - raise_ * 0.3),
        (side * 0.3 * mw, MOUTH_Y + 0.07),
        (-side * 0.4 * mw, MOUTH_Y + 0.08),
    ]
    f.mouth_shape(top, bottom, teeth_depth=0.035)
    if f.chance(0.3):
        f.pen.ellipse(side * 0.05, MOUTH_Y + 0.12, 0.07, 0.06, TONGUE, LINE, 0.03, n=14)


def angry(f: Face) -> None:
    """Brows down and together in a V, narrowed eyes under heavy lids, tight or bared mouth."""
    f.brows(inner_dy=f.u(0.1, 0.15), outer_dy=-f.u(0.07, 0.11), inner_x=0.07, width=0.11)
    f.open_eyes(0.12, f.u(0.05, 0.065), 0.05, lid_slope=f.u(0.07, 0.1))
    f.nose()
    if f.chance(0.35):  # forehead crease between the brows
        for x in (-0.03, 0.03):
            f.pen.line([(x, BROW_Y - 0.08), (x, BROW_Y + 0.02)], f.shade, 0.03)
    mw = f.u(0.18, 0.25)
    if f.chance(0.5):  # clenched, bared teeth
        h = f.u(0.06, 0.08)
        top = [(-mw, MOUTH_Y - h + 0.02), (0.0, MOUTH_Y - h), (mw, MOUTH_Y - h + 0.02)]
        bottom = [(mw, MOUTH_Y + h + 0.02), (0.0, MOUTH_Y + h), (-mw, MOUTH_Y + h + 0.02)]
        f.pen.polygon(top + bottom, TEETH, LINE, 0.055)
        f.pen.line([(-mw, MOUTH_Y + 0.01), (mw, MOUTH_Y + 0.01)], LINE, 0.03)
        for x in np.linspace(-mw * 0.6, mw * 0.6, 4):
            f.pen.line([(float(x), MOUTH_Y - h + 0.01), (float(x), MOUTH_Y + h)], LINE, 0.02)
    else:  # lips pressed into a tight line, corners pulled down
        d = f.u(0.03, 0.06)
        pts = [(-mw, MOUTH_Y + d), (-mw * 0.5, MOUTH_Y), (mw * 0.5, MOUTH_Y), (mw, MOUTH_Y + d)]
        f.pen.line(pts, LINE, 0.085)


def neutral(f: Face) -> None:
    """Flat brows, relaxed open eyes, straight closed mouth."""
    f.brows(inner_dy=f.u(-0.015, 0.015), outer_dy=f.u(-0.015, 0.015), arch=f.u(0.0, 0.015))
    look = (f.u(-0.4, 0.4), f.u(-0.2, 0.2))
    f.open_eyes(0.12, f.u(0.07, 0.09), 0.06, look=look)
    f.nose()
    mw, tilt = f.u(0.17, 0.25), f.u(-0.015, 0.015)
    f.pen.line([(-mw, MOUTH_Y + tilt), (mw, MOUTH_Y - tilt)], LINE, LINE_W)


def fear(f: Face) -> None:
    """Brows raised and drawn together, wide staring eyes, mouth open and stretched sideways."""
    f.brows(inner_dy=-f.u(0.15, 0.2), outer_dy=-f.u(0.04, 0.08), inner_x=0.08, arch=-0.01)
    look = (f.u(-0.6, 0.6), f.u(-0.3, 0.3))
    f.open_eyes(f.u(0.12, 0.14), f.u(0.13, 0.16), 0.045, look=look)
    f.nose()
    mw = f.u(0.26, 0.32)
    top = bezier((-mw, MOUTH_Y + 0.05), (0.0, MOUTH_Y - 0.08), (mw, MOUTH_Y + 0.05), 9)
    bottom = bezier((mw, MOUTH_Y + 0.05), (0.0, MOUTH_Y + f.u(0.22, 0.3)), (-mw, MOUTH_Y + 0.05), 9)
    f.mouth_shape(top, bottom, teeth_depth=0.04 if f.chance(0.6) else 0.0)


def surprise(f: Face) -> None:
    """High, round-arched brows, wide round eyes, round open O mouth."""
    f.brows(inner_dy=-f.u(0.15, 0.19), outer_dy=-f.u(0.1, 0.15), arch=f.u(0.07, 0.1))
    r = f.u(0.13, 0.15)
    f.open_eyes(r, r, 0.055)
    f.nose()
    f.pen.ellipse(0.0, MOUTH_Y + 0.04, f.u(0.09, 0.12), f.u(0.13, 0.17), MOUTH_IN, LINE, 0.05)


def happy(f: Face) -> None:
    """Relaxed, slightly raised brows, smiling eyes, mouth corners up (open with teeth or closed)."""
    f.brows(inner_dy=-f.u(0.02, 0.05), outer_dy=-f.u(0.0, 0.03), arch=f.u(0.03, 0.05))
    if f.chance(0.55):
        f.arc_eyes(f.u(0.1, 0.14))
    else:
        f.open_eyes(0.12, f.u(0.055, 0.07), 0.055)
        for side in (-1.0, 1.0):  # cheeks pushing the lower lids up
            cx = side * EYE_X
            f.pen.line(
                bezier((cx - 0.12, EYE_Y + 0.1), (cx, EYE_Y + 0.04), (cx + 0.12, EYE_Y + 0.1), 6),
                f.shade,
                0.035,
            )
    f.nose()
    mw = f.u(0.24, 0.31)
    if f.chance(0.6):
        top = bezier((-mw, MOUTH_Y - 0.08), (0.0, MOUTH_Y + 0.02), (mw, MOUTH_Y - 0.08), 9)
        bottom = bezier((mw, MOUTH_Y - 0.08), (0.0, MOUTH_Y + f.u(0.3, 0.38)), (-mw, MOUTH_Y - 0.08), 9)
        f.mouth_shape(top, bottom, teeth_depth=0.06 if f.chance(0.7) else 0.0)
    else:
        pts = bezier((-mw, MOUTH_Y - 0.09), (0.0, MOUTH_Y + f.u(0.16, 0.22)), (mw, MOUTH_Y - 0.09))
        f.pen.line(pts, LINE, LINE_W)
    if f.chance(0.5):
        f.blush()


# Indexed like ``synthfaces.LABELS``.
EXPRESSIONS: tuple[Callable[[Face], None], ...] = (
    sad,
    disgust,
    angry,
    neutral,
    fear,
    surprise,
    happy,
)
