"""The front door's API: the blueprints with their live figures (public), and a community's
exchanges: members read them, organizers start and stop them; anyone else is refused and
nothing changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.front.figures import figures
from apps.peers.blueprints import blueprint
from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.models import CommunityExchange
from apps.tools.factories import ToolFactory

pytestmark = pytest.mark.django_db

BLUEPRINTS = "/api/v1/blueprints/"


def exchanges_url(community) -> str:
    return f"/api/v1/communities/{community.pk}/exchanges/"


@pytest.fixture
def oak_lane():
    """A community that uses tool sharing and the skill swap only, with an organizer and a member."""
    community = CommunityFactory(name="Oak Lane", exchanges=["tools", "skills"])
    organizer = OrganizerMembershipFactory(community=community).user
    member = MembershipFactory(community=community).user
    return community, organizer, member


def test_anyone_reads_the_blueprints_with_their_words_and_live_figures(api_client):
    ToolFactory.create_batch(2)
    response = api_client.get(BLUEPRINTS)
    assert response.status_code == 200
    rows = response.json()
    assert [row["key"] for row in rows] == ["tools", "solar", "skills", "codesign"]
    tools = rows[0]
    assert tools == {
        "key": "tools",
        "category": "Collaboration",
        "title": "Community Tool Sharing",
        "description": "An organized system for sharing home tools and resources between neighbors.",
        "tags": ["DIY", "Shared"],
        "figure": {"value": "2", "label": "tools to borrow"},
        "url": "http://testserver" + reverse("front:blueprint", args=["tools"]),
    }
    for row in rows:
        assert row["figure"] == {"value": figures()[row["key"]].value, "label": figures()[row["key"]].label}


def test_members_read_the_exchanges_their_community_uses_with_its_rules(api_as, oak_lane):
    community, _organizer, member = oak_lane
    CommunityExchange.objects.filter(community=community, key="skills").update(rules="An hour is an hour.")
    response = api_as(member).get(exchanges_url(community))
    assert response.status_code == 200
    rows = response.json()
    assert [(row["key"], row["title"], row["rules"]) for row in rows] == [
        ("tools", "Community Tool Sharing", ""),
        ("skills", "Skill Swap Network", "An hour is an hour."),
    ]
    assert rows[0]["url"].endswith("/blueprints/tools/") and rows[0]["started_at"]


def test_a_stopped_exchange_is_not_listed(api_as, oak_lane):
    community, organizer, member = oak_lane
    assert api_as(organizer).delete(exchanges_url(community) + "tools/").status_code == 204
    assert [row["key"] for row in api_as(member).get(exchanges_url(community)).json()] == ["skills"]


def test_people_outside_the_community_get_not_found(api_as, api_client, oak_lane):
    community, _organizer, member = oak_lane
    outsider = OrganizerMembershipFactory(community=CommunityFactory()).user
    for client in (api_as(UserFactory()), api_as(outsider)):
        assert client.get(exchanges_url(community)).status_code == 404
        assert client.post(exchanges_url(community), {"key": "solar"}).status_code == 404
        assert client.delete(exchanges_url(community) + "tools/").status_code == 404
    assert api_client.get(exchanges_url(community)).status_code == 401
    assert api_as(member).get("/api/v1/communities/999999/exchanges/").status_code == 404
    assert not CommunityExchange.objects.filter(community=community, key="solar").exists()
    assert CommunityExchange.objects.get(community=community, key="tools").in_use


def test_an_organizer_starts_an_exchange_with_the_blueprints_default_rules(api_as, oak_lane):
    community, organizer, member = oak_lane
    response = api_as(organizer).post(exchanges_url(community), {"key": "solar"})
    assert response.status_code == 201
    assert response.json()["key"] == "solar" and response.json()["rules"] == blueprint("solar").default_rules
    row = CommunityExchange.objects.get(community=community, key="solar")
    assert row.in_use and row.started_by == organizer
    assert "solar" in [r["key"] for r in api_as(member).get(exchanges_url(community)).json()]


def test_starting_an_exchange_in_use_changes_only_its_rules(api_as, oak_lane):
    community, organizer, _member = oak_lane
    response = api_as(organizer).post(exchanges_url(community), {"key": "tools", "rules": "Return tools clean."})
    assert response.status_code == 200 and response.json()["rules"] == "Return tools clean."
    assert CommunityExchange.objects.get(community=community, key="tools").rules == "Return tools clean."


def test_a_member_who_is_not_an_organizer_is_forbidden_to_start_or_stop(api_as, oak_lane):
    community, _organizer, member = oak_lane
    response = api_as(member).post(exchanges_url(community), {"key": "solar"})
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an organizer of this community can choose the community's exchanges."
    response = api_as(member).delete(exchanges_url(community) + "tools/")
    assert response.status_code == 403 and "Only an organizer" in response.json()["detail"]
    assert not CommunityExchange.objects.filter(community=community, key="solar").exists()
    assert CommunityExchange.objects.get(community=community, key="tools").in_use


@pytest.mark.parametrize(
    "body, field",
    [({"key": "bakery"}, "key"), ({}, "key"), ({"key": "solar", "rules": "x" * 5001}, "rules")],
)
def test_bad_input_is_a_400_with_field_errors(api_as, oak_lane, body, field):
    community, organizer, _member = oak_lane
    response = api_as(organizer).post(exchanges_url(community), body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field] and isinstance(response.json()[field], list)
    assert not CommunityExchange.objects.filter(community=community, key="solar").exists()


def test_an_organizer_stops_an_exchange_and_stopping_it_again_is_not_found(api_as, oak_lane):
    community, organizer, _member = oak_lane
    url = exchanges_url(community) + "tools/"
    assert api_as(organizer).delete(url).status_code == 204
    assert not CommunityExchange.objects.get(community=community, key="tools").in_use
    assert api_as(organizer).delete(url).status_code == 404
    assert api_as(organizer).delete(exchanges_url(community) + "solar/").status_code == 404
    assert api_as(organizer).delete(exchanges_url(community) + "bakery/").status_code == 404


def test_the_blueprint_list_runs_no_query_once_the_figures_are_cached(api_client, django_assert_num_queries):
    figures()
    with django_assert_num_queries(0):
        assert api_client.get(BLUEPRINTS).status_code == 200
