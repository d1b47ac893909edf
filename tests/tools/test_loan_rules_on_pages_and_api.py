"""Issue 10's loan rules as neighbors and apps meet them: the fee shown before the request
and fixed on it, the pickup that pays it, the pickup window, the request caps, and the
owner's address released only a day before the start."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.ledger.models import Transfer
from apps.reputation.factories import TrustScoreFactory
from apps.tools import selectors, services
from apps.tools.factories import ToolFactory
from apps.tools.models import Reservation, Tool
from tests.tools.trust import completed_loan, established_neighbor

pytestmark = pytest.mark.django_db
RES = "/api/v1/reservations/"
S = Reservation.Status


def at(days: float, hours: float = 0):
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return base + timedelta(days=days, hours=hours)


def local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def html(response) -> str:
    return response.content.decode()


def soon():
    """A start within the hour: the pickup window is open and the address released."""
    return timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=30)


@pytest.fixture
def fee_tool(tool):
    return services.tool_update(tool=tool, actor=tool.owner, fee_per_day=Decimal("2.00"))


@pytest.fixture
def private_owner(owner):
    owner.profile.exact_address = "12 Hidden Lane"
    owner.profile.phone = "+31 6 5555 0101"
    owner.profile.save()
    return owner


def approved_loan(tool, borrower, start, end):
    loan = services.reservation_request(tool=tool, borrower=borrower, starts_at=start, ends_at=end)
    return services.reservation_approve(reservation=loan, actor=tool.owner)


# --- the fee, before and after the request -----------------------------------------------------
def test_the_borrower_sees_the_fee_before_sending_the_request(web_as, fee_tool, member):
    page = html(web_as(member).get(reverse("tools:detail", args=[fee_tool.pk])))
    assert "Fee: 2 credits a day" in page
    assert 'name="fee_per_day" value="2.00"' in page


def test_a_web_request_sent_after_the_fee_changed_is_refused_on_the_form(web_as, fee_tool, member, owner):
    services.tool_update(tool=fee_tool, actor=owner, fee_per_day=Decimal("9.00"))
    data = {"starts_at": local(at(0)), "ends_at": local(at(1)), "fee_per_day": "2.00"}
    response = web_as(member).post(reverse("tools:book", args=[fee_tool.pk]), data)
    page = html(response)
    assert response.status_code == 200
    assert "The fee of Cordless drill has changed (now: 9 credits a day)" in page
    assert 'name="fee_per_day" value="9.00"' in page  # the form now carries the new fee
    assert not Reservation.objects.exists()


def test_a_web_request_fixes_the_fee_it_showed_and_says_so(web_as, fee_tool, member):
    data = {"starts_at": local(at(0)), "ends_at": local(at(1.5)), "fee_per_day": "2.00"}
    response = web_as(member).post(reverse("tools:book", args=[fee_tool.pk]), data, follow=True)
    loan = Reservation.objects.get()
    assert (loan.fee_per_day, loan.fee_total) == (Decimal("2.00"), Decimal("4.00"))
    assert "The fee, 4 credits, is paid when you pick it up." in html(response)


def test_the_owner_sees_the_fixed_fee_when_approving(web_as, fee_tool, member, owner):
    loan = services.reservation_request(tool=fee_tool, borrower=member, starts_at=at(0), ends_at=at(2))
    services.tool_update(tool=fee_tool, actor=owner, fee_per_day=Decimal("7.00"))
    requests = html(web_as(owner).get(reverse("tools:requests")))
    assert "Fee: 4 credits, fixed when requested" in requests and "14 credits" not in requests
    page = html(web_as(owner).get(reverse("tools:loan", args=[loan.pk])))
    assert "4 credits (2 credits a day for 2 days), fixed when it was requested" in page


def test_the_api_shows_the_fixed_fee_and_refuses_a_changed_one(api_as, fee_tool, member, owner):
    body = {"tool": fee_tool.pk, "starts_at": at(0).isoformat(), "ends_at": at(1).isoformat(), "fee_per_day": "1.00"}
    refused = api_as(member).post(RES, body, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "fee_changed"
    assert not Reservation.objects.exists()
    created = api_as(member).post(RES, {**body, "fee_per_day": "2.00"}, format="json").json()
    assert (created["fee_per_day"], created["fee_days"], created["fee_total"]) == ("2.00", 1, "2.00")
    services.tool_update(tool=fee_tool, actor=owner, fee_per_day=Decimal("50.00"))
    seen_by_owner = api_as(owner).get(f"{RES}{created['id']}/").json()
    assert seen_by_owner["fee_total"] == "2.00"


def test_in_the_api_the_owner_cannot_record_the_pickup_of_a_loan_with_a_fee(api_as, fee_tool, member, owner):
    loan = approved_loan(fee_tool, member, soon(), soon() + timedelta(days=1))
    response = api_as(owner).post(f"{RES}{loan.pk}/pickup/")
    assert response.status_code == 409 and response.json()["code"] == "forbidden"
    loan.refresh_from_db()
    assert loan.status == S.APPROVED and not Transfer.objects.exists()
    paid = api_as(member).post(f"{RES}{loan.pk}/pickup/")
    assert paid.status_code == 200 and paid.json()["status"] == "picked_up"
    assert Transfer.objects.get().amount == Decimal("2.00")


def test_the_borrower_is_offered_the_pickup_that_pays_and_the_owner_is_not(web_as, fee_tool, member, owner):
    loan = approved_loan(fee_tool, member, soon(), soon() + timedelta(days=1))
    url = reverse("tools:loan", args=[loan.pk])
    assert "Confirm pickup and pay 2 credits" in html(web_as(member).get(url))
    owner_page = html(web_as(owner).get(url))
    assert "Mark picked up" not in owner_page and "Confirm pickup" not in owner_page
    response = web_as(owner).post(reverse("tools:loan-action", args=[loan.pk, "pickup"]), follow=True)
    assert "Only the borrower can record the pickup of a loan with a fee" in html(response).replace("&#x27;", "'")
    loan.refresh_from_db()
    assert loan.status == S.APPROVED


def test_a_pickup_days_before_the_start_is_refused_on_the_page(web_as, tool, member):
    loan = approved_loan(tool, member, at(3), at(4))
    page = html(web_as(member).get(reverse("tools:loan", args=[loan.pk])))
    assert "Mark picked up" not in page and "The pickup can be recorded from" in page
    response = web_as(member).post(reverse("tools:loan-action", args=[loan.pk, "pickup"]), follow=True)
    assert "The pickup can be recorded from" in html(response)
    loan.refresh_from_db()
    assert loan.status == S.APPROVED and loan.picked_up_at is None


def test_a_pickup_before_the_window_is_a_409_in_the_api(api_as, tool, member):
    loan = approved_loan(tool, member, at(3), at(4))
    response = api_as(member).post(f"{RES}{loan.pk}/pickup/")
    assert response.status_code == 409 and response.json()["code"] == "too_early"
    body = api_as(member).get(f"{RES}{loan.pk}/").json()
    assert body["status"] == "approved"
    assert datetime.fromisoformat(body["pickup_from"]) == at(3) - services.PICKUP_EARLY


# --- the request caps ----------------------------------------------------------------------------
def test_the_sixth_open_request_is_refused_with_a_message_on_the_page(web_as, member, owner, community):
    tools = [ToolFactory(owner=owner, community=community) for _ in range(6)]
    for tool in tools[:5]:
        services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    data = {"starts_at": local(at(0)), "ends_at": local(at(1))}
    response = web_as(member).post(reverse("tools:book", args=[tools[5].pk]), data)
    assert response.status_code == 200
    assert "You already have 5 requests waiting for an answer" in html(response)
    assert not Reservation.objects.filter(tool=tools[5]).exists()


def test_the_sixth_open_request_is_a_409_in_the_api(api_as, member, owner, community):
    tools = [ToolFactory(owner=owner, community=community) for _ in range(6)]
    for tool in tools[:5]:
        services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    body = {"tool": tools[5].pk, "starts_at": at(0).isoformat(), "ends_at": at(1).isoformat()}
    response = api_as(member).post(RES, body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "too_many_open_requests"
    assert Reservation.objects.count() == 5


# --- the owner's address: a day before the start, not at approval ------------------------------
def test_the_address_is_not_released_at_approval_for_a_loan_far_ahead(web_as, api_as, tool, private_owner, member):
    loan = approved_loan(tool, member, at(28), at(29))
    page = html(web_as(member).get(reverse("tools:loan", args=[loan.pk])))
    assert "12 Hidden Lane" not in page and "+31 6 5555 0101" not in page
    assert "exact address and phone appear here from" in page and "a day before the loan starts" in page
    body = api_as(member).get(f"{RES}{loan.pk}/").json()
    assert body["handoff"] is None
    assert datetime.fromisoformat(body["handoff_from"]) == at(28) - timedelta(hours=24)


def test_the_address_is_released_24_hours_before_the_start(tool, private_owner, member):
    loan = approved_loan(tool, member, at(5), at(6))
    release = loan.starts_at - selectors.HANDOFF_RELEASE
    assert timedelta(hours=24) == selectors.HANDOFF_RELEASE
    assert selectors.handoff_for(reservation=loan, user=member, now=release - timedelta(seconds=1)) is None
    shown = selectors.handoff_for(reservation=loan, user=member, now=release)
    assert shown.exact_address == "12 Hidden Lane"
    assert selectors.handoff_for(reservation=loan, user=private_owner, now=release) is None


def test_the_address_is_never_released_for_a_request_or_a_closed_loan(tool, private_owner, member, owner):
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    assert selectors.handoff_for(reservation=loan, user=member, now=loan.starts_at) is None
    loan = services.reservation_cancel(reservation=loan, actor=member)
    assert selectors.handoff_for(reservation=loan, user=member, now=loan.starts_at) is None


def test_an_auto_approved_loan_a_month_ahead_reveals_no_address(api_as, tool, private_owner, member, community):
    """Issue 10: reputation farmed, auto-approval passed; the address still waits."""
    Tool.objects.filter(pk=tool.pk).update(auto_approve=True, auto_approve_min_exchanges=2)
    TrustScoreFactory(user=member, score=Decimal("5.00"), rating_count=3)
    for _ in range(2):
        completed_loan(lender=established_neighbor(community), borrower=member, community=community)
    body = {"tool": tool.pk, "starts_at": at(28).isoformat(), "ends_at": at(29).isoformat()}
    created = api_as(member).post(RES, body, format="json").json()
    assert created["status"] == "approved"
    assert created["handoff"] is None and created["handoff_from"] is not None
