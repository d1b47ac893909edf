"""The skill swap in Dutch: a member whose browser asks for Dutch reads the directory, a
session's page and the refusals in Dutch; English stays the language of everyone else,
and notifications are stored in English and read in the reader's language."""

from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from apps.notifications.models import Notification
from apps.skills import services
from apps.skills.factories import OfferFactory
from apps.skills.matching import reasons_message
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

pytestmark = pytest.mark.django_db

DUTCH = {"HTTP_ACCEPT_LANGUAGE": "nl"}


def text(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def agreed(community, owner, member):
    session = services.session_propose(
        proposer=member,
        helper=owner,
        learner=member,
        community=community,
        title="Fix the bike's gears",
        starts_at=(timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0),
        planned_hours=Decimal("2"),
        place="Olive's garage",
    )
    return services.session_accept(session=session, actor=owner)


def test_the_directory_and_the_offer_page_are_in_dutch(web_as, community, owner, member, bike_repair):
    offer = OfferFactory(member=owner, community=community, title="I fix bikes", skills=[bike_repair])
    client = web_as(member)

    directory = text(client.get(reverse("skills:directory"), **DUTCH))
    assert "Mensen die kunnen helpen" in directory
    assert "People who can help" not in directory
    assert "1 aanbod van hulp" in directory

    page = text(client.get(offer.get_absolute_url(), **DUTCH))
    assert "Aanbod van hulp" in page
    assert "Vraag Olive Owner om een afspraak" in page
    assert "Offer of help" not in page

    english = text(client.get(reverse("skills:directory")))
    assert "People who can help" in english


def test_a_session_page_and_its_list_are_in_dutch(web_as, member, agreed):
    client = web_as(member)
    page = text(client.get(agreed.get_absolute_url(), **DUTCH))
    assert "Gereserveerd" in page
    assert "Annuleer de afspraak" in page
    assert "Cancel the session" not in page

    sessions = text(client.get(reverse("skills:sessions"), **DUTCH))
    assert "Mijn afspraken" in sessions
    assert "My sessions" not in sessions


def test_a_refusal_and_a_form_error_are_in_dutch(web_as, member, agreed):
    client = web_as(member)
    early = client.post(
        reverse("skills:seat-confirm", args=[agreed.pk, agreed.seats.get().pk]), {"hours": "2"}, follow=True, **DUTCH
    )
    assert "Bevestig de uren nadat de afspraak heeft plaatsgevonden." in text(early)

    with time_machine.travel(agreed.starts_at + timedelta(hours=3), tick=False):
        response = client.post(
            reverse("skills:seat-dispute", args=[agreed.pk, agreed.seats.get().pk]), {"reason": "  "}, **DUTCH
        )
    assert "Zeg wat er misging." in text(response)
    assert "Say what went wrong." not in text(response)

    with translation.override("nl"), pytest.raises(RuleViolation) as refusal:
        services.seat_join(session=agreed, learner=member)
    assert str(refusal.value) == "Dit is een één-op-één-afspraak."


def test_notifications_are_stored_in_english_and_read_in_dutch(owner, agreed):
    note = Notification.objects.get(recipient=agreed.proposed_by, kind="skills.session")
    assert note.text.startswith("Olive Owner agreed to \u201cFix the bike's gears\u201d on ")
    with translation.override("nl"):
        assert str(Message.from_json(note.message)).startswith("Olive Owner ging akkoord met \u201cFix the bike")


def test_match_reasons_read_in_dutch():
    why = reasons_message(["same skill", "0.8 km", "can help Saturday morning", "trusted (4.5)"])
    assert why.english() == "same skill, 0.8 km, can help Saturday morning, trusted (4.5)"
    with translation.override("nl"):
        assert str(why) == "dezelfde vaardigheid, 0.8 km, kan helpen op zaterdagochtend, betrouwbaar (4.5)"
