"""Pictures for the demo tools, drawn locally with Pillow (no downloads): a simple
drawing of the tool itself (a drill, a ladder, a tent, ...) on a soft background.

``kind_for`` picks the drawing from the tool's title, or its category's when no word of
the title has one; ``picture`` returns it as an upload for ``services.photo_add``, so a
demo photo goes through the same checks and re-encoding as a neighbor's.

Each drawing is made at twice its size and reduced (smooth edges), once per kind and
color: the demo's hundred photos share a few dozen drawings. The drawings are in
``workshop``, ``outdoors`` and ``home`` (by group of categories), drawn with ``pen``.
"""

from __future__ import annotations

import io
from functools import lru_cache

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

from . import home, outdoors, workshop  # noqa: F401 - each registers its drawings in DRAWINGS
from .pen import DRAWINGS, GROUND, PAPER, RGB, SCALE, SIZE, Pen, _mix

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
