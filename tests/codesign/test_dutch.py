"""The co-design pages in Dutch: a member whose browser asks for Dutch reads the list,
a challenge, its designs and the project board in Dutch, refusals and form errors
included; notifications are stored in English and read in the reader's language."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from apps.codesign import services
from apps.notifications.models import Notification

from .test_pages import propose, to_proposals, to_voting, words

pytestmark = pytest.mark.django_db
NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


def test_the_list_and_a_challenge_read_in_dutch(web_as, organizer, neighbors, challenge):
    services.idea_post(challenge=challenge, author=neighbors[0], text="Sun seats.")
    client = web_as(neighbors[1])

    listing = words(client.get(reverse("codesign:list"), **NL))
    assert "Ontwerpuitdagingen" in listing and "1 idee · 0 ontwerpen" in listing
    assert "Design challenges" not in listing

    page = words(client.get(challenge.get_absolute_url(), **NL))
    assert "Ideeën van buren" in page and "Volg deze uitdaging" in page and "Fasen" in page
    assert "Ideas from neighbors" not in page and "Follow this challenge" not in page
    # The challenge's own words stay as its organizer wrote them.
    assert "A bench for the courtyard" in page


def test_the_designs_and_the_board_read_in_dutch(web_as, organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    propose(challenge, neighbors[0], "Oak bench", "250")
    gallery = words(web_as(neighbors[1]).get(reverse("codesign:proposals", args=[challenge.pk]), **NL))
    assert "Ontwerpen" in gallery and "Door Ana" in gallery
    assert "By Ana" not in gallery

    board = words(web_as(neighbors[1]).get(reverse("codesign:board", args=[challenge.pk]), **NL))
    assert "Projectbord" in board and "De bouw begint als de stemming sluit" in board
    assert "Project board" not in board


def test_a_refusal_and_a_form_error_read_in_dutch(web_as, organizer, neighbors, challenge):
    client = web_as(neighbors[0])
    empty = words(client.post(reverse("codesign:idea-post", args=[challenge.pk]), {"text": ""}, **NL))
    assert "Dit veld is vereist." in empty and "Wat de plek nodig heeft" not in empty
    assert "Leden stemmen op de ontwerpen die zijn toegelaten tot de stemming." in empty

    challenge, bench, _planter = to_voting(challenge, organizer, neighbors)
    response = client.post(
        reverse("codesign:ballot", args=[challenge.pk]), {"proposal": bench.pk, "dots": "4"}, follow=True, **NL
    )
    assert "Hoogstens 3 stippen op één voorstel." in words(response)


def test_a_notification_is_stored_in_english_and_read_in_dutch(organizer, neighbors, challenge):
    challenge = to_proposals(challenge, organizer)
    propose(challenge, neighbors[0], "Oak bench", "250")
    told = Notification.objects.get(recipient=organizer, kind="codesign.proposal")
    assert told.text == "New proposal for A bench for the courtyard: Oak bench"
    with translation.override("nl"):
        assert told.display == "Nieuw voorstel voor A bench for the courtyard: Oak bench"
