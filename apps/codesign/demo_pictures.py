"""Pictures for the co-design demo, drawn with Pillow (no downloads): the spaces before
and after, and the proposals' sketches, as JPEGs the image pipeline takes."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

# --- drawings ---------------------------------------------------------------------------
SIZE = (640, 480)
SKY = (214, 228, 238)
WALL = (176, 174, 168)
PAVING = (150, 146, 140)
GRASS = (118, 164, 92)
WOOD = (168, 120, 72)
GREY_WOOD = (142, 134, 122)
GREEN_PAINT = (46, 130, 84)
STEEL = (120, 126, 134)
SOIL = (104, 78, 56)
PAPER = (246, 242, 232)
INK = (60, 64, 72)


def _bench(d: ImageDraw.ImageDraw, x: int, y: int, color, *, peeling: bool = False) -> None:
    for i in range(3):  # the seat's planks and the backrest's
        d.rectangle((x, y + i * 16, x + 300, y + i * 16 + 11), fill=color)
        d.rectangle((x, y - 80 + i * 16, x + 300, y - 80 + i * 16 + 11), fill=color)
    for leg in (x + 20, x + 262):
        d.rectangle((leg, y - 90, leg + 18, y + 110), fill=(70, 70, 74))
    if peeling:
        for i in range(14):
            px = x + 12 + i * 21
            d.line((px, y + 2, px + 8, y + 9), fill=(205, 200, 190), width=3)
            d.line((px + 4, y - 76, px + 12, y - 70), fill=(205, 200, 190), width=3)


def _stairwell(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((0, 0, *SIZE), fill=WALL)
    for i in range(8):  # the stairs going up to the right
        d.rectangle((60 + i * 70, 420 - i * 45, 640, 440 - i * 45), fill=(120, 118, 114))
    d.line((60, 330, 620, 20), fill=(90, 92, 96), width=6)  # the handrail
    d.rectangle((40, 40, 120, 80), fill=(40, 150, 80))  # the fire exit sign


def _pavement(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((0, 0, 640, 260), fill=(190, 120, 90))  # the shop's brick front
    d.rectangle((80, 60, 380, 240), fill=(170, 200, 214))  # its window
    d.rectangle((0, 260, *SIZE), fill=PAVING)
    for x, lean in ((120, -30), (220, 30), (320, -20)):  # bikes against the window
        d.ellipse((x - 40, 300, x + 20, 360), outline=INK, width=5)
        d.ellipse((x + 50, 300, x + 110, 360), outline=INK, width=5)
        d.line((x - 10, 330, x + 30, 280 + lean // 3, x + 80, 330), fill=(200, 60, 50), width=6)


def _garden(d: ImageDraw.ImageDraw, rng: random.Random) -> None:
    d.rectangle((0, 0, 640, 200), fill=SKY)
    d.rectangle((0, 200, *SIZE), fill=(128, 150, 96))
    for _ in range(40):  # weeds and broken tiles
        x, y = rng.randint(0, 620), rng.randint(210, 460)
        if rng.random() < 0.4:
            d.polygon((x, y, x + 30, y + 6, x + 22, y + 24, x - 4, y + 18), fill=(170, 166, 158))
        else:
            d.line((x, y + 20, x + rng.randint(-8, 8), y), fill=(84, 120, 60), width=4)


def _courtyard(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((0, 0, 640, 220), fill=(186, 110, 84))  # the back of the houses
    for x in (60, 250, 440):
        d.rectangle((x, 50, x + 120, 170), fill=(200, 218, 226))
    d.rectangle((0, 220, *SIZE), fill=PAVING)
    for x in range(0, 640, 64):
        d.line((x, 220, x - 40, 480), fill=(132, 128, 122), width=2)
    d.rectangle((520, 300, 600, 420), fill=(60, 110, 70))  # the bins
    d.rectangle((410, 310, 490, 420), fill=(70, 70, 90))


def _park(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((0, 0, 640, 240), fill=SKY)
    d.ellipse((430, 40, 620, 230), fill=(96, 146, 84))  # a tree
    d.rectangle((510, 200, 540, 300), fill=(110, 80, 56))
    d.rectangle((0, 240, *SIZE), fill=GRASS)
    d.line((40, 120, 40, 300), fill=(200, 60, 50), width=8)  # the playground's swing
    d.line((150, 120, 150, 300), fill=(200, 60, 50), width=8)
    d.line((36, 120, 154, 120), fill=(200, 60, 50), width=8)


def _sketch(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((0, 0, *SIZE), fill=PAPER)
    for x in range(0, 640, 32):
        d.line((x, 0, x, 480), fill=(226, 232, 238), width=1)
    for y in range(0, 480, 32):
        d.line((0, y, 640, y), fill=(226, 232, 238), width=1)


def _racks(d: ImageDraw.ImageDraw, *, planters: bool) -> None:
    _sketch(d)
    d.line((40, 380, 600, 380), fill=INK, width=4)
    hoops = range(4) if planters else range(6)
    start = 170 if planters else 70
    for i in hoops:
        x = start + i * 80
        d.arc((x, 220, x + 60, 340), 180, 360, fill=STEEL, width=10)
        d.line((x + 5, 280, x + 5, 380), fill=STEEL, width=10)
        d.line((x + 55, 280, x + 55, 380), fill=STEEL, width=10)
    if planters:
        for x in (50, 500):
            d.rectangle((x, 290, x + 100, 380), fill=WOOD)
            for i in range(5):
                d.line((x + 15 + i * 18, 290, x + 10 + i * 20, 230), fill=GRASS, width=5)


def _beds(d: ImageDraw.ImageDraw, rng: random.Random, *, spiral: bool) -> None:
    _sketch(d)
    boxes = [(40, 260, 220, 380), (420, 260, 600, 380)] if spiral else [(30, 260, 200, 380), (235, 240, 405, 380),
                                                                        (440, 260, 610, 380)]  # fmt: skip
    for box in boxes:
        d.rectangle(box, fill=WOOD)
        d.rectangle((box[0] + 8, box[1] - 8, box[2] - 8, box[1] + 8), fill=SOIL)
        for _ in range(6):
            x = rng.randint(box[0] + 15, box[2] - 30)
            d.ellipse((x, box[1] - 50, x + 30, box[1] - 10), fill=(70, 140, 70))
            d.ellipse((x + 10, box[1] - 58, x + 20, box[1] - 48), fill=rng.choice([(230, 90, 90), (240, 200, 60)]))
    if spiral:
        for r in (110, 80, 50):
            d.ellipse((320 - r, 330 - r // 2, 320 + r, 330 + r // 2), outline=(150, 146, 140), width=14)
        d.ellipse((305, 300, 335, 330), fill=(70, 140, 70))


DRAWINGS: dict[str, Callable[[ImageDraw.ImageDraw, random.Random], None]] = {
    "stairwell": lambda d, rng: _stairwell(d),
    "pavement": lambda d, rng: _pavement(d),
    "garden": _garden,
    "courtyard": lambda d, rng: _courtyard(d),
    "bench_old": lambda d, rng: (_park(d), _bench(d, 170, 330, GREY_WOOD, peeling=True)),
    "bench_new": lambda d, rng: (_park(d), _bench(d, 170, 330, GREEN_PAINT)),
    "bench_plan": lambda d, rng: (_sketch(d), _bench(d, 170, 300, WOOD)),
    "racks": lambda d, rng: _racks(d, planters=False),
    "racks_planters": lambda d, rng: _racks(d, planters=True),
    "beds": lambda d, rng: _beds(d, rng, spiral=False),
    "beds_spiral": lambda d, rng: _beds(d, rng, spiral=True),
}


def picture(kind: str, *, mirror: bool = False) -> ContentFile:
    """A small JPEG of ``kind`` (a key of ``DRAWINGS``) drawn with Pillow, as an upload
    for the photo services (which check and re-encode it like any other)."""
    image = Image.new("RGB", SIZE, PAPER)
    DRAWINGS[kind](ImageDraw.Draw(image), random.Random(kind))  # noqa: S311 - the same picture on every run
    if mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return ContentFile(out.getvalue(), name=f"{kind}.jpg")
