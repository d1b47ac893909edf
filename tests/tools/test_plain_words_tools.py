"""Issue 11 in tool sharing: "free" means one thing only, fees carry their unit, times are
local and written one way, and the owner's request list is ordered and explained so an
owner knows which request to answer first and what each button does.

"No fee" is a loan without a fee; "Available" is a day nobody booked. Every assertion reads
a page rendered by the Django test client, as a neighbor would get it.
"""

from datetime import timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from apps.peers.factories import MembershipFactory
from apps.tools import services
from apps.tools.factories import ToolFactory
from apps.tools.models import Reservation
from p2pcommons.humanize import format_amount, format_when, format_when_short

pytestmark = pytest.mark.django_db

REQUESTS = reverse("tools:requests")
FAR_ZONE = "Pacific/Auckland"  # 11 to 13 hours from UTC: a UTC hour shown by mistake can't pass for local


def at(days: float, hours: float = 0):
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return base + timedelta(days=days, hours=hours)


def local(moment) -> str:
    """What a datetime-local input sends: the wall-clock time, no offset."""
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def words(response) -> str:
    """The page's text as a reader reads it: no tags (each one a space), entities decoded,
    spaces collapsed."""
    return " ".join(unescape(strip_tags(response.content.decode().replace("<", " <"))).split())


def detail(tool) -> str:
    return reverse("tools:detail", args=[tool.pk])


@pytest.fixture
def fee_tool(tool):
    return services.tool_update(tool=tool, actor=tool.owner, fee_per_day=Decimal("2.00"))


@pytest.fixture
def neighbor(community):
    return MembershipFactory(community=community, user__profile__display_name="Nina Neighbor").user


# --- "No fee", never "Free" ------------------------------------------------------------------
def test_a_tool_without_a_fee_says_no_fee_on_its_page_its_card_and_its_booking_form(web_as, tool, member):
    client = web_as(member)
    page = words(client.get(detail(tool)))
    assert "Fee No fee" in page  # the facts list: "Fee" then its value
    assert "Request to borrow" in page and "No fee." in page  # the booking form
    card = words(client.get(reverse("tools:list")))
    assert "Cordless drill" in card and "No fee" in card
    for text in (page, card):
        assert "Free to borrow" not in text


def test_the_booking_form_sent_back_with_an_error_still_says_no_fee(web_as, tool, member):
    response = web_as(member).post(
        reverse("tools:book", args=[tool.pk]),
        {"starts_at": local(at(1)), "ends_at": local(at(0))},
        HTTP_HX_REQUEST="true",
    )
    form = words(response)
    assert "Request to borrow" in form  # the form alone, with its error
    assert "No fee." in form and "Free" not in form


def test_a_loan_without_a_fee_says_no_fee_to_both_people(web_as, tool, owner, member):
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    for person, listing in ((member, reverse("tools:loans")), (owner, REQUESTS)):
        assert "No fee" in words(web_as(person).get(listing))
        page = words(web_as(person).get(reverse("tools:loan", args=[loan.pk])))
        assert "Fee No fee" in page
        assert "Free" not in page


def test_the_calendar_calls_an_unbooked_day_available_not_free(web_as, tool, member):
    page = web_as(member).get(detail(tool)).content.decode()
    legend = page[page.index('<p class="calendar-legend">') :].split("</p>", 1)[0]
    assert '<span class="day-free">Available</span>' in legend
    assert '<small class="day-state">Available</small>' in page  # the days themselves
    assert ">Free<" not in page
    assert "break the owner keeps after each loan" in strip_tags(legend)  # the tool keeps 2 hours clear


# --- fees with their unit, never a currency code ------------------------------------------
def test_a_fee_is_written_with_its_unit_on_the_tool_its_card_and_its_booking_form(web_as, fee_tool, member):
    per_day = format_amount(Decimal("2"), "CREDIT")
    client = web_as(member)
    page = words(client.get(detail(fee_tool)))
    assert f"{per_day} a day, fixed when you request it" in page
    assert f"Fee: {per_day} a day" in page
    assert f"{per_day} a day" in words(client.get(reverse("tools:list")))
    assert "CREDIT" not in page and "2.00 credits" not in page


def test_a_loan_with_a_fee_shows_the_total_with_its_unit_to_both_people(web_as, fee_tool, owner, member):
    response = web_as(member).post(
        reverse("tools:book", args=[fee_tool.pk]),
        {"starts_at": local(at(0)), "ends_at": local(at(2)), "fee_per_day": "2.00"},
        follow=True,
    )
    total = format_amount(Decimal("4"), "CREDIT")
    assert f"The fee, {total}, is paid when you pick it up." in words(response)
    loan = Reservation.objects.get()
    page = words(web_as(owner).get(reverse("tools:loan", args=[loan.pk])))
    assert f"{total} ({format_amount(Decimal('2'), 'CREDIT')} a day for 2 days)" in page
    requests = words(web_as(owner).get(REQUESTS))
    assert f"Fee: {total}, fixed when requested" in requests
    for text in (page, requests, words(response)):
        assert "CREDIT" not in text


# --- one local format for times ----------------------------------------------------------------
@override_settings(TIME_ZONE=FAR_ZONE)
def test_loan_pages_write_times_in_local_time_in_the_one_format(web_as, tool, owner, member):
    # The loan page shows times in its community's zone (p2pcommons.i18n.activate_community_zone).
    tool.community.time_zone = FAR_ZONE
    tool.community.save(update_fields=["time_zone"])
    start = at(0, 3)
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=start, ends_at=at(1, 3))
    local_hour = f"{start.astimezone(ZoneInfo(FAR_ZONE)):%H:%M}"
    assert local_hour != f"{start.astimezone(ZoneInfo('UTC')):%H:%M}"
    page = words(web_as(owner).get(reverse("tools:loan", args=[loan.pk])))
    assert f"From {format_when(start)}" in page and local_hour in format_when(start)
    assert format_when_short(start) in words(web_as(owner).get(REQUESTS))
    assert format_when_short(start) in words(web_as(member).get(reverse("tools:loans")))


@override_settings(TIME_ZONE=FAR_ZONE)
def test_joining_the_waitlist_says_the_local_start_in_the_one_format(web_as, tool, member, organizer):
    # Members read times in their community's zone (p2pcommons.i18n.member_timezone).
    tool.community.time_zone = FAR_ZONE
    tool.community.save(update_fields=["time_zone"])
    services.reservation_request(tool=tool, borrower=organizer, starts_at=at(0), ends_at=at(1))
    start = at(0, 6)
    response = web_as(member).post(
        reverse("tools:waitlist-join", args=[tool.pk]),
        {"starts_at": start.isoformat(), "ends_at": at(0, 12).isoformat()},
        follow=True,
    )
    text = words(response)
    assert f"You are on the waitlist for Cordless drill from {format_when_short(start)}." in text
    assert f"{start.astimezone(ZoneInfo(FAR_ZONE)):%H:%M}" in text
    assert "If it becomes available, it is held for you." in text


# --- the owner's request list ------------------------------------------------------------------
def test_the_owners_requests_are_listed_by_when_the_loan_starts_soonest_first(
    web_as, community, owner, member, neighbor
):
    ladder = ToolFactory(owner=owner, community=community, title="Long ladder")
    tent = ToolFactory(owner=owner, community=community, title="Family tent")
    services.reservation_request(tool=ladder, borrower=member, starts_at=at(5), ends_at=at(6))  # asked first
    services.reservation_request(tool=tent, borrower=neighbor, starts_at=at(1), ends_at=at(2))  # asked later, sooner
    for url in (REQUESTS, f"{REQUESTS}?status=requested"):
        page = words(web_as(owner).get(url))
        assert page.index("Family tent") < page.index("Long ladder"), url


def test_finished_loans_come_after_the_open_requests_in_the_owners_list(web_as, community, owner, member, neighbor):
    ladder = ToolFactory(owner=owner, community=community, title="Long ladder")
    tent = ToolFactory(owner=owner, community=community, title="Family tent")
    declined = services.reservation_request(tool=tent, borrower=neighbor, starts_at=at(6), ends_at=at(7))
    services.reservation_decline(reservation=declined, actor=owner)
    services.reservation_request(tool=ladder, borrower=member, starts_at=at(4), ends_at=at(5))  # open, starts sooner
    page = words(web_as(owner).get(REQUESTS))
    assert page.index("Long ladder") < page.index("Family tent")


def test_a_pending_request_explains_approve_and_decline_and_offers_no_second_no(web_as, tool, owner, member):
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    for url in (REQUESTS, reverse("tools:loan", args=[loan.pk])):
        response = web_as(owner).get(url)
        page = words(response)
        assert "Approve: lend it for these dates. Max Member is told." in page
        assert "Decline: say no to this request. Max Member is told." in page
        assert "Cancel loan" not in page  # declining is the owner's one way to say no to a request
        html = response.content.decode()
        assert f'aria-describedby="loan-{loan.pk}-title loan-{loan.pk}-decline-help"' in html
        assert f'id="loan-{loan.pk}-decline-help"' in html


def test_the_borrower_of_a_pending_request_is_told_what_cancelling_it_does(web_as, tool, member):
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    page = words(web_as(member).get(reverse("tools:loan", args=[loan.pk])))
    assert "Cancel request: take your request back. Olive Owner is told." in page
    assert "Approve:" not in page and "Decline:" not in page


def test_an_approved_loan_still_offers_the_owner_cancel_loan_with_its_explanation(web_as, tool, owner, member):
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    services.reservation_approve(reservation=loan, actor=owner)
    response = web_as(owner).get(REQUESTS)
    page = words(response)
    assert "Cancel loan: call off the approved loan. Max Member is told." in page
    assert ">Cancel loan</button>" in response.content.decode()
    assert "Decline:" not in page and ">Decline</button>" not in response.content.decode()


def test_a_request_past_its_pickup_window_is_not_offered_for_approval(web_as, tool, owner, member):
    """The approve service refuses once the pickup window has closed; the page does not
    offer what the service will refuse."""
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    Reservation.objects.filter(pk=loan.pk).update(
        starts_at=timezone.now() - timedelta(days=1), ends_at=timezone.now() + timedelta(days=1)
    )
    response = web_as(owner).get(REQUESTS)
    assert "Decline: say no to this request." in words(response)
    assert "Approve:" not in words(response) and ">Approve</button>" not in response.content.decode()
