"""Edges found in review: hidden and paused tools and the waitlist, far-off dates, organizers' status changes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.moderation import services as moderation
from apps.peers.factories import MembershipFactory
from apps.tools import services
from apps.tools.models import Reservation, Tool
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def at(days: float):
    return timezone.now().replace(microsecond=0) + timedelta(days=3 + days)


@pytest.fixture
def waiting(tool, member, community):
    """A loan of the tool and a neighbor waiting for the same window."""
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    neighbor = MembershipFactory(community=community).user
    entry = services.waitlist_join(tool=tool, member=neighbor, starts_at=at(0), ends_at=at(1))
    return loan, entry


def test_a_hidden_tool_cant_be_booked_or_offered_until_restored(tool, member, organizer, owner, waiting):
    loan, entry = waiting
    moderation.content_hide(target=tool, actor=organizer, reason="Unsafe")
    services.reservation_cancel(reservation=loan, actor=member)
    entry.refresh_from_db()
    assert entry.status == "waiting"  # not offered while hidden
    with pytest.raises(RuleViolation) as exc:
        services.reservation_request(tool=tool, borrower=organizer, starts_at=at(0), ends_at=at(1))
    assert exc.value.code == "not_active"
    moderation.content_restore(target=tool, actor=organizer, reason="Checked")
    entry.refresh_from_db()
    assert entry.status == "offered"


def test_the_web_booking_of_a_hidden_tool_is_refused_for_organizers_too(web_as, tool, organizer):
    Tool.objects.filter(pk=tool.pk).update(is_hidden=True)
    response = web_as(organizer).post(
        reverse("tools:book", args=[tool.pk]),
        {
            "starts_at": f"{timezone.localtime(at(0)):%Y-%m-%dT%H:%M}",
            "ends_at": f"{timezone.localtime(at(1)):%Y-%m-%dT%H:%M}",
        },
    )
    assert response.status_code == 200  # the form again, saying why
    assert "is not available to borrow right now" in response.content.decode()
    assert not Reservation.objects.filter(borrower=organizer).exists()


def test_windows_freed_while_paused_are_offered_when_it_resumes(tool, member, owner, waiting):
    loan, entry = waiting
    services.tool_update(tool=tool, actor=owner, status="paused")
    services.reservation_cancel(reservation=loan, actor=member)
    entry.refresh_from_db()
    assert entry.status == "waiting"
    services.tool_update(tool=tool, actor=owner, status="active")
    entry.refresh_from_db()
    assert entry.status == "offered"


def test_an_organizer_resuming_in_the_admin_goes_through_the_service(web_as, tool, member, organizer, waiting):
    loan, entry = waiting
    Tool.objects.filter(pk=tool.pk).update(status="paused")
    services.reservation_cancel(reservation=loan, actor=member)
    web_as(organizer).post(reverse("admin:tools_tool_change", args=[tool.pk]), {"status": "active"})
    tool.refresh_from_db()
    entry.refresh_from_db()
    assert tool.status == "active" and entry.status == "offered"


@pytest.mark.parametrize(
    "params",
    [
        {"available_from": "0001-01-01T00:10:00+05:00", "available_to": "0001-01-02T00:10:00+05:00"},
        {"available_from": "3000-12-30T00:00:00Z", "available_to": "3000-12-31T23:00:00Z"},
    ],
)
def test_far_off_search_windows_are_a_400_not_a_crash(api_as, web_as, member, tool, params):
    response = api_as(member).get("/api/v1/tools/", params)
    assert response.status_code == 400 and "available_from" in response.json()
    web = {k: v[:16] for k, v in params.items()}
    page = web_as(member).get(reverse("tools:list"), web)
    assert page.status_code == 200 and "within five years" in page.content.decode()


def test_a_booking_in_the_far_future_is_a_400(api_as, member, tool):
    body = {"tool": tool.pk, "starts_at": "3000-12-30T00:00:00Z", "ends_at": "3000-12-31T00:00:00Z"}
    response = api_as(member).post("/api/v1/reservations/", body, format="json")
    assert response.status_code == 400 and "starts_at" in response.json()
    assert not Reservation.objects.exists()
