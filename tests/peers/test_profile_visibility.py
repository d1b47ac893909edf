"""A member's profile is seen by themselves and by fellow members only (item 5)."""

import pytest
from django.urls import reverse

from apps.peers.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _profile_page(client, user):
    return client.get(reverse("peers:profile", args=[user.pk]))


def test_a_profile_is_not_found_for_anonymous_visitors(client, member):
    assert _profile_page(client, member).status_code == 404


def test_a_profile_is_not_found_for_someone_who_shares_no_community(web_as, stranger, member):
    response = _profile_page(web_as(stranger), member)
    assert response.status_code == 404
    assert "Max Member" not in response.content.decode()


def test_a_profile_is_seen_by_a_fellow_member_and_by_the_person(web_as, owner, member):
    assert "Max Member" in _profile_page(web_as(owner), member).content.decode()
    assert "Max Member" in _profile_page(web_as(member), member).content.decode()


def test_a_member_of_another_community_does_not_see_the_profile(web_as, other_community, member):
    elsewhere = MembershipFactory(community=other_community).user
    assert _profile_page(web_as(elsewhere), member).status_code == 404


def test_the_member_list_api_is_for_fellow_members_only(api_as, stranger, member, community):
    url = f"/api/v1/communities/{community.pk}/members/"
    assert api_as(stranger).get(url).status_code == 404
    names = [row["member"]["display_name"] for row in api_as(member).get(url).json()["results"]]
    assert "Max Member" in names


def test_the_community_page_lists_members_only_to_members(web_as, stranger, member, community):
    outsider_page = web_as(stranger).get(community.get_absolute_url()).content.decode()
    assert "Max Member" not in outsider_page
    member_page = web_as(member).get(community.get_absolute_url()).content.decode()
    assert "Max Member" in member_page
