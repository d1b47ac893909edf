"""Reservations: the rules of a request, every transition and who may make it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.tools import services
from apps.tools.factories import ReservationFactory
from apps.tools.models import Reservation, Tool
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_when

pytestmark = pytest.mark.django_db


def at(days: float, hours: float = 0):
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return base + timedelta(days=days, hours=hours)


def request(tool, borrower, start=0, end=1, **kw):
    return services.reservation_request(tool=tool, borrower=borrower, starts_at=at(start), ends_at=at(end), **kw)


def test_a_member_requests_a_window_and_the_owner_hears_of_it(tool, member, owner):
    reservation = request(tool, member, message="For the shelves")
    assert reservation.status == "requested"
    assert reservation.blocked_until == reservation.ends_at + timedelta(hours=2)
    assert list(reservation.events.values_list("to_status", flat=True)) == ["requested"]
    assert Notification.objects.get(recipient=owner).text == "Max Member asks to borrow Cordless drill"


def test_an_overlapping_request_is_refused_naming_the_next_free_window(tool, member, organizer):
    request(tool, member, 0, 1)
    with pytest.raises(RuleViolation, match="already booked") as exc:
        request(tool, organizer, 0.5, 1.5)
    expected = at(1, 2)  # the first loan's end plus the 2-hour buffer
    assert f"next available for that long from {format_when(expected)}" in str(exc.value)
    assert Reservation.objects.count() == 1


def test_the_buffer_after_a_loan_is_kept_free(tool, member, organizer):
    request(tool, member, 0, 1)
    with pytest.raises(RuleViolation):
        services.reservation_request(tool=tool, borrower=organizer, starts_at=at(1, 1), ends_at=at(2))
    assert services.reservation_request(tool=tool, borrower=organizer, starts_at=at(1, 2), ends_at=at(2))


def test_a_declined_or_cancelled_window_frees_up(tool, member, organizer, owner):
    first = request(tool, member)
    services.reservation_decline(reservation=first, actor=owner)
    assert request(tool, organizer).status == "requested"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(1, 0.5, "ends_at"), (0, 8, "ends_at"), (-3, -2, "starts_at")],
)
def test_bad_windows_are_refused_with_field_errors(tool, member, start, end, field):
    with pytest.raises(ValidationError) as exc:
        request(tool, member, start, end)
    assert field in exc.value.message_dict
    assert not Reservation.objects.exists()


def test_naive_times_are_refused(tool, member):
    with pytest.raises(ValidationError, match="timezone"):
        services.reservation_request(
            tool=tool, borrower=member, starts_at=at(0).replace(tzinfo=None), ends_at=at(1).replace(tzinfo=None)
        )


def test_nobody_borrows_their_own_tool(tool, owner):
    with pytest.raises(RuleViolation, match="your own tool"):
        request(tool, owner)


def test_strangers_and_suspended_members_cannot_borrow(tool, stranger, member):
    with pytest.raises(RuleViolation, match=r"^Join Sunnyside Commons to borrow tools there\.$") as refused:
        request(tool, stranger)
    assert refused.value.code == "not_member"
    from apps.peers.models import Membership

    Membership.objects.filter(user=member).update(status="suspended", status_reason="Kept a ladder for months")
    with pytest.raises(RuleViolation, match=r"suspended.*Kept a ladder"):
        request(tool, member)


def test_paused_tools_cannot_be_requested(tool, member):
    Tool.objects.filter(pk=tool.pk).update(status="paused")
    with pytest.raises(RuleViolation, match="not available"):
        request(tool, member)


def test_the_whole_loan_records_every_transition(tool, member, owner):
    r = request(tool, member)
    r = services.reservation_approve(reservation=r, actor=owner)
    r = services.reservation_pickup(reservation=r, actor=member, now=r.starts_at)
    r = services.reservation_return(reservation=r, actor=owner, now=r.starts_at + timedelta(hours=3))
    assert r.status == "returned" and r.picked_up_at and r.returned_at
    assert [(e.from_status, e.to_status, e.actor) for e in r.events.all()] == [
        ("", "requested", member),
        ("requested", "approved", owner),
        ("approved", "picked_up", member),
        ("picked_up", "returned", owner),
    ]


STATE_BEFORE = {
    "approve": "requested",
    "decline": "requested",
    "cancel": "approved",
    "pickup": "approved",
    "return": "picked_up",
}


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("approve", {"owner"}),
        ("decline", {"owner"}),
        ("cancel", {"owner", "member"}),
        ("pickup", {"owner", "member"}),
        ("return", {"owner"}),
    ],
)
def test_who_may_make_each_transition(tool, owner, member, organizer, stranger, action, allowed):
    people = {"owner": owner, "member": member, "organizer": organizer, "stranger": stranger}
    for i, (who, person) in enumerate(sorted(people.items())):
        r = ReservationFactory(
            tool=tool, borrower=member, status=STATE_BEFORE[action], starts_at=at(3 * i), ends_at=at(3 * i + 1)
        )
        call = getattr(services, f"reservation_{action}")
        when = {"now": r.starts_at} if action in ("pickup", "return") else {}
        if action == "return":
            Reservation.objects.filter(pk=r.pk).update(picked_up_at=r.starts_at)
        if who in allowed:
            call(reservation=r, actor=person, **when)
            r.refresh_from_db()
            assert r.status != STATE_BEFORE[action], who
        else:
            with pytest.raises(RuleViolation, match="Only"):
                call(reservation=r, actor=person, **when)
            r.refresh_from_db()
            assert r.status == STATE_BEFORE[action] and not r.events.exists(), who


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("requested", "pickup"),
        ("requested", "return"),
        ("approved", "approve"),
        ("returned", "cancel"),
        ("declined", "approve"),
        ("picked_up", "cancel"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(tool, member, owner, state, action):
    r = request(tool, member)
    Reservation.objects.filter(pk=r.pk).update(status=state)
    r.refresh_from_db()
    actor = owner
    with pytest.raises(RuleViolation) as exc:
        getattr(services, f"reservation_{action}")(reservation=r, actor=actor)
    assert exc.value.code == "illegal_transition"
    r.refresh_from_db()
    assert r.status == state and r.events.count() == 1


def test_a_fee_is_paid_once_at_pickup(tool, member, owner, community):
    from apps.ledger.models import Transfer
    from apps.ledger.services import account_for

    Tool.objects.filter(pk=tool.pk).update(fee_per_day="1.50")
    tool.refresh_from_db()
    r = services.reservation_approve(reservation=request(tool, member, 0, 2), actor=owner)
    services.reservation_pickup(reservation=r, actor=member, now=r.starts_at)
    assert account_for(user=owner, community=community, currency="CREDIT").balance == 3
    assert Transfer.objects.get().related == r


def test_unpicked_approved_loans_expire_once(tool, member, owner):
    r = services.reservation_approve(reservation=request(tool, member), actor=owner)
    later = r.starts_at + services.PICKUP_GRACE + timedelta(minutes=1)
    assert services.reservations_expire(now=later) == 1
    assert services.reservations_expire(now=later) == 0
    r.refresh_from_db()
    assert r.status == "expired"


def test_a_returned_loan_is_a_reviewable_exchange(tool, member, owner):
    from apps.reputation import services as reputation

    start = timezone.now() + timedelta(hours=1)  # reviews need a return in the past: a loan starting soon
    r = services.reservation_request(tool=tool, borrower=member, starts_at=start, ends_at=start + timedelta(days=1))
    r = services.reservation_approve(reservation=r, actor=owner)
    r = services.reservation_pickup(reservation=r, actor=member)
    r = services.reservation_return(reservation=r, actor=owner)
    review = reputation.review_create(author=member, exchange=r, rating=5, comment="Great drill")
    assert review.subject == owner and review.domain == "tools"


def test_borrowers_of_other_communities_stay_out(tool, other_community):
    outsider = MembershipFactory(community=other_community).user
    with pytest.raises(RuleViolation):
        request(tool, outsider)
