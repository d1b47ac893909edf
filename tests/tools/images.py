"""Real image files for upload tests, drawn with Pillow."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png_upload(name: str = "drill.png", size=(640, 480), color=(200, 120, 40)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def jpeg_with_gps(name: str = "geo.jpg") -> SimpleUploadedFile:
    """A JPEG whose EXIF carries a GPS position (what phones write)."""
    image = Image.new("RGB", (300, 200), (10, 90, 160))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")
