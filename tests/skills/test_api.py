"""The skill swap's REST API: listings, matches, sessions; who may do what; query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from apps.peers.factories import MembershipFactory
from apps.skills.factories import (
    OfferFactory,
    RequestFactory,
    SeatFactory,
    SessionFactory,
    SkillCategoryFactory,
    SkillFactory,
)
from apps.skills.models import Match, Offer, Seat, Session
from tests.querycount import assert_queries_do_not_grow
from tests.skills.conftest import place

pytestmark = pytest.mark.django_db
API = "/api/v1/skills/"


@pytest.fixture
def located(owner, member, organizer):
    for user in (owner, member, organizer):
        place(user, 52.37, 4.89)


def test_a_member_offers_help_and_a_neighbor_asks_and_both_see_the_match(
    api_as, community, owner, member, bike_repair, located
):
    with TestCase.captureOnCommitCallbacks(execute=True):
        offered = api_as(owner).post(
            f"{API}offers/",
            {
                "community": community.pk,
                "title": "Bike repair in my shed",
                "skills": [bike_repair.pk],
                "tags": ["Gears", "brakes"],
                "travel_km": "4",
                "windows": [{"weekday": 5, "start": "09:00", "end": "12:00"}],
            },
            format="json",
        )
    assert offered.status_code == 201, offered.content
    assert offered.json()["tags"] == ["brakes", "gears"] and offered.json()["windows"][0]["weekday"] == 5
    day = timezone.localdate() + timedelta(days=1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        asked = api_as(member).post(
            f"{API}requests/",
            {
                "community": community.pk,
                "title": "Gears slip",
                "skills": [bike_repair.pk],
                "wanted_from": day.isoformat(),
                "wanted_until": (day + timedelta(days=6)).isoformat(),
                "estimated_hours": "2",
            },
            format="json",
        )
    assert asked.status_code == 201, asked.content
    mine = api_as(member).get(f"{API}matches/").json()["results"]
    assert len(mine) == 1 and mine[0]["my_side"] == "requester" and "same skill" in mine[0]["reasons"]
    assert mine[0]["helper"]["display_name"] == "Olive Owner"
    theirs = api_as(owner).get(f"{API}matches/").json()["results"]
    assert theirs[0]["my_side"] == "helper" and theirs[0]["id"] == mine[0]["id"]
    assert api_as(MembershipFactory(community=community).user).get(f"{API}matches/").json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"skills": []}, "skills"),
        ({"skills": [999999]}, "skills"),
        ({"wanted_until": "2020-01-01", "wanted_from": "2020-01-01"}, "wanted_until"),
        ({"estimated_hours": "0"}, "estimated_hours"),
        ({"community": 999999}, "community"),
    ],
)
def test_bad_requests_are_400s_with_field_errors(api_as, community, member, bike_repair, body, field):
    day = timezone.localdate() + timedelta(days=1)
    payload = {
        "community": community.pk,
        "title": "Help",
        "skills": [bike_repair.pk],
        "wanted_from": day.isoformat(),
        "wanted_until": day.isoformat(),
        **body,
    }
    response = api_as(member).post(f"{API}requests/", payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.content


def test_only_the_author_edits_a_listing(api_as, community, owner, member, bike_repair):
    offer = OfferFactory(member=owner, community=community, skills=[bike_repair])
    assert api_as(member).patch(f"{API}offers/{offer.pk}/", {"title": "Mine now"}, format="json").status_code == 404
    closed = api_as(owner).patch(f"{API}offers/{offer.pk}/", {"status": "closed"}, format="json")
    assert closed.status_code == 200 and Offer.objects.get().status == "closed"
    assert api_as(member).get(f"{API}offers/").json()["count"] == 0  # closed offers leave the directory
    assert api_as(owner).get(f"{API}offers/", {"mine": "true"}).json()["count"] == 1


def test_the_directory_filters_by_skill_category_words_and_distance(
    api_as, community, owner, organizer, member, bike_repair, baking
):
    place(owner, 52.37, 4.89)
    place(organizer, 52.50, 4.89)  # about 14 km north
    OfferFactory(
        member=owner,
        community=community,
        skills=[bike_repair],
        title="Bikes",
        latitude=Decimal("52.37"),
        longitude=Decimal("4.89"),
    )
    OfferFactory(
        member=organizer,
        community=community,
        skills=[baking],
        title="Sourdough",
        latitude=Decimal("52.5"),
        longitude=Decimal("4.89"),
    )
    client = api_as(member)

    def titles(**params):
        return [o["title"] for o in client.get(f"{API}offers/", params).json()["results"]]

    assert titles(skill=bike_repair.slug) == ["Bikes"]
    assert titles(category=baking.category.slug) == ["Sourdough"]
    assert titles(q="sourdough") == ["Sourdough"]
    assert titles(lat=52.37, lng=4.89, radius_km=5) == ["Bikes"]
    assert sorted(titles(lat=52.37, lng=4.89, radius_km=20)) == ["Bikes", "Sourdough"]
    assert client.get(f"{API}offers/", {"lat": 52}).status_code == 400


def _ready_session(helper, learner, community, **kw):
    session = SessionFactory(helper=helper, community=community, **kw)
    SeatFactory(session=session, learner=learner)
    return session


@pytest.mark.parametrize(
    ("action", "state", "body", "outcomes"),
    [
        # requester (learner), helper, stranger (member, not a party), organizer (not a party)
        ("accept", "proposed", {}, {"learner": 200, "helper": 409, "stranger": 404, "organizer": 404}),
        ("cancel", "scheduled", {}, {"learner": 200, "helper": 200, "stranger": 404, "organizer": 404}),
        ("confirm", "past", {"hours": "2"}, {"learner": 200, "helper": 200, "stranger": 404, "organizer": 404}),
        ("dispute", "past", {"reason": "No show"}, {"learner": 200, "helper": 200, "stranger": 404, "organizer": 404}),
    ],
)
def test_who_may_act_on_a_session(api_as, community, owner, member, organizer, action, state, body, outcomes):
    stranger = MembershipFactory(community=community).user
    people = {"learner": member, "helper": owner, "stranger": stranger, "organizer": organizer}
    for who, expected in outcomes.items():
        kw = {"status": "proposed", "proposed_by": owner} if state == "proposed" else {}
        if state == "past":
            kw["starts_at"] = timezone.now() - timedelta(hours=3)
        session = _ready_session(owner, member, community, **kw)
        response = api_as(people[who]).post(f"{API}sessions/{session.pk}/{action}/", body, format="json")
        assert response.status_code == expected, (who, response.content)
        session.refresh_from_db()
        seat = session.seats.get()
        if expected != 200:
            assert session.status == kw.get("status", "scheduled") and seat.status == "booked", who
            assert seat.learner_hours is None and seat.helper_hours is None


def test_a_session_through_the_api_moves_the_hours_after_both_confirm(api_as, community, owner, member):
    start = timezone.now() + timedelta(days=1)
    created = api_as(member).post(
        f"{API}sessions/",
        {
            "community": community.pk,
            "title": "Fix the bike",
            "helper": owner.pk,
            "learner": member.pk,
            "starts_at": start.isoformat(),
            "planned_hours": "2",
            "place": "Garage",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    sid = created.json()["id"]
    assert api_as(owner).post(f"{API}sessions/{sid}/accept/").json()["status"] == "scheduled"
    Session.objects.filter(pk=sid).update(starts_at=timezone.now() - timedelta(hours=2))
    api_as(member).post(f"{API}sessions/{sid}/confirm/", {"hours": "2"}, format="json")
    done = api_as(owner).post(f"{API}sessions/{sid}/confirm/", {"hours": "2"}, format="json").json()
    assert done["status"] == "completed" and done["seats"][0]["hours"] == "2.00"
    accounts = {a["currency"]: a["balance"] for a in api_as(member).get("/api/v1/ledger/accounts/").json()["results"]}
    assert accounts["HOUR"] == "-2.00"


def test_a_session_beyond_the_limit_is_a_409_naming_the_balance(api_as, community, owner, member):
    response = api_as(member).post(
        f"{API}sessions/",
        {
            "community": community.pk,
            "title": "Paint the house",
            "helper": owner.pk,
            "learner": member.pk,
            "starts_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "planned_hours": "12",
            "place": "Here",
        },
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "limit"
    assert "limit of -10 hours" in response.json()["detail"]
    assert not Session.objects.exists()


def test_a_group_session_is_joined_through_the_api(api_as, community, owner, member, organizer):
    created = api_as(owner).post(
        f"{API}sessions/",
        {
            "community": community.pk,
            "title": "Repair café",
            "helper": owner.pk,
            "capacity": 2,
            "starts_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "planned_hours": "1.5",
            "place": "Hall",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    sid = created.json()["id"]
    assert [s["id"] for s in api_as(member).get(f"{API}sessions/", {"open": "true"}).json()["results"]] == [sid]
    assert len(api_as(member).post(f"{API}sessions/{sid}/join/").json()["seats"]) == 1
    assert api_as(member).post(f"{API}sessions/{sid}/cancel/").json()["seats"][0]["status"] == "left"
    assert Seat.objects.get().status == "left" and Session.objects.get().status == "scheduled"


@pytest.mark.parametrize(
    "endpoint",
    ["offers", "requests", "matches", "sessions", "offers?mine=true", "requests?mine=true", "sessions?open=true"],
)
def test_list_query_counts_do_not_grow(api_as, community, owner, member, bike_repair, endpoint):
    client = api_as(member)

    def add(n):
        for _ in range(n):
            helper = MembershipFactory(community=community).user
            # A skill of its own category per row: the categories must come with the skills.
            own = SkillFactory(category=SkillCategoryFactory())
            offer = OfferFactory(member=helper, community=community, skills=[bike_repair, own])
            OfferFactory(member=member, community=community, skills=[own])
            request = RequestFactory(member=member, community=community, skills=[bike_repair, own])
            Match.objects.create(request=request, offer=offer, score=Decimal("0.7"), parts={}, reasons=["same skill"])
            _ready_session(helper, member, community)
            SessionFactory(helper=helper, community=community, capacity=4, proposed_by=owner)

    path = endpoint.replace("?", "/?") if "?" in endpoint else f"{endpoint}/"
    count = assert_queries_do_not_grow(lambda: client.get(f"{API}{path}"), add)
    # offers: count, page (member, profile, trust, community), skills, tags, windows;
    # requests: the same without windows; matches: count, page with both members joined;
    # sessions: count, page, seats with learners; mine=true and open=true: the same queries.
    assert (
        count
        == {
            "offers": 5,
            "requests": 4,
            "matches": 2,
            "sessions": 3,
            "offers?mine=true": 5,
            "requests?mine=true": 4,
            "sessions?open=true": 3,
        }[endpoint]
    )


def test_who_may_propose_and_join_in_the_api(api_as, community, owner, member, organizer, stranger):
    body = {
        "community": community.pk,
        "title": "Fix the bike",
        "helper": owner.pk,
        "learner": member.pk,
        "starts_at": (timezone.now() + timedelta(days=1)).isoformat(),
        "planned_hours": "1",
        "place": "Garage",
    }
    for outsider in (organizer, stranger):  # neither the helper nor the learner
        refused = api_as(outsider).post(f"{API}sessions/", body, format="json")
        assert refused.status_code == 409 and refused.json()["code"] == "forbidden", refused.content
    assert api_as(member).post(f"{API}sessions/", body, format="json").status_code == 201
    assert api_as(owner).post(f"{API}sessions/", body, format="json").status_code == 201
    group = SessionFactory(helper=owner, community=community, capacity=4)
    assert api_as(owner).post(f"{API}sessions/{group.pk}/join/").status_code == 404  # not open to its helper
    assert api_as(stranger).post(f"{API}sessions/{group.pk}/join/").status_code == 404  # not in the community
    assert api_as(organizer).post(f"{API}sessions/{group.pk}/join/").status_code == 200
    assert list(group.seats.values_list("learner", flat=True)) == [organizer.pk]
    assert Session.objects.count() == 3


def test_errors_in_list_items_are_flat_messages_as_the_schema_says(api_as, community, member, bike_repair):
    response = api_as(member).post(
        f"{API}offers/",
        {
            "community": community.pk,
            "title": "Bikes",
            "skills": [bike_repair.pk],
            "tags": ["ok", "a" * 41],
            "windows": [{"weekday": 1, "start": "10:00", "end": "09:00"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "tags": ["Item 2: Ensure this field has no more than 40 characters."],
        "windows": ["Item 1: end: Must be after the start."],
    }
    assert not Offer.objects.exists()


def test_the_taxonomy_query_count_does_not_grow(api_as, member):
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            i = next(counter)
            SkillFactory(category=SkillCategoryFactory(slug=f"qc-category-{i}"), slug=f"qc-skill-{i}")

    # the categories, then their site-wide skills in one prefetch.
    assert assert_queries_do_not_grow(lambda: api_as(member).get(f"{API}categories/"), add) == 2
