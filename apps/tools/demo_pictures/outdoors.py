"""Drawings of the tools for outside: garden, ladders and access, camping and outdoors,
bikes and repair."""

from __future__ import annotations

from .pen import (
    BLUE,
    DARK,
    GLASS,
    GREEN,
    GROUND,
    LIGHT,
    ORANGE,
    PAPER,
    RED,
    RGB,
    RUBBER,
    STEEL,
    WOOD,
    Pen,
    _dark,
    _rect,
    _rotated,
    register,
)


@register
def mower(p: Pen, c: RGB) -> None:
    p.line((600, 300, 700, 110), DARK, 16)
    p.line((680, 110, 760, 110), RUBBER, 24)
    p.box((470, 250, 650, 400), (72, 74, 78), r=24)
    p.box((200, 320, 580, 425), c, r=34)
    p.box((250, 300, 450, 340), _dark(c, 0.2), r=18)
    p.line((700, 120, 740, 200, 700, 260, 745, 330), ORANGE, 8)
    p.wheel(270, 430, 42)
    p.wheel(545, 425, 48)


@register
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


@register
def wheelbarrow(p: Pen, c: RGB) -> None:
    p.line((110, 320, 460, 380, 620, 410), STEEL, 14)
    p.line((300, 370, 280, GROUND), STEEL, 14)
    p.poly((170, 220, 610, 220, 540, 372, 262, 372), GREEN)
    p.box((160, 208, 620, 230), _dark(GREEN, 0.25), r=8)
    p.box((80, 308, 150, 332), RUBBER, r=12)
    p.wheel(620, 410, 62)


@register
def loppers(p: Pen, c: RGB) -> None:
    p.line((230, 460, 395, 270), WOOD, 22)
    p.line((570, 460, 405, 270), WOOD, 22)
    p.line((215, 478, 270, 414), c, 30)
    p.line((585, 478, 530, 414), c, 30)
    p.poly((385, 282, 425, 268, 505, 132, 470, 120), LIGHT)
    p.poly((415, 282, 372, 268, 322, 150, 352, 136), STEEL)
    p.circle(400, 276, 16, DARK)


@register
def shredder(p: Pen, c: RGB) -> None:
    p.poly((290, 120, 510, 120, 475, 220, 325, 220), c)
    p.box((300, 210, 500, 330), c, r=14)
    p.box((290, 320, 510, 440), (82, 84, 90), r=14)
    p.box((380, 250, 420, 290), RED, r=8)
    p.line((500, 260, 620, 180), DARK, 14)
    p.wheel(330, 440, 32)
    p.wheel(470, 440, 32)


@register
def leaf_blower(p: Pen, c: RGB) -> None:
    p.oval((190, 320, 420, 462), (138, 124, 96))
    p.box((220, 220, 440, 335), c, r=52)
    p.box((265, 140, 405, 240), RUBBER, r=44)
    p.hole((295, 168, 375, 226), r=24)
    p.poly((430, 250, 728, 292, 728, 322, 430, 310), (66, 70, 74))


@register
def ladder(p: Pen, c: RGB) -> None:
    rail = 24

    def x_at(y: float, top: float, bottom: float) -> float:
        return top + (bottom - top) * (y - 90) / (GROUND - 90)

    for top, bottom in ((310, 270), (490, 530)):
        p.poly((top, 90, top + rail, 90, bottom + rail, GROUND, bottom, GROUND), LIGHT)
        p.box((bottom - 4, GROUND - 18, bottom + rail + 4, GROUND + 4), RUBBER, r=4)
    for y in range(122, GROUND - 20, 40):
        p.box((x_at(y, 310, 270) + rail, y, x_at(y, 490, 530), y + 11), STEEL)


@register
def step_ladder(p: Pen, c: RGB) -> None:
    p.line((470, 140, 560, GROUND), STEEL, 16)
    p.poly((300, 130, 330, 130, 260, GROUND, 230, GROUND), LIGHT)
    p.poly((450, 130, 480, 130, 500, GROUND, 470, GROUND), LIGHT)
    for i, y in enumerate(range(205, GROUND - 20, 62)):
        shift = 14 * i
        p.box((318 - shift, y, 462 + shift * 0.35, y + 16), STEEL, r=3)
    p.box((285, 110, 495, 142), c, r=8)


@register
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


@register
def tent(p: Pen, c: RGB) -> None:
    p.line((400, 150, 90, GROUND), DARK, 3)
    p.line((400, 150, 710, GROUND), DARK, 3)
    p.poly((150, GROUND, 400, 150, 650, GROUND), c)
    p.poly((400, 150, 650, GROUND, 560, GROUND), _dark(c, 0.2))
    p.poly((330, GROUND, 400, 270, 470, GROUND), _dark(c, 0.45))
    p.line((400, 150, 400, 118), DARK, 8)


@register
def stove(p: Pen, c: RGB) -> None:
    p.box((200, 170, 600, 300), STEEL, r=10)
    p.box((200, 300, 600, 420), DARK, r=10)
    for x in (300, 500):
        p.oval((x - 72, 278, x + 72, 322), (90, 94, 100))
        for dx in (-30, 0, 30):
            p.poly((x + dx - 10, 294, x + dx, 258, x + dx + 10, 294), BLUE)
        p.circle(x, 372, 16, RED)


@register
def cool_box(p: Pen, c: RGB) -> None:
    p.box((220, 240, 580, 445), c, r=22)
    p.box((208, 205, 592, 262), PAPER, r=18)
    p.line((280, 232, 280, 160, 520, 160, 520, 232), DARK, 12)
    p.box((370, 270, 430, 300), DARK, r=6)


@register
def kayak(p: Pen, c: RGB) -> None:
    p.line((160, 210, 640, 250), DARK, 10)
    p.oval((120, 180, 200, 240), _dark(c, 0.3))
    p.oval((600, 220, 680, 280), _dark(c, 0.3))
    p.oval((90, 300, 710, 430), c)
    p.oval((160, 320, 640, 380), _dark(c, 0.25))
    p.box((270, 330, 340, 372), RUBBER, r=10)
    p.box((460, 330, 530, 372), RUBBER, r=10)


@register
def backpack(p: Pen, c: RGB) -> None:
    p.line((330, 180, 300, 440), RUBBER, 12)
    p.box((290, 150, 510, 462), c, r=60)
    p.box((302, 130, 498, 230), _dark(c, 0.25), r=40)
    p.box((322, 300, 478, 440), _dark(c, 0.15), r=30)
    p.box((385, 210, 415, 260), RUBBER, r=6)


@register
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


@register
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


@register
def trailer(p: Pen, c: RGB) -> None:
    p.line((250, 380, 90, 340), DARK, 10)
    p.line((580, 240, 600, 100), DARK, 4)
    p.poly((600, 100, 660, 118, 600, 136), ORANGE)
    p.poly((260, 230, 590, 230, 620, 400, 250, 400), c)
    p.poly((300, 250, 550, 250, 570, 340, 295, 340), GLASS)
    p.wheel(430, 410, 70)
