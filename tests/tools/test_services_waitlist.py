"""The waitlist: a freed window goes to the first in line, then the next when the offer lapses."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.tools import services
from apps.tools.models import Reservation, WaitlistEntry
from apps.tools.tasks import expire_unpicked_loans, lapse_waitlist_offers
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def at(days: float, hours: float = 0):
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    return base + timedelta(days=days, hours=hours)


@pytest.fixture
def neighbors(community):
    return [MembershipFactory(community=community, user__profile__display_name=n).user for n in ("Bea", "Cal", "Dot")]


def offers_to(user):
    return list(Notification.objects.filter(recipient=user, kind="tools.waitlist").values_list("text", flat=True))


def test_a_freed_slot_goes_to_the_first_in_line_then_the_next_after_the_offer_lapses(tool, member, owner, neighbors):
    bea, cal, dot = neighbors
    booked = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    first = services.waitlist_join(tool=tool, member=bea, starts_at=at(0), ends_at=at(1))
    second = services.waitlist_join(tool=tool, member=cal, starts_at=at(0, 2), ends_at=at(0, 8))

    services.reservation_cancel(reservation=booked, actor=member)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "offered" and second.status == "waiting"
    assert first.offer_expires_at == first.offered_at + services.WAITLIST_OFFER_HOLD
    assert len(offers_to(bea)) == 1 and offers_to(cal) == []

    # While the offer is open the window is held: nobody else can book over it.
    with pytest.raises(RuleViolation, match="held for a neighbor") as exc:
        services.reservation_request(tool=tool, borrower=dot, starts_at=at(0, 3), ends_at=at(0, 5))
    assert exc.value.code == "held"
    # The lapse task before expiry changes nothing.
    assert lapse_waitlist_offers.delay().get() == 0

    with time_machine.travel(first.offer_expires_at + timedelta(minutes=1), tick=False):
        assert lapse_waitlist_offers.delay().get() == 1
        assert lapse_waitlist_offers.delay().get() == 0  # idempotent
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.status == "lapsed"
        assert second.status == "offered"
        assert len(offers_to(cal)) == 1 and len(offers_to(bea)) == 1
        with pytest.raises(RuleViolation, match="no longer open"):
            services.waitlist_accept(entry=first, actor=bea)
        reservation = services.waitlist_accept(entry=second, actor=cal)
    assert reservation.status == "requested"
    assert (reservation.starts_at, reservation.ends_at) == (at(0, 2), at(0, 8))
    second.refresh_from_db()
    assert second.status == "booked" and second.reservation == reservation


def test_only_the_member_it_was_offered_to_may_take_it(tool, member, neighbors):
    bea, cal, _ = neighbors
    booked = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    entry = services.waitlist_join(tool=tool, member=bea, starts_at=at(0), ends_at=at(1))
    services.reservation_cancel(reservation=booked, actor=member)
    with pytest.raises(RuleViolation) as exc:
        services.waitlist_accept(entry=entry, actor=cal)
    assert exc.value.code == "forbidden"
    with pytest.raises(RuleViolation):
        services.waitlist_withdraw(entry=entry, actor=cal)
    entry.refresh_from_db()
    assert entry.status == "offered"
    assert Reservation.objects.filter(status="requested").count() == 0


def test_withdrawing_an_offer_passes_it_on(tool, member, owner, neighbors):
    bea, cal, _ = neighbors
    booked = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    first = services.waitlist_join(tool=tool, member=bea, starts_at=at(0), ends_at=at(1))
    second = services.waitlist_join(tool=tool, member=cal, starts_at=at(0), ends_at=at(1))
    services.reservation_decline(reservation=booked, actor=owner)
    services.waitlist_withdraw(entry=first, actor=bea)
    second.refresh_from_db()
    assert second.status == "offered"


def test_an_expired_loan_frees_its_window_for_the_waitlist(tool, member, owner, neighbors):
    bea, *_ = neighbors
    booked = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(2))
    services.reservation_approve(reservation=booked, actor=owner)
    entry = services.waitlist_join(tool=tool, member=bea, starts_at=at(1), ends_at=at(2))
    with time_machine.travel(at(0, 13), tick=False):
        assert expire_unpicked_loans.delay().get() == 1
    entry.refresh_from_db()
    assert entry.status == "offered"
    # The hold can't outlast the time the window can still be booked with the owner's notice.
    assert entry.offer_expires_at <= entry.starts_at - timedelta(hours=tool.min_notice_hours)


def test_a_window_that_has_passed_is_not_offered(tool, member, owner, neighbors):
    bea, cal, _ = neighbors
    booked = services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    soon = services.waitlist_join(tool=tool, member=bea, starts_at=at(0), ends_at=at(0, 5))
    later = services.waitlist_join(tool=tool, member=cal, starts_at=at(0, 6), ends_at=at(1))
    with time_machine.travel(at(0, 1), tick=False):
        services.reservation_decline(reservation=booked, actor=owner)
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.status == "passed"
    assert later.status == "offered"


def test_joining_is_for_taken_windows_once_per_tool(tool, member, neighbors):
    bea, *_ = neighbors
    with pytest.raises(RuleViolation) as exc:
        services.waitlist_join(tool=tool, member=bea, starts_at=at(0), ends_at=at(1))
    assert exc.value.code == "window_free"
    services.reservation_request(tool=tool, borrower=member, starts_at=at(0), ends_at=at(1))
    services.waitlist_join(tool=tool, member=bea, starts_at=at(0), ends_at=at(1))
    with pytest.raises(RuleViolation) as exc:
        services.waitlist_join(tool=tool, member=bea, starts_at=at(0, 1), ends_at=at(0, 3))
    assert exc.value.code == "already_waiting"
    with pytest.raises(RuleViolation) as exc:
        services.waitlist_join(tool=tool, member=tool.owner, starts_at=at(0), ends_at=at(1))
    assert exc.value.code == "own_tool"
    assert WaitlistEntry.objects.count() == 1
