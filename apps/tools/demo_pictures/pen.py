"""The drawing kit of the demo pictures: the canvas, the colors, a ``Pen`` that draws in
the 800 x 600 coordinates of a drawing whatever its real size, and the registry every
drawing module adds its drawings to (``@register``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw

SIZE = (800, 600)
SCALE = 2
GROUND = 470  # where the tools stand, in the 800 x 600 drawing

RGB = tuple[int, int, int]
DARK: RGB = (52, 56, 62)
RUBBER: RGB = (34, 36, 40)
STEEL: RGB = (160, 166, 174)
LIGHT: RGB = (212, 216, 222)
WOOD: RGB = (178, 126, 74)
GLASS: RGB = (206, 226, 232)
RED: RGB = (206, 62, 52)
ORANGE: RGB = (232, 128, 38)
YELLOW: RGB = (238, 190, 48)
GREEN: RGB = (62, 138, 82)
BLUE: RGB = (52, 110, 178)
SCREEN: RGB = (176, 198, 170)
PAPER: RGB = (250, 247, 240)


def _mix(color: RGB, other: RGB, share: float) -> RGB:
    """``share`` of ``other`` mixed into ``color``."""
    return tuple(round(c + (o - c) * share) for c, o in zip(color, other, strict=True))


def _dark(color: RGB, share: float = 0.35) -> RGB:
    return _mix(color, (0, 0, 0), share)


class Pen:
    """ImageDraw in the 800 x 600 coordinates of the drawing, whatever its real size."""

    def __init__(self, image: Image.Image, background: RGB) -> None:
        self.draw = ImageDraw.Draw(image)
        self.background = background

    @staticmethod
    def _xy(points: Sequence[float]) -> list[float]:
        return [v * SCALE for v in points]

    def box(self, box: Sequence[float], fill: RGB, r: float = 0) -> None:
        if r:
            self.draw.rounded_rectangle(self._xy(box), radius=r * SCALE, fill=fill)
        else:
            self.draw.rectangle(self._xy(box), fill=fill)

    def hole(self, box: Sequence[float], r: float = 0) -> None:
        """A cut-out (a handle's opening): the background shows through."""
        self.box(box, self.background, r)

    def oval(self, box: Sequence[float], fill: RGB) -> None:
        self.draw.ellipse(self._xy(box), fill=fill)

    def ring(self, box: Sequence[float], color: RGB, width: float) -> None:
        self.draw.ellipse(self._xy(box), outline=color, width=round(width * SCALE))

    def circle(self, x: float, y: float, r: float, fill: RGB) -> None:
        self.oval((x - r, y - r, x + r, y + r), fill)

    def poly(self, points: Sequence[float], fill: RGB) -> None:
        self.draw.polygon(self._xy(points), fill=fill)

    def line(self, points: Sequence[float], color: RGB, width: float) -> None:
        self.draw.line(self._xy(points), fill=color, width=round(width * SCALE), joint="curve")
        w = width / 2
        for x, y in ((points[0], points[1]), (points[-2], points[-1])):  # round ends
            self.oval((x - w, y - w, x + w, y + w), color)

    def chord(self, box: Sequence[float], start: float, end: float, fill: RGB) -> None:
        self.draw.chord(self._xy(box), start, end, fill=fill)

    def wheel(self, x: float, y: float, r: float) -> None:
        self.circle(x, y, r, RUBBER)
        self.circle(x, y, r * 0.55, STEEL)
        self.circle(x, y, r * 0.18, DARK)

    def teeth(self, x: float, y: float, r: float, count: int, depth: float, fill: RGB) -> None:
        """A toothed disc (a saw blade)."""
        points = []
        for i in range(count * 2):
            angle = math.pi * i / count
            radius = r if i % 2 == 0 else r - depth
            points += [x + radius * math.cos(angle), y + radius * math.sin(angle)]
        self.poly(points, fill)


def _rotated(points: Sequence[float], degrees: float, x: float, y: float) -> list[float]:
    """``points`` turned by ``degrees`` around (x, y)."""
    a = math.radians(degrees)
    out = []
    for px, py in zip(points[::2], points[1::2], strict=True):
        dx, dy = px - x, py - y
        out += [x + dx * math.cos(a) - dy * math.sin(a), y + dx * math.sin(a) + dy * math.cos(a)]
    return out


def _rect(x1: float, y1: float, x2: float, y2: float) -> list[float]:
    return [x1, y1, x2, y1, x2, y2, x1, y2]


Drawing = Callable[[Pen, RGB], None]
DRAWINGS: dict[str, Drawing] = {}


def register(f: Drawing) -> Drawing:
    """Register a drawing under its function's name."""
    DRAWINGS[f.__name__] = f
    return f
