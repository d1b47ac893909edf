"""Pictures of a challenge's space and of proposals: through the site's picture pipeline
(re-encoded JPEG), by whom, when, and at most as many as the models allow; and the
upload pages that use them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.codesign import services
from apps.codesign.models import ChallengePhoto, ProposalPhoto
from apps.codesign.services.photos import challenge_photo_add, proposal_photo_add
from p2pcommons.errors import RuleViolation
from p2pcommons.images import generate_picture

from .test_pages import propose, to_proposals, words

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture(name: str = "space.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, generate_picture(text="Courtyard", color=(90, 140, 90)).read(), "image/png")


def test_an_organizers_before_picture_is_stored_as_a_reencoded_jpeg(organizer, challenge):
    photo = challenge_photo_add(challenge=challenge, actor=organizer, upload=picture(), kind="before")
    assert photo.kind == ChallengePhoto.Kind.BEFORE
    assert photo.alt_text == "The space before: The courtyard behind number 12"
    photo.image.open("rb")
    with photo.image, Image.open(photo.image) as stored:
        assert stored.format == "JPEG"


def test_a_member_cannot_add_pictures_of_the_space(neighbors, challenge):
    with pytest.raises(RuleViolation) as refused:
        challenge_photo_add(challenge=challenge, actor=neighbors[0], upload=picture(), kind="before")
    assert refused.value.code == "not_organizer" and not ChallengePhoto.objects.exists()


def test_after_pictures_wait_for_the_build(organizer, challenge):
    with pytest.raises(RuleViolation) as refused:
        challenge_photo_add(challenge=challenge, actor=organizer, upload=picture(), kind="after")
    assert refused.value.code == "wrong_phase"


def test_a_file_that_is_not_a_picture_is_refused_on_its_field(organizer, challenge):
    fake = SimpleUploadedFile("x.png", b"not a picture at all", "image/png")
    with pytest.raises(ValidationError) as refused:
        challenge_photo_add(challenge=challenge, actor=organizer, upload=fake, kind="before")
    assert "image" in refused.value.message_dict


def test_a_challenge_takes_at_most_its_limit_of_before_pictures(organizer, challenge):
    for _ in range(ChallengePhoto.MAX_PER_KIND):
        challenge_photo_add(challenge=challenge, actor=organizer, upload=picture(), kind="before")
    with pytest.raises(ValidationError) as refused:
        challenge_photo_add(challenge=challenge, actor=organizer, upload=picture(), kind="before")
    assert f"at most {ChallengePhoto.MAX_PER_KIND}" in refused.value.message_dict["image"][0]


def test_an_author_adds_pictures_to_their_proposal_up_to_the_limit(organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    proposal = propose(challenge, neighbors[0], "Bench")
    for _ in range(ProposalPhoto.MAX_PER_PROPOSAL):
        proposal_photo_add(proposal=proposal, actor=neighbors[0], upload=picture(), alt_text="Sketch")
    assert proposal.photos.count() == ProposalPhoto.MAX_PER_PROPOSAL
    with pytest.raises(ValidationError):
        proposal_photo_add(proposal=proposal, actor=neighbors[0], upload=picture())


def test_only_its_authors_add_pictures_to_a_proposal(organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    proposal = propose(challenge, neighbors[0], "Bench")
    with pytest.raises(RuleViolation) as refused:
        proposal_photo_add(proposal=proposal, actor=neighbors[1], upload=picture())
    assert refused.value.code == "forbidden"


def test_a_withdrawn_proposal_takes_no_pictures(organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    proposal = propose(challenge, neighbors[0], "Bench")
    services.proposal_withdraw(proposal=proposal, actor=neighbors[0])
    with pytest.raises(RuleViolation) as refused:
        proposal_photo_add(proposal=proposal, actor=neighbors[0], upload=picture())
    assert refused.value.code == "illegal_transition"


def test_the_upload_pages_add_pictures_shown_on_the_challenge_and_in_the_gallery(
    web_as, organizer, neighbors, challenge
):
    client = web_as(organizer)
    url = reverse("codesign:challenge-photo-add", args=[challenge.pk])
    client.post(url, {"kind": "before", "image": picture(), "alt_text": "Bare paving stones"})
    assert 'alt="Bare paving stones"' in client.get(challenge.get_absolute_url()).content.decode()
    assert web_as(neighbors[0]).get(url).status_code == 404
    challenge = to_proposals(challenge, organizer)
    proposal = propose(challenge, neighbors[0], "Bench")
    client = web_as(neighbors[0])
    client.post(reverse("codesign:proposal-photo-add", args=[proposal.pk]), {"image": picture(), "alt_text": "Sketch"})
    gallery = client.get(reverse("codesign:proposals", args=[challenge.pk])).content.decode()
    assert 'alt="Sketch"' in gallery


def test_a_broken_upload_is_shown_on_the_form(web_as, organizer, challenge):
    url = reverse("codesign:challenge-photo-add", args=[challenge.pk])
    fake = SimpleUploadedFile("x.png", b"nope", "image/png")
    response = web_as(organizer).post(url, {"kind": "before", "image": fake})
    assert response.status_code == 200 and "not a picture we can read" in words(response)
