"""Photos (checked, re-encoded, thumbnailed), condition reports, damage reports and review invitations."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.moderation.models import Flag
from apps.notifications.models import Notification
from apps.tools import images, services
from apps.tools.models import ConditionReport, ToolPhoto
from p2pcommons.errors import RuleViolation
from tests.tools.images import jpeg_with_gps, png_upload

pytestmark = pytest.mark.django_db


def test_a_photo_is_reencoded_resized_and_thumbnailed(tool, owner):
    photo = services.photo_add(tool=tool, actor=owner, upload=png_upload(size=(3000, 2000)), alt_text="The drill")
    with photo.image.open() as f, Image.open(f) as full:
        assert full.format == "JPEG" and max(full.size) == 1600
    with photo.thumbnail.open() as f, Image.open(f) as thumb:
        assert thumb.size == images.THUMB_SIZE
    assert (photo.width, photo.height) == (1600, 1067)
    assert "drill" not in photo.image.name  # never the uploader's file name


def test_the_camera_position_is_stripped(tool, owner):
    photo = services.photo_add(tool=tool, actor=owner, upload=jpeg_with_gps())
    with photo.image.open() as f, Image.open(f) as stored:
        assert 0x8825 not in stored.getexif()


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("notes.txt", b"not an image at all", content_type="text/plain"),
        SimpleUploadedFile("fake.png", b"\x89PNG\r\n\x1a\nbroken", content_type="image/png"),
        SimpleUploadedFile("empty.png", b"", content_type="image/png"),
    ],
)
def test_files_that_are_not_images_are_refused(tool, owner, upload):
    with pytest.raises(ValidationError) as exc:
        services.photo_add(tool=tool, actor=owner, upload=upload)
    assert "image" in exc.value.message_dict
    assert ToolPhoto.objects.count() == 0


def test_too_big_and_too_many_are_refused(tool, owner, monkeypatch):
    big = png_upload()
    monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", big.size - 1)
    with pytest.raises(ValidationError, match="at most"):
        services.photo_add(tool=tool, actor=owner, upload=big)
    monkeypatch.undo()
    for _ in range(ToolPhoto.MAX_PER_TOOL):
        services.photo_add(tool=tool, actor=owner, upload=png_upload(size=(40, 30)))
    with pytest.raises(ValidationError, match="at most 8 photos"):
        services.photo_add(tool=tool, actor=owner, upload=png_upload(size=(40, 30)))


def test_only_the_owner_adds_or_removes_photos(tool, owner, member):
    with pytest.raises(RuleViolation):
        services.photo_add(tool=tool, actor=member, upload=png_upload())
    first = services.photo_add(tool=tool, actor=owner, upload=png_upload())
    second = services.photo_add(tool=tool, actor=owner, upload=png_upload())
    with pytest.raises(RuleViolation):
        services.photo_remove(photo=first, actor=member)
    services.photo_remove(photo=first, actor=owner)
    second.refresh_from_db()
    assert list(tool.photos.all()) == [second] and second.position == 0


@pytest.fixture
def loan(tool, member, owner):
    start = timezone.now() + timedelta(days=1)
    reservation = services.reservation_request(
        tool=tool, borrower=member, starts_at=start, ends_at=start + timedelta(1)
    )
    return services.reservation_approve(reservation=reservation, actor=owner)


def test_both_parties_record_the_condition_once_per_stage(loan, member, owner, organizer):
    services.condition_report_create(reservation=loan, author=member, stage="pickup", condition="good", note="Fine")
    services.condition_report_create(
        reservation=loan, author=owner, stage="pickup", condition="good", photo=png_upload()
    )
    with pytest.raises(RuleViolation) as exc:
        services.condition_report_create(reservation=loan, author=member, stage="pickup", condition="worn")
    assert exc.value.code == "already_reported"
    with pytest.raises(RuleViolation) as exc:
        services.condition_report_create(reservation=loan, author=organizer, stage="pickup", condition="good")
    assert exc.value.code == "forbidden"
    with pytest.raises(RuleViolation) as exc:  # not picked up yet
        services.condition_report_create(reservation=loan, author=owner, stage="return", condition="good")
    assert exc.value.code == "illegal_transition"
    assert ConditionReport.objects.count() == 2
    assert ConditionReport.objects.get(author=owner).photo.name.endswith(".jpg")


def test_damage_at_return_opens_a_report_about_the_borrower(loan, member, owner, organizer):
    services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    with pytest.raises(RuleViolation):  # the borrower can't report damage
        services.condition_report_create(
            reservation=loan, author=member, stage="return", condition="good", damage=True, note="x"
        )
    with pytest.raises(ValidationError):  # damage needs a description
        services.condition_report_create(reservation=loan, author=owner, stage="return", condition="good", damage=True)
    report = services.condition_report_create(
        reservation=loan, author=owner, stage="return", condition="good", damage=True, note="Chuck is bent"
    )
    assert report.condition == "damaged"
    flag = Flag.objects.get()
    assert report.flag == flag
    assert flag.reporter == owner and flag.target_author == member and flag.community == loan.tool.community
    assert "Chuck is bent" in flag.text and "Cordless drill" in flag.text
    assert flag.status == "open"


def test_a_return_invites_both_to_review(loan, member, owner):
    services.reservation_pickup(reservation=loan, actor=owner, now=loan.starts_at)
    services.reservation_return(reservation=loan, actor=owner, now=loan.starts_at + timedelta(hours=1))
    invites = Notification.objects.filter(kind="reputation.invited")
    assert sorted(invites.values_list("recipient__email", flat=True)) == [member.email, owner.email]
    assert all(n.url == f"/reviews/new/tools.reservation/{loan.pk}/" for n in invites)
