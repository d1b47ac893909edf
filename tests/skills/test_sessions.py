"""Sessions and the hours they move: both confirm, then once, within the limit."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.ledger.models import Account, Transfer
from apps.ledger.services import account_for
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.skills import services
from apps.skills.models import Session
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def balance(user, community) -> Decimal:
    account = Account.objects.filter(owner=user, community=community, currency="HOUR").first()
    return account.balance if account else Decimal(0)


@pytest.fixture
def helper(owner):
    return owner  # Olive Owner helps


@pytest.fixture
def learner(member):
    return member  # Max Member learns


def propose(community, helper, learner, proposer=None, hours="2", when=None, **kw):
    return services.session_propose(
        proposer=proposer or learner,
        helper=helper,
        learner=learner,
        community=community,
        title="Fix the bike's gears",
        starts_at=when or timezone.now() + timedelta(days=1),
        planned_hours=Decimal(hours),
        place="Olive's garage",
        **kw,
    )


@pytest.fixture
def agreed(community, helper, learner):
    session = propose(community, helper, learner)
    return services.session_accept(session=session, actor=helper)


def after(session):
    return time_machine.travel(session.starts_at + timedelta(hours=3), tick=False)


def test_hours_move_only_after_both_confirm_and_only_once(agreed, community, helper, learner):
    with after(agreed):
        services.session_confirm(session=agreed, actor=learner, hours="2")
        assert balance(learner, community) == 0 and not Transfer.objects.exists()
        [seat] = services.session_confirm(session=agreed, actor=helper, hours="2")
        assert seat.status == "completed" and seat.hours == Decimal("2.00")
        assert balance(learner, community) == Decimal("-2") and balance(helper, community) == Decimal("2")
        # Retries (a phone resending) change nothing; a different figure after settling is refused.
        assert services.session_confirm(session=agreed, actor=helper, hours="2")[0].status == "completed"
        services.session_confirm(session=agreed, actor=learner, hours="2")
        with pytest.raises(RuleViolation, match="completed"):
            services.session_confirm(session=agreed, actor=learner, hours="3")
    assert Transfer.objects.count() == 1
    transfer = Transfer.objects.get()
    assert transfer.idempotency_key == f"skills-session:{agreed.pk}:{learner.pk}" and transfer.currency == "HOUR"
    agreed.refresh_from_db()
    assert agreed.status == "completed"
    invited = Notification.objects.filter(kind="reputation.invited").values_list("recipient", flat=True)
    assert sorted(invited) == sorted([helper.pk, learner.pk])


def test_close_figures_count_the_lower_and_far_apart_ones_are_a_dispute(community, helper, learner, organizer):
    close = services.session_accept(session=propose(community, helper, learner), actor=helper)
    with after(close):
        services.session_confirm(session=close, actor=learner, hours="1.75")
        [seat] = services.session_confirm(session=close, actor=helper, hours="2.25")
    assert seat.hours == Decimal("1.75") and balance(helper, community) == Decimal("1.75")

    apart = services.session_accept(
        session=propose(community, helper, learner, when=timezone.now() + timedelta(days=2)), actor=helper
    )
    with after(apart):
        services.session_confirm(session=apart, actor=learner, hours="1")
        [seat] = services.session_confirm(session=apart, actor=helper, hours="3")
    assert seat.status == "disputed" and "differ" in seat.dispute_reason
    assert balance(helper, community) == Decimal("1.75")  # nothing more moved
    assert Notification.objects.filter(recipient=organizer, kind="moderation.flagged").exists()


def test_a_session_beyond_the_learners_limit_is_refused_with_their_balance(community, helper, learner):
    with pytest.raises(RuleViolation) as exc:
        propose(community, helper, learner, hours="11")
    assert exc.value.code == "limit"
    assert "0 hours with a limit of -10 hours" in str(exc.value)
    assert not Session.objects.exists()


def test_a_confirmation_that_would_break_the_limit_is_refused_and_changes_nothing(agreed, community, helper, learner):
    account = account_for(user=learner, community=community, currency="HOUR")
    Account.objects.filter(pk=account.pk).update(limit=Decimal("-1"))  # the organizers lowered it after booking
    with after(agreed):
        services.session_confirm(session=agreed, actor=helper, hours="2")
        with pytest.raises(RuleViolation, match="below the limit"):
            services.session_confirm(session=agreed, actor=learner, hours="2")
    seat = agreed.seats.get()
    assert seat.learner_hours is None and seat.status == "booked" and not Transfer.objects.exists()


def test_confirming_before_the_session_or_by_others_is_refused(agreed, stranger, organizer, helper):
    with pytest.raises(RuleViolation) as exc:
        services.session_confirm(session=agreed, actor=helper, hours="2")
    assert exc.value.code == "not_started"
    with after(agreed):
        for outsider in (stranger, organizer):
            with pytest.raises(RuleViolation) as exc:
                services.session_confirm(session=agreed, actor=outsider, hours="2")
            assert exc.value.code == "forbidden"
        with pytest.raises(ValidationError):
            services.session_confirm(session=agreed, actor=helper, hours="-1")
    assert not agreed.seats.exclude(helper_hours=None).exists()


def test_who_may_propose_accept_and_cancel(community, helper, learner, organizer, stranger):
    with pytest.raises(RuleViolation):
        propose(community, helper, learner, proposer=organizer)
    with pytest.raises(RuleViolation):
        propose(community, helper, stranger, proposer=stranger)  # not a member
    session = propose(community, helper, learner, proposer=helper)
    for not_them in (helper, organizer, stranger):  # the proposer can't accept their own proposal
        with pytest.raises(RuleViolation):
            services.session_accept(session=session, actor=not_them)
    services.session_accept(session=session, actor=learner)
    for outsider in (organizer, stranger):
        with pytest.raises(RuleViolation):
            services.session_cancel(session=session, actor=outsider)
    assert services.session_cancel(session=session, actor=learner).status == "cancelled"
    assert session.seats.get().status == "left"


def test_nobody_cancels_after_the_start(agreed, helper):
    with after(agreed), pytest.raises(RuleViolation) as exc:
        services.session_cancel(session=agreed, actor=helper)
    assert exc.value.code == "started"


def test_a_group_session_moves_each_learners_hours_to_the_helper(community, helper, organizer):
    learners = [MembershipFactory(community=community).user for _ in range(3)]
    session = services.group_session_create(
        helper=helper,
        community=community,
        title="Repair café",
        starts_at=timezone.now() + timedelta(days=1),
        planned_hours=Decimal("1.5"),
        capacity=3,
        place="Community hall",
    )
    for learner in learners:
        services.seat_join(session=session, learner=learner)
    with pytest.raises(RuleViolation, match="full"):
        services.seat_join(session=session, learner=organizer)
    with after(session):
        services.session_confirm(session=session, actor=helper, hours="1.5")
        for learner in learners[:2]:
            services.session_confirm(session=session, actor=learner, hours="1.5")
        session.refresh_from_db()
        assert session.status == "scheduled"  # one learner still to confirm
        services.session_confirm(session=session, actor=learners[2], hours="1.25")
    assert [balance(lr, community) for lr in learners] == [Decimal("-1.5"), Decimal("-1.5"), Decimal("-1.25")]
    assert balance(helper, community) == Decimal("4.25")
    session.refresh_from_db()
    assert session.status == "completed" and Transfer.objects.count() == 3


def test_a_dispute_after_the_hours_moved_is_settled_with_a_reversing_transfer(
    agreed, community, helper, learner, organizer, stranger
):
    with after(agreed):
        services.session_confirm(session=agreed, actor=learner, hours="2")
        [seat] = services.session_confirm(session=agreed, actor=helper, hours="2")
        with pytest.raises(RuleViolation):
            services.seat_dispute(seat=seat, actor=stranger, reason="I saw it")
        services.seat_dispute(seat=seat, actor=learner, reason="It took one hour, the gears still slip")
    with pytest.raises(RuleViolation):
        services.dispute_settle(seat=seat, actor=helper, hours="1", reason="Mine")
    seat = services.dispute_settle(seat=seat, actor=organizer, hours="1", reason="Both agreed on one hour")
    assert seat.status == "completed" and seat.hours == Decimal("1.00")
    assert balance(learner, community) == Decimal("-1") and balance(helper, community) == Decimal("1")
    assert Transfer.objects.filter(kind="reversal").count() == 1


def test_time_balance_is_shown_before_booking(community, learner):
    assert services.headroom(user=learner, community=community) == (Decimal("0"), Decimal("-10"))
