"""Plain words for people (issue 11): amounts with their unit instead of currency codes,
local time in one human format (p2pcommons.humanize), on pages, in notifications and emails;
whose place a session is at, one name per session state, "can help" instead of "free",
and the profile's area in words."""

import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from apps.notifications.models import Notification
from apps.skills import services as skills
from apps.skills.factories import SkillFactory
from apps.tools.factories import ReservationFactory, ToolFactory
from p2pcommons.humanize import format_ago, format_amount, format_when, format_when_short, place_for

# 09:00 UTC on a winter Tuesday is 10:00 in Amsterdam (TIME_ZONE), CET = UTC+1.
WINTER_NINE_UTC = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SHOWN = "Tuesday 24 November 2026, 10:00"


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("1.5"), "HOUR", "1.50 hours"),
        (Decimal("1.00"), "HOUR", "1 hour"),
        (Decimal("2"), "HOUR", "2 hours"),
        (Decimal("0.25"), "HOUR", "0.25 hours"),
        (Decimal("-3.00"), "CREDIT", "-3 credits"),
        (Decimal("-1"), "CREDIT", "-1 credit"),
        (Decimal("12.50"), "CREDIT", "12.50 credits"),
        ("0", "CREDIT", "0 credits"),
    ],
)
def test_an_amount_is_written_with_its_unit_never_its_currency_code(amount, currency, shown):
    assert format_amount(amount, currency) == shown


def test_a_signed_amount_shows_what_came_in_with_a_plus():
    assert format_amount(Decimal("1.5"), "HOUR", signed=True) == "+1.50 hours"
    assert format_amount(Decimal("-1"), "HOUR", signed=True) == "-1 hour"
    assert format_amount(Decimal("0"), "CREDIT", signed=True) == "0 credits"


def test_templates_write_amounts_and_moments_with_the_same_helper():
    template = Template(
        "{% load plain %}{{ a|amount:'HOUR' }} | {{ b|signed_amount:'CREDIT' }} | {{ t|when }} | {{ t|when_short }}"
    )
    shown = template.render(Context({"a": Decimal("1.50"), "b": Decimal("3"), "t": WINTER_NINE_UTC}))
    assert shown == f"1.50 hours | +3 credits | {SHOWN} | Tue 24 Nov, 10:00"


def test_a_moment_is_written_in_local_time_in_the_loan_pages_format():
    assert format_when(WINTER_NINE_UTC) == SHOWN
    assert format_when_short(WINTER_NINE_UTC) == "Tue 24 Nov, 10:00"
    assert format_when(datetime(2026, 7, 7, 9, 0, tzinfo=UTC)) == "Tuesday 7 July 2026, 11:00"  # summer: UTC+2


@pytest.mark.django_db
def test_a_loans_review_title_shows_local_time_in_the_human_format(web_as, owner, member, community):
    tool = ToolFactory(owner=owner, community=community, title="Ladder")
    loan = ReservationFactory(
        tool=tool,
        borrower=member,
        starts_at=WINTER_NINE_UTC,
        ends_at=WINTER_NINE_UTC + timedelta(hours=3),
        status="returned",
    )
    assert str(loan).endswith(f"from {SHOWN}")
    with time_machine.travel(WINTER_NINE_UTC + timedelta(days=1), tick=False):
        page = unescape(
            web_as(owner).get(reverse("reputation:review-create", args=["tools.reservation", loan.pk])).content.decode()
        )
    assert f"Review: Ladder for Max Member from {SHOWN}" in page
    assert "2026-11-24 09:00" not in page


@pytest.mark.django_db
def test_a_session_notification_and_its_email_show_local_time_in_the_human_format(
    owner, member, community, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(WINTER_NINE_UTC - timedelta(days=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        skills.session_propose(
            proposer=member,
            helper=owner,
            learner=member,
            community=community,
            title="Fix the bike",
            starts_at=WINTER_NINE_UTC,
            planned_hours=Decimal("1.5"),
            place="Garage",
        )
    note = Notification.objects.get(recipient=owner)
    assert note.text == f"Max Member proposes a session \u201cFix the bike\u201d on {SHOWN}"
    [email] = mail.outbox
    assert f"on {SHOWN}" in email.body
    assert "09:00" not in email.body


# --- plain words on the skills and profile pages ----------------------------------------------
def _visible(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_my_place_is_said_as_whose_place_to_each_person():
    assert place_for("At my place", author_name="Max", viewer_is_author=False) == "At Max's place"
    assert place_for("At my place", author_name="Max", viewer_is_author=True) == "At your place"
    assert place_for("My garage, or mine", author_name="Max", viewer_is_author=True) == "Your garage, or yours"
    assert place_for("Library on Main Street", author_name="Max", viewer_is_author=False) == "Library on Main Street"


@pytest.mark.django_db
def test_a_session_page_says_whose_place_and_names_its_state_booked_like_its_seat(web_as, owner, member, community):
    session = skills.session_propose(
        proposer=member,
        helper=owner,
        learner=member,
        community=community,
        title="Fix the bike",
        starts_at=timezone.now() + timedelta(days=2),
        planned_hours=Decimal("1.5"),
        place="At my place",
    )
    session = skills.session_accept(session=session, actor=owner)
    url = reverse("skills:session", args=[session.pk])
    to_helper, to_learner = _visible(web_as(owner).get(url)), _visible(web_as(member).get(url))
    assert "Where At Max Member's place" in to_helper and "At my place" not in to_helper
    assert "Where At your place" in to_learner
    assert "Planned 1.50 hours" in to_learner
    assert session.get_status_display() == "Booked" and "Agreed" not in to_learner
    assert "Booked" in to_learner


@pytest.mark.django_db
def test_a_helpers_times_read_can_help_not_free(web_as, owner, member, community):
    skills.offer_create(
        member=owner,
        community=community,
        title="I fix bikes",
        skills=[SkillFactory()],
        windows=[(2, time(18), time(21))],
    )
    page = _visible(web_as(member).get(reverse("skills:directory")))
    assert "Can help Wednesday 18:00-21:00" in page
    assert "Free Wednesday" not in page


@pytest.mark.django_db
def test_the_profile_form_shows_the_area_in_words_and_labels_the_map_point_plainly(web_as, member):
    profile = member.profile
    profile.neighborhood = "De Pijp"
    profile.approx_latitude, profile.approx_longitude = Decimal("52.35847"), Decimal("4.88890")
    profile.save()
    page = _visible(web_as(member).get(reverse("peers:profile-edit")))
    area = page[page.index("Neighbors see you as living") :]
    assert area.startswith("Neighbors see you as living in De Pijp") and "somewhere within about 500 m" in area
    assert "Your rounded location: 52.35847, 4.88890" not in page
    assert "north-south position (latitude" in page and "east-west position (longitude" in page


@pytest.mark.django_db
def test_a_sessions_title_in_reviews_shows_local_time_in_the_human_format(owner, member, community):
    with time_machine.travel(WINTER_NINE_UTC - timedelta(days=3), tick=False):
        session = skills.session_propose(
            proposer=member,
            helper=owner,
            learner=member,
            community=community,
            title="Fix the bike",
            starts_at=WINTER_NINE_UTC,
            planned_hours=Decimal("1"),
            place="Library",
        )
    assert str(session) == f"Fix the bike ({SHOWN})"
    assert str(session.seats.get()) == f"Max Member at Fix the bike ({SHOWN})"


def test_a_moment_a_few_seconds_ago_is_just_now_not_zero_minutes():
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert format_ago(now - timedelta(seconds=20), now=now) == "just now"
    assert format_ago(now - timedelta(minutes=5), now=now) == "5\xa0minutes ago"
    assert format_ago(now - timedelta(days=8), now=now) == "Mon 16 Nov, 10:00"


def test_the_notifications_list_says_just_now_for_a_fresh_notification(web_as, member):
    Notification.objects.create(recipient=member, kind="gift_received", text="Max sent you 2 hours")
    html = web_as(member).get(reverse("notifications:list")).content.decode()
    assert "just now" in html and "0\xa0minutes" not in html and "0 minutes" not in html
