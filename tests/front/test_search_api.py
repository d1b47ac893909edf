"""GET /api/v1/search/ and GET /api/v1/me/dashboard/: typed JSON for apps, the same
selectors as the pages; bad parameters are a 400 on the parameter, anonymous callers a
401, and the counts of queries are pinned."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

import pytest

from apps.codesign.factories import ChallengeFactory, ProposalFactory
from apps.codesign.models import Challenge
from apps.peers.factories import MembershipFactory
from apps.skills.factories import OfferFactory
from apps.tools.factories import ToolFactory
from tests.front.test_dashboard import make_pending
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search/"
DASHBOARD = "/api/v1/me/dashboard/"
HIT_FIELDS = {"kind", "kind_label", "title", "snippet", "url", "rank", "community", "distance_km"}


@pytest.fixture
def ladders(member, community, other_community):
    challenge = ChallengeFactory(community=community, title="The shed", phase=Challenge.Phase.PROPOSALS)
    ToolFactory(owner=member, community=community, title="Aluminium ladder")
    OfferFactory(member=member, community=community, title="Ladder work on gutters")
    ProposalFactory(challenge=challenge, author=member, title="A ladder rack for the shed")
    ToolFactory(owner=member, community=community, title="Hidden ladder", is_hidden=True)
    there = MembershipFactory(community=other_community).user
    ToolFactory(owner=there, community=other_community, title="Riverside ladder")


def test_search_answers_typed_results_best_first(owner, ladders, api_as):
    response = api_as(owner).get(SEARCH, {"q": "ladder"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    results = body["results"]
    assert {(r["kind"], r["title"]) for r in results} == {
        ("tool", "Aluminium ladder"),
        ("offer", "Ladder work on gutters"),
        ("proposal", "A ladder rack for the shed"),
    }
    assert all(set(r) == HIT_FIELDS for r in results)
    assert [r["rank"] for r in results] == sorted((r["rank"] for r in results), reverse=True)
    assert {r["community"] for r in results} == {"Sunnyside Commons"}
    assert all(r["url"].startswith("/") for r in results)


@pytest.mark.parametrize("kind", [["tool"], ["tool", "offer"], ["tool,offer"]])
def test_search_filters_by_kind_repeated_or_comma_separated(owner, ladders, api_as, kind):
    results = api_as(owner).get(SEARCH, {"q": "ladder", "kind": kind}).json()["results"]
    wanted = {part for item in kind for part in item.split(",")}
    assert {r["kind"] for r in results} == wanted


def test_search_finds_neighbors_of_my_communities_only(owner, member, stranger, api_as):
    results = api_as(owner).get(SEARCH, {"q": "max", "kind": "member"}).json()["results"]
    assert [(r["kind"], r["title"], r["kind_label"]) for r in results] == [("member", "Max Member", "Neighbors")]
    assert api_as(owner).get(SEARCH, {"q": "stranger"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": " ;, "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "ladder", "kind": "spaceship"}, "kind"),
        ({"q": "ladder", "kind": "tool,spaceship"}, "kind"),
        ({"q": "ladder", "within_km": "far"}, "within_km"),
        ({"q": "ladder", "within_km": "0"}, "within_km"),
        ({"q": "ladder", "within_km": "1e9"}, "within_km"),
        ({"q": "ladder", "page": "abc"}, "page"),
        ({"q": "ladder", "page": "0"}, "page"),
        ({"q": "ladder", "page": "²"}, "page"),
        ({"q": "ladder", "page_size": "1000"}, "page_size"),
    ],
)
def test_bad_parameters_are_a_400_on_the_parameter(owner, api_as, params, field):
    response = api_as(owner).get(SEARCH, params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_distance_needs_a_place_on_my_profile(owner, member, api_as):
    owner.profile.approx_latitude = owner.profile.approx_longitude = None
    owner.profile.save()
    response = api_as(owner).get(SEARCH, {"q": "max", "within_km": "2"})
    assert response.status_code == 400
    assert response.json()["within_km"] == ["Set your location on your profile to search by distance."]


def test_a_distance_keeps_what_is_near(owner, member, community, api_as):
    far = MembershipFactory(community=community, user__profile__display_name="Max Farmer").user
    for person, latitude in ((owner, "52.36000"), (member, "52.36500"), (far, "52.50000")):
        person.profile.approx_latitude, person.profile.approx_longitude = Decimal(latitude), Decimal("4.90000")
        person.profile.save()
    results = api_as(owner).get(SEARCH, {"q": "max", "within_km": "2"}).json()["results"]
    assert [r["title"] for r in results] == ["Max Member"]
    assert results[0]["distance_km"] == pytest.approx(0.6, abs=0.1)


def test_a_page_past_the_last_is_a_404(owner, ladders, api_as):
    assert api_as(owner).get(SEARCH, {"q": "ladder", "page": "9"}).status_code == 404


def test_anonymous_callers_get_a_401(api_client):
    assert api_client.get(SEARCH, {"q": "ladder"}).status_code == 401
    assert api_client.get(DASHBOARD).status_code == 401


def test_search_keeps_a_pinned_number_of_queries(owner, member, community, api_as):
    client = api_as(owner)
    numbers = count()

    def add_rows(n: int) -> None:
        for _ in range(n):
            i = next(numbers)
            ToolFactory(owner=member, community=community, title=f"Ladder {i}")
            OfferFactory(member=member, community=community, title=f"Ladder help {i}")
            ProposalFactory(
                challenge=ChallengeFactory(community=community, phase=Challenge.Phase.PROPOSALS),
                title=f"Ladder rack {i}",
            )
            MembershipFactory(community=community, user__profile__display_name=f"Ladder Larry {i}")

    def request():
        assert client.get(SEARCH, {"q": "ladder"}).status_code == 200

    request()
    queries = assert_queries_do_not_grow(request, add_rows, small=1, large=12)
    # exchanges in use, one per search kind (tools 1, skills 2, co-design 2), neighbors (the test user has its profile),
    # the member's communities and the listings of the neighbouring communities they follow (apps/federation)
    assert queries == 9, queries


# --- the dashboard ----------------------------------------------------------------------------
def test_the_dashboard_answers_actions_upcoming_balances_trust_and_activity(
    owner, member, organizer, community, api_as
):
    pending = make_pending(me=owner, neighbor=member, organizer=organizer, community=community)
    body = api_as(owner).get(DASHBOARD).json()
    assert set(body) == {"communities", "actions", "upcoming", "balances", "trust", "activity"}
    assert {"tools", "skills", "solar", "codesign"} <= {a["kind"] for a in body["actions"]}
    assert pending.review_url in {a["url"] for a in body["actions"]}
    assert all(set(a) == {"kind", "text", "when", "url", "verb"} for a in body["actions"])
    assert all(a["verb"] for a in body["actions"])
    assert body["communities"] == [{"id": community.pk, "slug": "sunnyside", "name": "Sunnyside Commons"}]
    assert [(b["currency"], b["balance"]) for b in body["balances"]] == [("HOUR", "0.00"), ("CREDIT", "0.00")]
    assert body["trust"] == {"score": None, "rating_count": 0, "completed": 0, "counterparts": 0}


def test_the_dashboard_of_a_member_of_no_community_is_empty(stranger, api_as):
    body = api_as(stranger).get(DASHBOARD).json()
    assert body["communities"] == body["actions"] == body["balances"] == body["activity"] == []


def test_the_schema_names_the_search_and_dashboard_components():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for name in ("SearchHit", "PaginatedSearchHitList", "Dashboard", "DashboardItem", "DashboardBalance"):
        assert name in components, name
    operation = schema["paths"]["/api/v1/search/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "kind", "within_km", "page", "page_size"}
    assert {"200", "400", "401", "404"} <= set(operation["responses"])
