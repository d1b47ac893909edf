"""Issue 11 in the skill swap: messages write hours with their unit and times in local time
in the one format every page uses, an agreed session has one name ("Booked"), the reason
for cancelling has its own small form, and the sub-menu keeps to two lines on a phone.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from playwright.sync_api import Browser

from apps.skills import services
from apps.skills.models import Session
from p2pcommons.humanize import format_amount, format_when
from tests.test_phone_layout import PHONE, overflow, signed_in

FAR_ZONE = "Pacific/Auckland"  # 11 to 13 hours from UTC: a UTC hour shown by mistake can't pass for local


def words(response) -> str:
    """The page's text as a reader reads it: no tags (each one a space), entities decoded,
    spaces collapsed."""
    return " ".join(unescape(strip_tags(response.content.decode().replace("<", " <"))).split())


def soon(days: float = 1):
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def session_url(session, action: str | None = None) -> str:
    if action is None:
        return reverse("skills:session", args=[session.pk])
    return reverse(f"skills:session-{action}", args=[session.pk])


def confirm_url(session) -> str:
    return reverse("skills:seat-confirm", args=[session.pk, session.seats.get().pk])


def after(session):
    """A moment after the session took place. We can't wait for real time to pass."""
    return time_machine.travel(session.starts_at + timedelta(hours=3), tick=False)


@pytest.fixture
def proposed(community, owner, member) -> Session:
    """Max Member asks Olive Owner to help him fix his bike's gears."""
    return services.session_propose(
        proposer=member,
        helper=owner,
        learner=member,
        community=community,
        title="Fix the bike's gears",
        starts_at=soon(),
        planned_hours=Decimal("2"),
        place="Olive's garage",
    )


@pytest.fixture
def agreed(proposed, owner) -> Session:
    return services.session_accept(session=proposed, actor=owner)


# --- times: local, one format ------------------------------------------------------------------
@pytest.mark.django_db
@override_settings(TIME_ZONE=FAR_ZONE)
def test_agreeing_to_a_session_says_booked_at_the_local_time_in_the_one_format(web_as, owner, proposed):
    # Times are shown in the community's zone (set here to the far one as well).
    proposed.community.time_zone = FAR_ZONE
    proposed.community.save(update_fields=["time_zone"])
    response = web_as(owner).post(session_url(proposed, "accept"), follow=True)
    text = words(response)
    local_hour = f"{proposed.starts_at.astimezone(ZoneInfo(FAR_ZONE)):%H:%M}"
    assert local_hour != f"{proposed.starts_at.astimezone(ZoneInfo('UTC')):%H:%M}"
    assert f"Booked: “Fix the bike's gears” on {format_when(proposed.starts_at)}." in text
    assert local_hour in format_when(proposed.starts_at)
    assert "Agreed:" not in text
    # The message and the session's own "When" say the same.
    assert f"When {format_when(proposed.starts_at)}" in text


# --- hours with their unit ---------------------------------------------------------------------
@pytest.mark.django_db
def test_confirming_hours_writes_them_with_their_unit(web_as, member, agreed):
    with after(agreed):
        response = web_as(member).post(confirm_url(agreed), {"hours": "1.5"}, follow=True)
    text = words(response)
    assert f"You confirmed {format_amount(Decimal('1.5'), 'HOUR')}. They move once Olive Owner confirms too." in text
    assert "1.50 hours" in text and "HOUR" not in text


@pytest.mark.django_db
def test_hours_that_moved_are_written_with_their_unit(web_as, owner, member, agreed):
    with after(agreed):
        web_as(member).post(confirm_url(agreed), {"hours": "2"})
        response = web_as(owner).post(confirm_url(agreed), {"hours": "2.25"}, follow=True)
    text = words(response)
    assert f"Confirmed: {format_amount(Decimal('2'), 'HOUR')} moved from Max Member to Olive Owner." in text
    assert "2.00 hours" not in text and "HOUR" not in text


@pytest.mark.django_db
def test_a_disputed_confirmation_writes_both_amounts_with_their_unit(web_as, owner, member, agreed):
    with after(agreed):
        web_as(member).post(confirm_url(agreed), {"hours": "1"})
        response = web_as(owner).post(confirm_url(agreed), {"hours": "3.5"}, follow=True)
    text = words(response)
    assert (
        f"You confirmed {format_amount(Decimal('3.5'), 'HOUR')}, but the two figures differ by more than "
        f"{format_amount(services.HOURS_TOLERANCE, 'HOUR')}: the organizers will settle it."
    ) in text
    assert "HOUR" not in text


# --- the reason for cancelling: its own small form -----------------------------------------------
@pytest.mark.django_db
def test_the_reason_for_cancelling_has_its_own_form_under_the_buttons(web_as, member, agreed):
    page = web_as(member).get(session_url(agreed)).content.decode()
    row = page[page.index('<div class="button-row session-actions">') :].split("</div>", 1)[0]
    assert "Cancel the session</button>" in row and 'name="reason"' not in row
    disclosure = page[page.index('<details class="note-action">') :].split("</details>", 1)[0]
    assert "<summary>Cancel the session with a reason</summary>" in disclosure
    assert '<label for="cancel-reason">Reason for cancelling (optional)</label>' in disclosure
    assert "Cancel the session and send the reason</button>" in disclosure

    web_as(member).post(session_url(agreed, "cancel"), {"reason": "My bike was stolen"})
    agreed.refresh_from_db()
    assert agreed.status == "cancelled"
    assert agreed.helper.notifications.filter(text__contains="My bike was stolen").exists()


# --- the sub-menu on a phone ---------------------------------------------------------------------
SKILL_PAGES = ("directory", "matches", "sessions", "offer-create", "request-create", "mine")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_skills_sub_menu_keeps_to_two_lines_on_a_phone_whichever_entry_is_current(
    browser: Browser,
    live_server,
    member,
):
    context = signed_in(browser, live_server, member, PHONE)
    page = context.new_page()
    try:
        for name in SKILL_PAGES:
            url = reverse(f"skills:{name}")
            page.goto(url)
            links = page.get_by_role("navigation", name="Skill swap").get_by_role("link")
            assert links.count() == len(SKILL_PAGES)
            tops = {round(link.bounding_box()["y"]) for link in links.all()}
            assert len(tops) <= 2, f"the skills sub-menu wraps onto {len(tops)} lines on {url}"
            assert overflow(page) <= 0, f"{url} is wider than the phone"
    finally:
        context.close()
