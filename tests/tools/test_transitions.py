"""The reservation transitions, guard by guard: who may make each, from which state, at
which time; what each writes and whom it tells. Each test fails if its guard is removed.

Issue 10, items 1, 2, 9 and 16: the fee is fixed at request and only it is charged, by
the borrower's own pickup; pickups and returns only within their windows; a cap on open
requests and on repeated requests for one tool.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.ledger.models import Transfer
from apps.ledger.services import account_for
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.tools import services
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import Reservation, ReservationEvent, Tool, WaitlistEntry
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db
S = Reservation.Status
SECOND = timedelta(seconds=1)


def at(days: float, hours: float = 0):
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return base + timedelta(days=days, hours=hours)


def request(tool, borrower, start=0, end=1, **kw) -> Reservation:
    return services.reservation_request(tool=tool, borrower=borrower, starts_at=at(start), ends_at=at(end), **kw)


def approved(tool, borrower, start=0, end=1) -> Reservation:
    return services.reservation_approve(reservation=request(tool, borrower, start, end), actor=tool.owner)


def credit(user, community) -> Decimal:
    return account_for(user=user, community=community, currency="CREDIT").balance


def set_fee(tool, fee) -> Tool:
    return services.tool_update(tool=tool, actor=tool.owner, fee_per_day=None if fee is None else Decimal(fee))


def unchanged(reservation: Reservation, status: str, events: int) -> bool:
    reservation.refresh_from_db()
    return reservation.status == status and reservation.events.count() == events


# --- item 1: the fee is fixed at request ---------------------------------------------------
def test_the_fee_is_fixed_on_the_reservation_when_it_is_requested(tool, member, owner):
    set_fee(tool, "1.50")
    loan = request(tool, member, 0, 2.25)  # two days and six hours: three days begun
    loan.refresh_from_db()
    assert (loan.fee_per_day, loan.fee_days, loan.fee_total) == (Decimal("1.50"), 3, Decimal("4.50"))
    assert Notification.objects.get(recipient=owner).text == "Max Member asks to borrow Cordless drill for 4.50 credits"


def test_a_free_tool_fixes_no_fee(tool, member, owner):
    loan = request(tool, member)
    loan.refresh_from_db()
    assert (loan.fee_per_day, loan.fee_total, loan.has_fee) == (None, Decimal("0.00"), False)


def test_an_owner_cannot_change_the_fee_of_an_approved_loan(tool, member, owner, community):
    """Issue 10's reproduction: a free ladder, approved; the fee set to 50, a pickup recorded
    8 days early, the fee set back. Now the early pickup is refused, and the pickup at the
    start charges nothing: the loan was free when it was requested."""
    loan = approved(tool, member, 8, 9)
    set_fee(tool, "50")
    with pytest.raises(RuleViolation) as early:
        services.reservation_pickup(reservation=loan, actor=owner)
    assert early.value.code == "too_early"
    services.reservation_pickup(reservation=loan, actor=owner, now=loan.starts_at)
    set_fee(tool, None)
    loan.refresh_from_db()
    assert loan.status == S.PICKED_UP and loan.fee_total == 0
    assert credit(member, community) == 0 and not Transfer.objects.exists()


def test_only_the_fee_fixed_at_request_is_charged_at_pickup(tool, member, owner, community):
    set_fee(tool, "1.50")
    loan = approved(tool, member, 0, 2)
    set_fee(tool, "50")
    services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    transfer = Transfer.objects.get()
    assert (transfer.amount, transfer.created_by, transfer.related) == (Decimal("3.00"), member, loan)
    assert (credit(member, community), credit(owner, community)) == (Decimal("-3.00"), Decimal("3.00"))
    assert transfer.memo == "Fee for Cordless drill (2 day(s))"


def test_lowering_the_tools_fee_does_not_change_a_requested_loan_either(tool, member):
    set_fee(tool, "5")
    loan = request(tool, member)
    set_fee(tool, "1")
    loan.refresh_from_db()
    assert (loan.fee_per_day, loan.fee_total) == (Decimal("5.00"), Decimal("5.00"))


def test_when_a_fee_is_due_only_the_borrower_records_the_pickup(tool, member, owner, community):
    set_fee(tool, "2")
    loan = approved(tool, member)
    with pytest.raises(RuleViolation, match="Only the borrower can record the pickup of a loan with a fee") as exc:
        services.reservation_pickup(reservation=loan, actor=owner, now=loan.starts_at)
    assert exc.value.code == "forbidden"
    assert unchanged(loan, S.APPROVED, 2) and not Transfer.objects.exists()
    services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    assert credit(owner, community) == 2


def test_a_free_loan_may_be_picked_up_by_the_owner(tool, member, owner):
    loan = approved(tool, member)
    loan = services.reservation_pickup(reservation=loan, actor=owner, now=loan.starts_at)
    assert loan.status == S.PICKED_UP and loan.events.last().actor == owner


def test_a_pickup_charges_the_fee_once(tool, member, owner, community):
    set_fee(tool, "2")
    loan = approved(tool, member)
    services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    with pytest.raises(RuleViolation):
        services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    assert Transfer.objects.count() == 1 and credit(member, community) == -2


def test_a_pickup_the_borrower_cannot_pay_changes_nothing(tool, member, owner, community):
    set_fee(tool, "90")
    loan = approved(tool, member, 0, 7)  # 630 credits, below the default limit of -500
    with pytest.raises(RuleViolation):
        services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    assert unchanged(loan, S.APPROVED, 2) and not Transfer.objects.exists()


def test_a_request_is_refused_when_the_fee_changed_since_the_borrower_saw_it(tool, member, owner):
    set_fee(tool, "2")
    with pytest.raises(RuleViolation, match=r"The fee of Cordless drill has changed \(now: 2 credits a day\)") as exc:
        request(tool, member, expected_fee_per_day=None)
    assert exc.value.code == "fee_changed" and not Reservation.objects.exists()
    assert not Notification.objects.filter(recipient=owner).exists()
    assert request(tool, member, expected_fee_per_day=Decimal("2.0")).fee_total == 2


def test_a_free_tool_seen_as_free_is_requested(tool, member):
    assert request(tool, member, expected_fee_per_day=Decimal("0")).fee_total == 0
    with pytest.raises(RuleViolation, match=r"has changed \(now: no fee\)"):
        request(tool, member, 2, 3, expected_fee_per_day=Decimal("1"))


# --- pickup and return windows (items 1 and 2) --------------------------------------------
def test_no_pickup_earlier_than_two_hours_before_the_start(tool, member, owner):
    loan = approved(tool, member)
    assert timedelta(hours=2) == services.PICKUP_EARLY
    with pytest.raises(RuleViolation, match="can be recorded from") as exc:
        services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at - services.PICKUP_EARLY - SECOND)
    assert exc.value.code == "too_early" and unchanged(loan, S.APPROVED, 2)
    opens = loan.starts_at - services.PICKUP_EARLY
    loan = services.reservation_pickup(reservation=loan, actor=member, now=opens)
    assert loan.status == S.PICKED_UP and loan.picked_up_at == opens


def test_no_pickup_after_the_pickup_grace(tool, member, owner):
    late = approved(tool, member, 0, 1)
    with pytest.raises(RuleViolation) as exc:
        services.reservation_pickup(reservation=late, actor=member, now=late.starts_at + services.PICKUP_GRACE + SECOND)
    assert exc.value.code == "too_late" and unchanged(late, S.APPROVED, 2)
    last = late.starts_at + services.PICKUP_GRACE
    assert services.reservation_pickup(reservation=late, actor=member, now=last).picked_up_at == last


def test_the_time_guard_of_a_pickup_holds_for_the_owner_too(tool, member, owner):
    loan = approved(tool, member)
    with pytest.raises(RuleViolation) as exc:
        services.reservation_pickup(reservation=loan, actor=owner, now=loan.starts_at - timedelta(days=1))
    assert exc.value.code == "too_early" and unchanged(loan, S.APPROVED, 2)


def test_no_return_before_the_pickup(tool, member, owner):
    loan = approved(tool, member)
    picked = loan.starts_at + timedelta(hours=1)
    loan = services.reservation_pickup(reservation=loan, actor=member, now=picked)
    with pytest.raises(RuleViolation, match="The return can be recorded from") as exc:
        services.reservation_return(reservation=loan, actor=owner, now=picked - SECOND)
    assert exc.value.code == "too_early" and unchanged(loan, S.PICKED_UP, 3)
    loan = services.reservation_return(reservation=loan, actor=owner, now=picked)
    assert loan.status == S.RETURNED and loan.returned_at == picked


def test_a_return_is_stamped_with_its_time(tool, member, owner):
    loan = approved(tool, member)
    loan = services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    back = loan.starts_at + timedelta(hours=20)
    loan = services.reservation_return(reservation=loan, actor=owner, now=back)
    assert (loan.returned_at, loan.events.last().to_status, loan.events.last().actor) == (back, S.RETURNED, owner)


def test_a_borrower_cannot_record_the_return(tool, member, owner):
    loan = approved(tool, member)
    loan = services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    with pytest.raises(RuleViolation, match="Only the tool's owner"):
        services.reservation_return(reservation=loan, actor=member, now=loan.ends_at)
    assert unchanged(loan, S.PICKED_UP, 3)


def test_the_farming_journey_of_issue_10_is_refused_before_the_start(tool, member, owner):
    """Request, approve, pickup and return all within seconds, days before the start."""
    loan = approved(tool, member, 3, 4)
    with pytest.raises(RuleViolation):
        services.reservation_pickup(reservation=loan, actor=member)
    with pytest.raises(RuleViolation):
        services.reservation_return(reservation=loan, actor=owner)
    assert unchanged(loan, S.APPROVED, 2)


# --- item 9: caps on requests ---------------------------------------------------------------
def test_a_member_may_have_at_most_five_open_requests(tool, member, owner, community):
    assert services.MAX_OPEN_REQUESTS == 5
    tools = [ToolFactory(owner=owner, community=community) for _ in range(6)]
    first = [services.reservation_request(tool=t, borrower=member, starts_at=at(0), ends_at=at(1)) for t in tools[:5]]
    notified = Notification.objects.filter(recipient=owner).count()
    with pytest.raises(RuleViolation, match="You already have 5 requests waiting for an answer") as exc:
        services.reservation_request(tool=tools[5], borrower=member, starts_at=at(0), ends_at=at(1))
    assert exc.value.code == "too_many_open_requests"
    assert Reservation.objects.count() == 5 and Notification.objects.filter(recipient=owner).count() == notified
    services.reservation_decline(reservation=first[0], actor=owner)  # an answer frees a place
    assert services.reservation_request(tool=tools[5], borrower=member, starts_at=at(0), ends_at=at(1)).pk


def test_approved_loans_and_requests_whose_start_passed_are_not_open_requests(tool, member, owner, community):
    for _ in range(5):
        ReservationFactory(tool=ToolFactory(community=community), borrower=member, status=S.APPROVED)
    for n in range(3):
        ReservationFactory(
            tool=ToolFactory(community=community),
            borrower=member,
            starts_at=timezone.now() - timedelta(days=n + 1),
            ends_at=timezone.now() - timedelta(days=n),
        )
    assert request(tool, member).status == S.REQUESTED


def test_request_and_cancel_cycles_stop_after_three_requests_for_a_tool_a_day(tool, member, owner):
    assert (3, timedelta(hours=24)) == (services.MAX_REQUESTS_PER_TOOL, services.REPEAT_WINDOW)
    for _ in range(3):
        services.reservation_cancel(reservation=request(tool, member), actor=member)
    with pytest.raises(RuleViolation, match="You asked for Cordless drill 3 times in the last day") as exc:
        request(tool, member)
    assert exc.value.code == "too_many_requests_for_tool"
    assert Notification.objects.filter(recipient=owner, kind="tools.requested").count() == 3
    oldest = Reservation.objects.order_by("created_at").first()
    Reservation.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - services.REPEAT_WINDOW - SECOND)
    assert request(tool, member).status == S.REQUESTED


def test_the_repeat_cap_is_per_tool(tool, member, owner, community):
    for _ in range(3):
        services.reservation_cancel(reservation=request(tool, member), actor=member)
    other = ToolFactory(owner=owner, community=community)
    assert services.reservation_request(tool=other, borrower=member, starts_at=at(0), ends_at=at(1)).pk


# --- item 16: expiry -----------------------------------------------------------------------------
def test_an_approved_loan_whose_start_is_in_the_future_does_not_expire(tool, member):
    loan = approved(tool, member)
    assert services.reservations_expire(now=loan.starts_at - SECOND) == 0
    assert unchanged(loan, S.APPROVED, 2)


def test_an_approved_loan_within_the_pickup_grace_does_not_expire(tool, member):
    loan = approved(tool, member)
    assert services.reservations_expire(now=loan.starts_at + services.PICKUP_GRACE) == 0
    assert unchanged(loan, S.APPROVED, 2)
    assert services.reservations_expire(now=loan.starts_at + services.PICKUP_GRACE + SECOND) == 1
    loan.refresh_from_db()
    assert loan.status == S.EXPIRED and loan.events.last().actor is None


def test_picked_up_loans_never_expire(tool, member, owner):
    picked = approved(tool, member, 2, 3)
    services.reservation_pickup(reservation=picked, actor=member, now=picked.starts_at)
    assert services.reservations_expire(now=at(10)) == 0
    assert unchanged(picked, S.PICKED_UP, 3)


def test_a_request_the_owner_never_answered_lapses_when_its_pickup_window_closes(tool, member, owner):
    loan = request(tool, member, 0, 1)
    assert services.reservations_expire(now=loan.starts_at + services.PICKUP_GRACE) == 0
    assert unchanged(loan, S.REQUESTED, 1)
    assert services.reservations_expire(now=loan.starts_at + services.PICKUP_GRACE + SECOND) == 1
    assert unchanged(loan, S.EXPIRED, 2)
    note = Notification.objects.get(recipient=member, kind="tools.decided")
    assert note.text == "Your request for Cordless drill lapsed: Olive Owner did not answer before the pickup time"


def test_an_owner_cannot_approve_a_request_after_its_pickup_window_closed(tool, member, owner):
    loan = request(tool, member, 0, 1)
    assert (
        services.reservation_approve(reservation=loan, actor=owner, now=loan.starts_at + services.PICKUP_GRACE).status
        == S.APPROVED
    )
    late = request(tool, member, 3, 4)
    with pytest.raises(RuleViolation) as refused:
        services.reservation_approve(reservation=late, actor=owner, now=late.starts_at + services.PICKUP_GRACE + SECOND)
    assert refused.value.code == "too_late"
    assert unchanged(late, S.REQUESTED, 1)


# --- item 16: notifications and notes --------------------------------------------------------------
def test_the_borrower_is_notified_on_approve(tool, member, owner):
    loan = request(tool, member)
    services.reservation_approve(reservation=loan, actor=owner)
    note = Notification.objects.get(recipient=member)
    assert (note.kind, note.actor, note.text) == (
        "tools.decided",
        owner,
        "Olive Owner approved your request for Cordless drill",
    )


def test_the_borrower_is_notified_on_decline(tool, member, owner):
    services.reservation_decline(reservation=request(tool, member), actor=owner, note="Away")
    note = Notification.objects.get(recipient=member)
    assert (note.kind, note.actor, note.text) == (
        "tools.decided",
        owner,
        "Olive Owner declined your request for Cordless drill",
    )


@pytest.mark.parametrize("who", ["borrower", "owner"])
def test_the_other_party_is_notified_on_cancel(tool, member, owner, who):
    actor, other = (member, owner) if who == "borrower" else (owner, member)
    loan = approved(tool, member)
    before = Notification.objects.filter(recipient=other).count()
    services.reservation_cancel(reservation=loan, actor=actor)
    assert Notification.objects.filter(recipient=other).count() == before + 1
    note = Notification.objects.filter(recipient=other).latest("id")
    assert (note.kind, note.actor, note.text) == (
        "tools.decided",
        actor,
        f"{actor.public_name} cancelled the loan of Cordless drill",
    )
    assert not Notification.objects.filter(recipient=actor, text__contains="cancelled").exists()


@pytest.mark.parametrize("action", ["decline", "cancel"])
def test_a_decline_or_cancel_note_over_300_characters_is_cut_to_300(tool, member, owner, action):
    loan = request(tool, member)
    note = "x" * 299 + "yz" + "!" * 50
    # The owner declines a request; the borrower takes theirs back.
    getattr(services, f"reservation_{action}")(
        reservation=loan, actor=owner if action == "decline" else member, note=note
    )
    event = ReservationEvent.objects.get(reservation=loan, to_status=S.DECLINED if action == "decline" else S.CANCELLED)
    assert event.note == "x" * 299 + "y"


def test_an_owner_says_no_to_a_request_by_declining_not_cancelling(tool, member, owner):
    loan = request(tool, member)
    with pytest.raises(RuleViolation, match="Decline the request instead") as refused:
        services.reservation_cancel(reservation=loan, actor=owner)
    assert refused.value.code == "illegal_transition"
    loan.refresh_from_db()
    assert loan.status == S.REQUESTED
    later = approved(tool, member, start=3, end=4)
    assert services.reservation_cancel(reservation=later, actor=owner).status == S.CANCELLED


@pytest.mark.parametrize("state", [S.REQUESTED, S.APPROVED])
def test_a_request_or_an_approved_loan_may_be_cancelled(tool, member, state):
    loan = request(tool, member) if state == S.REQUESTED else approved(tool, member)
    loan = services.reservation_cancel(reservation=loan, actor=member)
    assert loan.status == S.CANCELLED and loan.events.last().from_status == state


def test_a_decline_offers_the_window_to_the_waitlist(tool, member, owner, community):
    waiting = MembershipFactory(community=community).user
    loan = request(tool, member)
    entry = services.waitlist_join(tool=tool, member=waiting, starts_at=at(0), ends_at=at(0.5))
    services.reservation_decline(reservation=loan, actor=owner)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED


def test_a_cancel_offers_the_window_to_the_waitlist(tool, member, owner, community):
    waiting = MembershipFactory(community=community).user
    loan = approved(tool, member)
    entry = services.waitlist_join(tool=tool, member=waiting, starts_at=at(0), ends_at=at(0.5))
    services.reservation_cancel(reservation=loan, actor=owner)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED


def test_a_pickup_does_not_offer_the_window(tool, member, community):
    loan = approved(tool, member)
    waiting = MembershipFactory(community=community).user
    entry = services.waitlist_join(tool=tool, member=waiting, starts_at=at(0), ends_at=at(0.5))
    services.reservation_pickup(reservation=loan, actor=member, now=loan.starts_at)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING


# --- item 16: the request's own guards ---------------------------------------------------------------
def test_a_request_records_its_window_buffer_and_first_event(tool, member):
    loan = request(tool, member, 0, 1, message="Shelves")
    loan.refresh_from_db()
    assert (loan.starts_at, loan.ends_at, loan.blocked_until) == (at(0), at(1), at(1, 2))
    assert (loan.status, loan.message, loan.borrower) == (S.REQUESTED, "Shelves", member)
    assert list(loan.events.values_list("from_status", "to_status", "actor")) == [("", S.REQUESTED, member.pk)]


def test_a_request_needs_the_tools_notice(tool, member):
    Tool.objects.filter(pk=tool.pk).update(min_notice_hours=72)
    tool.refresh_from_db()
    with pytest.raises(ValidationError, match="72 hour"):
        request(tool, member, 0, 1)  # in two days
    assert request(tool, member, 1.5, 2).status == S.REQUESTED


def test_a_request_longer_than_the_longest_loan_is_refused(tool, member):
    with pytest.raises(ValidationError, match="at most 7 day"):
        request(tool, member, 0, 7 + 1 / 24)
    assert request(tool, member, 0, 7).status == S.REQUESTED


def test_a_request_held_for_the_waitlist_is_refused_to_others(tool, member, owner, community):
    waiting = MembershipFactory(community=community).user
    loan = request(tool, member)
    entry = services.waitlist_join(tool=tool, member=waiting, starts_at=at(0), ends_at=at(1))
    services.reservation_decline(reservation=loan, actor=owner)
    third = MembershipFactory(community=community).user
    with pytest.raises(RuleViolation) as exc:
        request(tool, third)
    assert exc.value.code == "held"
    assert services.waitlist_accept(entry=entry, actor=waiting).status == S.REQUESTED


def test_a_hidden_tool_cannot_be_requested(tool, member):
    Tool.objects.filter(pk=tool.pk).update(is_hidden=True)
    with pytest.raises(RuleViolation) as exc:
        request(tool, member)
    assert exc.value.code == "not_active" and not Reservation.objects.exists()


def test_a_condition_report_blocks_only_its_author_at_its_own_stage(tool, member, owner):
    from apps.tools.models import ConditionReport
    from apps.tools.transitions import LOAN

    loan = approved(tool, member)
    ConditionReport.objects.create(reservation=loan, stage="pickup", author=owner, condition="good")
    assert "report_pickup" not in LOAN.allowed_names(loan, owner)
    assert "report_pickup" in LOAN.allowed_names(loan, member)  # the owner's report is not the borrower's
    S_ = Reservation.Status
    Reservation.objects.filter(pk=loan.pk).update(status=S_.PICKED_UP)
    loan.refresh_from_db()
    assert "report_return" in LOAN.allowed_names(loan, owner)  # a pickup report does not close the return


def test_each_loan_button_names_the_other_person_who_is_told(tool, member, owner):
    from apps.tools.transitions import LOAN

    loan = approved(tool, member)
    [owner_cancel] = LOAN.buttons(loan, owner, names=["cancel"])
    [borrower_cancel] = LOAN.buttons(loan, member, names=["cancel"])
    assert owner_cancel.help.endswith(f"{member.public_name} is told.")
    assert borrower_cancel.help.endswith(f"{owner.public_name} is told.")
