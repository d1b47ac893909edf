"""The browser pages of the skill swap: who may do what to a session, what each page
shows, and what bad input does, with the database as the judge.

People: Olive Owner helps (``helper``), Max Member learns (``learner``), Nina Neighbor is
a member of the same community who is no party (``neighbor``), Orla Organizer organizes
it but is no party either, and Sam Stranger is in no community at all.
"""

from datetime import time, timedelta
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from apps.ledger.models import Account, Transfer
from apps.peers.factories import MembershipFactory
from apps.reputation.models import TrustScore
from apps.skills import services
from apps.skills.factories import OfferFactory, RequestFactory, SkillFactory
from apps.skills.models import AvailabilityWindow, Match, Offer, Request, Seat, Session
from tests.querycount import assert_queries_do_not_grow
from tests.skills.conftest import place

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("skills:directory")
MATCHES = reverse("skills:matches")
SESSIONS = reverse("skills:sessions")
MINE = reverse("skills:mine")
NEW_OFFER = reverse("skills:offer-create")
NEW_REQUEST = reverse("skills:request-create")
NEW_SESSION = reverse("skills:session-create")
NEW_GROUP = reverse("skills:group-session-create")
HOME = (52.37, 4.89)


def text(response) -> str:
    """The page as a reader sees its words (entities like &#x27; decoded)."""
    return unescape(response.content.decode())


def words(response) -> str:
    """The page's text without its tags, spaces collapsed: what a reader reads."""
    return " ".join(strip_tags(text(response)).split())


def local(moment) -> str:
    """What a datetime-local input sends: the wall-clock time, no offset."""
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def soon(days: float = 1):
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def after_commit():
    """Run what the services enqueue on commit (matching); the test's transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def after(session):
    """A moment after the session took place. We can't wait for real time to pass."""
    return time_machine.travel(session.starts_at + timedelta(hours=3), tick=False)


def hours(user, community) -> Decimal:
    account = Account.objects.filter(owner=user, community=community, currency="HOUR").first()
    return account.balance if account else Decimal(0)


def session_url(session, action: str | None = None) -> str:
    if action is None:
        return reverse("skills:session", args=[session.pk])
    return reverse(f"skills:session-{action}", args=[session.pk])


def seat_url(session, action: str) -> str:
    return reverse(f"skills:seat-{action}", args=[session.pk, session.seats.get().pk])


@pytest.fixture
def helper(owner):
    return owner  # Olive Owner helps


@pytest.fixture
def learner(member):
    return member  # Max Member learns


@pytest.fixture
def neighbor(community):
    return MembershipFactory(community=community, user__profile__display_name="Nina Neighbor").user


@pytest.fixture
def people(helper, learner, neighbor, organizer):
    return {"helper": helper, "learner": learner, "neighbor": neighbor, "organizer": organizer}


def propose(community, helper, learner, proposer=None, hours="2", when=None):
    return services.session_propose(
        proposer=proposer or learner,
        helper=helper,
        learner=learner,
        community=community,
        title="Fix the bike's gears",
        starts_at=when or soon(),
        planned_hours=Decimal(hours),
        place="Olive's garage",
    )


@pytest.fixture
def proposed(community, helper, learner):
    return propose(community, helper, learner)


@pytest.fixture
def agreed(proposed, helper):
    return services.session_accept(session=proposed, actor=helper)


@pytest.fixture
def group(community, helper):
    return services.group_session_create(
        helper=helper,
        community=community,
        title="Repair café",
        starts_at=soon(2),
        planned_hours=Decimal("2"),
        capacity=3,
        place="The community hall",
    )


@pytest.fixture
def offer(community, helper, bike_repair):
    return OfferFactory(member=helper, community=community, title="I fix bikes", skills=[bike_repair])


@pytest.fixture
def wanted(community, learner, bike_repair):
    return RequestFactory(
        member=learner,
        community=community,
        title="My bike's gears slip",
        skills=[bike_repair],
        estimated_hours=Decimal("2.00"),
    )


@pytest.fixture
def match(offer, wanted):
    return Match.objects.create(
        request=wanted,
        offer=offer,
        score=Decimal("0.8200"),
        parts={"skill": 1.0, "distance": 0.84, "availability": 1.0, "reputation": 0.5, "reciprocity": 0.0},
        reasons=["same skill", "0.8 km", "can help Saturday morning"],
    )


def session_form(**overrides) -> dict:
    data = {"title": "Fix the gears", "starts_at": local(soon()), "planned_hours": "2", "place": "Olive's garage"}
    data.update(overrides)
    return data


# --- who may do what to a session ------------------------------------------------------------
@pytest.mark.parametrize("who", ["learner", "helper", "neighbor", "organizer"])
def test_only_the_two_people_of_a_match_may_propose_a_session_from_it(web_as, people, match, who):
    client = web_as(people[who])
    url = f"{NEW_SESSION}?match={match.pk}"
    response = client.post(url, session_form(), follow=True)

    if who in ("learner", "helper"):
        session = Session.objects.get()
        assert (session.helper, session.proposed_by, session.status) == (people["helper"], people[who], "proposed")
        assert session.seats.get().learner == people["learner"]
        assert (session.request, session.offer, session.planned_hours) == (match.request, match.offer, Decimal(2))
        other = "Olive Owner" if who == "learner" else "Max Member"
        assert f"Session proposed to {other}. It is on once they agree." in text(response)
    else:  # not one of the match's people: the match does not exist for them
        assert response.status_code == 404
        assert client.get(url).status_code == 404
        assert not Session.objects.exists()


@pytest.mark.parametrize("who", ["learner", "helper", "neighbor", "organizer"])
def test_only_the_other_party_may_agree_to_a_proposed_session(web_as, people, proposed, who):
    response = web_as(people[who]).post(session_url(proposed, "accept"), follow=True)
    proposed.refresh_from_db()

    if who == "helper":
        assert proposed.status == "scheduled"
        assert "Booked: “Fix the bike's gears” on" in text(response)
    elif who == "learner":  # the proposer: a message, nothing changes
        assert proposed.status == "proposed"
        assert response.status_code == 200
        assert "The other person agrees to what you proposed." in text(response)
    else:
        assert response.status_code == 404
        assert proposed.status == "proposed"


@pytest.mark.parametrize("who", ["learner", "helper", "neighbor", "organizer"])
def test_the_helper_or_the_learner_may_cancel_before_the_start(web_as, people, agreed, who):
    response = web_as(people[who]).post(session_url(agreed, "cancel"), {"reason": "I'm ill"}, follow=True)
    agreed.refresh_from_db()

    if who in ("learner", "helper"):
        assert agreed.status == "cancelled"
        assert agreed.seats.get().status == "left"
        assert "“Fix the bike's gears” is cancelled; the others are told." in text(response)
    else:
        assert response.status_code == 404
        assert agreed.status == "scheduled"


def test_nobody_cancels_after_the_start(web_as, helper, agreed):
    with after(agreed):
        response = web_as(helper).post(session_url(agreed, "cancel"), follow=True)
    agreed.refresh_from_db()
    assert agreed.status == "scheduled"
    assert "A session can be cancelled only before it starts." in text(response)


@pytest.mark.parametrize("who", ["learner", "helper", "neighbor", "organizer"])
def test_each_party_confirms_their_own_figure_after_the_session(web_as, people, agreed, who):
    with after(agreed):
        response = web_as(people[who]).post(seat_url(agreed, "confirm"), {"hours": "2"}, follow=True)
    seat = agreed.seats.get()

    if who == "learner":
        assert (seat.learner_hours, seat.helper_hours, seat.status) == (Decimal(2), None, "booked")
        assert "You confirmed 2 hours. They move once Olive Owner confirms too." in text(response)
    elif who == "helper":
        assert (seat.learner_hours, seat.helper_hours, seat.status) == (None, Decimal(2), "booked")
        assert "They move once Max Member confirms too." in text(response)
    else:
        assert response.status_code == 404
        assert (seat.learner_hours, seat.helper_hours) == (None, None)
    assert not Transfer.objects.exists()


def test_confirming_before_the_session_is_explained_and_changes_nothing(web_as, learner, agreed):
    response = web_as(learner).post(seat_url(agreed, "confirm"), {"hours": "2"}, follow=True)
    assert "Confirm the hours after the session has taken place." in text(response)
    assert agreed.seats.get().learner_hours is None


def test_when_both_confirm_the_hours_move_once_and_both_get_a_review_link(web_as, community, helper, learner, agreed):
    seat = agreed.seats.get()
    review = reverse("reputation:review-create", args=["skills.seat", seat.pk])
    with after(agreed):
        web_as(learner).post(seat_url(agreed, "confirm"), {"hours": "2"})
        response = web_as(helper).post(seat_url(agreed, "confirm"), {"hours": "2.25"}, follow=True)
        again = web_as(helper).post(seat_url(agreed, "confirm"), {"hours": "2.25"}, follow=True)

    assert "Confirmed: 2 hours moved from Max Member to Olive Owner." in text(response)
    assert response.status_code == again.status_code == 200
    assert (hours(learner, community), hours(helper, community)) == (Decimal("-2"), Decimal("2"))
    assert Transfer.objects.count() == 1
    agreed.refresh_from_db()
    assert agreed.status == "completed"
    assert review in text(response)
    page = text(web_as(learner).get(session_url(agreed)))
    assert review in page and "Review Olive Owner" in page
    assert "Confirm the hours" not in page


def test_figures_far_apart_make_the_place_disputed(web_as, helper, learner, agreed):
    with after(agreed):
        web_as(learner).post(seat_url(agreed, "confirm"), {"hours": "1"})
        response = web_as(helper).post(seat_url(agreed, "confirm"), {"hours": "3"}, follow=True)
    assert agreed.seats.get().status == "disputed"
    assert "the two figures differ by more than 0.50 hours: the organizers will settle it" in text(response)
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("who", ["learner", "helper", "neighbor", "organizer"])
def test_either_party_may_dispute_the_hours_after_the_session(web_as, people, agreed, who):
    with after(agreed):
        response = web_as(people[who]).post(seat_url(agreed, "dispute"), {"reason": "It took ten minutes"}, follow=True)
    seat = agreed.seats.get()

    if who in ("learner", "helper"):
        assert (seat.status, seat.dispute_reason) == ("disputed", "It took ten minutes")
        assert "The dispute is sent: the organizers of the community will settle it." in text(response)
    else:
        assert response.status_code == 404
        assert (seat.status, seat.dispute_reason) == ("booked", "")


def test_a_dispute_without_a_reason_shows_the_form_again_and_changes_nothing(web_as, learner, agreed):
    with after(agreed):
        response = web_as(learner).post(seat_url(agreed, "dispute"), {"reason": "  "})
    assert response.status_code == 200
    assert "Say what went wrong." in text(response)
    assert agreed.seats.get().status == "booked"


@pytest.mark.parametrize("value", ["-1", "13", "lots"])
def test_bad_hours_show_the_confirm_form_again_with_what_was_typed(web_as, learner, agreed, value):
    with after(agreed):
        response = web_as(learner).post(seat_url(agreed, "confirm"), {"hours": value})
    assert response.status_code == 200
    page = text(response)
    assert 'role="alert"' in page and f'value="{value}"' in page
    assert agreed.seats.get().learner_hours is None


@pytest.mark.parametrize("who", ["learner", "helper", "neighbor", "organizer"])
def test_any_member_but_the_helper_may_join_a_group_session(web_as, people, group, who):
    response = web_as(people[who]).post(session_url(group, "join"), follow=True)
    seats = list(group.seats.values_list("learner", "status"))

    if who == "helper":
        assert seats == []
        assert "You are the helper of this session." in text(response)
    else:
        assert seats == [(people[who].pk, "booked")]
        assert "You have a place at “Repair café”." in text(response)


def test_someone_outside_the_community_can_neither_see_nor_join_a_group_session(web_as, stranger, group):
    client = web_as(stranger)
    assert client.get(session_url(group)).status_code == 404
    assert client.post(session_url(group, "join")).status_code == 404
    assert not group.seats.exists()


def test_a_full_group_session_refuses_one_more(web_as, community, helper, neighbor, organizer, learner):
    full = services.group_session_create(
        helper=helper,
        community=community,
        title="Small class",
        starts_at=soon(2),
        planned_hours=Decimal("1"),
        capacity=2,
        place="Hall",
    )
    for person in (neighbor, organizer):
        services.seat_join(session=full, learner=person)
    response = web_as(learner).post(session_url(full, "join"), follow=True)
    assert "This session is full." in text(response)
    assert full.seats.count() == 2


def test_a_learner_leaves_a_group_session_and_others_cannot_leave_for_them(web_as, learner, neighbor, group):
    services.seat_join(session=group, learner=learner)
    assert web_as(neighbor).post(session_url(group, "leave")).status_code == 404
    response = web_as(learner).post(session_url(group, "leave"), follow=True)
    assert group.seats.get().status == "left"
    assert "You gave up your place at “Repair café”." in text(response)
    assert "Join this session" in text(response)  # changed their mind: the place is still free


def test_the_helper_confirms_each_learners_hours_of_a_group_session(
    web_as, community, helper, learner, neighbor, group
):
    for person in (learner, neighbor):
        services.seat_join(session=group, learner=person)
    seat = group.seats.get(learner=learner)
    url = reverse("skills:seat-confirm", args=[group.pk, seat.pk])
    with after(group):
        web_as(learner).post(url, {"hours": "2"})
        web_as(helper).post(url, {"hours": "2"})
        page = text(web_as(helper).get(session_url(group)))
    seat.refresh_from_db()
    assert seat.status == "completed" and group.seats.get(learner=neighbor).status == "booked"
    assert hours(helper, community) == Decimal(2)
    assert page.count("Confirm the hours</button>") == 1  # Nina's place is still to confirm


def test_a_learner_cannot_confirm_someone_elses_place(web_as, learner, neighbor, group):
    for person in (learner, neighbor):
        services.seat_join(session=group, learner=person)
    other = group.seats.get(learner=neighbor)
    with after(group):
        response = web_as(learner).post(reverse("skills:seat-confirm", args=[group.pk, other.pk]), {"hours": "2"})
    assert response.status_code == 404
    assert Seat.objects.filter(learner_hours__isnull=False).count() == 0


# --- proposing: the form, the limit and bad input ---------------------------------------------
def test_the_form_shows_the_learners_balance_and_limit_before_booking(web_as, community, learner, offer):
    response = web_as(learner).get(f"{NEW_SESSION}?offer={offer.pk}")
    page = text(response)
    assert "Your time balance" in page
    assert 'data-testid="learner-balance">0 hours' in page
    assert 'data-testid="learner-limit">-10 hours' in page
    assert "You can book up to 10 hours more." in words(response)


def test_the_helper_sees_the_learners_balance_when_offering_to_help(web_as, helper, wanted):
    page = text(web_as(helper).get(f"{NEW_SESSION}?request={wanted.pk}"))
    assert "Max Member's time balance" in page
    assert 'value="My bike\'s gears slip"' in page and 'value="2.00"' in page  # from the request


def test_proposing_beyond_the_learners_limit_shows_their_balance_and_limit_and_books_nothing(web_as, learner, offer):
    data = session_form(title="Rebuild my whole bike", planned_hours="11")
    response = web_as(learner).post(f"{NEW_SESSION}?offer={offer.pk}", data)
    assert response.status_code == 200
    page = text(response)
    assert (
        "Your time balance is 0 hours with a limit of -10 hours: 11 hours more would take it below the limit."
    ) in page
    assert 'value="Rebuild my whole bike"' in page
    assert not Session.objects.exists()


def test_a_helper_proposing_beyond_the_learners_limit_is_told_the_learners_balance(web_as, helper, wanted, community):
    Account.objects.create(owner=wanted.member, community=community, currency="HOUR", limit=Decimal("-1"))
    response = web_as(helper).post(f"{NEW_SESSION}?request={wanted.pk}", session_form(planned_hours="2"))
    assert "Max Member's time balance is 0 hours with a limit of -1 hour" in text(response)
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"starts_at": "past"}, "Choose a time in the future."),
        ({"place": "", "remote": ""}, "Say where you meet, or mark it remote."),
        ({"planned_hours": "lots"}, "Enter a number."),
        ({"planned_hours": "0.1"}, "Ensure this value is greater than or equal to 0.25."),
        ({"starts_at": "tomorrow-ish"}, "Enter a valid date/time."),
    ],
)
def test_bad_input_shows_the_session_form_again_and_books_nothing(web_as, learner, offer, change, error):
    if change.get("starts_at") == "past":
        change = {"starts_at": local(timezone.now() - timedelta(hours=2))}
    data = {key: value for key, value in session_form(title="Gears please", **change).items() if value != ""}
    response = web_as(learner).post(f"{NEW_SESSION}?offer={offer.pk}", data)
    assert response.status_code == 200
    page = text(response)
    assert error in page
    assert 'value="Gears please"' in page
    assert not Session.objects.exists()


def test_a_remote_session_needs_no_place(web_as, learner, offer):
    data = session_form(place="", remote="on")
    web_as(learner).post(f"{NEW_SESSION}?offer={offer.pk}", data)
    assert Session.objects.get().remote is True


def test_the_time_typed_is_read_in_the_local_timezone(web_as, learner, offer):
    when = soon(3).replace(minute=30)
    web_as(learner).post(f"{NEW_SESSION}?offer={offer.pk}", session_form(starts_at=local(when)))
    assert Session.objects.get().starts_at == when


def test_proposing_to_myself_or_to_nobody_sends_me_elsewhere_with_a_message(web_as, helper, offer):
    response = web_as(helper).get(f"{NEW_SESSION}?offer={offer.pk}", follow=True)
    assert "That is your own listing: propose a session to someone else." in text(response)
    response = web_as(helper).get(NEW_SESSION, follow=True)
    assert response.redirect_chain[-1][0] == MATCHES
    assert "Choose whom to propose a session to" in text(response)


@pytest.mark.parametrize("query", ["match=999999", "offer=abc", "request=99999999999999999999", "offer=999999"])
def test_a_listing_or_match_that_is_not_mine_to_see_is_a_404(web_as, learner, query):
    assert web_as(learner).get(f"{NEW_SESSION}?{query}").status_code == 404


def test_a_closed_offer_or_one_of_another_community_cannot_be_booked(
    web_as, learner, offer, other_community, bike_repair
):
    services.offer_update(offer=offer, actor=offer.member, status="closed")
    assert web_as(learner).get(f"{NEW_SESSION}?offer={offer.pk}").status_code == 404
    elsewhere = OfferFactory(community=other_community, skills=[bike_repair])
    assert web_as(learner).post(f"{NEW_SESSION}?offer={elsewhere.pk}", session_form()).status_code == 404
    assert not Session.objects.exists()


def test_a_helper_opens_a_group_session(web_as, helper, community, offer):
    data = session_form(title="Repair café", capacity="8", community=community.pk, offer=offer.pk)
    response = web_as(helper).post(NEW_GROUP, data, follow=True)
    session = Session.objects.get()
    assert (session.helper, session.capacity, session.status, session.offer) == (helper, 8, "scheduled", offer)
    assert "“Repair café” is open: neighbors can join it now." in text(response)


def test_a_group_session_for_one_is_refused_on_the_form(web_as, helper, community):
    response = web_as(helper).post(NEW_GROUP, session_form(title="Tiny", capacity="1", community=community.pk))
    assert "Ensure this value is greater than or equal to 2." in text(response)
    assert 'value="Tiny"' in text(response)
    assert not Session.objects.exists()


# --- the session page ----------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["neighbor", "organizer"])
def test_a_one_to_one_session_is_a_404_for_anyone_but_its_two_people(web_as, people, stranger, proposed, who):
    assert web_as(people[who]).get(session_url(proposed)).status_code == 404
    assert web_as(stranger).get(session_url(proposed)).status_code == 404
    assert web_as(people["helper"]).get(session_url(proposed)).status_code == 200


def test_the_other_party_sees_the_proposal_with_an_agree_button(web_as, helper, learner, proposed):
    page = text(web_as(helper).get(session_url(proposed)))
    assert "Max Member proposed this session." in page
    assert "Agree to the session" in page and "Cancel the session" in page
    own = text(web_as(learner).get(session_url(proposed)))
    assert "You proposed it" in own and "Agree to the session" not in own


def test_a_member_of_the_community_sees_an_open_group_session_and_how_much_it_costs(web_as, neighbor, group):
    page = text(web_as(neighbor).get(session_url(group)))
    assert "Repair café" in page and "0 of 3 places taken" in page
    assert "Join this session" in page
    assert "It takes 2 hours from your time balance: 0 hours now, limit -10 hours." in page
    assert not Account.objects.filter(owner=neighbor).exists()  # looking opens no account


def test_the_pages_need_a_login(client, proposed):
    for url in (DIRECTORY, MATCHES, SESSIONS, MINE, NEW_OFFER, NEW_REQUEST, session_url(proposed)):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(session_url(proposed, "accept")).status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == "proposed"


def test_actions_need_a_post(web_as, helper, proposed):
    assert web_as(helper).get(session_url(proposed, "accept")).status_code == 405
    proposed.refresh_from_db()
    assert proposed.status == "proposed"


# --- the sessions page ------------------------------------------------------------------------------
def test_the_sessions_page_shows_my_hour_balance_and_limit_per_community(
    web_as, community, other_community, helper, learner, agreed
):
    MembershipFactory(community=other_community, user=learner)
    with after(agreed):
        services.session_confirm(session=agreed, actor=learner, hours="2")
        services.session_confirm(session=agreed, actor=helper, hours="2")
    page = text(web_as(learner).get(SESSIONS))
    assert 'data-testid="hours-sunnyside"><strong>-2 hours' in page
    assert 'data-testid="hours-riverside"><strong>0 hours' in page
    assert reverse("ledger:mine") in page
    assert "Past and cancelled" in page and "Completed" in page


def test_the_sessions_page_sorts_mine_and_lists_group_sessions_to_join(
    web_as, community, helper, learner, neighbor, proposed, group
):
    done = propose(community, helper, learner, when=soon(0.5))
    services.session_accept(session=done, actor=helper)
    later = text(web_as(helper).get(SESSIONS))
    assert "Waiting for your answer" in later  # Max proposed; Olive answers
    with time_machine.travel(soon(0.5) + timedelta(hours=1), tick=False):
        page = text(web_as(learner).get(SESSIONS))
    to_confirm = page[page.index("To confirm") : page.index("Upcoming")]
    upcoming = page[page.index("Upcoming") : page.index("Group sessions you can join")]
    assert "Confirm your hours" in to_confirm and "Fix the bike's gears" in to_confirm
    assert "Fix the bike's gears" in upcoming and "Olive Owner helps you" in upcoming
    groups = page[page.index("Group sessions you can join") :]
    assert "Repair café" in groups and "0 of 3 places taken" in groups
    assert "Repair café" in text(web_as(neighbor).get(SESSIONS))


def test_empty_states_of_the_sessions_page(web_as, learner, stranger):
    page = text(web_as(learner).get(SESSIONS))
    assert "No sessions waiting for their hours." in page
    assert "Nothing planned." in page
    assert "No group sessions open in your communities right now." in page
    assert "No past sessions yet." in page
    assert "You are not in a community yet." in text(web_as(stranger).get(SESSIONS))


def test_the_sessions_page_query_count_is_the_same_for_1_and_30_sessions(web_as, community, learner):
    client = web_as(learner)

    def add(n):
        for i in range(n):
            helper = MembershipFactory(community=community).user
            TrustScore.objects.create(user=helper, score=Decimal("4.50"), rating_count=2)
            session = propose(community, helper, learner, proposer=helper, hours="0.5", when=soon(1 + i / 24))
            if i % 2:
                services.session_accept(session=session, actor=learner)
            services.group_session_create(
                helper=helper,
                community=community,
                title=f"Class {i}",
                starts_at=soon(3),
                planned_hours=Decimal("1"),
                capacity=4,
                place="Hall",
            )

    # session, user, the viewer's accounts and memberships (balances), upcoming sessions +
    # their seats, sessions to confirm (+ seats when there are any: none here), a count and
    # a page of past sessions, open group sessions + their seats, the notification count
    # (unread ones by kind, then the count without hidden content for those kinds).
    assert assert_queries_do_not_grow(lambda: client.get(SESSIONS), add, large=30) == 12


# --- the directory ------------------------------------------------------------------------------
def test_the_directory_shows_who_can_help_with_their_skills_tags_and_free_times(
    web_as, community, helper, learner, bike_repair
):
    with after_commit():
        services.offer_create(
            member=helper,
            community=community,
            title="I fix bikes",
            skills=[bike_repair],
            tags=["Fixie", "gears"],
            windows=[(5, time(9), time(12))],
            remote_ok=True,
        )
    TrustScore.objects.create(user=helper, score=Decimal("4.60"), rating_count=3)
    page = text(web_as(learner).get(DIRECTORY))
    assert "I fix bikes" in page and "Olive Owner" in page
    assert "4.6 out of 5 from 3 reviews" in page
    assert "Bike repair (test)" in page and "#fixie" in page and "#gears" in page
    assert "Saturday 09:00-12:00" in page and "or remote" in page
    assert "Ask for a session" in page


def test_the_requests_tab_shows_wanted_dates_and_hours(web_as, helper, wanted):
    page = text(web_as(helper).get(DIRECTORY, {"show": "requests"}))
    assert "My bike's gears slip" in page and "Max Member" in page and "No reviews yet" in page
    assert f"{wanted.wanted_from:%a %-d %b}" in page
    assert "2 hours" in page and "Offer to help" in page
    assert 'aria-current="page">People who need help' in page


def test_the_directory_filters_by_words_skill_category_and_community(
    web_as, community, other_community, helper, learner, bike_repair, baking
):
    MembershipFactory(community=other_community, user=learner)
    OfferFactory(member=helper, community=community, title="Bikes fixed", skills=[bike_repair])
    OfferFactory(member=helper, community=community, title="Sourdough lessons", skills=[baking])
    OfferFactory(community=other_community, title="Riverside bread", skills=[baking])
    client = web_as(learner)

    def titles(**params):
        page = text(client.get(DIRECTORY, params))
        return {t for t in ("Bikes fixed", "Sourdough lessons", "Riverside bread") if t in page}

    assert titles() == {"Bikes fixed", "Sourdough lessons", "Riverside bread"}
    assert titles(q="sourdough") == {"Sourdough lessons"}
    assert titles(skill=bike_repair.pk) == {"Bikes fixed"}
    assert titles(category="cooking-t") == {"Sourdough lessons", "Riverside bread"}
    assert titles(community=other_community.pk) == {"Riverside bread"}


def test_near_me_shows_the_distance_nearest_first(web_as, community, helper, learner, neighbor, bike_repair):
    place(learner, *HOME)
    place(helper, HOME[0] + 0.8 / 111.195, HOME[1])
    place(neighbor, HOME[0] + 30 / 111.195, HOME[1])
    for person, title in ((neighbor, "Far away fixing"), (helper, "Close by fixing")):
        services.offer_create(member=person, community=community, title=title, skills=[bike_repair])
    page = text(web_as(learner).get(DIRECTORY, {"radius_km": "5"}))
    assert "Close by fixing" in page and "about 0.8 km away" in page
    assert "Far away fixing" not in page
    assert "nearest first" in page


def test_near_me_without_a_location_asks_for_one(web_as, learner, offer):
    learner.profile.approx_latitude = None
    learner.profile.save()
    page = text(web_as(learner).get(DIRECTORY, {"radius_km": "5"}))
    assert "Set your approximate location on your profile first." in page
    assert "I fix bikes" not in page


@pytest.mark.parametrize("params", [{"radius_km": "-3"}, {"community": "abc"}, {"skill": "no-such-skill"}])
def test_bad_filters_are_form_errors_not_server_errors(web_as, learner, offer, params):
    response = web_as(learner).get(DIRECTORY, params)
    assert response.status_code == 200
    assert "Fix the filters above" in text(response)


def test_pagination_keeps_the_search(web_as, community, helper, learner, bike_repair):
    for i in range(25):
        OfferFactory(member=helper, community=community, title=f"Bike help {i}", skills=[bike_repair])
    page = text(web_as(learner).get(DIRECTORY, {"q": "bike", "show": "offers"}))
    assert "25 offers of help" in page
    assert "?q=bike&amp;show=offers&amp;page=2" in response_html(
        web_as(learner).get(DIRECTORY, {"q": "bike", "show": "offers"})
    )


def response_html(response) -> str:
    return response.content.decode()


def test_empty_states_of_the_directory(web_as, learner, stranger, community):
    assert "Nobody offers help in your communities yet." in text(web_as(learner).get(DIRECTORY))
    assert "Nobody is asking for help right now." in text(web_as(learner).get(DIRECTORY, {"show": "requests"}))
    assert "Nothing matches your search." in text(web_as(learner).get(DIRECTORY, {"q": "canoe"}))
    assert "You are not in a community yet." in text(web_as(stranger).get(DIRECTORY))


@pytest.mark.parametrize("show", ["offers", "requests"])
def test_the_directory_query_count_is_the_same_for_1_and_50_listings(web_as, community, learner, bike_repair, show):
    client = web_as(learner)
    place(learner, *HOME)

    def add(n):
        for i in range(n):
            person = MembershipFactory(community=community).user
            TrustScore.objects.create(user=person, score=Decimal("4.50"), rating_count=2)
            common = {"member": person, "community": community, "skills": [bike_repair], "tags": [f"tag{i}"]}
            if show == "offers":
                services.offer_create(title=f"Help {i}", windows=[(5, time(9), time(12))], **common)
            else:
                day = timezone.localdate() + timedelta(days=2)
                services.request_create(title=f"Need {i}", wanted_from=day, wanted_until=day, **common)

    url = f"{DIRECTORY}?show={show}&radius_km=50&q=e"
    # session, user, the viewer's profile (near me), the ids of my communities, count(*),
    # one page of listings with members, profiles, trust and communities, their skills,
    # their tags (and the offers' windows), the notification count, and the category,
    # skill and community choices of the filter form.
    expected = 13 if show == "offers" else 12
    assert assert_queries_do_not_grow(lambda: client.get(url), add, large=50) == expected


# --- matches ---------------------------------------------------------------------------------------
def test_matches_show_the_score_the_reasons_my_side_and_the_other_person(
    web_as, community, helper, learner, bike_repair
):
    place(learner, *HOME)
    place(helper, HOME[0] + 0.8 / 111.195, HOME[1])
    with after_commit():
        services.offer_create(
            member=helper,
            community=community,
            title="I fix bikes",
            skills=[bike_repair],
            windows=[(weekday, time(9), time(12)) for weekday in range(7)],
        )
        day = timezone.localdate() + timedelta(days=2)
        services.request_create(
            member=learner,
            community=community,
            title="Gears slip",
            skills=[bike_repair],
            wanted_from=day,
            wanted_until=day,
        )
    match = Match.objects.get()
    percent = round(float(match.score) * 100)

    mine = text(web_as(learner).get(MATCHES))
    assert f"Match: <strong>{percent}%</strong>" in mine and f'value="{percent}"' in mine
    assert f"same skill, 0.8 km, can help {day:%A} morning" in mine
    assert "You asked for help" in mine and "Olive Owner can help with" in mine
    assert f"{NEW_SESSION}?match={match.pk}" in mine

    theirs = text(web_as(helper).get(MATCHES))
    assert "You offered help" in theirs and "Max Member needs help" in theirs and "No reviews yet" in theirs


def test_empty_state_of_matches(web_as, learner):
    assert "No matches yet." in text(web_as(learner).get(MATCHES))


def test_the_matches_query_count_is_the_same_for_1_and_30_matches(web_as, community, learner, bike_repair):
    client = web_as(learner)
    wanted = RequestFactory(member=learner, community=community, skills=[bike_repair])

    def add(n):
        for _ in range(n):
            person = MembershipFactory(community=community).user
            TrustScore.objects.create(user=person, score=Decimal("4.50"), rating_count=2)
            offer = OfferFactory(member=person, community=community, skills=[bike_repair])
            Match.objects.create(request=wanted, offer=offer, score=Decimal("0.7"), reasons=["same skill"])

    # session, user, count(*), one page of matches with both listings, members, profiles
    # and trust, and the notification count.
    assert assert_queries_do_not_grow(lambda: client.get(MATCHES), add, large=30) == 5


# --- posting and editing offers and requests ----------------------------------------------------------
def offer_form(community, skill, **overrides) -> dict:
    data = {
        "community": community.pk,
        "title": "I fix bikes",
        "description": "Gears, brakes, flats.",
        "skills": [skill.pk],
        "tags": "fixie, Gears",
        "travel_km": "4",
        "remote_ok": "",
        "windows-TOTAL_FORMS": "3",
        "windows-INITIAL_FORMS": "0",
        "windows-MIN_NUM_FORMS": "0",
        "windows-MAX_NUM_FORMS": "21",
        "windows-0-weekday": "5",
        "windows-0-start": "09:00",
        "windows-0-end": "12:00",
        "windows-1-weekday": "",
        "windows-1-start": "",
        "windows-1-end": "",
        "windows-2-weekday": "",
        "windows-2-start": "",
        "windows-2-end": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_member_offers_help_and_is_matched_with_a_waiting_request(web_as, community, helper, learner, bike_repair):
    place(learner, *HOME)
    place(helper, HOME[0] + 1 / 111.195, HOME[1])
    day = timezone.localdate() + timedelta(days=2)
    with after_commit():
        wanted = services.request_create(
            member=learner,
            community=community,
            title="Gears slip",
            skills=[bike_repair],
            wanted_from=day,
            wanted_until=day,
        )
    with after_commit():
        response = web_as(helper).post(NEW_OFFER, offer_form(community, bike_repair), follow=True)
    offer = Offer.objects.get()
    assert response.redirect_chain[-1][0] == reverse("skills:offer", args=[offer.pk])
    assert "Your offer “I fix bikes” is posted." in text(response)
    assert (offer.member, offer.travel_km, offer.description) == (helper, Decimal("4.0"), "Gears, brakes, flats.")
    assert sorted(offer.tags.values_list("name", flat=True)) == ["fixie", "gears"]
    assert list(offer.windows.values_list("weekday", "start", "end")) == [(5, time(9), time(12))]
    assert Match.objects.filter(request=wanted, offer=offer).exists()


def test_the_skill_choices_are_grouped_by_category(web_as, helper, bike_repair, baking):
    page = response_html(web_as(helper).get(NEW_OFFER))
    assert '<optgroup label="Repair (test)">' in page and '<optgroup label="Cooking t">' in page
    assert '<span class="visually-hidden"> (time range 1)</span>' in page


def test_a_bad_offer_is_shown_again_with_what_was_typed_and_nothing_is_saved(web_as, community, helper, bike_repair):
    data = offer_form(
        community,
        bike_repair,
        title="Bikes, kept",
        skills=None,
        **{"windows-0-end": "08:00", "windows-1-weekday": "2"},
    )
    response = web_as(helper).post(NEW_OFFER, data)
    page = text(response)
    assert response.status_code == 200
    assert 'value="Bikes, kept"' in page and 'value="fixie, Gears"' in page
    assert "This field is required." in page  # skills
    assert "Must be after the start." in page
    assert "Give the day, the start and the end, or leave the row empty." in page
    assert not Offer.objects.exists() and not AvailabilityWindow.objects.exists()


def test_too_many_tags_is_a_service_error_shown_on_the_tags_field(web_as, community, helper, bike_repair):
    tags = ", ".join(f"tag{i}" for i in range(11))
    response = web_as(helper).post(NEW_OFFER, offer_form(community, bike_repair, tags=tags))
    assert "At most 10 tags." in text(response)
    assert not Offer.objects.exists()


def test_a_skill_of_another_community_cannot_be_chosen(web_as, community, other_community, helper, repair):
    theirs = SkillFactory(category=repair, community=other_community, slug="boat-repair", name="Boat repair")
    response = web_as(helper).post(NEW_OFFER, offer_form(community, theirs))
    assert "Select a valid choice." in text(response)
    assert not Offer.objects.exists()


def test_someone_in_no_community_is_pointed_to_joining_one(web_as, stranger, community, bike_repair):
    assert "You can swap skills once you are a member of a community." in text(web_as(stranger).get(NEW_OFFER))
    response = web_as(stranger).post(NEW_OFFER, offer_form(community, bike_repair))
    assert response.status_code == 200
    assert not Offer.objects.exists()


def test_the_helper_edits_an_offer_and_its_free_times_and_others_cannot(
    web_as, community, helper, learner, bike_repair
):
    offer = services.offer_create(
        member=helper, community=community, title="I fix bikes", skills=[bike_repair], windows=[(0, time(18), time(20))]
    )
    edit = reverse("skills:offer-edit", args=[offer.pk])
    page = response_html(web_as(helper).get(edit))
    assert 'value="I fix bikes"' in page and 'value="18:00"' in page
    assert 'name="windows-TOTAL_FORMS" value="4"' in page  # one range + three blank rows

    assert web_as(learner).get(edit).status_code == 404
    assert web_as(learner).post(edit, offer_form(community, bike_repair, title="Mine now")).status_code == 404

    data = offer_form(
        community,
        bike_repair,
        title="I fix bikes and trailers",
        **{"windows-TOTAL_FORMS": "4", "windows-INITIAL_FORMS": "1", "windows-3-weekday": ""},
    )
    data.update({"windows-0-weekday": "", "windows-0-start": "", "windows-0-end": ""})  # cleared Monday
    data.update({"windows-1-weekday": "6", "windows-1-start": "10:00", "windows-1-end": "11:30"})
    response = web_as(helper).post(edit, data, follow=True)
    offer.refresh_from_db()
    assert "Your changes are saved." in text(response)
    assert offer.title == "I fix bikes and trailers"
    assert list(offer.windows.values_list("weekday", "start", "end")) == [(6, time(10), time(11, 30))]


def test_close_reopen_and_renew_an_offer_from_my_page(web_as, community, helper, learner, bike_repair):
    offer = services.offer_create(member=helper, community=community, title="I fix bikes", skills=[bike_repair])
    client = web_as(helper)
    assert client.post(reverse("skills:offer-close", args=[offer.pk])).status_code == 302
    offer.refresh_from_db()
    assert offer.status == "closed"
    page = text(client.get(MINE))
    assert "Closed" in page and "Reopen" in page

    response = client.post(reverse("skills:offer-reopen", args=[offer.pk]), {"next": MINE}, follow=True)
    assert response.redirect_chain[-1][0] == MINE
    offer.refresh_from_db()
    assert offer.status == "open"

    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(days=1))
    page = text(client.get(MINE))
    assert "Expired" in page and "Renew for 6 months" in page
    response = client.post(reverse("skills:offer-renew", args=[offer.pk]), {"next": MINE}, follow=True)
    offer.refresh_from_db()
    assert offer.is_open and offer.expires_at > timezone.now() + timedelta(days=170)
    assert f"“I fix bikes” is open until {timezone.localtime(offer.expires_at):%-d %B %Y}." in text(response)

    for action in ("close", "reopen", "renew"):
        assert web_as(learner).post(reverse(f"skills:offer-{action}", args=[offer.pk])).status_code == 404
    offer.refresh_from_db()
    assert offer.is_open


def request_form(community, skill, **overrides) -> dict:
    day = timezone.localdate() + timedelta(days=3)
    data = {
        "community": community.pk,
        "title": "My gears slip",
        "skills": [skill.pk],
        "tags": "",
        "wanted_from": f"{day:%Y-%m-%d}",
        "wanted_until": f"{day + timedelta(days=2):%Y-%m-%d}",
        "estimated_hours": "1.5",
    }
    data.update(overrides)
    return data


def test_a_member_asks_for_help(web_as, community, learner, bike_repair):
    response = web_as(learner).post(NEW_REQUEST, request_form(community, bike_repair), follow=True)
    wanted = Request.objects.get()
    assert (wanted.member, wanted.estimated_hours, wanted.status) == (learner, Decimal("1.50"), "open")
    assert "Your request “My gears slip” is posted." in text(response)
    assert "My gears slip" in text(web_as(learner).get(MINE))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"wanted_until": "2020-01-01", "wanted_from": "2020-01-01"}, "That date has passed."),
        ({"wanted_until": "2020-01-01"}, "The last day must be on or after the first."),
        ({"estimated_hours": "20"}, "Ensure this value is less than or equal to 12.00."),
        ({"title": ""}, "This field is required."),
    ],
)
def test_a_bad_request_is_shown_again_and_nothing_is_saved(web_as, community, learner, bike_repair, change, error):
    response = web_as(learner).post(NEW_REQUEST, request_form(community, bike_repair, description="Kept", **change))
    assert response.status_code == 200
    assert error in text(response) and "Kept</textarea>" in text(response)
    assert not Request.objects.exists()


def test_an_old_request_keeps_its_dates_when_only_its_title_changes(web_as, community, learner, bike_repair):
    old = RequestFactory(
        member=learner,
        community=community,
        skills=[bike_repair],
        wanted_from=timezone.localdate() - timedelta(days=5),
        wanted_until=timezone.localdate() - timedelta(days=4),
        status="closed",
    )
    data = request_form(
        community,
        bike_repair,
        title="Renamed",
        wanted_from=f"{old.wanted_from:%Y-%m-%d}",
        wanted_until=f"{old.wanted_until:%Y-%m-%d}",
    )
    response = web_as(learner).post(reverse("skills:request-edit", args=[old.pk]), data, follow=True)
    old.refresh_from_db()
    assert old.title == "Renamed" and "Your changes are saved." in text(response)


def test_close_and_reopen_a_request_only_my_own(web_as, learner, helper, wanted):
    assert web_as(helper).post(reverse("skills:request-close", args=[wanted.pk])).status_code == 404
    web_as(learner).post(reverse("skills:request-close", args=[wanted.pk]))
    wanted.refresh_from_db()
    assert wanted.status == "closed"
    assert web_as(helper).get(reverse("skills:request", args=[wanted.pk])).status_code == 404  # closed: gone
    web_as(learner).post(reverse("skills:request-reopen", args=[wanted.pk]))
    wanted.refresh_from_db()
    assert wanted.status == "open"
    assert web_as(helper).get(reverse("skills:request", args=[wanted.pk])).status_code == 200


def test_empty_states_of_my_offers_and_requests(web_as, learner):
    page = text(web_as(learner).get(MINE))
    assert "You have not offered help yet." in page and "You have not asked for help yet." in page


def test_my_page_query_count_does_not_grow(web_as, community, helper, bike_repair, baking):
    client = web_as(helper)

    def add(n):
        for i in range(n):
            services.offer_create(
                member=helper,
                community=community,
                title=f"Help {i}",
                skills=[bike_repair, baking],
                tags=["a", "b"],
                windows=[(1, time(9), time(10))],
            )
            RequestFactory(member=helper, community=community, skills=[baking])

    # session, user, count + page of offers, their skills, tags and windows, count + page
    # of requests, their skills and tags, and the notification count.
    assert assert_queries_do_not_grow(lambda: client.get(MINE), add, large=20) == 12


def test_an_offer_page_shows_its_owner_the_buttons_and_others_the_way_to_book(web_as, helper, learner, offer):
    url = reverse("skills:offer", args=[offer.pk])
    theirs = text(web_as(learner).get(url))
    assert "Ask Olive Owner for a session" in theirs and f"{NEW_SESSION}?offer={offer.pk}" in theirs
    assert reverse("skills:offer-edit", args=[offer.pk]) not in theirs
    own = text(web_as(helper).get(url))
    assert reverse("skills:offer-edit", args=[offer.pk]) in own and ">Close</button>" in own


def test_the_nav_and_the_skill_pages_link_to_each_other_and_to_my_time_balance(web_as, learner):
    page = text(web_as(learner).get(reverse("front:home")))
    assert f'<a href="{DIRECTORY}">Skills</a>' in page
    for url in (DIRECTORY, MATCHES, SESSIONS, MINE, NEW_OFFER, NEW_REQUEST):
        page = text(web_as(learner).get(url))
        for target in (DIRECTORY, MATCHES, SESSIONS, MINE, NEW_OFFER, NEW_REQUEST, reverse("ledger:mine")):
            assert f'href="{target}"' in page
