"""One picture pipeline for every upload (tool photos, condition reports, avatars):
checked with Pillow, JPEG, PNG or WebP only, one pixel cap, re-encoded without EXIF,
stored under a random name; a replaced or cleared avatar leaves no file behind."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.peers.models import Profile
from apps.tools import images as tool_images
from p2pcommons import images
from tests.tools.images import jpeg_with_gps, png_upload

GPS_INFO = 0x8825


def huge_png(size=(5000, 5000)) -> SimpleUploadedFile:
    """A 25-megapixel PNG of a few kilobytes: cheap to send, costly to decode."""
    out = io.BytesIO()
    Image.new("1", size).save(out, format="PNG", optimize=True)
    return SimpleUploadedFile("bomb.png", out.getvalue(), content_type="image/png")


def gif_upload(name: str = "animated.gif") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, format="GIF")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/gif")


def _edit_avatar(client, **files):
    return client.post(
        reverse("peers:profile-edit"), {"display_name": "Max Member", "latitude": "", "longitude": "", **files}
    )


# --- the pipeline ------------------------------------------------------------------------


def test_a_picture_over_the_pixel_cap_is_refused_before_it_is_decoded(monkeypatch):
    upload = huge_png()
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self) or None)
    with pytest.raises(ValidationError) as exc:
        images.process_upload(upload, field="image")
    assert exc.value.message_dict == {"image": ["That picture is too large: at most 24 megapixels."]}
    assert decoded == []
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS == 24_000_000


def test_only_jpeg_png_and_webp_are_accepted():
    with pytest.raises(ValidationError) as exc:
        images.process_upload(gif_upload(), field="image")
    assert "JPEG, PNG or WebP" in exc.value.message_dict["image"][0]
    out = io.BytesIO()
    Image.new("RGB", (50, 40), (9, 9, 9)).save(out, format="WEBP")
    full, _ = images.process_upload(SimpleUploadedFile("x.webp", out.getvalue()), field="image")
    assert Image.open(io.BytesIO(full.read())).format == "JPEG"


def test_tool_photos_use_the_same_pipeline():
    with pytest.raises(ValidationError):
        tool_images.process_upload(gif_upload(), field="image")
    with pytest.raises(ValidationError, match="24 megapixels"):
        tool_images.process_upload(huge_png(), field="image")


# --- avatars -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_avatar_is_stored_without_its_camera_position_or_file_name(web_as, member):
    response = _edit_avatar(web_as(member), avatar=jpeg_with_gps("my-house-at-52N-4E.jpg"))
    assert response.status_code == 302
    avatar = Profile.objects.get(user=member).avatar
    assert "my-house" not in avatar.name and avatar.name.endswith(".jpg")
    with avatar.open() as f, Image.open(f) as stored:
        assert stored.format == "JPEG"
        assert GPS_INFO not in stored.getexif()


@pytest.mark.django_db
def test_replacing_or_clearing_an_avatar_deletes_the_old_file(web_as, member, django_capture_on_commit_callbacks):
    client = web_as(member)
    with django_capture_on_commit_callbacks(execute=True):
        _edit_avatar(client, avatar=png_upload("first.png"))
    first = Profile.objects.get(user=member).avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        _edit_avatar(client, avatar=png_upload("second.png"))
    second = Profile.objects.get(user=member).avatar.name
    assert second != first
    assert not default_storage.exists(first) and default_storage.exists(second)

    with django_capture_on_commit_callbacks(execute=True):
        _edit_avatar(client, **{"avatar-clear": "on"})
    assert Profile.objects.get(user=member).avatar.name == ""
    assert not default_storage.exists(second)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "upload",
    [gif_upload(), gif_upload("report.pdf"), huge_png()],
    ids=["a GIF", "a GIF named .pdf", "25 megapixels"],
)
def test_an_avatar_that_is_not_a_small_jpeg_png_or_webp_is_refused_with_a_field_error(web_as, member, upload):
    response = _edit_avatar(web_as(member), avatar=upload)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "avatar" in errors
    assert Profile.objects.get(user=member).avatar.name == ""
