"""What the tools search does to stay fast at city scale (issue 17) keeps it correct:
membership ids read once per request, the bounding box before the distance, the capped
count, the cached category choices and the trust badge built without a template."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from apps.peers.factories import MembershipFactory
from apps.peers.geo import KM_PER_DEGREE, bounding_box, distance_km
from apps.peers.models import Membership, Profile
from apps.peers.selectors import forget_member_community_ids, member_community_ids
from apps.reputation.models import TrustScore
from apps.reputation.templatetags.reputation import _badge_context, trust_badge
from apps.tools import selectors
from apps.tools.factories import CategoryFactory, ToolFactory
from p2pcommons.api.pagination import CappedCountPaginator

TOOLS = "/api/v1/tools/"
LIST = "/tools/"
CENTRE = (52.37, 4.89)


def ids_listed(client, params=None) -> list[int]:
    return [t["id"] for t in client.get(TOOLS, params or {}).json()["results"]]


# --- membership ids, once per request ---------------------------------------------------
def test_member_ids_are_read_once_per_request_and_again_in_the_next(member, community, django_assert_num_queries):
    from apps.peers.selectors import _count_request as a_request_starts

    with django_assert_num_queries(1):
        assert member_community_ids(user=member) == [community.pk]
        assert member_community_ids(user=member) == [community.pk]
    Membership.objects.filter(user=member).delete()
    assert member_community_ids(user=member) == [community.pk]  # the same request
    a_request_starts()  # what request_started does, without closing the test's connection
    assert member_community_ids(user=member) == []  # the next one
    MembershipFactory(user=member, community=community)
    forget_member_community_ids(user=member)
    assert member_community_ids(user=member) == [community.pk]


@pytest.mark.parametrize("change", ["leave", "suspend"])
def test_a_member_who_leaves_or_is_suspended_no_longer_sees_the_tools_next_request(
    change, api_as, web_as, owner, member, community
):
    tool = ToolFactory(owner=owner, community=community, title="Cordless drill")
    api, web = api_as(member), web_as(member)
    assert ids_listed(api) == [tool.pk]
    assert "Cordless drill" in web.get(LIST).content.decode()
    memberships = Membership.objects.filter(user=member, community=community)
    if change == "leave":
        memberships.delete()
    else:
        memberships.update(status=Membership.Status.SUSPENDED, status_reason="Kept a ladder")
    assert ids_listed(api) == []
    assert api.get(f"{TOOLS}{tool.pk}/").status_code == 404
    assert "Cordless drill" not in web.get(LIST).content.decode()


def test_a_community_filter_outside_my_communities_finds_nothing(api_as, member, other_community):
    ToolFactory(community=other_community)
    assert ids_listed(api_as(member), {"community": other_community.pk}) == []


# --- the bounding box before the distance ----------------------------------------------
def place(user, lat: float, lng: float) -> None:
    Profile.objects.filter(user=user).update(
        approx_latitude=Decimal(f"{lat:.5f}"), approx_longitude=Decimal(f"{lng:.5f}")
    )


def lender_at(community, lat: float, lng: float, title: str):
    lender = MembershipFactory(community=community).user
    place(lender, lat, lng)
    return ToolFactory(owner=lender, community=community, title=title)


def test_the_box_edges_keep_what_is_just_inside_the_radius_and_drop_what_is_just_outside(api_as, member, community):
    lat, lng = CENTRE
    radius = 5.0
    dlat = radius / KM_PER_DEGREE
    dlng = dlat / math.cos(math.radians(lat))
    inside = [
        lender_at(community, lat + dlat * 0.999, lng, "north inside"),
        lender_at(community, lat - dlat * 0.999, lng, "south inside"),
        lender_at(community, lat, lng + dlng * 0.999, "east inside"),
        lender_at(community, lat, lng - dlng * 0.999, "west inside"),
    ]
    outside = [
        lender_at(community, lat + dlat * 1.002, lng, "north outside"),
        lender_at(community, lat, lng + dlng * 1.002, "east outside"),
        # In the box's corner but beyond the radius: the box lets it through, the distance does not.
        lender_at(community, lat + dlat * 0.9, lng + dlng * 0.9, "north-east corner"),
    ]
    found = ids_listed(api_as(member), {"lat": lat, "lng": lng, "radius_km": radius})
    assert sorted(found) == sorted(t.pk for t in inside)
    assert not set(found) & {t.pk for t in outside}
    for tool in inside:
        profile = tool.owner.profile
        profile.refresh_from_db()
        assert distance_km(lat, lng, float(profile.approx_latitude), float(profile.approx_longitude)) <= radius


@pytest.mark.parametrize("lat, lng", [(52.37, 4.89), (-33.9, 18.4), (69.6, 18.9), (0.0, 0.0), (-54.8, -68.3)])
def test_every_point_within_the_radius_lies_in_the_box(lat, lng):
    rnd = random.Random(lat * 1000 + lng)
    for radius in (0.1, 2.0, 25.0, 100.0):
        box = bounding_box(lat, lng, radius)
        for _ in range(200):
            # A point at the radius (or just within it) in a random direction, by the haversine inverse.
            bearing = rnd.uniform(0, 2 * math.pi)
            d = radius * 0.9999 / 6371.0088
            p1, l1 = math.radians(lat), math.radians(lng)
            p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
            l2 = l1 + math.atan2(
                math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
            )
            plat, plng = math.degrees(p2), math.degrees(l2)
            assert distance_km(lat, lng, plat, plng) <= radius
            assert box["min_lat"] <= plat <= box["max_lat"]
            assert box["min_lng"] <= plng <= box["max_lng"]


def test_near_a_pole_or_the_antimeridian_the_box_is_a_band_of_latitude():
    assert set(bounding_box(89.5, 10.0, 100.0)) == {"min_lat", "max_lat"}
    assert set(bounding_box(10.0, 179.99, 5.0)) == {"min_lat", "max_lat"}


# --- the capped count ----------------------------------------------------------------
@pytest.fixture
def eight_tools(owner, community):
    return [ToolFactory(owner=owner, community=community, title=f"Tool {i}") for i in range(8)]


def test_the_count_is_exact_up_to_the_cap(monkeypatch, member, eight_tools):
    monkeypatch.setattr(CappedCountPaginator, "cap", 8)
    paginator = CappedCountPaginator(selectors.tools_search(user=member), 3)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (8, False, 3)


def test_past_the_cap_the_count_stops_and_the_pages_go_on(monkeypatch, member, eight_tools):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    paginator = CappedCountPaginator(selectors.tools_search(user=member), 3)
    assert (paginator.count, paginator.capped) == (5, True)
    titles = []
    number = 1
    while True:
        page = paginator.page(number)
        titles += [t.title for t in page.object_list]
        if not page.has_next():
            break
        number = page.next_page_number()
    assert titles == sorted(t.title for t in eight_tools)
    assert number == 3 and paginator.num_pages == 3
    assert paginator.get_page(9).number == 2  # past the end: the last page of the count


def test_the_api_count_stays_an_integer_and_next_walks_every_tool(monkeypatch, api_as, member, eight_tools):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    client = api_as(member)
    body = client.get(TOOLS, {"page_size": 3}).json()
    assert body["count"] == 5 and body["previous"] is None
    seen = [t["id"] for t in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += [t["id"] for t in body["results"]]
    assert sorted(seen) == sorted(t.pk for t in eight_tools)


def test_the_browse_page_says_more_than_the_cap(monkeypatch, web_as, member, eight_tools):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    page = web_as(member).get(LIST).content.decode()
    assert "More than 5 tools" in page
    monkeypatch.setattr(CappedCountPaginator, "cap", 1000)
    assert "8 tools" in web_as(member).get(LIST).content.decode()


# --- cached category choices -----------------------------------------------------------
def test_category_choices_are_cached_until_a_category_changes(db, django_assert_num_queries):
    category = CategoryFactory(slug="garden", name="Garden")
    assert ("garden", "Garden") in selectors.category_choices()
    with django_assert_num_queries(0):
        selectors.category_choices()
    category.name = "Garden and yard"
    category.save()
    assert ("garden", "Garden and yard") in selectors.category_choices()
    category.delete()
    assert ("garden", "Garden and yard") not in selectors.category_choices()


def test_an_unknown_category_is_the_same_error_as_before(web_as, member):
    page = web_as(member).get(LIST, {"category": "no-such-thing"}).content.decode()
    assert "Select a valid choice. That choice is not one of the available choices." in page


# --- the trust badge without a template -----------------------------------------------
@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("ratings", [None, (Decimal("4.50"), 1), (Decimal("3.25"), 12)])
def test_the_trust_badge_is_the_html_of_its_template(language, ratings, member):
    if ratings:
        TrustScore.objects.update_or_create(user=member, defaults={"score": ratings[0], "rating_count": ratings[1]})
    member.refresh_from_db()
    with translation.override(language):
        from apps.reputation import selectors as reputation

        expected = render_to_string("reputation/_trust_badge.html", _badge_context(reputation.trust_of(member)))
        assert str(trust_badge(member)) == expected


# --- the photo thumbnail without an include ---------------------------------------------
@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_thumbnail_is_the_html_of_its_template(language, owner, community):
    from apps.tools import services
    from apps.tools.templatetags.tool_cards import tool_thumb
    from tests.tools.images import png_upload

    bare = ToolFactory(owner=owner, community=community)
    pictured = ToolFactory(owner=owner, community=community)
    services.photo_add(tool=pictured, actor=owner, upload=png_upload(size=(40, 30)), alt_text='A "drill" & case')
    for tool in selectors.tools_search(user=owner):
        photo = next(iter(tool.photos.all()), None)
        with translation.override(language):
            assert str(tool_thumb(tool)) == render_to_string("tools/_photo_thumb.html", {"photo": photo})
    assert {bare.pk, pictured.pk} == {t.pk for t in selectors.tools_search(user=owner)}


# --- the filter form's fields, cached while no filter is set ------------------------------
def filter_grid(page: str) -> str:
    start = page.index('<div class="filter-grid">')
    return page[start : page.index('<button type="submit">', start)]


def test_the_cached_filter_fields_follow_communities_categories_and_language(web_as, member, community):
    from apps.peers.factories import CommunityFactory

    client = web_as(member)
    CategoryFactory(slug="garden", name="Garden")
    first = client.get(LIST).content.decode()
    assert ">Garden</option>" in first and ">Sunnyside Commons</option>" in first
    assert filter_grid(client.get(LIST).content.decode()) == filter_grid(first)  # cached: the same bytes
    CategoryFactory(slug="kitchen", name="Kitchen")
    community.name = "Sunnyside Commons East"
    community.save()
    page = client.get(LIST).content.decode()
    assert ">Kitchen</option>" in page and ">Sunnyside Commons East</option>" in page
    MembershipFactory(user=member, community=CommunityFactory(name="Riverside Neighbors"))
    assert ">Riverside Neighbors</option>" in client.get(LIST).content.decode()
    dutch = client.get(LIST, headers={"accept-language": "nl"}).content.decode()
    assert "Alle categorieën" in dutch
    filtered = client.get(LIST, {"q": "drill"}).content.decode()
    assert 'value="drill"' in filtered
