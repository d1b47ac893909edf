"""The ledger's pages, refusals and notifications in Dutch (Accept-Language: nl)."""

import pytest
from django.urls import reverse
from django.utils import translation

from apps.ledger import services
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}
MINE = reverse("ledger:mine")


def test_my_balance_page_is_in_dutch(web_as, owner):
    html = web_as(owner).get(MINE, **NL).content.decode()
    assert "Mijn saldo" in html
    assert "Credits versturen" in html
    assert "My balance" not in html


def test_the_community_ledger_is_in_dutch(web_as, owner, community):
    html = web_as(owner).get(reverse("ledger:community", args=[community.slug]), **NL).content.decode()
    assert f"Grootboek van {community.name}" in html
    assert "Zelf controleren" in html
    assert "How to check it yourself" not in html


def test_sending_more_than_the_limit_is_refused_in_dutch(web_as, owner, member, community):
    response = web_as(owner).post(
        MINE,
        {"community": community.pk, "recipient": member.pk, "currency": "HOUR", "amount": "500", "key": "k"},
        **NL,
    )
    html = response.content.decode()
    assert "Dan zou het saldo" in html
    assert "That would take the balance" not in html


def test_a_gift_notification_reads_in_the_readers_language(owner, member, community):
    services.gift_send(
        sender=owner,
        recipient=member,
        community=community,
        currency="HOUR",
        amount="2",
        memo="Soep",
        idempotency_key="a",
    )
    note = Notification.objects.get(recipient=member, kind="ledger.received")
    assert note.text.endswith(": Soep") and " sent you " in note.text
    with translation.override("nl"):
        assert " heeft je " in note.display and note.display.endswith(" gestuurd: Soep")
