"""Drawings of the workshop's tools: power tools, hand tools, painting and decorating,
measuring and electronics."""

from __future__ import annotations

from .pen import (
    DARK,
    GLASS,
    GROUND,
    LIGHT,
    PAPER,
    RED,
    RGB,
    RUBBER,
    SCREEN,
    STEEL,
    WOOD,
    YELLOW,
    Pen,
    _dark,
    _mix,
    _rect,
    _rotated,
    register,
)


@register
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


@register
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


@register
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


@register
def sander(p: Pen, c: RGB) -> None:
    p.oval((220, 392, 580, 462), RUBBER)
    p.box((245, 330, 555, 410), c, r=22)
    p.chord((265, 180, 535, 480), 180, 360, c)
    p.oval((355, 172, 445, 220), RUBBER)
    p.box((520, 330, 580, 362), DARK, r=8)
    p.box((560, 292, 700, 382), (128, 124, 112), r=36)


@register
def grinder(p: Pen, c: RGB) -> None:
    p.box((150, 262, 270, 338), RUBBER, r=36)
    p.box((230, 250, 520, 350), c, r=46)
    for x in (300, 330, 360):
        p.line((x, 272, x, 328), _dark(c), 7)
    p.box((500, 232, 590, 345), STEEL, r=14)
    p.box((530, 170, 556, 240), RUBBER, r=10)
    p.chord((440, 320, 720, 420), 180, 360, LIGHT)
    p.box((452, 368, 708, 384), DARK, r=6)


@register
def wrench(p: Pen, c: RGB) -> None:
    p.box((150, 380, 650, 470), _dark(c, 0.2), r=16)
    for i, x in enumerate(range(195, 620, 62)):
        p.circle(x, 425, 18 + i * 2, STEEL)
        p.circle(x, 425, 8 + i, DARK)
    p.poly(_rotated(_rect(240, 250, 560, 290), -12, 400, 270), LIGHT)
    p.poly(_rotated(_rect(430, 250, 560, 290), -12, 400, 270), RUBBER)
    p.circle(230, 292, 55, LIGHT)
    p.circle(230, 292, 24, DARK)


@register
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


@register
def clamp(p: Pen, c: RGB) -> None:
    p.box((120, 190, 680, 214), STEEL, r=6)
    p.box((560, 170, 615, 380), c, r=12)
    p.box((555, 345, 620, 390), RUBBER, r=8)
    p.box((240, 180, 300, 380), c, r=12)
    p.box((235, 345, 305, 390), RUBBER, r=8)
    p.box((180, 230, 250, 430), RUBBER, r=28)
    p.box((250, 260, 275, 330), DARK, r=6)


@register
def chisel(p: Pen, c: RGB) -> None:
    p.box((120, 170, 680, 470), (188, 160, 118), r=14)
    p.box((120, 400, 680, 470), (170, 140, 100), r=14)
    for i, x in enumerate((220, 340, 460, 580)):
        w = 7 + i * 4
        p.box((x - 20, 200, x + 20, 310), WOOD, r=16)
        p.box((x - 15, 306, x + 15, 322), STEEL)
        p.poly((x - w, 322, x + w, 322, x + w, 430, x - w, 440), LIGHT)


@register
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


@register
def hammer(p: Pen, c: RGB) -> None:
    p.poly(_rotated(_rect(385, 180, 415, 470), 20, 400, 320), WOOD)
    p.poly(_rotated(_rect(300, 150, 500, 215), 20, 400, 320), DARK)
    p.poly(_rotated(_rect(385, 390, 415, 470), 20, 400, 320), c)


@register
def roller(p: Pen, c: RGB) -> None:
    p.poly((440, 400, 720, 400, 690, 468, 470, 468), LIGHT)
    p.poly((560, 408, 712, 408, 690, 458, 575, 458), c)
    p.line((560, 215, 610, 215, 610, 320, 420, 330, 420, 400), STEEL, 12)
    p.box((398, 380, 442, 468), RUBBER, r=14)
    p.box((230, 170, 560, 262), PAPER, r=44)
    p.box((230, 200, 400, 262), c, r=30)


@register
def sprayer(p: Pen, c: RGB) -> None:
    p.poly((430, 290, 500, 290, 482, 430, 428, 430), RUBBER)
    p.box((320, 300, 440, 450), (214, 216, 220), r=22)
    p.box((330, 360, 430, 440), c, r=16)
    p.box((280, 225, 540, 305), c, r=24)
    p.box((540, 245, 610, 285), DARK, r=8)
    p.box((470, 300, 486, 350), DARK, r=4)


@register
def steamer(p: Pen, c: RGB) -> None:
    p.line((360, 300, 420, 200, 520, 260), RUBBER, 16)
    p.box((180, 270, 380, 460), c, r=34)
    p.box((210, 310, 350, 360), GLASS, r=12)
    p.box((460, 180, 690, 320), (222, 224, 228), r=22)
    p.box((545, 140, 605, 190), RUBBER, r=12)


@register
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


@register
def laser_meter(p: Pen, c: RGB) -> None:
    p.line((400, 150, 400, 50), RED, 5)
    p.circle(400, 45, 10, RED)
    p.box((320, 150, 480, 450), c, r=32)
    p.box((342, 180, 458, 262), SCREEN, r=8)
    for y in (300, 350, 400):
        for x in (360, 440):
            p.circle(x, y, 16, DARK)


@register
def detector(p: Pen, c: RGB) -> None:
    for x in (140, 660):
        p.box((x - 12, 100, x + 12, GROUND), _mix(PAPER, WOOD, 0.35))
    p.box((300, 160, 500, 440), c, r=80)
    p.box((340, 200, 460, 270), SCREEN, r=10)
    p.ring((340, 300, 460, 410), DARK, 10)
    p.circle(400, 355, 14, RED)


@register
def thermal_camera(p: Pen, c: RGB) -> None:
    p.poly((380, 290, 470, 290, 450, 450, 360, 450), c)
    p.box((240, 170, 560, 300), DARK, r=30)
    for i, color in enumerate(((60, 40, 150), (170, 40, 130), (236, 110, 40), (250, 210, 60))):
        p.box((270 + i * 40, 192, 310 + i * 40, 278), color)
    p.oval((330, 212, 400, 262), (255, 240, 160))
    p.circle(510, 235, 32, RUBBER)
    p.circle(510, 235, 16, (90, 100, 120))


@register
def soldering(p: Pen, c: RGB) -> None:
    p.box((180, 420, 560, 462), DARK, r=12)
    p.box((420, 398, 540, 424), (230, 200, 80), r=6)
    p.ring((240, 300, 330, 420), STEEL, 8)
    p.line((250, 380, 480, 270), c, 34)
    p.line((480, 270, 640, 200), STEEL, 10)
    p.box((580, 330, 730, 462), (60, 62, 66), r=12)
    p.box((600, 352, 710, 400), (120, 30, 30), r=6)
