"""Tool photos use the site's one picture pipeline (``p2pcommons.images``); this module
keeps the names tools code and tests use. ``MAX_UPLOAD_BYTES`` here is the limit for tool
photos and condition-report photos."""

from __future__ import annotations

from django.core.files.base import ContentFile

from p2pcommons.images import (  # noqa: F401  (re-exported for tools code)
    ALLOWED_FORMATS,
    FULL_SIZE,
    MAX_PIXELS,
    THUMB_SIZE,
    generate_picture,
)
from p2pcommons.images import MAX_UPLOAD_BYTES as _DEFAULT_MAX_UPLOAD_BYTES
from p2pcommons.images import process_upload as _process_upload

MAX_UPLOAD_BYTES = _DEFAULT_MAX_UPLOAD_BYTES


def process_upload(upload, *, field: str = "image", thumbnail: bool = True) -> tuple[ContentFile, ContentFile | None]:
    """Check an uploaded photo and return (full-size JPEG, thumbnail JPEG or None);
    see ``p2pcommons.images.process_upload``."""
    return _process_upload(upload, field=field, thumbnail=thumbnail, max_bytes=MAX_UPLOAD_BYTES)
