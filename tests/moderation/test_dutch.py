"""Reporting and moderation in Dutch: pages follow Accept-Language, notifications the reader."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from apps.moderation import services
from apps.notifications.models import Notification
from apps.peers.models import Membership
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}
REPORT = reverse("moderation:report")


def profile(user) -> str:
    return reverse("peers:profile", args=[user.pk])


def test_the_report_buttons_are_in_dutch(web_as, owner, member, review):
    html = web_as(owner).get(profile(owner), **NL).content.decode()
    assert "beoordeling melden" in html and "Melding versturen" in html
    assert "Kies een reden" in html and "Spam of reclame" in html
    assert "Report this review" not in html
    assert "lid melden" in web_as(owner).get(profile(member), **NL).content.decode()


def test_a_report_is_thanked_and_a_second_refused_in_dutch(web_as, owner, review):
    client = web_as(owner)
    data = {"target_type": "reputation.review", "target_id": review.pk, "reason": "spam", "next": "/"}
    thanked = client.post(REPORT, data, follow=True, **NL).content.decode()
    assert "Bedankt: je melding is naar de organisatoren gestuurd." in thanked
    refused = client.post(REPORT, data, follow=True, **NL).content.decode()
    assert "Je hebt dit al gemeld; de organisatoren kijken ernaar." in refused


def test_a_missing_reason_is_named_in_dutch(web_as, owner, review):
    data = {"target_type": "reputation.review", "target_id": review.pk, "next": "/"}
    html = web_as(owner).post(REPORT, data, follow=True, **NL).content.decode()
    assert "Reden:" in html


def test_a_hide_notification_names_the_thing_in_the_readers_language(organizer, review):
    services.content_hide(target=review, actor=organizer, reason="Beledigend")
    note = Notification.objects.get(recipient=review.author, kind="moderation.hidden")
    assert note.text == "An organizer hid your review. Reason: Beledigend"
    with translation.override("nl"):
        assert note.display == "Een organisator heeft je beoordeling verborgen. Reden: Beledigend"


def test_a_refusal_names_the_thing_in_dutch(organizer, member):
    membership = Membership.objects.get(user=organizer)
    with translation.override("nl"), pytest.raises(RuleViolation) as refused:
        services.member_warn(membership=membership, actor=organizer, reason="Test")
    assert "Je kunt niet jezelf waarschuwen" in str(refused.value)
