"""Drawing in face-local coordinates.

A face is described in *face units*: the origin is the face centre, x points right, y points down
and the face's half-height is 1. :class:`Pen` maps those units to pixels (scale, rotation and
translation), so that every feature rotates and scales with the face without rotating bitmaps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import ImageDraw

Point = tuple[float, float]
Color = tuple[int, int, int]


def bezier(p0: Point, p1: Point, p2: Point, n: int = 12) -> list[Point]:
    """Sample a quadratic Bezier curve from ``p0`` to ``p2`` with control point ``p1``."""
    t = np.linspace(0.0, 1.0, n)
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
    xs = a * p0[0] + b * p1[0] + c * p2[0]
    ys = a * p0[1] + b * p1[1] + c * p2[1]
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def ellipse_points(cx: float, cy: float, rx: float, ry: float, n: int = 24) -> list[Point]:
    """Points on an axis-aligned ellipse (in face units) as a closed polygon."""
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    return list(zip((cx + rx * np.cos(t)).tolist(), (cy + ry * np.sin(t)).tolist(), strict=True))


class Pen:
    """Draws polygons, polylines and ellipses given in face units onto a PIL image."""

    def __init__(self, draw: ImageDraw.ImageDraw, cx: float, cy: float, scale: float, angle_deg: float) -> None:
        self.draw = draw
        self.cx = cx
        self.cy = cy
        self.scale = scale
        rad = math.radians(angle_deg)
        self._cos = math.cos(rad)
        self._sin = math.sin(rad)

    def to_px(self, points: Sequence[Point]) -> list[Point]:
        """Map face-unit points to pixel coordinates."""
        c, s, k = self._cos, self._sin, self.scale
        return [(self.cx + k * (x * c - y * s), self.cy + k * (x * s + y * c)) for x, y in points]

    def width(self, w: float) -> int:
        """A line width in face units as whole pixels (at least 1)."""
        return max(1, round(w * self.scale))

    def polygon(
        self,
        points: Sequence[Point],
        fill: Color | None,
        outline: Color | None = None,
        width: float = 0.0,
    ) -> None:
        """Fill a polygon and optionally stroke its outline with a face-unit ``width``."""
        px = self.to_px(points)
        if fill is not None:
            self.draw.polygon(px, fill=fill)
        if outline is not None and width > 0:
            self.draw.line([*px, px[0]], fill=outline, width=self.width(width), joint="curve")

    def line(self, points: Sequence[Point], color: Color, width: float) -> None:
        """Stroke a polyline with a face-unit ``width`` and round ends."""
        px = self.to_px(points)
        w = self.width(width)
        self.draw.line(px, fill=color, width=w, joint="curve")
        # Round caps: PIL leaves square-ish ends, which look harsh on thick strokes.
        r = w / 2
        if r >= 1.5:
            for x, y in (px[0], px[-1]):
                self.draw.ellipse((x - r, y - r, x + r, y + r), fill=color)

    def ellipse(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        fill: Color | None,
        outline: Color | None = None,
        width: float = 0.0,
        n: int = 24,
    ) -> None:
        """An ellipse in face units (rotates with the face)."""
        self.polygon(ellipse_points(cx, cy, rx, ry, n), fill, outline, width)

    def dot(self, cx: float, cy: float, r: float, fill: Color) -> None:
        """A small filled circle (rotation does not matter for circles)."""
        (x, y) = self.to_px([(cx, cy)])[0]
        rp = max(0.75, r * self.scale)
        self.draw.ellipse((x - rp, y - rp, x + rp, y + rp), fill=fill)
