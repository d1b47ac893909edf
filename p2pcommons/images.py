"""Every uploaded picture goes through here: checked with Pillow, re-encoded as JPEG
(which drops EXIF and the camera's GPS position), resized, and saved under a random
name by the caller's ``upload_to``. Nothing the uploader sent is stored as is.

Only JPEG, PNG and WebP are accepted, and one pixel cap holds for every upload, low
enough that decoding stays within a small memory budget (24 MP as RGBA is ~96 MB); the
size is read from the header before any pixel is decoded.
"""

from __future__ import annotations

import io
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 24_000_000
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
FULL_SIZE = (1600, 1600)
THUMB_SIZE = (480, 360)  # 4:3 cards
AVATAR_SIZE = (512, 512)

# Pillow's own guard, set to our cap: it warns above the cap and refuses at twice the
# cap, wherever in the code an image is opened.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _encode(image: Image.Image) -> ContentFile:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name="picture.jpg")


def read_picture(upload, *, field: str = "image", max_bytes: int | None = None) -> Image.Image:
    """Check an uploaded file and decode it into an RGB image, upright, with no metadata.

    Raises ``ValidationError({field: ...})`` for anything that is not a readable JPEG, PNG
    or WebP of an allowed size (bytes and pixels). The pixel count is checked from the
    header, before the pixels are decoded.
    """
    limit = MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            {field: _("Pictures can be at most %(megabytes)s MB.") % {"megabytes": max(1, limit // (1024 * 1024))}}
        )
    if not size:
        raise ValidationError({field: _("The file is empty.")})
    unreadable = ValidationError({field: _("That file is not a picture we can read: use a JPEG, PNG or WebP image.")})
    too_large = ValidationError(
        {
            field: _("That picture is too large: at most %(megapixels)s megapixels.")
            % {"megapixels": MAX_PIXELS // 1_000_000}
        }
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it: refuse there too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload, formats=sorted(ALLOWED_FORMATS)) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise too_large
                probe.verify()
            upload.seek(0)
            with Image.open(upload, formats=sorted(ALLOWED_FORMATS)) as source:
                if source.size != (width, height):
                    raise unreadable
                image = ImageOps.exif_transpose(source).convert("RGB")
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise unreadable from None
    return image


def process_upload(
    upload, *, field: str = "image", thumbnail: bool = True, max_bytes: int | None = None
) -> tuple[ContentFile, ContentFile | None]:
    """Check an uploaded picture and return (full-size JPEG, 4:3 thumbnail JPEG or None)."""
    image = read_picture(upload, field=field, max_bytes=max_bytes)
    image.thumbnail(FULL_SIZE)
    full = _encode(image)
    thumb = _encode(ImageOps.fit(image, THUMB_SIZE)) if thumbnail else None
    return full, thumb


def process_avatar(upload, *, field: str = "avatar") -> ContentFile:
    """Check an uploaded avatar and return it as a square JPEG of at most 512 px."""
    image = read_picture(upload, field=field, max_bytes=2 * 1024 * 1024)
    side = min(image.size)
    image = ImageOps.fit(image, (side, side))
    image.thumbnail(AVATAR_SIZE)
    return _encode(image)


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
