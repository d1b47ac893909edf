"""Each guard of the session transitions (who, which state, which time, which limit),
pinned at its boundary, so removing a guard or shifting a boundary fails a test.

Services: session_propose, session_accept, group_session_create, seat_join,
session_cancel, seat_leave, session_confirm (and the settling it does), seat_dispute,
dispute_settle."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.ledger.models import Account, Transfer
from apps.ledger.services import account_for
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory, UserFactory
from apps.peers.models import Membership
from apps.skills import services
from apps.skills.factories import OfferFactory, RequestFactory, SeatFactory, SessionFactory
from apps.skills.models import Seat, Session
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


@pytest.fixture
def helper(owner):
    return owner  # Olive Owner


@pytest.fixture
def learner(member):
    return member  # Max Member


@pytest.fixture
def moment():
    """A frozen now, so times can be set to the second around it."""
    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now, tick=False):
        yield now


def propose(community, helper, learner, *, proposer=None, hours="2", when=None, **kw):
    kw.setdefault("place", "Olive's garage")
    return services.session_propose(
        proposer=proposer or learner,
        helper=helper,
        learner=learner,
        community=community,
        title=kw.pop("title", "Fix the gears"),
        starts_at=when or timezone.now() + timedelta(days=1),
        planned_hours=Decimal(hours),
        **kw,
    )


def group(community, helper, *, capacity=3, when=None, **kw):
    kw.setdefault("place", "The library")
    return services.group_session_create(
        helper=helper,
        community=community,
        title=kw.pop("title", "Repair café"),
        starts_at=when or timezone.now() + timedelta(days=1),
        planned_hours=Decimal(kw.pop("hours", "1")),
        capacity=capacity,
        **kw,
    )


def code_of(call) -> str:
    with pytest.raises(RuleViolation) as exc:
        call()
    return exc.value.code


def fields_of(call) -> dict:
    with pytest.raises(ValidationError) as exc:
        call()
    return exc.value.message_dict


def hour_balance(user, community) -> Decimal:
    account = Account.objects.filter(owner=user, community=community, currency="HOUR").first()
    return account.balance if account else Decimal("0.00")


def one_to_one(community, helper, learner, *, status=Session.Status.SCHEDULED, starts_at=None, **seat):
    session = SessionFactory(
        helper=helper,
        community=community,
        status=status,
        starts_at=starts_at or timezone.now() - timedelta(hours=3),
        proposed_by=learner,
    )
    SeatFactory(session=session, learner=learner, **seat)
    return session


# --- proposing: the time, the hours, the place ------------------------------------------------------
def test_a_session_must_start_after_now_to_the_second(community, helper, learner, moment):
    assert fields_of(lambda: propose(community, helper, learner, when=moment)) == {
        "starts_at": ["Choose a time in the future."]
    }
    assert propose(community, helper, learner, when=moment + timedelta(seconds=1)).starts_at > moment


def test_a_session_is_planned_at_most_a_year_ahead(community, helper, learner, moment):
    too_far = moment + timedelta(days=365, seconds=1)
    assert fields_of(lambda: propose(community, helper, learner, when=too_far)) == {
        "starts_at": ["Plan sessions at most a year ahead."]
    }
    assert propose(community, helper, learner, when=moment + timedelta(days=365)).pk


def test_a_time_without_a_timezone_is_refused(community, helper, learner):
    naive = (timezone.now() + timedelta(days=1)).replace(tzinfo=None)
    assert fields_of(lambda: propose(community, helper, learner, when=naive)) == {
        "starts_at": ["Give the time with its timezone."]
    }


@pytest.mark.parametrize(("hours", "ok"), [("0.24", False), ("0.25", True), ("12.00", True), ("12.01", False)])
def test_planned_hours_are_a_quarter_to_twelve(community, helper, learner, hours, ok):
    account = account_for(user=learner, community=community, currency="HOUR")
    Account.objects.filter(pk=account.pk).update(limit=Decimal("-12.00"))
    if ok:
        assert propose(community, helper, learner, hours=hours).planned_hours == Decimal(hours)
    else:
        assert fields_of(lambda: propose(community, helper, learner, hours=hours)) == {
            "planned_hours": ["Between 0.25 and 12.00 hours."]
        }


def test_a_place_is_needed_unless_remote_and_has_at_most_200_characters(community, helper, learner):
    assert fields_of(lambda: propose(community, helper, learner, place="  ")) == {
        "place": ["Say where you meet, or mark it remote."]
    }
    assert propose(community, helper, learner, place="", remote=True).remote
    assert fields_of(lambda: propose(community, helper, learner, place="x" * 201)) == {
        "place": ["At most 200 characters."]
    }
    assert propose(community, helper, learner, place=" " + "x" * 199).place == "x" * 199


# --- proposing: who --------------------------------------------------------------------------------
def test_only_the_helper_or_the_learner_proposes(community, helper, learner, organizer):
    assert code_of(lambda: propose(community, helper, learner, proposer=organizer)) == "forbidden"
    assert propose(community, helper, learner, proposer=helper).proposed_by == helper
    assert propose(community, helper, learner, proposer=learner).proposed_by == learner
    assert Session.objects.count() == 2


def test_nobody_proposes_a_session_with_themselves(community, helper):
    assert code_of(lambda: propose(community, helper, helper, proposer=helper)) == "same_person"


@pytest.mark.parametrize("who", ["helper", "learner"])
@pytest.mark.parametrize(("standing", "code"), [("gone", "not_member"), ("suspended", "suspended")])
def test_both_people_must_be_active_members(community, helper, learner, who, standing, code):
    person, proposer = (helper, learner) if who == "helper" else (learner, helper)
    memberships = Membership.objects.filter(user=person, community=community)
    if standing == "gone":
        memberships.delete()
    else:
        memberships.update(status=Membership.Status.SUSPENDED)
    assert code_of(lambda: propose(community, helper, learner, proposer=proposer)) == code
    assert not Session.objects.exists()


def test_the_request_must_be_the_learners_in_this_community(community, other_community, helper, learner):
    theirs = RequestFactory(member=helper, community=community)
    assert fields_of(lambda: propose(community, helper, learner, request=theirs)) == {
        "request": ["That request is not the learner's in this community."]
    }
    MembershipFactory(community=other_community, user=learner)
    elsewhere = RequestFactory(member=learner, community=other_community)
    assert "request" in fields_of(lambda: propose(community, helper, learner, request=elsewhere))
    mine = RequestFactory(member=learner, community=community)
    assert propose(community, helper, learner, request=mine).request == mine


def test_the_offer_must_be_the_helpers_in_this_community(community, other_community, helper, learner):
    not_theirs = OfferFactory(member=learner, community=community)
    assert fields_of(lambda: propose(community, helper, learner, offer=not_theirs)) == {
        "offer": ["That offer is not the helper's in this community."]
    }
    MembershipFactory(community=other_community, user=helper)
    elsewhere = OfferFactory(member=helper, community=other_community)
    assert "offer" in fields_of(lambda: propose(community, helper, learner, offer=elsewhere))
    theirs = OfferFactory(member=helper, community=community)
    assert propose(community, helper, learner, offer=theirs).offer == theirs


def test_a_proposal_may_take_the_learner_exactly_to_their_limit_not_past_it(community, helper, learner):
    account = account_for(user=learner, community=community, currency="HOUR")
    Account.objects.filter(pk=account.pk).update(limit=Decimal("-2.00"))
    with pytest.raises(RuleViolation) as exc:
        propose(community, helper, learner, hours="2.01")
    assert exc.value.code == "limit"
    assert str(exc.value) == (
        "Your time balance is 0 hours with a limit of -2 hours: 2.01 hours more would take it below the limit."
    )
    with pytest.raises(RuleViolation, match=r"^Max Member's time balance"):
        propose(community, helper, learner, proposer=helper, hours="2.01")
    assert propose(community, helper, learner, hours="2.00").planned_hours == Decimal("2.00")


def test_a_proposal_tells_the_other_person_only_and_books_one_seat(community, helper, learner):
    session = propose(community, helper, learner, proposer=helper, title="")
    assert session.title == "Skill session" and session.status == Session.Status.PROPOSED and session.capacity == 1
    assert list(session.seats.values_list("learner", "status")) == [(learner.pk, "booked")]
    told = Notification.objects.filter(kind="skills.session")
    assert list(told.values_list("recipient", flat=True)) == [learner.pk]
    assert told.get().text.startswith("Olive Owner proposes a session “Skill session” on ")
    assert (told.get().actor, told.get().target_id, told.get().url) == (helper, session.pk, session.get_absolute_url())


def test_a_proposal_for_a_request_takes_its_title_when_none_is_given(community, helper, learner):
    wanted = RequestFactory(member=learner, community=community, title="Gears slip")
    assert propose(community, helper, learner, request=wanted, title="").title == "Gears slip"
    assert propose(community, helper, learner, title="x" * 130).title == "x" * 120


# --- agreeing --------------------------------------------------------------------------------------
def test_only_the_other_person_agrees_to_a_proposal(community, helper, learner, organizer):
    session = propose(community, helper, learner, proposer=learner)
    assert code_of(lambda: services.session_accept(session=session, actor=organizer)) == "forbidden"
    with pytest.raises(RuleViolation, match=r"The other person agrees to what you proposed\.") as exc:
        services.session_accept(session=session, actor=learner)
    assert exc.value.code == "forbidden"
    assert Session.objects.get(pk=session.pk).status == Session.Status.PROPOSED
    assert services.session_accept(session=session, actor=helper).status == Session.Status.SCHEDULED
    told = Notification.objects.filter(kind="skills.session", recipient=learner)
    assert told.count() == 1 and told.get().text.startswith("Olive Owner agreed to “Fix the gears”")
    assert (told.get().actor, told.get().target_id, told.get().url) == (helper, session.pk, session.get_absolute_url())


@pytest.mark.parametrize("status", [Session.Status.SCHEDULED, Session.Status.CANCELLED, Session.Status.COMPLETED])
def test_only_a_proposed_session_is_agreed_to(community, helper, learner, status):
    session = propose(community, helper, learner)
    Session.objects.filter(pk=session.pk).update(status=status)
    assert code_of(lambda: services.session_accept(session=session, actor=helper)) == "illegal_transition"
    assert Session.objects.get(pk=session.pk).status == status


def test_a_proposal_is_agreed_to_only_before_its_start(community, helper, learner, moment):
    session = propose(community, helper, learner, when=moment + timedelta(hours=1))
    with time_machine.travel(moment + timedelta(hours=1), tick=False), pytest.raises(RuleViolation) as exc:
        services.session_accept(session=session, actor=helper)
    assert exc.value.code == "illegal_transition"
    assert str(exc.value) == "This session's time has passed; propose a new one."
    with time_machine.travel(moment + timedelta(hours=1) - timedelta(seconds=1), tick=False):
        assert services.session_accept(session=session, actor=helper).status == Session.Status.SCHEDULED


# --- group sessions --------------------------------------------------------------------------------
@pytest.mark.parametrize(("capacity", "ok"), [(1, False), (2, True), (30, True), (31, False)])
def test_a_group_session_has_2_to_30_places(community, helper, capacity, ok):
    if ok:
        session = group(community, helper, capacity=capacity)
        assert session.capacity == capacity and session.status == Session.Status.SCHEDULED
        assert session.proposed_by == helper and not session.seats.exists()
    else:
        assert fields_of(lambda: group(community, helper, capacity=capacity)) == {
            "capacity": ["A group session has 2 to 30 places."]
        }


def test_a_group_session_needs_a_title_a_member_helper_and_the_helpers_own_offer(community, helper, learner, stranger):
    assert fields_of(lambda: group(community, helper, title="   ")) == {"title": ["Give the session a title."]}
    assert code_of(lambda: group(community, stranger)) == "not_member"
    assert fields_of(lambda: group(community, helper, offer=OfferFactory(member=learner, community=community))) == {
        "offer": ["That offer is not yours."]
    }
    mine = OfferFactory(member=helper, community=community)
    assert group(community, helper, offer=mine, title="  Café  ").title == "Café"
    assert group(community, helper, offer=mine).offer == mine


def test_a_group_session_checks_the_time_like_any_session(community, helper, moment):
    assert "starts_at" in fields_of(lambda: group(community, helper, when=moment))


# --- joining ---------------------------------------------------------------------------------------
@pytest.fixture
def cafe(community, helper):
    return group(community, helper, capacity=2)


def test_a_member_joins_a_group_session_and_the_helper_is_told(cafe, learner, helper):
    seat = services.seat_join(session=cafe, learner=learner)
    assert seat.status == Seat.Status.BOOKED and seat.learner == learner
    told = Notification.objects.filter(kind="skills.session", recipient=helper)
    assert told.get().text == "Max Member joined “Repair café”"


def test_a_one_to_one_session_is_not_joined(community, helper, learner):
    session = propose(community, helper, learner)
    other = MembershipFactory(community=community).user
    assert code_of(lambda: services.seat_join(session=session, learner=other)) == "not_group"


@pytest.mark.parametrize("status", [Session.Status.PROPOSED, Session.Status.CANCELLED, Session.Status.COMPLETED])
def test_only_a_scheduled_group_session_is_joined(cafe, learner, status):
    Session.objects.filter(pk=cafe.pk).update(status=status)
    assert code_of(lambda: services.seat_join(session=cafe, learner=learner)) == "illegal_transition"


def test_a_group_session_is_joined_only_before_its_start(community, helper, learner, moment):
    session = group(community, helper, when=moment + timedelta(hours=1))
    with time_machine.travel(moment + timedelta(hours=1), tick=False):
        assert code_of(lambda: services.seat_join(session=session, learner=learner)) == "illegal_transition"
    with time_machine.travel(moment + timedelta(hours=1) - timedelta(seconds=1), tick=False):
        assert services.seat_join(session=session, learner=learner).status == Seat.Status.BOOKED


def test_the_helper_does_not_join_their_own_session_nor_outsiders(cafe, helper, stranger):
    assert code_of(lambda: services.seat_join(session=cafe, learner=helper)) == "same_person"
    assert code_of(lambda: services.seat_join(session=cafe, learner=stranger)) == "not_member"
    assert not cafe.seats.exists()


def test_joining_may_take_the_learner_to_their_limit_not_past_it(community, helper, learner):
    session = group(community, helper, hours="2")
    account = account_for(user=learner, community=community, currency="HOUR")
    Account.objects.filter(pk=account.pk).update(limit=Decimal("-1.99"))
    assert code_of(lambda: services.seat_join(session=session, learner=learner)) == "limit"
    Account.objects.filter(pk=account.pk).update(limit=Decimal("-2.00"))
    assert services.seat_join(session=session, learner=learner).status == Seat.Status.BOOKED


def test_one_place_per_learner_and_no_more_than_the_places(cafe, community, learner):
    services.seat_join(session=cafe, learner=learner)
    assert code_of(lambda: services.seat_join(session=cafe, learner=learner)) == "already_joined"
    second = MembershipFactory(community=community).user
    services.seat_join(session=cafe, learner=second)  # the last place
    third = MembershipFactory(community=community).user
    assert code_of(lambda: services.seat_join(session=cafe, learner=third)) == "full"
    assert cafe.seats.filter(status=Seat.Status.BOOKED).count() == 2


def test_a_learner_who_left_may_join_again_and_their_old_place_counts_no_more(cafe, community, learner):
    seat = services.seat_join(session=cafe, learner=learner)
    services.seat_leave(seat=seat, actor=learner)
    services.seat_join(session=cafe, learner=MembershipFactory(community=community).user)
    again = services.seat_join(session=cafe, learner=learner)  # 1 booked + 1 left: a place is free
    assert again.pk == seat.pk and again.status == Seat.Status.BOOKED


def test_rejoining_books_only_the_returning_learners_place(community, helper, learner):
    session = group(community, helper, capacity=3)
    other = MembershipFactory(community=community).user
    services.seat_leave(seat=services.seat_join(session=session, learner=other), actor=other)
    services.seat_leave(seat=services.seat_join(session=session, learner=learner), actor=learner)
    services.seat_join(session=session, learner=learner)
    assert Seat.objects.get(session=session, learner=other).status == Seat.Status.LEFT


# --- cancelling and leaving --------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["helper", "learner"])
def test_either_person_cancels_a_one_to_one_session_and_the_other_is_told_why(community, helper, learner, who):
    session = services.session_accept(session=propose(community, helper, learner), actor=helper)
    actor, other = (helper, learner) if who == "helper" else (learner, helper)
    Notification.objects.all().delete()
    cancelled = services.session_cancel(session=session, actor=actor, reason="Sick " + "x" * 300)
    assert cancelled.status == Session.Status.CANCELLED
    assert session.seats.get().status == Seat.Status.LEFT
    told = Notification.objects.get(kind="skills.session")
    assert told.recipient == other
    assert told.text == f"{actor.public_name} cancelled “Fix the gears”: Sick " + "x" * 195


def test_a_cancellation_without_a_reason_says_so_plainly(community, helper, learner):
    session = propose(community, helper, learner)
    Notification.objects.all().delete()
    services.session_cancel(session=session, actor=learner)
    assert Notification.objects.get().text == "Max Member cancelled “Fix the gears”"


def test_only_the_helper_cancels_a_group_session_a_learner_leaves_it(cafe, helper, learner, organizer):
    seat = services.seat_join(session=cafe, learner=learner)
    assert code_of(lambda: services.session_cancel(session=cafe, actor=learner)) == "forbidden"
    assert code_of(lambda: services.session_cancel(session=cafe, actor=organizer)) == "forbidden"
    Notification.objects.all().delete()
    services.session_cancel(session=cafe, actor=helper)
    assert Seat.objects.get(pk=seat.pk).status == Seat.Status.LEFT
    assert list(Notification.objects.values_list("recipient", flat=True)) == [learner.pk]


@pytest.mark.parametrize("status", [Session.Status.CANCELLED, Session.Status.COMPLETED])
def test_a_cancelled_or_completed_session_is_not_cancelled_again(community, helper, learner, status):
    session = propose(community, helper, learner)
    Session.objects.filter(pk=session.pk).update(status=status)
    assert code_of(lambda: services.session_cancel(session=session, actor=helper)) == "illegal_transition"


def test_a_session_is_cancelled_only_before_its_start(community, helper, learner, moment):
    session = propose(community, helper, learner, when=moment + timedelta(hours=1))
    with time_machine.travel(moment + timedelta(hours=1), tick=False):
        assert code_of(lambda: services.session_cancel(session=session, actor=helper)) == "started"
    with time_machine.travel(moment + timedelta(hours=1) - timedelta(seconds=1), tick=False):
        assert services.session_cancel(session=session, actor=helper).status == Session.Status.CANCELLED


def test_only_the_learner_gives_up_their_place_before_the_start(community, helper, learner, moment):
    session = group(community, helper, when=moment + timedelta(hours=1))
    seat = services.seat_join(session=session, learner=learner)
    assert code_of(lambda: services.seat_leave(seat=seat, actor=helper)) == "forbidden"
    with time_machine.travel(moment + timedelta(hours=1), tick=False):
        assert code_of(lambda: services.seat_leave(seat=seat, actor=learner)) == "illegal_transition"
    with time_machine.travel(moment + timedelta(hours=1) - timedelta(seconds=1), tick=False):
        assert services.seat_leave(seat=seat, actor=learner).status == Seat.Status.LEFT
    assert code_of(lambda: services.seat_leave(seat=seat, actor=learner)) == "illegal_transition"


# --- confirming the hours ----------------------------------------------------------------------------
@pytest.mark.parametrize(("hours", "ok"), [("-0.01", False), ("0", True), ("12.00", True), ("12.01", False)])
def test_confirmed_hours_are_0_to_12(community, helper, learner, hours, ok):
    session = one_to_one(community, helper, learner)
    if ok:
        [seat] = services.session_confirm(session=session, actor=learner, hours=hours)
        assert seat.learner_hours == Decimal(hours)
    else:
        assert fields_of(lambda: services.session_confirm(session=session, actor=learner, hours=hours)) == {
            "hours": ["Between 0 and 12.00 hours."]
        }


def test_hours_that_are_not_a_number_are_a_field_error(community, helper, learner):
    session = one_to_one(community, helper, learner)
    assert fields_of(lambda: services.session_confirm(session=session, actor=learner, hours="two")) == {
        "hours": ["Give the hours as a number, e.g. 1.5."]
    }
    [seat] = services.session_confirm(session=session, actor=learner, hours="1.256")
    assert seat.learner_hours == Decimal("1.26")


def test_hours_are_confirmed_from_the_start_on_not_before(community, helper, learner, moment):
    session = one_to_one(community, helper, learner, starts_at=moment + timedelta(seconds=1))
    assert code_of(lambda: services.session_confirm(session=session, actor=learner, hours="1")) == "not_started"
    session = one_to_one(community, helper, UserFactory(), starts_at=moment)
    MembershipFactory(community=community, user=session.seats.get().learner)
    [seat] = services.session_confirm(session=session, actor=helper, hours="1")
    assert seat.helper_hours == Decimal("1.00")


@pytest.mark.parametrize("status", [Session.Status.PROPOSED, Session.Status.CANCELLED])
def test_hours_of_a_session_not_agreed_or_cancelled_are_not_confirmed(community, helper, learner, status):
    session = one_to_one(community, helper, learner, status=status)
    assert code_of(lambda: services.session_confirm(session=session, actor=learner, hours="1")) == "illegal_transition"
    assert session.seats.get().learner_hours is None


def test_a_repeated_confirmation_changes_nothing_even_after_the_hours_moved(community, helper, learner):
    session = one_to_one(community, helper, learner)
    services.session_confirm(session=session, actor=learner, hours="2")
    services.session_confirm(session=session, actor=helper, hours="2")
    Session.objects.filter(pk=session.pk).update(status=Session.Status.COMPLETED)
    [seat] = services.session_confirm(session=session, actor=helper, hours="2")
    assert seat.status == Seat.Status.COMPLETED and Transfer.objects.count() == 1


def test_the_learner_confirms_only_their_own_place(community, helper, learner):
    session = group(community, helper, capacity=3)
    services.seat_join(session=session, learner=learner)
    other = MembershipFactory(community=community).user
    services.seat_join(session=session, learner=other)
    with time_machine.travel(session.starts_at + timedelta(hours=1)):
        [seat] = services.session_confirm(session=session, actor=learner, hours="1")
    assert seat.learner == learner
    assert Seat.objects.get(session=session, learner=other).learner_hours is None


def test_the_helper_may_confirm_one_learners_place_only(community, helper, learner):
    session = group(community, helper, capacity=3)
    services.seat_join(session=session, learner=learner)
    other = MembershipFactory(community=community).user
    services.seat_join(session=session, learner=other)
    with time_machine.travel(session.starts_at + timedelta(hours=1)):
        [seat] = services.session_confirm(session=session, actor=helper, hours="1", learner=other)
    assert seat.learner == other and seat.helper_hours == Decimal("1.00")
    assert Seat.objects.get(session=session, learner=learner).helper_hours is None


def test_the_helper_confirming_all_skips_settled_places_and_a_named_settled_place_is_refused(
    community, helper, learner
):
    session = group(community, helper, capacity=3)
    left = services.seat_join(session=session, learner=learner)
    services.seat_leave(seat=left, actor=learner)
    other = MembershipFactory(community=community).user
    services.seat_join(session=session, learner=other)
    with time_machine.travel(session.starts_at + timedelta(hours=1)):
        [seat] = services.session_confirm(session=session, actor=helper, hours="1")
        assert seat.learner == other
        with pytest.raises(RuleViolation, match=r"This place is cancelled already\.") as exc:
            services.session_confirm(session=session, actor=helper, hours="1.5", learner=learner)
        assert exc.value.code == "illegal_transition"
        with pytest.raises(RuleViolation, match=r"This place is cancelled already\.") as exc:
            services.session_confirm(session=session, actor=learner, hours="1.5")
        assert exc.value.code == "illegal_transition"


def test_the_helper_confirming_when_every_place_is_settled_is_told_so(community, helper, learner):
    session = one_to_one(community, helper, learner, status=Session.Status.SCHEDULED)
    Seat.objects.filter(session=session).update(status=Seat.Status.LEFT)
    with pytest.raises(RuleViolation, match=r"Every place of this session is settled already\.") as exc:
        services.session_confirm(session=session, actor=helper, hours="1")
    assert exc.value.code == "illegal_transition"


def test_a_group_session_completes_only_when_its_last_place_is_settled(community, helper, learner):
    session = group(community, helper, capacity=3)
    services.seat_join(session=session, learner=learner)
    other = MembershipFactory(community=community).user
    services.seat_join(session=session, learner=other)
    with time_machine.travel(session.starts_at + timedelta(hours=1)):
        services.session_confirm(session=session, actor=helper, hours="1")
        services.session_confirm(session=session, actor=learner, hours="1")
        assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED
        services.session_confirm(session=session, actor=other, hours="1")
    assert Session.objects.get(pk=session.pk).status == Session.Status.COMPLETED
    assert hour_balance(helper, community) == Decimal("2.00")


def test_figures_exactly_half_an_hour_apart_agree_on_the_lower(community, helper, learner):
    session = one_to_one(community, helper, learner)
    services.session_confirm(session=session, actor=learner, hours="2.00")
    [seat] = services.session_confirm(session=session, actor=helper, hours="2.50")
    assert seat.status == Seat.Status.COMPLETED and seat.hours == Decimal("2.00")
    assert hour_balance(learner, community) == Decimal("-2.00")
    assert seat.transfer.memo == "Fix a bike (2.00 h)"


def test_figures_more_than_half_an_hour_apart_are_disputed_and_nothing_moves(community, helper, learner, organizer):
    session = one_to_one(community, helper, learner)
    services.session_confirm(session=session, actor=learner, hours="2.00")
    [seat] = services.session_confirm(session=session, actor=helper, hours="2.51")
    assert seat.status == Seat.Status.DISPUTED
    assert seat.dispute_reason == "The hours differ: 2 hours (learner) and 2.51 hours (helper)."
    assert not Transfer.objects.exists()
    flagged = Notification.objects.get(kind="moderation.flagged")
    assert flagged.recipient == organizer and "A skill session is disputed" in flagged.text
    assert sorted(
        Notification.objects.filter(text__contains="is disputed; the organizers").values_list("recipient", flat=True)
    ) == sorted([helper.pk, learner.pk])


def test_zero_hours_agreed_complete_the_place_without_a_transfer(community, helper, learner):
    session = one_to_one(community, helper, learner)
    services.session_confirm(session=session, actor=learner, hours="0")
    [seat] = services.session_confirm(session=session, actor=helper, hours="0")
    assert seat.status == Seat.Status.COMPLETED and seat.hours == Decimal("0.00") and seat.transfer is None
    assert not Transfer.objects.exists()


def test_settled_hours_may_take_the_learner_exactly_to_their_limit(community, helper, learner):
    session = one_to_one(community, helper, learner)
    account = account_for(user=learner, community=community, currency="HOUR")
    Account.objects.filter(pk=account.pk).update(limit=Decimal("-2.00"))
    services.session_confirm(session=session, actor=learner, hours="2")
    [seat] = services.session_confirm(session=session, actor=helper, hours="2")
    assert seat.status == Seat.Status.COMPLETED and hour_balance(learner, community) == Decimal("-2.00")


def test_when_the_hours_move_both_are_told_and_invited_to_review(community, helper, learner):
    session = one_to_one(community, helper, learner)
    services.session_confirm(session=session, actor=learner, hours="2")
    services.session_confirm(session=session, actor=helper, hours="2")
    moved = Notification.objects.filter(text__contains="2 hours moved from Max Member to Olive Owner")
    assert sorted(moved.values_list("recipient", flat=True)) == sorted([helper.pk, learner.pk])
    assert Notification.objects.filter(kind="reputation.invited").count() == 2


# --- disputes ----------------------------------------------------------------------------------------
@pytest.fixture
def completed(community, helper, learner):
    session = one_to_one(community, helper, learner)
    services.session_confirm(session=session, actor=learner, hours="2")
    [seat] = services.session_confirm(session=session, actor=helper, hours="2")
    return seat


def test_only_the_two_people_dispute_and_they_say_why(completed, organizer, learner):
    assert code_of(lambda: services.seat_dispute(seat=completed, actor=organizer, reason="Hm")) == "forbidden"
    assert fields_of(lambda: services.seat_dispute(seat=completed, actor=learner, reason="  ")) == {
        "reason": ["Say what went wrong."]
    }
    seat = services.seat_dispute(seat=completed, actor=learner, reason=" It took one hour ")
    assert seat.status == Seat.Status.DISPUTED and seat.dispute_reason == "It took one hour"


def test_the_other_person_and_the_organizers_are_told_of_a_dispute_not_the_one_who_disputes(
    completed, helper, learner, organizer
):
    Notification.objects.all().delete()
    services.seat_dispute(seat=completed, actor=learner, reason="It took one hour")
    assert sorted(Notification.objects.values_list("recipient", flat=True)) == sorted([helper.pk, organizer.pk])


@pytest.mark.parametrize("status", [Seat.Status.LEFT, Seat.Status.DISPUTED])
def test_a_place_that_was_left_or_is_disputed_is_not_disputed(completed, learner, status):
    Seat.objects.filter(pk=completed.pk).update(status=status)
    assert code_of(lambda: services.seat_dispute(seat=completed, actor=learner, reason="x")) == "illegal_transition"


def test_a_cancelled_session_is_not_disputed(community, helper, learner):
    session = one_to_one(community, helper, learner, status=Session.Status.CANCELLED)
    seat = session.seats.get()
    assert code_of(lambda: services.seat_dispute(seat=seat, actor=learner, reason="x")) == "illegal_transition"


def test_a_booked_place_is_disputed_from_the_start_on(community, helper, learner, moment):
    session = one_to_one(community, helper, learner, starts_at=moment + timedelta(seconds=1))
    seat = session.seats.get()
    assert code_of(lambda: services.seat_dispute(seat=seat, actor=learner, reason="x")) == "not_started"
    Session.objects.filter(pk=session.pk).update(starts_at=moment)
    assert services.seat_dispute(seat=seat, actor=learner, reason="x").status == Seat.Status.DISPUTED


def test_disputes_close_exactly_fourteen_days_after_the_hours_moved(completed, learner):
    moved = completed.completed_at
    with time_machine.travel(moved + services.DISPUTE_WINDOW + timedelta(seconds=1), tick=False):
        assert code_of(lambda: services.seat_dispute(seat=completed, actor=learner, reason="x")) == "too_late"
    with time_machine.travel(moved + services.DISPUTE_WINDOW, tick=False):
        assert services.seat_dispute(seat=completed, actor=learner, reason="x").status == Seat.Status.DISPUTED


def test_a_settled_place_is_never_disputed_again(completed, learner, organizer):
    services.seat_dispute(seat=completed, actor=learner, reason="One hour")
    services.dispute_settle(seat=completed, actor=organizer, hours="1", reason="Both agreed")
    assert code_of(lambda: services.seat_dispute(seat=completed, actor=learner, reason="again")) == "settled"


# --- settling disputes ------------------------------------------------------------------------------
@pytest.fixture
def disputed(completed, learner):
    return services.seat_dispute(seat=completed, actor=learner, reason="It took one hour")


def test_only_an_organizer_of_the_community_settles(community, helper, learner, other_community):
    # Disputed before any hours moved: no reversal, so only this guard stands in the way.
    seat = one_to_one(community, helper, learner).seats.get()
    seat = services.seat_dispute(seat=seat, actor=learner, reason="No show")
    other_organizer = MembershipFactory(community=other_community, role=Membership.Role.ORGANIZER).user
    for outsider in (helper, learner, other_organizer):
        with pytest.raises(RuleViolation) as exc:
            services.dispute_settle(seat=seat, actor=outsider, hours="1", reason="x")
        assert exc.value.code == "not_organizer"
        assert str(exc.value) == "Only an organizer of this community can settle disputes."
    assert Seat.objects.get(pk=seat.pk).status == Seat.Status.DISPUTED and not Transfer.objects.exists()
    superuser = UserFactory(is_superuser=True, is_staff=True)
    assert services.dispute_settle(seat=seat, actor=superuser, hours="1", reason="x").status == "completed"


def test_a_settlement_needs_a_reason_and_a_disputed_place(disputed, completed, organizer):
    assert fields_of(lambda: services.dispute_settle(seat=disputed, actor=organizer, hours="1", reason=" ")) == {
        "reason": ["Say how it was settled."]
    }
    Seat.objects.filter(pk=disputed.pk).update(status=Seat.Status.COMPLETED)
    assert (
        code_of(lambda: services.dispute_settle(seat=disputed, actor=organizer, hours="1", reason="x"))
        == "illegal_transition"
    )


def test_a_settlement_reverses_what_moved_and_moves_the_settled_hours(disputed, community, helper, learner, organizer):
    seat = services.dispute_settle(seat=disputed, actor=organizer, hours="1", reason=" Both agreed ")
    assert seat.status == Seat.Status.COMPLETED and seat.hours == Decimal("1.00") and seat.settled_at is not None
    assert hour_balance(learner, community) == Decimal("-1.00") and hour_balance(helper, community) == Decimal("1.00")
    assert seat.transfer.memo == "Fix a bike (settled: 1.00 h)"
    assert seat.dispute_reason.endswith("Settled by an organizer: Both agreed")
    assert Session.objects.get(pk=seat.session_id).status == Session.Status.COMPLETED
    told = Notification.objects.filter(text__startswith="The organizers settled “Fix a bike” at 1 hour: Both agreed")
    assert sorted(told.values_list("recipient", flat=True)) == sorted([helper.pk, learner.pk])


def test_a_settlement_at_zero_hours_moves_nothing(disputed, community, learner, organizer):
    seat = services.dispute_settle(seat=disputed, actor=organizer, hours="0", reason="No help given")
    assert seat.transfer is None and seat.hours == Decimal("0.00")
    assert hour_balance(learner, community) == Decimal("0.00")


def test_a_dispute_before_any_hours_moved_is_settled_without_a_reversal(community, helper, learner, organizer):
    session = one_to_one(community, helper, learner)
    seat = services.seat_dispute(seat=session.seats.get(), actor=helper, reason="No show")
    settled = services.dispute_settle(seat=seat, actor=organizer, hours="2", reason="They came late")
    assert Transfer.objects.count() == 1 and settled.hours == Decimal("2.00")
    assert hour_balance(learner, community) == Decimal("-2.00")
    assert settled.completed_at is not None and settled.settled_at is not None
    assert Session.objects.get(pk=session.pk).status == Session.Status.COMPLETED  # its last open place is settled


def test_a_group_session_with_a_place_still_disputed_stays_open(community, helper, learner, organizer):
    session = group(community, helper, capacity=3)
    services.seat_join(session=session, learner=learner)
    other = MembershipFactory(community=community).user
    services.seat_join(session=session, learner=other)
    with time_machine.travel(session.starts_at + timedelta(hours=1)):
        first = services.seat_dispute(seat=Seat.objects.get(learner=learner), actor=learner, reason="x")
        services.seat_dispute(seat=Seat.objects.get(learner=other), actor=other, reason="y")
        services.dispute_settle(seat=first, actor=organizer, hours="1", reason="ok")
    assert Session.objects.get(pk=session.pk).status == Session.Status.SCHEDULED


# --- what the transitions record and tell -----------------------------------------------------------
def test_completing_one_session_leaves_the_other_sessions_alone(community, helper, learner):
    session = one_to_one(community, helper, learner)
    other = one_to_one(community, helper, MembershipFactory(community=community).user)
    services.session_confirm(session=session, actor=learner, hours="1")
    services.session_confirm(session=session, actor=helper, hours="1", learner=learner)
    assert Session.objects.get(pk=session.pk).status == Session.Status.COMPLETED
    assert Session.objects.get(pk=other.pk).status == Session.Status.SCHEDULED


def test_moved_hours_are_an_exchange_transfer_with_a_once_only_key(community, helper, learner):
    session = one_to_one(community, helper, learner)
    services.session_confirm(session=session, actor=learner, hours="1")
    [seat] = services.session_confirm(session=session, actor=helper, hours="1")
    assert seat.transfer.kind == "exchange"
    assert seat.transfer.idempotency_key == f"skills-session:{session.pk}:{learner.pk}"
    moved = Notification.objects.filter(text__contains="1 hour moved")
    assert {(n.target_id, n.url) for n in moved} == {(session.pk, session.get_absolute_url())}


def test_a_settlement_beyond_the_limit_names_the_learner_whoever_confirms_last(community, helper, learner):
    session = one_to_one(community, helper, learner)
    account = account_for(user=learner, community=community, currency="HOUR")
    Account.objects.filter(pk=account.pk).update(limit=Decimal("-1.00"))
    services.session_confirm(session=session, actor=learner, hours="2")
    with pytest.raises(RuleViolation) as exc:
        services.session_confirm(session=session, actor=helper, hours="2")
    assert str(exc.value).startswith("Max Member's time balance is 0 hours with a limit of -1 hour")


def test_joining_beyond_the_limit_speaks_to_the_learner(community, helper, learner):
    session = group(community, helper, hours="2")
    account = account_for(user=learner, community=community, currency="HOUR")
    Account.objects.filter(pk=account.pk).update(limit=Decimal("-1.00"))
    with pytest.raises(RuleViolation) as exc:
        services.seat_join(session=session, learner=learner)
    assert str(exc.value).startswith("Your time balance is 0 hours with a limit of -1 hour")


def test_the_joined_notice_names_the_learner_and_links_to_the_session(cafe, learner):
    services.seat_join(session=cafe, learner=learner)
    told = Notification.objects.get(kind="skills.session")
    assert (told.actor, told.target_id, told.url) == (learner, cafe.pk, cafe.get_absolute_url())


def test_a_long_dispute_reason_is_kept_to_500_characters(completed, learner):
    seat = services.seat_dispute(seat=completed, actor=learner, reason="x" * 600)
    assert seat.dispute_reason == "x" * 500


def test_dispute_notices_name_who_disputed_and_link_to_the_session(completed, learner, organizer, helper):
    services.seat_dispute(seat=completed, actor=learner, reason="It took one hour")
    session = completed.session
    for recipient in (organizer, helper):
        told = Notification.objects.get(recipient=recipient, text__contains="disputed")
        assert (told.actor, told.target_id, told.url) == (learner, session.pk, session.get_absolute_url())


def test_a_helper_who_organizes_is_not_told_of_their_own_dispute(community, completed, helper, learner):
    Membership.objects.filter(user=helper, community=community).update(role=Membership.Role.ORGANIZER)
    Notification.objects.all().delete()
    services.seat_dispute(seat=completed, actor=helper, reason="It took one hour")
    assert list(Notification.objects.values_list("recipient", flat=True)) == [learner.pk]


def test_a_settlement_keeps_when_the_hours_first_moved(disputed, completed, organizer):
    moved_at = completed.completed_at
    seat = services.dispute_settle(seat=disputed, actor=organizer, hours="1", reason="ok")
    assert seat.completed_at == moved_at


def test_a_settled_reason_is_kept_to_500_characters(completed, learner, organizer):
    seat = services.seat_dispute(seat=completed, actor=learner, reason="x" * 450)
    settled = services.dispute_settle(seat=seat, actor=organizer, hours="1", reason="y" * 100)
    assert len(settled.dispute_reason) == 500
    assert settled.dispute_reason.startswith("x" * 450 + " Settled by an organizer: y")


def test_the_settlement_notice_names_the_organizer_and_links_to_the_session(disputed, organizer, helper, learner):
    services.dispute_settle(seat=disputed, actor=organizer, hours="1", reason="ok")
    session = disputed.session
    for recipient in (helper, learner):
        told = Notification.objects.get(recipient=recipient, text__startswith="The organizers settled")
        assert (told.actor, told.target_id, told.url) == (organizer, session.pk, session.get_absolute_url())


def test_cancelling_tells_the_booked_learners_not_those_who_left_and_names_who_cancelled(community, helper, learner):
    session = group(community, helper, capacity=3)
    services.seat_join(session=session, learner=learner)
    gone = MembershipFactory(community=community).user
    services.seat_leave(seat=services.seat_join(session=session, learner=gone), actor=gone)
    Notification.objects.all().delete()
    services.session_cancel(session=session, actor=helper)
    told = Notification.objects.get()
    assert (told.recipient, told.actor, told.target_id, told.url) == (
        learner,
        helper,
        session.pk,
        session.get_absolute_url(),
    )


def test_cancelling_one_session_leaves_the_others_on(community, helper, learner):
    session = propose(community, helper, learner)
    other = propose(community, helper, learner, title="Brakes")
    services.session_cancel(session=session, actor=helper)
    assert Session.objects.get(pk=other.pk).status == Session.Status.PROPOSED
    assert other.seats.get().status == Seat.Status.BOOKED


def test_giving_up_a_place_leaves_the_other_places_booked(community, helper, learner):
    session = group(community, helper, capacity=3)
    other = MembershipFactory(community=community).user
    services.seat_join(session=session, learner=other)
    seat = services.seat_join(session=session, learner=learner)
    assert services.seat_leave(seat=seat, actor=learner).status == Seat.Status.LEFT
    assert Seat.objects.get(session=session, learner=other).status == Seat.Status.BOOKED


def test_a_settlement_transfer_is_an_exchange(disputed, organizer):
    seat = services.dispute_settle(seat=disputed, actor=organizer, hours="1", reason="ok")
    assert seat.transfer.kind == "exchange"
    assert seat.transfer.idempotency_key == f"skills-session:{seat.session_id}:{seat.learner_id}:settled"


def test_agreeing_to_one_proposal_leaves_the_others_proposed(community, helper, learner):
    session = propose(community, helper, learner)
    other = propose(community, helper, learner, title="Brakes")
    services.session_accept(session=session, actor=helper)
    assert Session.objects.get(pk=other.pk).status == Session.Status.PROPOSED


def test_joining_takes_a_place_at_that_session_only(community, helper, learner):
    first = group(community, helper, capacity=2, title="Monday café")
    second = group(community, helper, capacity=2, title="Tuesday café")
    seat = services.seat_join(session=second, learner=learner)
    assert seat.session_id == second.pk and not first.seats.exists()


def test_settling_one_session_leaves_the_other_sessions_alone(community, helper, learner, organizer):
    other = one_to_one(community, helper, MembershipFactory(community=community).user)
    seat = services.seat_dispute(seat=one_to_one(community, helper, learner).seats.get(), actor=learner, reason="x")
    services.dispute_settle(seat=seat, actor=organizer, hours="1", reason="ok")
    assert Session.objects.get(pk=seat.session_id).status == Session.Status.COMPLETED
    assert Session.objects.get(pk=other.pk).status == Session.Status.SCHEDULED


def test_no_session_is_proposed_for_a_listing_the_organizers_hid(community, helper, learner, organizer):
    from apps.moderation.services import content_hide

    offer = OfferFactory(member=helper, community=community)
    wanted = RequestFactory(member=learner, community=community)
    content_hide(target=offer, actor=organizer, reason="Advertising")
    content_hide(target=wanted, actor=organizer, reason="Spam")
    offer.refresh_from_db()
    wanted.refresh_from_db()
    assert fields_of(lambda: propose(community, helper, learner, offer=offer)) == {
        "offer": ["That offer was hidden by the organizers."]
    }
    assert fields_of(lambda: propose(community, helper, learner, request=wanted)) == {
        "request": ["That request was hidden by the organizers."]
    }
    assert not Session.objects.exists()
