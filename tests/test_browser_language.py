"""A member switches to Dutch in a real browser: the page, a form's error, a notification
and its email all come in Dutch from then on (the choice is saved on their profile)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import translation
from playwright.sync_api import expect

from apps.ledger.services import gift_send
from apps.notifications.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_switches_to_dutch_and_reads_pages_errors_notifications_and_email_in_it(open_as, owner, member):
    page = open_as(member)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    sign_out = page.locator("form[action$='/logout/'] button")
    expect(sign_out).to_have_text("Sign out")

    # The switcher at the foot of every page.
    page.get_by_label("Language").select_option("nl")
    page.get_by_role("button", name="Switch language").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(sign_out).to_have_text("Uitloggen")
    member.profile.refresh_from_db()
    assert member.profile.language == "nl"

    # A form error, in Dutch.
    page.goto("/me/")
    page.locator("#id_display_name").fill("")
    page.locator("main form[enctype] button[type=submit]").last.click()
    expect(page.get_by_text("Dit veld is vereist.").first).to_be_visible()

    # A neighbor sends credits: the notification and its email are in Dutch.
    mail.outbox.clear()
    gift_send(
        sender=owner,
        recipient=member,
        community=member.memberships.first().community,
        currency="HOUR",
        amount=Decimal("2"),
        memo="",
        idempotency_key="dutch-browser-test",
    )
    notification = Notification.objects.filter(recipient=member).latest("created_at")
    with translation.override("nl"):
        dutch = notification.display
    assert dutch != notification.text  # really translated, not the English fallback
    page.goto("/notifications/")
    expect(page.get_by_text(dutch).first).to_be_visible()

    emails = [m for m in mail.outbox if member.email in m.to]
    assert emails, "the notification was emailed"
    with translation.override("nl"):
        from apps.notifications.kinds import get_kind

        subject = str(get_kind("ledger.received").email_subject)
    assert emails[-1].subject == subject and not re.search(r"\bsent you\b", emails[-1].body)
    assert dutch in emails[-1].body
