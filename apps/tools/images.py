"""Uploaded pictures: checked with Pillow, re-encoded as JPEG (which drops EXIF and the
camera's GPS position), resized, and thumbnailed. Nothing the uploader sent is stored
as is."""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs long before Pillow's own limit
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
FULL_SIZE = (1600, 1600)
THUMB_SIZE = (480, 360)  # 4:3 cards


def _encode(image: Image.Image) -> ContentFile:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name="photo.jpg")


def process_upload(upload, *, field: str = "image", thumbnail: bool = True) -> tuple[ContentFile, ContentFile | None]:
    """Check an uploaded file and return (full-size JPEG, thumbnail JPEG or None).

    Raises ``ValidationError({field: ...})`` for anything that is not a readable image of
    an allowed type and size.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError({field: f"Photos can be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."})
    if not size:
        raise ValidationError({field: "The file is empty."})
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            kind = probe.format
            width, height = probe.size
            if kind not in ALLOWED_FORMATS:
                raise ValidationError({field: "Upload a JPEG, PNG, WebP or GIF image."})
            if width * height > MAX_PIXELS:
                raise ValidationError({field: "That picture is too large; at most 40 megapixels."})
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as source:
            source.seek(0)  # first frame of an animation
            image = ImageOps.exif_transpose(source).convert("RGB")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError({field: "That file is not an image we can read (JPEG, PNG, WebP or GIF)."}) from None
    image.thumbnail(FULL_SIZE)
    full = _encode(image)
    thumb = _encode(ImageOps.fit(image, THUMB_SIZE)) if thumbnail else None
    return full, thumb


def generate_picture(*, text: str, color: tuple[int, int, int], size: tuple[int, int] = (800, 600)) -> ContentFile:
    """A simple picture drawn locally (demo data and tests): a colored card with a
    shape and the text on it, as PNG."""
    from PIL import ImageDraw

    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    w, h = size
    shade = tuple(max(0, c - 60) for c in color)
    draw.rounded_rectangle((w * 0.15, h * 0.3, w * 0.85, h * 0.7), radius=int(h * 0.08), fill=shade)
    draw.ellipse((w * 0.62, h * 0.18, w * 0.78, h * 0.38), fill=(245, 245, 240))
    draw.text((w * 0.2, h * 0.45), text[:40], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return ContentFile(out.getvalue(), name="picture.png")
