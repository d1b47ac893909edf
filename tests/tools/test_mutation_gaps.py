"""Reservation rules that only mutation testing showed untested (`make mutate`, issue 10
item 16): each test here kills mutants that every other test let survive."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.ledger.models import Transfer
from apps.notifications.models import Notification
from apps.reputation.factories import TrustScoreFactory
from apps.tools import services
from apps.tools.models import Reservation, WaitlistEntry

pytestmark = pytest.mark.django_db


def at(days: float, hours: float = 0):
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return base + timedelta(days=days, hours=hours)


def request(tool, borrower, start=0, end=1, **kw) -> Reservation:
    return services.reservation_request(tool=tool, borrower=borrower, starts_at=at(start), ends_at=at(end), **kw)


def test_a_request_message_over_500_characters_is_a_field_error(tool, member):
    with pytest.raises(ValidationError) as refused:
        request(tool, member, message="x" * 501)
    assert "message" in refused.value.message_dict
    assert not Reservation.objects.exists()
    assert request(tool, member, message="y" * 500).message == "y" * 500


def test_a_window_that_ends_before_a_later_booking_is_free(tool, member, organizer):
    later = request(tool, member, start=3, end=4)
    earlier = request(tool, organizer, start=0, end=1)
    assert set(Reservation.objects.values_list("pk", flat=True)) == {later.pk, earlier.pk}


def test_the_owners_request_notice_names_the_borrower_and_opens_the_loan(tool, owner, member):
    reservation = request(tool, member)
    notice = Notification.objects.get(recipient=owner, kind="tools.requested")
    assert notice.actor == member
    assert (notice.target_type, notice.target_id) == (ContentType.objects.get_for_model(Reservation), reservation.pk)


def notice_of(recipient, kind) -> Notification:
    return Notification.objects.filter(recipient=recipient, kind=kind).latest("id")


def opens(notice: Notification, reservation: Reservation) -> bool:
    return (notice.target_type, notice.target_id) == (ContentType.objects.get_for_model(Reservation), reservation.pk)


def test_an_automatic_approval_tells_both_sides_and_opens_the_loan(tool, owner, member):
    tool.auto_approve = True
    tool.auto_approve_min_score = Decimal("4.00")
    tool.auto_approve_min_exchanges = 0
    tool.save()
    TrustScoreFactory(user=member, score=Decimal("4.50"), rating_count=2)
    reservation = request(tool, member)
    assert reservation.status == "approved"
    to_owner = notice_of(owner, "tools.requested")
    assert to_owner.actor == member and opens(to_owner, reservation)
    assert opens(notice_of(member, "tools.decided"), reservation)


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_the_borrowers_decision_notice_names_the_owner_and_opens_the_loan(tool, owner, member, decision):
    reservation = request(tool, member)
    getattr(services, f"reservation_{decision}")(reservation=reservation, actor=owner)
    notice = notice_of(member, "tools.decided")
    assert notice.actor == owner and opens(notice, reservation)


def test_a_cancel_notice_names_who_cancelled_and_opens_the_loan(tool, owner, member):
    reservation = request(tool, member)
    services.reservation_cancel(reservation=reservation, actor=member)
    notice = notice_of(owner, "tools.decided")
    assert notice.actor == member and opens(notice, reservation)


def test_a_lapsed_request_notice_opens_the_loan(tool, member):
    reservation = request(tool, member)
    services.reservations_expire(now=reservation.starts_at + timedelta(days=1))
    assert opens(notice_of(member, "tools.decided"), reservation)


def test_the_fee_paid_at_pickup_is_recorded_as_an_exchange(tool, owner, member):
    services.tool_update(tool=tool, actor=owner, fee_per_day=Decimal("2"))
    reservation = services.reservation_approve(reservation=request(tool, member), actor=owner)
    services.reservation_pickup(reservation=reservation, actor=member, now=reservation.starts_at)
    assert Transfer.objects.get(related_id=reservation.pk).kind == "exchange"


def test_a_returned_loan_invites_both_neighbors_to_review_it(tool, owner, member):
    reservation = services.reservation_approve(reservation=request(tool, member), actor=owner)
    reservation = services.reservation_pickup(reservation=reservation, actor=owner, now=reservation.starts_at)
    services.reservation_return(reservation=reservation, actor=owner, now=reservation.starts_at + timedelta(hours=1))
    invited = Notification.objects.filter(kind="reputation.invited")
    assert {n.recipient for n in invited} == {owner, member}
    assert all(opens(n, reservation) for n in invited)


def test_an_expiry_run_offers_the_freed_window_from_its_own_time(tool, member, organizer):
    tool.max_loan_days = 5
    tool.save()
    reservation = request(tool, member, start=0, end=4)
    entry = services.waitlist_join(tool=tool, member=organizer, starts_at=at(3), ends_at=at(3.5))
    run_at = reservation.starts_at + timedelta(days=1)
    assert services.reservations_expire(now=run_at) == 1
    entry = WaitlistEntry.objects.get(pk=entry.pk)
    assert (entry.status, entry.offered_at) == (WaitlistEntry.Status.OFFERED, run_at)
