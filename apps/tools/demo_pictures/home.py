"""Drawings of the tools for the home: cleaning, kitchen and canning."""

from __future__ import annotations

from .pen import (
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
    _mix,
    register,
)


@register
def vacuum(p: Pen, c: RGB) -> None:
    p.line((480, 262, 640, 200, 700, 320, 640, 440), RUBBER, 26)
    p.box((560, 432, 720, 468), DARK, r=10)
    p.box((240, 225, 500, 440), c, r=36)
    p.box((228, 190, 512, 250), DARK, r=22)
    p.box((330, 168, 410, 200), RUBBER, r=14)
    p.circle(270, 448, 18, RUBBER)
    p.circle(470, 448, 18, RUBBER)


@register
def pressure_washer(p: Pen, c: RGB) -> None:
    p.line((420, 240, 445, 100), DARK, 14)
    p.box((230, 225, 440, 420), c, r=30)
    p.ring((160, 250, 280, 370), RUBBER, 14)
    p.line((430, 390, 520, 440, 560, 380), RUBBER, 10)
    p.line((560, 380, 720, 290), STEEL, 12)
    p.box((530, 365, 600, 420), RUBBER, r=12)
    p.wheel(275, 425, 42)


@register
def window_vacuum(p: Pen, c: RGB) -> None:
    p.box((305, 245, 470, 420), c, r=36)
    p.box((350, 290, 425, 395), RUBBER, r=20)
    p.box((250, 185, 525, 245), DARK, r=12)
    p.box((250, 172, 525, 186), (70, 160, 196))
    p.box((570, 270, 660, 440), GLASS, r=22)
    p.box((578, 330, 652, 432), (150, 200, 226), r=18)
    p.poly((565, 230, 640, 230, 640, 270, 565, 270), c)
    p.box((535, 238, 568, 254), DARK)


@register
def jars(p: Pen, c: RGB) -> None:
    for x, w, h, fill in ((170, 140, 210, RED), (330, 150, 260, ORANGE), (500, 130, 180, GREEN)):
        p.box((x, GROUND - h, x + w, GROUND), GLASS, r=20)
        p.box((x + 10, GROUND - h * 0.7, x + w - 10, GROUND - 8), fill, r=16)
        p.box((x + 6, GROUND - h - 22, x + w - 6, GROUND - h + 6), STEEL, r=8)
        p.box((x + 20, GROUND - h * 0.55, x + w - 20, GROUND - h * 0.35), PAPER, r=4)


@register
def pot(p: Pen, c: RGB) -> None:
    p.box((160, 262, 230, 296), RUBBER, r=12)
    p.box((570, 262, 640, 296), RUBBER, r=12)
    p.box((225, 230, 575, 445), STEEL, r=22)
    p.box((225, 400, 575, 445), _dark(STEEL, 0.15), r=22)
    p.chord((240, 150, 560, 270), 180, 360, LIGHT)
    p.box((212, 206, 588, 236), LIGHT, r=10)
    p.box((370, 128, 430, 160), RUBBER, r=12)


@register
def pasta_machine(p: Pen, c: RGB) -> None:
    p.poly((315, 262, 485, 262, 455, 130, 345, 130), (242, 218, 150))
    p.box((250, 250, 550, 400), LIGHT, r=14)
    p.box((280, 242, 520, 266), DARK, r=6)
    p.box((340, 398, 460, 455), STEEL)
    p.line((550, 320, 640, 250), STEEL, 14)
    p.box((615, 200, 660, 270), WOOD, r=12)


@register
def dehydrator(p: Pen, c: RGB) -> None:
    p.box((220, 430, 580, 468), DARK, r=12)
    for i in range(5):
        y = 430 - i * 52
        p.box((232, y - 48, 568, y), _mix(PAPER, (0, 0, 0), 0.04 + 0.03 * (i % 2)), r=10)
        p.line((260, y - 24, 540, y - 24), _mix(PAPER, (0, 0, 0), 0.2), 4)
    p.box((220, 140, 580, 180), c, r=18)


@register
def mixer(p: Pen, c: RGB) -> None:
    p.box((210, 420, 570, 462), c, r=16)
    p.box((450, 210, 530, 430), c, r=26)
    p.box((230, 160, 550, 262), c, r=50)
    p.line((350, 262, 350, 330), STEEL, 10)
    p.chord((250, 250, 450, 450), 0, 180, STEEL)
    p.box((250, 342, 450, 356), LIGHT, r=6)
