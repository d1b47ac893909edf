import pytest

from apps.peers.factories import CommunityFactory, MembershipFactory
from apps.peers.models import Membership
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
URL = "/api/v1/communities/"


def test_it_lists_communities_with_member_counts_and_my_role(api_as, member, organizer, community, other_community):
    data = api_as(member).get(URL).json()
    assert data["count"] == 2
    by_slug = {c["slug"]: c for c in data["results"]}
    assert by_slug["sunnyside"]["member_count"] == 2
    assert by_slug["sunnyside"]["my_membership"] == {"role": "member", "status": "active"}
    assert by_slug["riverside"]["my_membership"] is None


def test_the_list_query_count_is_the_same_for_1_and_30_communities(api_as, stranger):
    client = api_as(stranger)
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            i = next(counter)
            MembershipFactory(community=CommunityFactory(slug=f"c{i}", name=f"C {i}"), user=stranger)

    # Queries: count(*) for pagination, the page of communities with member counts,
    # and the caller's memberships (for my_membership).
    queries = assert_queries_do_not_grow(lambda: client.get(URL), add, small=1, large=30)
    assert queries == 3


def test_page_size_is_capped(api_as, stranger):
    for i in range(3):
        CommunityFactory(slug=f"x{i}")
    data = api_as(stranger).get(URL, {"page_size": 1000}).json()
    assert data["count"] == 3 and len(data["results"]) == 3
    assert api_as(stranger).get(URL, {"page": 99}).status_code == 404


def test_joining_makes_me_a_member(api_as, stranger, community):
    response = api_as(stranger).post(f"{URL}{community.pk}/join/")
    assert response.status_code == 201
    assert response.json()["role"] == "member"
    assert Membership.objects.filter(user=stranger, community=community, status="active").exists()
    assert api_as(stranger).post(f"{URL}{community.pk}/join/").status_code == 200


def test_leaving_removes_my_membership(api_as, member, community):
    assert api_as(member).post(f"{URL}{community.pk}/leave/").status_code == 204
    assert not Membership.objects.filter(user=member, community=community).exists()


def test_the_last_organizer_leaving_is_a_409_with_a_message(api_as, organizer, community):
    response = api_as(organizer).post(f"{URL}{community.pk}/leave/")
    assert response.status_code == 409
    assert "last organizer" in response.json()["detail"]


def test_leaving_a_community_i_am_not_in_is_a_409(api_as, stranger, community):
    response = api_as(stranger).post(f"{URL}{community.pk}/leave/")
    assert response.status_code == 409
    assert response.json()["code"] == "not_member"


def test_an_unknown_community_is_a_404(api_as, stranger):
    assert api_as(stranger).post(f"{URL}999999/join/").status_code == 404
    assert api_as(stranger).get(f"{URL}999999/members/").status_code == 404


def test_members_show_public_fields_only(api_as, owner, member, community):
    data = api_as(owner).get(f"{URL}{community.pk}/members/").json()
    member_row = next(r for r in data["results"] if r["member"]["display_name"] == "Max Member")
    assert set(member_row["member"]) == {
        "id",
        "display_name",
        "bio",
        "avatar",
        "neighborhood",
        "approx_latitude",
        "approx_longitude",
        "trust",
    }
    assert "email" not in str(data) and member.profile.exact_address not in str(data)


def test_the_member_list_query_count_does_not_grow(api_as, member, community):
    client = api_as(member)
    # Queries: the community lookup, the caller's membership (members only), count(*)
    # for pagination, the page with profiles.
    queries = assert_queries_do_not_grow(
        lambda: client.get(f"{URL}{community.pk}/members/"),
        lambda n: MembershipFactory.create_batch(n, community=community),
    )
    assert queries == 4


def test_an_organizer_promotes_through_the_api(api_as, organizer, member, community):
    membership = Membership.objects.get(user=member)
    response = api_as(organizer).post(f"{URL}{community.pk}/members/{membership.pk}/promote/")
    assert response.status_code == 200
    assert response.json()["role"] == "organizer"


def test_a_member_promoting_is_a_409(api_as, owner, member, community):
    membership = Membership.objects.get(user=member)
    response = api_as(owner).post(f"{URL}{community.pk}/members/{membership.pk}/promote/")
    assert response.status_code == 409
    assert Membership.objects.get(user=member).role == "member"


def test_communities_are_read_only_through_the_api(api_as, organizer, community):
    assert api_as(organizer).patch(f"{URL}{community.pk}/", {"name": "X"}, format="json").status_code == 405
    assert api_as(organizer).post(URL, {"name": "X"}, format="json").status_code == 405
