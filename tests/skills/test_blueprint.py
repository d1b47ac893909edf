"""The Skill Swap blueprint's loaders (the card's figure, the dashboard, the feed, unified
search, the profile) and the refusal of new offers, requests and sessions once a community
stops the skill swap, while the sessions agreed before run to their end."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from apps.front.figures import figures
from apps.ledger.models import Transfer
from apps.peers.exchanges import exchange_stop
from apps.peers.factories import CommunityFactory
from apps.skills import services
from apps.skills.blueprint import BLUEPRINT, DEFAULT_RULES
from apps.skills.factories import OfferFactory, RequestFactory, SeatFactory, SessionFactory
from apps.skills.models import Match, Offer, Request, Seat, Session
from p2pcommons.errors import RuleViolation
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db

# Wednesday 2 December 2026, 10:00 in Amsterdam.
TEN_AM = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
P = Seat.Status


@pytest.fixture(autouse=True)
def ten_am():
    with time_machine.travel(TEN_AM, tick=True):
        yield


def hours(n: float) -> datetime:
    return timezone.now() + timedelta(hours=n)


def texts(items) -> list[str]:
    return [item.text for item in items]


def propose(community, helper, learner, proposer=None, when=24, title="Fix the bike's gears"):
    return services.session_propose(
        proposer=proposer or learner,
        helper=helper,
        learner=learner,
        community=community,
        title=title,
        starts_at=hours(when),
        planned_hours=Decimal("2"),
        place="Olive's garage",
    )


def completed(helper, learner, community, amount: str) -> Seat:
    session = SessionFactory(helper=helper, community=community, starts_at=hours(-48), status=Session.Status.COMPLETED)
    return SeatFactory(session=session, learner=learner, status=P.COMPLETED, hours=Decimal(amount))


def matched(request: Request, offer: Offer) -> Match:
    return Match.objects.create(request=request, offer=offer, score=Decimal("0.9"), parts={}, reasons=[])


# --- the card ---------------------------------------------------------------------------------
def test_the_figure_adds_up_the_hours_that_moved_for_completed_places(owner, member, community):
    completed(owner, member, community, "2.50")
    completed(member, owner, community, "1")
    SeatFactory(session=SessionFactory(helper=owner, community=community), learner=member)  # booked
    disputed = completed(owner, member, community, "3")
    Seat.objects.filter(pk=disputed.pk).update(status=P.DISPUTED)
    assert (BLUEPRINT.figure().value, BLUEPRINT.figure().label) == ("3.5", "hours swapped")
    completed(owner, member, community, "0.5")
    assert BLUEPRINT.figure().value == "4"


def test_the_cached_figure_changes_when_both_confirm_a_session(
    owner, member, community, django_capture_on_commit_callbacks
):
    assert figures()["skills"].value == "0"
    with django_capture_on_commit_callbacks(execute=True):
        session = services.session_accept(session=propose(community, owner, member, when=1), actor=owner)
    with time_machine.travel(hours(4), tick=False), django_capture_on_commit_callbacks(execute=True):
        services.session_confirm(session=session, actor=member, hours="1.5")
        services.session_confirm(session=session, actor=owner, hours="1.5")
    assert (figures()["skills"].value, figures()["skills"].label) == ("1.5", "hours swapped")


# --- the dashboard -------------------------------------------------------------------------------
def test_a_proposed_session_waits_for_the_other_persons_answer(owner, member, stranger, community):
    session = propose(community, owner, member)
    [item] = BLUEPRINT.actions(user=owner)
    assert item.text == "Max Member proposes \u201cFix the bike's gears\u201d on Thu 3 Dec, 10:00"
    assert item.url == f"/skills/sessions/{session.pk}/" and item.verb == "Agree or cancel" and item.kind == "skills"
    assert BLUEPRINT.actions(user=member) == []
    assert BLUEPRINT.actions(user=stranger) == []


def test_after_a_session_each_is_asked_for_their_hours_until_they_gave_them(owner, member, community):
    session = services.session_accept(session=propose(community, owner, member, when=1), actor=owner)
    assert BLUEPRINT.actions(user=member) == []
    with time_machine.travel(hours(3), tick=False):
        assert texts(BLUEPRINT.actions(user=member)) == [
            "Confirm the hours of \u201cFix the bike's gears\u201d with Olive Owner"
        ]
        services.session_confirm(session=session, actor=member, hours="2")
        assert BLUEPRINT.actions(user=member) == []
        [item] = BLUEPRINT.actions(user=owner)
        assert item.text == "Confirm the hours you gave at \u201cFix the bike's gears\u201d"
        assert item.verb == "Confirm the hours" and item.url == session.get_absolute_url()
        services.session_confirm(session=session, actor=owner, hours="2")
        assert BLUEPRINT.actions(user=owner) == []


def test_a_request_with_helpers_found_asks_the_requester_to_see_them(owner, member, organizer, community):
    request = RequestFactory(member=member, community=community, title="Fix my bike")
    matched(request, OfferFactory(member=owner, community=community))
    hidden = OfferFactory(member=organizer, community=community)
    matched(request, hidden)
    Offer.objects.filter(pk=hidden.pk).update(is_hidden=True)
    [item] = BLUEPRINT.actions(user=member)
    assert item.text == "1 neighbor could help with \u201cFix my bike\u201d"
    assert item.url == "/skills/matches/" and item.verb == "See who can help"
    assert BLUEPRINT.actions(user=owner) == []
    Offer.objects.filter(pk=hidden.pk).update(is_hidden=False)
    assert texts(BLUEPRINT.actions(user=member)) == ["2 neighbors could help with \u201cFix my bike\u201d"]
    SessionFactory(helper=owner, community=community, request=request)
    assert BLUEPRINT.actions(user=member) == []


def test_upcoming_sessions_are_mine_soonest_first_helping_and_learning(owner, member, organizer, community):
    services.session_accept(session=propose(community, owner, member, when=48), actor=owner)
    propose(community, organizer, member, when=24, title="Bread")
    cancelled = propose(community, owner, member, when=30, title="Called off")
    services.session_cancel(session=cancelled, actor=member)
    SeatFactory(session=SessionFactory(helper=owner, community=community, starts_at=hours(-3)), learner=member)
    assert texts(BLUEPRINT.upcoming(user=member)) == [
        "\u201cBread\u201d with Orla Organizer, Thu 3 Dec, 10:00 (waiting for Orla Organizer to agree)",
        "\u201cFix the bike's gears\u201d with Olive Owner, Fri 4 Dec, 10:00",
    ]
    assert texts(BLUEPRINT.upcoming(user=owner)) == [
        "You help Max Member with \u201cFix the bike's gears\u201d, Fri 4 Dec, 10:00"
    ]
    assert BLUEPRINT.upcoming(user=organizer) == []  # proposed to them: an action, not yet upcoming
    assert BLUEPRINT.upcoming(user=owner)[0].verb == "See the session"


def test_a_group_session_shows_its_places_to_the_host_and_the_learners(owner, member, organizer, community):
    session = services.group_session_create(
        helper=owner,
        community=community,
        title="Repair caf\u00e9",
        starts_at=hours(50),
        planned_hours=Decimal("2"),
        capacity=5,
        place="The library",
    )
    services.seat_join(session=session, learner=member)
    services.seat_leave(seat=services.seat_join(session=session, learner=organizer), actor=organizer)
    assert texts(BLUEPRINT.upcoming(user=owner)) == [
        "You host \u201cRepair caf\u00e9\u201d (1 of 5 places taken), Fri 4 Dec, 12:00"
    ]
    assert texts(BLUEPRINT.upcoming(user=member)) == ["\u201cRepair caf\u00e9\u201d with Olive Owner, Fri 4 Dec, 12:00"]
    assert BLUEPRINT.upcoming(user=organizer) == []


# --- the activity feed ------------------------------------------------------------------------------
def test_the_feed_shows_the_newest_offers_and_requests_the_member_may_see(
    owner, member, organizer, community, other_community
):
    offer = OfferFactory(member=owner, community=community, title="I fix bikes")
    with time_machine.travel(TEN_AM + timedelta(hours=1), tick=False):
        request = RequestFactory(member=organizer, community=community, title="Help me bake")
    hidden = OfferFactory(member=owner, community=community, title="Hidden")
    Offer.objects.filter(pk=hidden.pk).update(is_hidden=True)
    OfferFactory(member=owner, community=community, status=Offer.Status.CLOSED, title="Closed")
    RequestFactory(member=owner, community=community, expires_at=hours(-1), title="Expired")
    OfferFactory(community=other_community, title="Elsewhere")
    items = BLUEPRINT.activity(user=member, community_ids=[community.pk, other_community.pk], limit=10)
    assert texts(items) == ["Orla Organizer asks for help: Help me bake", "Olive Owner offers help: I fix bikes"]
    assert [item.url for item in items] == [request.get_absolute_url(), offer.get_absolute_url()]
    assert [item.verb for item in items] == ["See the request", "See the offer"]
    assert items[0].when == request.created_at
    assert texts(BLUEPRINT.activity(user=member, community_ids=[community.pk], limit=1)) == [texts(items)[0]]


def test_strangers_and_communities_that_stopped_the_skill_swap_show_nothing(
    owner, member, stranger, organizer, community
):
    OfferFactory(member=owner, community=community)
    assert BLUEPRINT.activity(user=stranger, community_ids=[community.pk], limit=10) == []
    exchange_stop(community=community, key="skills", actor=organizer)
    assert BLUEPRINT.activity(user=member, community_ids=[community.pk], limit=10) == []
    assert BLUEPRINT.search(user=member, query="help", limit=10) == []


# --- unified search -----------------------------------------------------------------------------------
@pytest.fixture
def listings(owner, organizer, community, bike_repair, baking):
    return {
        "title": OfferFactory(member=owner, community=community, title="Bike tune-ups", skills=[baking]),
        "description": OfferFactory(
            member=organizer, community=community, title="Handy help", description="Also bike lights.", skills=[baking]
        ),
        "skill": RequestFactory(member=owner, community=community, title="Squeaky wheel", skills=[bike_repair]),
    }


def test_search_finds_offers_and_requests_by_title_description_or_skill_title_first(member, listings):
    hits = BLUEPRINT.search(user=member, query="bike", kinds=None, near=None, within_km=None, limit=10)
    assert [hit.title for hit in hits] == ["Bike tune-ups", "Handy help", "Squeaky wheel"]
    assert hits[0].rank > hits[1].rank > hits[2].rank
    assert [(hit.kind, hit.kind_label) for hit in hits] == [
        ("offer", "Skill offers"),
        ("offer", "Skill offers"),
        ("request", "Skill requests"),
    ]
    assert hits[1].snippet == "Also bike lights." and hits[1].community == "Sunnyside Commons"
    assert hits[2].url == listings["skill"].get_absolute_url() and "Bike repair (test)" in hits[2].snippet
    assert [hit.title for hit in BLUEPRINT.search(user=member, query="bike", limit=1)] == ["Bike tune-ups"]


def test_search_honours_the_kinds_asked_for(member, listings):
    assert [hit.title for hit in BLUEPRINT.search(user=member, query="bike", kinds=["request"], limit=10)] == [
        "Squeaky wheel"
    ]
    assert BLUEPRINT.search(user=member, query="bike", kinds=["tool"], limit=10) == []
    assert len(BLUEPRINT.search(user=member, query="bike", kinds=["offer", "request"], limit=10)) == 3


def test_search_leaves_out_hidden_closed_and_foreign_listings(member, stranger, listings, other_community):
    Offer.objects.filter(pk=listings["title"].pk).update(is_hidden=True)
    Offer.objects.filter(pk=listings["description"].pk).update(status=Offer.Status.CLOSED)
    OfferFactory(community=other_community, title="Bike school")
    assert [hit.title for hit in BLUEPRINT.search(user=member, query="bike", limit=10)] == ["Squeaky wheel"]
    assert BLUEPRINT.search(user=stranger, query="bike", limit=10) == []


def test_search_gives_the_distance_and_leaves_out_listings_beyond_it(member, listings):
    Offer.objects.filter(pk=listings["title"].pk).update(latitude=Decimal("52.36"), longitude=Decimal("4.9"))
    Offer.objects.filter(pk=listings["description"].pk).update(latitude=Decimal("52.45"), longitude=Decimal("4.9"))
    hits = {hit.title: hit for hit in BLUEPRINT.search(user=member, query="bike", near=(52.37, 4.9), limit=10)}
    assert hits["Bike tune-ups"].distance_km == pytest.approx(1.11, abs=0.05)
    assert hits["Handy help"].distance_km == pytest.approx(8.9, abs=0.1)
    assert hits["Squeaky wheel"].distance_km is None  # no place known
    close = BLUEPRINT.search(user=member, query="bike", near=(52.37, 4.9), within_km=3, limit=10)
    assert [hit.title for hit in close] == ["Bike tune-ups", "Squeaky wheel"]


# --- the profile -----------------------------------------------------------------------------------
def test_history_counts_hours_each_way_and_the_skills_offered(
    owner, member, community, bike_repair, furniture_repair, baking
):
    completed(owner, member, community, "2")
    completed(owner, member, community, "0.75")
    completed(member, owner, community, "1.5")
    OfferFactory(member=owner, community=community, skills=[bike_repair, furniture_repair])
    OfferFactory(member=owner, community=community, skills=[bike_repair])
    OfferFactory(member=owner, community=community, skills=[baking], status=Offer.Status.CLOSED)
    rows = {row.label: row.value for row in BLUEPRINT.history(subject=owner, viewer=member)}
    assert rows == {"Hours given": "2.75", "Hours received": "1.5", "Skills offered": "2"}
    rows = {row.label: row.value for row in BLUEPRINT.history(subject=member, viewer=owner)}
    assert rows == {"Hours given": "1.5", "Hours received": "2.75", "Skills offered": "0"}


# --- starting it, and its rules -------------------------------------------------------------------------
def test_starting_the_skill_swap_sets_nothing_and_says_its_rules(organizer):
    community = CommunityFactory(exchanges=[])
    assert BLUEPRINT.start(community=community, actor=organizer) is None
    assert BLUEPRINT.default_rules == DEFAULT_RULES
    for words in ("An hour of help is one hour", "both of you confirm", "cash"):
        assert words in DEFAULT_RULES


# --- a community that stops the skill swap ---------------------------------------------------------------
def test_a_stopped_exchange_takes_no_new_offer_request_or_session(owner, member, organizer, community, bike_repair):
    group = services.group_session_create(
        helper=owner,
        community=community,
        title="Repair caf\u00e9",
        starts_at=hours(50),
        planned_hours=Decimal("2"),
        capacity=5,
        place="The library",
    )
    closed = OfferFactory(member=owner, community=community, status=Offer.Status.CLOSED, skills=[bike_repair])
    exchange_stop(community=community, key="skills", actor=organizer)
    attempts = {
        "offer": lambda: services.offer_create(member=owner, community=community, title="Bikes", skills=[bike_repair]),
        "request": lambda: services.request_create(
            member=member,
            community=community,
            title="Bike",
            skills=[bike_repair],
            wanted_from=timezone.localdate() + timedelta(days=1),
            wanted_until=timezone.localdate() + timedelta(days=3),
        ),
        "session": lambda: propose(community, owner, member),
        "group": lambda: services.group_session_create(
            helper=owner,
            community=community,
            title="More",
            starts_at=hours(60),
            planned_hours=Decimal("1"),
            capacity=3,
            place="The library",
        ),
        "seat": lambda: services.seat_join(session=group, learner=member),
        "reopen": lambda: services.offer_reopen(offer=closed, actor=owner),
    }
    for name, attempt in attempts.items():
        with pytest.raises(RuleViolation) as refused:
            attempt()
        assert refused.value.code == "exchange_off", name
        assert "Skill Swap Network" in str(refused.value)
    assert Offer.objects.count() == 1 and not Request.objects.exists()
    assert Session.objects.count() == 1 and not Seat.objects.exists()


def test_sessions_agreed_before_the_exchange_stopped_run_to_their_end(owner, member, organizer, community):
    session = propose(community, owner, member, when=1)
    exchange_stop(community=community, key="skills", actor=organizer)
    session = services.session_accept(session=session, actor=owner)
    with time_machine.travel(hours(3), tick=False):
        services.session_confirm(session=session, actor=member, hours="2")
        [seat] = services.session_confirm(session=session, actor=owner, hours="2")
    assert seat.status == P.COMPLETED and Transfer.objects.get().amount == Decimal("2.00")


# --- query counts --------------------------------------------------------------------------------------
def test_the_dashboard_loaders_run_a_fixed_number_of_queries(owner, member, community):
    def add_rows(n: int) -> None:
        for i in range(n):
            proposed = SessionFactory(
                helper=owner,
                community=community,
                status=Session.Status.PROPOSED,
                proposed_by=member,
                starts_at=hours(20 + i),
            )
            SeatFactory(session=proposed, learner=member)
            SeatFactory(session=SessionFactory(helper=owner, community=community, starts_at=hours(-5)), learner=member)
            SeatFactory(session=SessionFactory(helper=member, community=community, starts_at=hours(30)), learner=owner)
            request = RequestFactory(member=owner, community=community)
            matched(request, OfferFactory(member=member, community=community))

    assert assert_queries_do_not_grow(lambda: BLUEPRINT.actions(user=owner), add_rows, small=1, large=5) == 3
    assert len(BLUEPRINT.actions(user=owner)) == 15
    assert assert_queries_do_not_grow(lambda: BLUEPRINT.upcoming(user=owner), add_rows, small=0, large=4) == 2
    assert assert_queries_do_not_grow(lambda: BLUEPRINT.upcoming(user=member), add_rows, small=0, large=3) == 2


def test_the_feed_and_search_run_one_query_per_kind_whatever_the_rows(owner, member, community, bike_repair):
    def add_rows(n: int) -> None:
        for i in range(n):
            OfferFactory(member=owner, community=community, title=f"Bike help {i}", skills=[bike_repair])
            RequestFactory(member=owner, community=community, title=f"Bike trouble {i}", skills=[bike_repair])

    feed = lambda: BLUEPRINT.activity(user=member, community_ids=[community.pk], limit=20)  # noqa: E731
    assert assert_queries_do_not_grow(feed, add_rows, small=1, large=8) == 2
    found = lambda: BLUEPRINT.search(user=member, query="bike", near=(52.3, 4.9), within_km=5, limit=20)  # noqa: E731
    assert assert_queries_do_not_grow(found, add_rows, small=0, large=8) == 2


def test_the_api_tells_a_member_the_community_stopped_the_skill_swap(api_as, owner, organizer, community, bike_repair):
    exchange_stop(community=community, key="skills", actor=organizer)
    body = {"community": community.pk, "title": "I fix bikes", "skills": [bike_repair.pk], "travel_km": "3.0"}
    refused = api_as(owner).post("/api/v1/skills/offers/", body, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "exchange_off"
    assert "does not use the Skill Swap Network exchange" in refused.json()["detail"]
    assert not Offer.objects.exists()
