"""Unified search: one box across tools, skill offers and requests, challenges and
proposals, and the neighbors of the member's communities; ranked (a title match first),
filterable by kind and distance, never showing another community's or hidden things, in
a pinned number of queries. Runs on SQLite (the fallback) and PostgreSQL (full-text)."""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import count

import pytest
from django.urls import reverse

from apps.codesign.factories import ChallengeFactory, ProposalFactory
from apps.codesign.models import Challenge
from apps.front.unified_search import all_kinds, search
from apps.peers.factories import CommunityFactory, MembershipFactory
from apps.skills.factories import OfferFactory
from apps.tools.factories import ToolFactory
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


@pytest.fixture
def ladders(owner, member, community, other_community):
    """ "Ladder" in a tool, a skill offer and a proposal of Sunnyside, in a tool's
    description only, and in things nobody in Sunnyside may find."""
    challenge = ChallengeFactory(community=community, title="The shed", phase=Challenge.Phase.PROPOSALS)
    stranger_there = MembershipFactory(community=other_community, user__profile__display_name="Rita River").user
    return {
        "tool": ToolFactory(owner=member, community=community, title="Aluminium ladder", description="Three metres."),
        "offer": OfferFactory(member=member, community=community, title="Ladder work on gutters"),
        "proposal": ProposalFactory(challenge=challenge, author=member, title="A ladder rack for the shed"),
        "described": ToolFactory(
            owner=member, community=community, title="Paint roller", description="Long handle, no ladder needed."
        ),
        "hidden": ToolFactory(owner=member, community=community, title="Hidden ladder", is_hidden=True),
        "hidden_offer": OfferFactory(member=member, community=community, title="Hidden ladder lessons", is_hidden=True),
        "elsewhere": ToolFactory(owner=stranger_there, community=other_community, title="Riverside ladder"),
        "elsewhere_proposal": ProposalFactory(
            challenge=ChallengeFactory(community=other_community, phase=Challenge.Phase.PROPOSALS),
            title="A ladder for the river bank",
        ),
    }


def titles(hits) -> list[str]:
    return [hit.title for hit in hits]


def test_one_word_finds_a_tool_an_offer_and_a_proposal(owner, ladders):
    hits = search(user=owner, query="ladder")
    found = {(hit.kind, hit.title) for hit in hits}
    assert ("tool", "Aluminium ladder") in found
    assert ("offer", "Ladder work on gutters") in found
    assert ("proposal", "A ladder rack for the shed") in found
    urls = {hit.url for hit in hits}
    assert ladders["tool"].get_absolute_url() in urls
    assert ladders["offer"].get_absolute_url() in urls
    assert ladders["proposal"].get_absolute_url() in urls


def test_a_title_match_ranks_before_a_match_in_the_description(owner, ladders):
    found = titles(search(user=owner, query="ladder"))
    assert found.index("Aluminium ladder") < found.index("Paint roller")
    assert found.index("A ladder rack for the shed") < found.index("Paint roller")
    assert found[-1] == "Paint roller"


def test_another_communitys_and_hidden_things_never_appear(owner, ladders):
    found = " ".join(titles(search(user=owner, query="ladder")))
    for name in ("Hidden ladder", "Hidden ladder lessons", "Riverside ladder", "A ladder for the river bank"):
        assert name not in found


def test_the_kind_filter_keeps_only_those_kinds(owner, ladders):
    assert {hit.kind for hit in search(user=owner, query="ladder", kinds=["tool"])} == {"tool"}
    both = search(user=owner, query="ladder", kinds=["offer", "proposal"])
    assert {hit.kind for hit in both} == {"offer", "proposal"}
    assert search(user=owner, query="ladder", kinds=["member"]) == []


def test_every_kind_is_offered_with_neighbors_last():
    keys = [key for key, _label in all_kinds()]
    assert {"tool", "offer", "request", "challenge", "proposal"} <= set(keys)
    assert keys[-1] == "member"


def test_neighbors_are_found_by_name_but_not_strangers(owner, member, stranger, other_community):
    MembershipFactory(community=other_community, user__profile__display_name="Max Faraway")
    hits = search(user=owner, query="Max")
    assert [(hit.kind, hit.title) for hit in hits] == [("member", "Max Member")]
    assert hits[0].url == reverse("peers:profile", args=[member.pk])
    assert hits[0].community == "Sunnyside Commons"
    assert search(user=owner, query="Stranger") == []


def test_neighbors_are_found_by_neighborhood(owner, member):
    member.profile.neighborhood = "Tulip Square"
    member.profile.save()
    assert titles(search(user=owner, query="tulip")) == ["Max Member"]


def test_a_member_does_not_find_themselves(owner):
    assert search(user=owner, query="Olive") == []


def test_the_distance_filter_keeps_what_is_near_my_place(owner, member, community):
    far = MembershipFactory(community=community, user__profile__display_name="Max Farmer").user
    for person, latitude in ((owner, "52.36000"), (member, "52.36500"), (far, "52.50000")):
        person.profile.approx_latitude = Decimal(latitude)
        person.profile.approx_longitude = Decimal("4.90000")
        person.profile.save()
    owner.refresh_from_db()
    everyone = search(user=owner, query="Max")
    assert set(titles(everyone)) == {"Max Farmer", "Max Member"}
    near = search(user=owner, query="Max", within_km=2)
    assert titles(near) == ["Max Member"]
    assert near[0].distance_km == pytest.approx(0.6, abs=0.1)


def test_without_words_there_is_nothing_to_find(owner, ladders):
    assert search(user=owner, query="") == []
    assert search(user=owner, query="  ,; ") == []


def test_a_member_of_no_community_finds_nothing(stranger, ladders):
    assert search(user=stranger, query="ladder") == []


def test_an_exchange_the_community_does_not_use_is_not_searched(member):
    quiet = CommunityFactory(slug="quiet", name="Quiet Lane", exchanges=["skills"])
    me = MembershipFactory(community=quiet).user
    neighbor = MembershipFactory(community=quiet).user
    ToolFactory(owner=neighbor, community=quiet, title="Quiet ladder")
    OfferFactory(member=neighbor, community=quiet, title="Quiet ladder help")
    assert titles(search(user=me, query="ladder")) == ["Quiet ladder help"]


# --- the page ----------------------------------------------------------------------------
def test_the_page_shows_each_result_with_its_kind_title_link_and_community(owner, ladders, web_as):
    response = web_as(owner).get(reverse("front:search"), {"q": "ladder"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<a href="{ladders["tool"].get_absolute_url()}">Aluminium ladder</a>' in html
    assert f'<a href="{ladders["offer"].get_absolute_url()}">Ladder work on gutters</a>' in html
    assert f'<a href="{ladders["proposal"].get_absolute_url()}">A ladder rack for the shed</a>' in html
    assert "Skill offers" in html and "Proposals" in html and "Sunnyside Commons" in html
    assert "4 results for “ladder”" in html
    assert "Riverside ladder" not in html and "Hidden ladder" not in html


def test_the_page_filters_by_kind(owner, ladders, web_as):
    html = web_as(owner).get(reverse("front:search"), {"q": "ladder", "kind": "tool"}).content.decode()
    assert "Aluminium ladder" in html and "Ladder work on gutters" not in html
    assert re.search(r'<input type="checkbox" name="kind" value="tool"[^>]*checked', html)


def test_the_page_explains_when_nothing_matches(owner, ladders, web_as):
    html = web_as(owner).get(reverse("front:search"), {"q": "trampoline"}).content.decode()
    assert "Nothing matches “trampoline”. Try another word." in html


def test_the_page_without_a_word_invites_one(owner, web_as):
    html = web_as(owner).get(reverse("front:search")).content.decode()
    assert "Type a word above" in html


def test_an_unknown_kind_is_shown_again_with_its_error_not_a_500(owner, ladders, web_as):
    response = web_as(owner).get(reverse("front:search"), {"q": "ladder", "kind": "spaceship"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert "Fix the search above" in response.content.decode()


def test_the_distance_filter_is_offered_only_to_a_member_with_a_place(owner, web_as):
    client = web_as(owner)
    owner.profile.approx_latitude = owner.profile.approx_longitude = None
    owner.profile.save()
    html = client.get(reverse("front:search"), {"q": "x"}).content.decode()
    assert 'name="within_km"' not in html and "Set your area on your profile" in html
    owner.profile.approx_latitude, owner.profile.approx_longitude = Decimal("52.36"), Decimal("4.9")
    owner.profile.save()
    assert 'name="within_km"' in client.get(reverse("front:search"), {"q": "x"}).content.decode()


def test_results_are_paged(owner, member, community, web_as):
    for i in range(23):
        ToolFactory(owner=member, community=community, title=f"Ladder {i:02d}")
    client = web_as(owner)
    first = client.get(reverse("front:search"), {"q": "ladder"}).content.decode()
    assert "Page 1 of 2" in first and first.count('class="hit"') == 20
    second = client.get(reverse("front:search"), {"q": "ladder", "page": "2"}).content.decode()
    assert second.count('class="hit"') == 3


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("front:search"), {"q": "ladder"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_search_page_keeps_a_pinned_number_of_queries(owner, member, community, web_as):
    client = web_as(owner)
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
        assert client.get(reverse("front:search"), {"q": "ladder"}).status_code == 200

    request()
    queries = assert_queries_do_not_grow(request, add_rows, small=1, large=12)
    # session, user, bell, my place, exchanges in use, one per kind (tools 1, skills 2, co-design 2), neighbors
    assert queries == 13, queries  # 13: listings of neighbouring communities
