"""Pictures for the demo tools, drawn locally with Pillow (no downloads): a simple
drawing of the tool itself (a drill, a ladder, a tent, ...) on a soft background.

``kind_for`` picks the drawing from the tool's title, or its category's when no word of
the title has one; ``picture`` returns it as an upload for ``services.photo_add``, so a
demo photo goes through the same checks and re-encoding as a neighbor's.

Each drawing is made at twice its size and reduced (smooth edges), once per kind and
color: the demo's hundred photos share a few dozen drawings.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from functools import lru_cache

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageOps

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


# --- the drawings: each takes a pen and the category's color -----------------------------

Drawing = Callable[[Pen, RGB], None]
DRAWINGS: dict[str, Drawing] = {}


def _drawing(f: Drawing) -> Drawing:
    """Register a drawing under its function's name."""
    DRAWINGS[f.__name__] = f
    return f


@_drawing
def drill(p: Pen, c: RGB) -> None:
    p.poly((330, 270, 440, 270, 415, 425, 305, 425), c)
    p.poly((345, 300, 425, 300, 408, 410, 322, 410), RUBBER)
    p.box((250, 175, 545, 290), c, r=45)
    for x in (285, 310, 335):
        p.line((x, 205, x, 260), _dark(c), 7)
    p.box((440, 292, 462, 340), DARK, r=6)
    p.box((545, 200, 600, 265), DARK, r=10)
    p.poly((600, 222, 690, 229, 712, 233, 690, 237, 600, 244), STEEL)
    p.box((265, 415, 470, 472), RUBBER, r=14)
    p.box((280, 430, 455, 442), c)


@_drawing
def circular_saw(p: Pen, c: RGB) -> None:
    p.box((90, 448, 710, 472), LIGHT, r=6)
    p.teeth(360, 300, 150, 30, 16, STEEL)
    p.circle(360, 300, 100, LIGHT)
    p.circle(360, 300, 22, DARK)
    p.chord((195, 135, 525, 465), 180, 360, c)
    p.box((470, 235, 650, 345), c, r=40)
    for y in (260, 285, 310):
        p.line((500, y, 620, y), _dark(c), 6)
    p.line((420, 150, 470, 105, 600, 105, 620, 235), RUBBER, 34)
    p.box((170, 395, 660, 425), STEEL, r=6)


@_drawing
def jigsaw(p: Pen, c: RGB) -> None:
    p.box((300, 130, 520, 260), c, r=55)
    p.hole((340, 165, 480, 228), r=28)
    p.box((240, 220, 570, 345), c, r=35)
    p.box((240, 280, 300, 345), RUBBER, r=14)
    p.box((380, 228, 400, 252), DARK, r=5)
    p.box((230, 342, 580, 366), STEEL, r=5)
    p.poly((395, 366, 418, 366, 418, 452, 404, 468, 395, 452), LIGHT)
    for y in range(376, 452, 12):
        p.poly((418, y, 428, y + 6, 418, y + 12), LIGHT)


@_drawing
def sander(p: Pen, c: RGB) -> None:
    p.oval((220, 392, 580, 462), RUBBER)
    p.box((245, 330, 555, 410), c, r=22)
    p.chord((265, 180, 535, 480), 180, 360, c)
    p.oval((355, 172, 445, 220), RUBBER)
    p.box((520, 330, 580, 362), DARK, r=8)
    p.box((560, 292, 700, 382), (128, 124, 112), r=36)


@_drawing
def grinder(p: Pen, c: RGB) -> None:
    p.box((150, 262, 270, 338), RUBBER, r=36)
    p.box((230, 250, 520, 350), c, r=46)
    for x in (300, 330, 360):
        p.line((x, 272, x, 328), _dark(c), 7)
    p.box((500, 232, 590, 345), STEEL, r=14)
    p.box((530, 170, 556, 240), RUBBER, r=10)
    p.chord((440, 320, 720, 420), 180, 360, LIGHT)
    p.box((452, 368, 708, 384), DARK, r=6)


@_drawing
def wrench(p: Pen, c: RGB) -> None:
    p.box((150, 380, 650, 470), _dark(c, 0.2), r=16)
    for i, x in enumerate(range(195, 620, 62)):
        p.circle(x, 425, 18 + i * 2, STEEL)
        p.circle(x, 425, 8 + i, DARK)
    p.poly(_rotated(_rect(240, 250, 560, 290), -12, 400, 270), LIGHT)
    p.poly(_rotated(_rect(430, 250, 560, 290), -12, 400, 270), RUBBER)
    p.circle(230, 292, 55, LIGHT)
    p.circle(230, 292, 24, DARK)


@_drawing
def level(p: Pen, c: RGB) -> None:
    p.box((100, 265, 700, 335), YELLOW, r=8)
    p.box((90, 258, 140, 342), RUBBER, r=8)
    p.box((660, 258, 710, 342), RUBBER, r=8)
    p.box((200, 282, 260, 318), _dark(YELLOW, 0.15), r=18)
    p.box((540, 282, 600, 318), _dark(YELLOW, 0.15), r=18)
    p.box((365, 284, 435, 316), (178, 222, 120), r=10)
    p.oval((388, 292, 412, 308), PAPER)
    p.line((380, 284, 380, 316), DARK, 3)
    p.line((420, 284, 420, 316), DARK, 3)


@_drawing
def clamp(p: Pen, c: RGB) -> None:
    p.box((120, 190, 680, 214), STEEL, r=6)
    p.box((560, 170, 615, 380), c, r=12)
    p.box((555, 345, 620, 390), RUBBER, r=8)
    p.box((240, 180, 300, 380), c, r=12)
    p.box((235, 345, 305, 390), RUBBER, r=8)
    p.box((180, 230, 250, 430), RUBBER, r=28)
    p.box((250, 260, 275, 330), DARK, r=6)


@_drawing
def chisel(p: Pen, c: RGB) -> None:
    p.box((120, 170, 680, 470), (188, 160, 118), r=14)
    p.box((120, 400, 680, 470), (170, 140, 100), r=14)
    for i, x in enumerate((220, 340, 460, 580)):
        w = 7 + i * 4
        p.box((x - 20, 200, x + 20, 310), WOOD, r=16)
        p.box((x - 15, 306, x + 15, 322), STEEL)
        p.poly((x - w, 322, x + w, 322, x + w, 430, x - w, 440), LIGHT)


@_drawing
def tile_cutter(p: Pen, c: RGB) -> None:
    p.box((110, 390, 690, 432), RUBBER, r=8)
    p.box((120, 362, 680, 392), (112, 116, 122))
    p.box((215, 338, 485, 362), (226, 214, 196))
    for x in (140, 650):
        p.box((x, 282, x + 16, 366), STEEL)
    p.box((130, 282, 670, 298), LIGHT, r=6)
    p.box((420, 252, 470, 300), c, r=8)
    p.line((445, 262, 560, 180), c, 22)
    p.box((545, 150, 640, 200), RUBBER, r=22)


@_drawing
def hammer(p: Pen, c: RGB) -> None:
    p.poly(_rotated(_rect(385, 180, 415, 470), 20, 400, 320), WOOD)
    p.poly(_rotated(_rect(300, 150, 500, 215), 20, 400, 320), DARK)
    p.poly(_rotated(_rect(385, 390, 415, 470), 20, 400, 320), c)


@_drawing
def mower(p: Pen, c: RGB) -> None:
    p.line((600, 300, 700, 110), DARK, 16)
    p.line((680, 110, 760, 110), RUBBER, 24)
    p.box((470, 250, 650, 400), (72, 74, 78), r=24)
    p.box((200, 320, 580, 425), c, r=34)
    p.box((250, 300, 450, 340), _dark(c, 0.2), r=18)
    p.line((700, 120, 740, 200, 700, 260, 745, 330), ORANGE, 8)
    p.wheel(270, 430, 42)
    p.wheel(545, 425, 48)


@_drawing
def hedge_trimmer(p: Pen, c: RGB) -> None:
    p.box((380, 268, 720, 298), STEEL, r=6)
    for x in range(392, 712, 24):
        p.poly((x, 268, x + 12, 248, x + 24, 268), STEEL)
        p.poly((x, 298, x + 12, 318, x + 24, 298), STEEL)
    p.box((160, 235, 410, 330), c, r=42)
    p.box((300, 175, 345, 300), RUBBER, r=14)
    p.box((110, 255, 215, 330), RUBBER, r=34)
    p.hole((135, 272, 190, 312), r=18)
    p.box((180, 320, 280, 368), DARK, r=10)


@_drawing
def wheelbarrow(p: Pen, c: RGB) -> None:
    p.line((110, 320, 460, 380, 620, 410), STEEL, 14)
    p.line((300, 370, 280, GROUND), STEEL, 14)
    p.poly((170, 220, 610, 220, 540, 372, 262, 372), GREEN)
    p.box((160, 208, 620, 230), _dark(GREEN, 0.25), r=8)
    p.box((80, 308, 150, 332), RUBBER, r=12)
    p.wheel(620, 410, 62)


@_drawing
def loppers(p: Pen, c: RGB) -> None:
    p.line((230, 460, 395, 270), WOOD, 22)
    p.line((570, 460, 405, 270), WOOD, 22)
    p.line((215, 478, 270, 414), c, 30)
    p.line((585, 478, 530, 414), c, 30)
    p.poly((385, 282, 425, 268, 505, 132, 470, 120), LIGHT)
    p.poly((415, 282, 372, 268, 322, 150, 352, 136), STEEL)
    p.circle(400, 276, 16, DARK)


@_drawing
def shredder(p: Pen, c: RGB) -> None:
    p.poly((290, 120, 510, 120, 475, 220, 325, 220), c)
    p.box((300, 210, 500, 330), c, r=14)
    p.box((290, 320, 510, 440), (82, 84, 90), r=14)
    p.box((380, 250, 420, 290), RED, r=8)
    p.line((500, 260, 620, 180), DARK, 14)
    p.wheel(330, 440, 32)
    p.wheel(470, 440, 32)


@_drawing
def leaf_blower(p: Pen, c: RGB) -> None:
    p.oval((190, 320, 420, 462), (138, 124, 96))
    p.box((220, 220, 440, 335), c, r=52)
    p.box((265, 140, 405, 240), RUBBER, r=44)
    p.hole((295, 168, 375, 226), r=24)
    p.poly((430, 250, 728, 292, 728, 322, 430, 310), (66, 70, 74))


@_drawing
def ladder(p: Pen, c: RGB) -> None:
    rail = 24

    def x_at(y: float, top: float, bottom: float) -> float:
        return top + (bottom - top) * (y - 90) / (GROUND - 90)

    for top, bottom in ((310, 270), (490, 530)):
        p.poly((top, 90, top + rail, 90, bottom + rail, GROUND, bottom, GROUND), LIGHT)
        p.box((bottom - 4, GROUND - 18, bottom + rail + 4, GROUND + 4), RUBBER, r=4)
    for y in range(122, GROUND - 20, 40):
        p.box((x_at(y, 310, 270) + rail, y, x_at(y, 490, 530), y + 11), STEEL)


@_drawing
def step_ladder(p: Pen, c: RGB) -> None:
    p.line((470, 140, 560, GROUND), STEEL, 16)
    p.poly((300, 130, 330, 130, 260, GROUND, 230, GROUND), LIGHT)
    p.poly((450, 130, 480, 130, 500, GROUND, 470, GROUND), LIGHT)
    for i, y in enumerate(range(205, GROUND - 20, 62)):
        shift = 14 * i
        p.box((318 - shift, y, 462 + shift * 0.35, y + 16), STEEL, r=3)
    p.box((285, 110, 495, 142), c, r=8)


@_drawing
def scaffold(p: Pen, c: RGB) -> None:
    for x in (230, 560):
        p.box((x, 80, x + 16, 440), c)
    for y in (80, 200, 320, 440):
        p.box((230, y, 576, y + 12), c)
    for y in (80, 200, 320):
        p.line((246, y + 115, 560, y + 8), _dark(c, 0.2), 8)
    p.box((220, 188, 586, 204), WOOD)
    for x in (238, 568):
        p.circle(x, 458, 18, RUBBER)


@_drawing
def vacuum(p: Pen, c: RGB) -> None:
    p.line((480, 262, 640, 200, 700, 320, 640, 440), RUBBER, 26)
    p.box((560, 432, 720, 468), DARK, r=10)
    p.box((240, 225, 500, 440), c, r=36)
    p.box((228, 190, 512, 250), DARK, r=22)
    p.box((330, 168, 410, 200), RUBBER, r=14)
    p.circle(270, 448, 18, RUBBER)
    p.circle(470, 448, 18, RUBBER)


@_drawing
def pressure_washer(p: Pen, c: RGB) -> None:
    p.line((420, 240, 445, 100), DARK, 14)
    p.box((230, 225, 440, 420), c, r=30)
    p.ring((160, 250, 280, 370), RUBBER, 14)
    p.line((430, 390, 520, 440, 560, 380), RUBBER, 10)
    p.line((560, 380, 720, 290), STEEL, 12)
    p.box((530, 365, 600, 420), RUBBER, r=12)
    p.wheel(275, 425, 42)


@_drawing
def window_vacuum(p: Pen, c: RGB) -> None:
    p.box((305, 245, 470, 420), c, r=36)
    p.box((350, 290, 425, 395), RUBBER, r=20)
    p.box((250, 185, 525, 245), DARK, r=12)
    p.box((250, 172, 525, 186), (70, 160, 196))
    p.box((570, 270, 660, 440), GLASS, r=22)
    p.box((578, 330, 652, 432), (150, 200, 226), r=18)
    p.poly((565, 230, 640, 230, 640, 270, 565, 270), c)
    p.box((535, 238, 568, 254), DARK)


@_drawing
def jars(p: Pen, c: RGB) -> None:
    for x, w, h, fill in ((170, 140, 210, RED), (330, 150, 260, ORANGE), (500, 130, 180, GREEN)):
        p.box((x, GROUND - h, x + w, GROUND), GLASS, r=20)
        p.box((x + 10, GROUND - h * 0.7, x + w - 10, GROUND - 8), fill, r=16)
        p.box((x + 6, GROUND - h - 22, x + w - 6, GROUND - h + 6), STEEL, r=8)
        p.box((x + 20, GROUND - h * 0.55, x + w - 20, GROUND - h * 0.35), PAPER, r=4)


@_drawing
def pot(p: Pen, c: RGB) -> None:
    p.box((160, 262, 230, 296), RUBBER, r=12)
    p.box((570, 262, 640, 296), RUBBER, r=12)
    p.box((225, 230, 575, 445), STEEL, r=22)
    p.box((225, 400, 575, 445), _dark(STEEL, 0.15), r=22)
    p.chord((240, 150, 560, 270), 180, 360, LIGHT)
    p.box((212, 206, 588, 236), LIGHT, r=10)
    p.box((370, 128, 430, 160), RUBBER, r=12)


@_drawing
def pasta_machine(p: Pen, c: RGB) -> None:
    p.poly((315, 262, 485, 262, 455, 130, 345, 130), (242, 218, 150))
    p.box((250, 250, 550, 400), LIGHT, r=14)
    p.box((280, 242, 520, 266), DARK, r=6)
    p.box((340, 398, 460, 455), STEEL)
    p.line((550, 320, 640, 250), STEEL, 14)
    p.box((615, 200, 660, 270), WOOD, r=12)


@_drawing
def dehydrator(p: Pen, c: RGB) -> None:
    p.box((220, 430, 580, 468), DARK, r=12)
    for i in range(5):
        y = 430 - i * 52
        p.box((232, y - 48, 568, y), _mix(PAPER, (0, 0, 0), 0.04 + 0.03 * (i % 2)), r=10)
        p.line((260, y - 24, 540, y - 24), _mix(PAPER, (0, 0, 0), 0.2), 4)
    p.box((220, 140, 580, 180), c, r=18)


@_drawing
def mixer(p: Pen, c: RGB) -> None:
    p.box((210, 420, 570, 462), c, r=16)
    p.box((450, 210, 530, 430), c, r=26)
    p.box((230, 160, 550, 262), c, r=50)
    p.line((350, 262, 350, 330), STEEL, 10)
    p.chord((250, 250, 450, 450), 0, 180, STEEL)
    p.box((250, 342, 450, 356), LIGHT, r=6)


@_drawing
def tent(p: Pen, c: RGB) -> None:
    p.line((400, 150, 90, GROUND), DARK, 3)
    p.line((400, 150, 710, GROUND), DARK, 3)
    p.poly((150, GROUND, 400, 150, 650, GROUND), c)
    p.poly((400, 150, 650, GROUND, 560, GROUND), _dark(c, 0.2))
    p.poly((330, GROUND, 400, 270, 470, GROUND), _dark(c, 0.45))
    p.line((400, 150, 400, 118), DARK, 8)


@_drawing
def stove(p: Pen, c: RGB) -> None:
    p.box((200, 170, 600, 300), STEEL, r=10)
    p.box((200, 300, 600, 420), DARK, r=10)
    for x in (300, 500):
        p.oval((x - 72, 278, x + 72, 322), (90, 94, 100))
        for dx in (-30, 0, 30):
            p.poly((x + dx - 10, 294, x + dx, 258, x + dx + 10, 294), BLUE)
        p.circle(x, 372, 16, RED)


@_drawing
def cool_box(p: Pen, c: RGB) -> None:
    p.box((220, 240, 580, 445), c, r=22)
    p.box((208, 205, 592, 262), PAPER, r=18)
    p.line((280, 232, 280, 160, 520, 160, 520, 232), DARK, 12)
    p.box((370, 270, 430, 300), DARK, r=6)


@_drawing
def kayak(p: Pen, c: RGB) -> None:
    p.line((160, 210, 640, 250), DARK, 10)
    p.oval((120, 180, 200, 240), _dark(c, 0.3))
    p.oval((600, 220, 680, 280), _dark(c, 0.3))
    p.oval((90, 300, 710, 430), c)
    p.oval((160, 320, 640, 380), _dark(c, 0.25))
    p.box((270, 330, 340, 372), RUBBER, r=10)
    p.box((460, 330, 530, 372), RUBBER, r=10)


@_drawing
def backpack(p: Pen, c: RGB) -> None:
    p.line((330, 180, 300, 440), RUBBER, 12)
    p.box((290, 150, 510, 462), c, r=60)
    p.box((302, 130, 498, 230), _dark(c, 0.25), r=40)
    p.box((322, 300, 478, 440), _dark(c, 0.15), r=30)
    p.box((385, 210, 415, 260), RUBBER, r=6)


@_drawing
def bike(p: Pen, c: RGB) -> None:
    for x in (230, 570):
        p.ring((x - 110, 270, x + 110, 490), RUBBER, 16)
        p.circle(x, 380, 12, STEEL)
    frame = c
    p.line((230, 380, 380, 390, 340, 235, 230, 380), frame, 14)
    p.line((340, 235, 535, 235, 380, 390), frame, 14)
    p.line((535, 235, 570, 380), frame, 14)
    p.line((340, 235, 330, 205), DARK, 10)
    p.box((285, 192, 375, 212), RUBBER, r=8)
    p.line((535, 235, 520, 190, 585, 180), DARK, 10)
    p.circle(380, 390, 22, DARK)


@_drawing
def bike_pump(p: Pen, c: RGB) -> None:
    p.box((250, 440, 470, 468), RUBBER, r=8)
    p.box((345, 170, 375, 448), c, r=10)
    p.line((360, 170, 360, 120), STEEL, 10)
    p.box((290, 100, 430, 130), RUBBER, r=14)
    p.circle(360, 390, 36, PAPER)
    p.line((360, 390, 380, 368), RED, 5)
    p.line((345, 200, 290, 240, 270, 330, 290, 430), RUBBER, 9)
    for x in (560, 600, 640):
        p.poly(_rotated(_rect(x, 300, x + 22, 450), 8, x + 11, 375), (60, 150, 210))


@_drawing
def trailer(p: Pen, c: RGB) -> None:
    p.line((250, 380, 90, 340), DARK, 10)
    p.line((580, 240, 600, 100), DARK, 4)
    p.poly((600, 100, 660, 118, 600, 136), ORANGE)
    p.poly((260, 230, 590, 230, 620, 400, 250, 400), c)
    p.poly((300, 250, 550, 250, 570, 340, 295, 340), GLASS)
    p.wheel(430, 410, 70)


@_drawing
def roller(p: Pen, c: RGB) -> None:
    p.poly((440, 400, 720, 400, 690, 468, 470, 468), LIGHT)
    p.poly((560, 408, 712, 408, 690, 458, 575, 458), c)
    p.line((560, 215, 610, 215, 610, 320, 420, 330, 420, 400), STEEL, 12)
    p.box((398, 380, 442, 468), RUBBER, r=14)
    p.box((230, 170, 560, 262), PAPER, r=44)
    p.box((230, 200, 400, 262), c, r=30)


@_drawing
def sprayer(p: Pen, c: RGB) -> None:
    p.poly((430, 290, 500, 290, 482, 430, 428, 430), RUBBER)
    p.box((320, 300, 440, 450), (214, 216, 220), r=22)
    p.box((330, 360, 430, 440), c, r=16)
    p.box((280, 225, 540, 305), c, r=24)
    p.box((540, 245, 610, 285), DARK, r=8)
    p.box((470, 300, 486, 350), DARK, r=4)


@_drawing
def steamer(p: Pen, c: RGB) -> None:
    p.line((360, 300, 420, 200, 520, 260), RUBBER, 16)
    p.box((180, 270, 380, 460), c, r=34)
    p.box((210, 310, 350, 360), GLASS, r=12)
    p.box((460, 180, 690, 320), (222, 224, 228), r=22)
    p.box((545, 140, 605, 190), RUBBER, r=12)


@_drawing
def multimeter(p: Pen, c: RGB) -> None:
    p.line((360, 440, 300, 520, 200, 540), RED, 8)
    p.line((440, 440, 500, 520, 620, 530), RUBBER, 8)
    p.box((270, 100, 530, 470), YELLOW, r=32)
    p.box((292, 122, 508, 448), DARK, r=22)
    p.box((320, 145, 480, 225), SCREEN, r=8)
    for x in (340, 385, 430):
        p.box((x, 165, x + 30, 205), _dark(SCREEN, 0.5), r=4)
    p.circle(400, 320, 62, STEEL)
    p.line((400, 320, 440, 278), RUBBER, 14)
    p.circle(360, 420, 12, RED)
    p.circle(440, 420, 12, RUBBER)


@_drawing
def laser_meter(p: Pen, c: RGB) -> None:
    p.line((400, 150, 400, 50), RED, 5)
    p.circle(400, 45, 10, RED)
    p.box((320, 150, 480, 450), c, r=32)
    p.box((342, 180, 458, 262), SCREEN, r=8)
    for y in (300, 350, 400):
        for x in (360, 440):
            p.circle(x, y, 16, DARK)


@_drawing
def detector(p: Pen, c: RGB) -> None:
    for x in (140, 660):
        p.box((x - 12, 100, x + 12, GROUND), _mix(PAPER, WOOD, 0.35))
    p.box((300, 160, 500, 440), c, r=80)
    p.box((340, 200, 460, 270), SCREEN, r=10)
    p.ring((340, 300, 460, 410), DARK, 10)
    p.circle(400, 355, 14, RED)


@_drawing
def thermal_camera(p: Pen, c: RGB) -> None:
    p.poly((380, 290, 470, 290, 450, 450, 360, 450), c)
    p.box((240, 170, 560, 300), DARK, r=30)
    for i, color in enumerate(((60, 40, 150), (170, 40, 130), (236, 110, 40), (250, 210, 60))):
        p.box((270 + i * 40, 192, 310 + i * 40, 278), color)
    p.oval((330, 212, 400, 262), (255, 240, 160))
    p.circle(510, 235, 32, RUBBER)
    p.circle(510, 235, 16, (90, 100, 120))


@_drawing
def soldering(p: Pen, c: RGB) -> None:
    p.box((180, 420, 560, 462), DARK, r=12)
    p.box((420, 398, 540, 424), (230, 200, 80), r=6)
    p.ring((240, 300, 330, 420), STEEL, 8)
    p.line((250, 380, 480, 270), c, 34)
    p.line((480, 270, 640, 200), STEEL, 10)
    p.box((580, 330, 730, 462), (60, 62, 66), r=12)
    p.box((600, 352, 710, 400), (120, 30, 30), r=6)


# A word in the title picks its drawing (the first that fits); else the category's.
BY_WORD = [
    ("circular saw", "circular_saw"),
    ("jigsaw", "jigsaw"),
    ("sander", "sander"),
    ("grinder", "grinder"),
    ("drill", "drill"),
    ("socket", "wrench"),
    ("spirit level", "level"),
    ("clamp", "clamp"),
    ("chisel", "chisel"),
    ("tile cutter", "tile_cutter"),
    ("hammer", "hammer"),
    ("mower", "mower"),
    ("hedge", "hedge_trimmer"),
    ("wheelbarrow", "wheelbarrow"),
    ("lopper", "loppers"),
    ("shredder", "shredder"),
    ("blower", "leaf_blower"),
    ("step ladder", "step_ladder"),
    ("scaffold", "scaffold"),
    ("ladder", "ladder"),
    ("gutter", "ladder"),
    ("pressure washer", "pressure_washer"),
    ("window", "window_vacuum"),
    ("vacuum", "vacuum"),
    ("carpet", "vacuum"),
    ("jar", "jars"),
    ("pasta", "pasta_machine"),
    ("dehydrator", "dehydrator"),
    ("mixer", "mixer"),
    ("pot", "pot"),
    ("tent", "tent"),
    ("stove", "stove"),
    ("cool box", "cool_box"),
    ("kayak", "kayak"),
    ("backpack", "backpack"),
    ("trailer", "trailer"),
    ("tool kit", "bike_pump"),
    ("bike", "bike"),
    ("steamer", "steamer"),
    ("sprayer", "sprayer"),
    ("laser", "laser_meter"),
    ("multimeter", "multimeter"),
    ("detector", "detector"),
    ("thermal", "thermal_camera"),
    ("solder", "soldering"),
]
BY_CATEGORY = {
    "power-tools": "drill",
    "hand-tools": "hammer",
    "garden": "wheelbarrow",
    "ladders-access": "ladder",
    "cleaning": "vacuum",
    "kitchen-canning": "pot",
    "camping-outdoors": "tent",
    "bikes-repair": "bike",
    "painting-decorating": "roller",
    "measuring-electronics": "multimeter",
}
# How each photo of a tool looks: the drawing, the same from the other side, a close-up.
VIEWS = ["", "seen from the other side", "close-up"]


def kind_for(title: str, category_slug: str) -> str:
    """The drawing for a tool: by a word of its title, else by its category."""
    lowered = title.lower()
    for word, kind in BY_WORD:
        if word in lowered:
            return kind
    return BY_CATEGORY.get(category_slug, "hammer")


@lru_cache(maxsize=64)
def drawing(kind: str, color: RGB) -> Image.Image:
    """The drawing of ``kind`` in ``color`` on a soft background of the same hue, 800 x 600."""
    background = _mix(color, PAPER, 0.86)
    image = Image.new("RGB", (SIZE[0] * SCALE, SIZE[1] * SCALE), background)
    pen = Pen(image, background)
    pen.box((0, GROUND + 10, SIZE[0], SIZE[1]), _mix(color, PAPER, 0.78))
    pen.oval((170, GROUND - 10, 630, GROUND + 22), _mix(background, (0, 0, 0), 0.16))
    DRAWINGS[kind](pen, color)
    return image.resize(SIZE, Image.Resampling.LANCZOS)


def picture(kind: str, *, color: RGB, view: int = 0) -> ContentFile:
    """Photo number ``view`` (see ``VIEWS``) of a tool of ``kind``, as a PNG upload."""
    image = drawing(kind, color)
    if view == 1:
        image = ImageOps.mirror(image)
    elif view == 2:
        w, h = SIZE
        image = image.crop((w * 0.2, h * 0.15, w * 0.8, h * 0.75)).resize(SIZE, Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return ContentFile(out.getvalue(), name="picture.png")
