from datetime import timedelta

import pytest
from django.utils import timezone

from apps.peers.factories import MembershipFactory
from apps.peers.models import Profile
from apps.tools.factories import CategoryFactory, ReservationFactory, ToolFactory
from apps.tools.models import Reservation
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
TOOLS = "/api/v1/tools/"
RES = "/api/v1/reservations/"


def window(days=2, length=1):
    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return start.isoformat(), (start + timedelta(days=length)).isoformat()


def test_a_member_lists_a_tool_and_neighbors_find_it(api_as, owner, member, community):
    CategoryFactory(slug="garden", name="Garden")
    created = api_as(owner).post(
        TOOLS, {"title": "Hedge trimmer", "category": "garden", "community": community.pk}, format="json"
    )
    assert created.status_code == 201, created.json()
    found = api_as(member).get(TOOLS, {"q": "hedge"}).json()
    assert [t["title"] for t in found["results"]] == ["Hedge trimmer"]
    assert found["results"][0]["owner"]["display_name"] == "Olive Owner"
    assert "exact_address" not in str(found)


def test_listing_in_a_community_i_am_not_in_is_a_400(api_as, stranger, community):
    CategoryFactory(slug="garden")
    response = api_as(stranger).post(
        TOOLS, {"title": "Saw", "category": "garden", "community": community.pk}, format="json"
    )
    assert response.status_code == 400 and "community" in response.json()


def test_only_the_owner_edits_a_tool(api_as, tool, member, owner):
    assert api_as(member).patch(f"{TOOLS}{tool.pk}/", {"status": "paused"}, format="json").status_code == 404
    assert api_as(owner).patch(f"{TOOLS}{tool.pk}/", {"status": "paused"}, format="json").json()["status"] == "paused"


def test_the_availability_filter_hides_booked_tools(api_as, tool, member, organizer):
    start, end = window()
    assert (
        api_as(member).post(RES, {"tool": tool.pk, "starts_at": start, "ends_at": end}, format="json").status_code
        == 201
    )
    busy = api_as(organizer).get(TOOLS, {"available_from": start, "available_to": end}).json()
    assert busy["count"] == 0
    later_start, later_end = window(days=10)
    free = api_as(organizer).get(TOOLS, {"available_from": later_start, "available_to": later_end}).json()
    assert free["count"] == 1
    windows = api_as(organizer).get(f"{TOOLS}{tool.pk}/availability/").json()
    assert len(windows) == 1 and set(windows[0]) == {"starts_at", "ends_at", "blocked_until"}


def test_the_distance_filter_uses_the_owners_approximate_location(api_as, community, owner, member, organizer):
    Profile.objects.filter(user=owner).update(approx_latitude="52.36000", approx_longitude="4.90000")
    Profile.objects.filter(user=organizer).update(approx_latitude="52.45000", approx_longitude="4.90000")  # 10 km N
    ToolFactory(owner=owner, community=community, title="Near drill")
    ToolFactory(owner=organizer, community=community, title="Far drill")
    near = api_as(member).get(TOOLS, {"lat": 52.361, "lng": 4.901, "radius_km": 2}).json()
    assert [t["title"] for t in near["results"]] == ["Near drill"]
    assert near["results"][0]["distance_km"] < 1
    both = api_as(member).get(TOOLS, {"lat": 52.361, "lng": 4.901, "radius_km": 15}).json()
    assert [t["title"] for t in both["results"]] == ["Near drill", "Far drill"]


@pytest.mark.parametrize(
    "params",
    [
        {"available_from": "2030-01-01T00:00:00Z"},
        {"lat": 52},
        {"radius_km": 500, "lat": 1, "lng": 1},
        {"available_from": "x", "available_to": "y"},
        {"community": "abc"},
    ],
)
def test_bad_filters_are_a_400(api_as, member, params):
    assert api_as(member).get(TOOLS, params).status_code == 400


def test_the_tool_list_query_count_is_the_same_for_1_and_50_tools(api_as, member, community, owner):
    client = api_as(member)
    category = CategoryFactory(slug="power")
    # the member's community ids (once per request), the capped count(*), one page with owners,
    # profiles, trust and category, and the page's photos in one prefetch; distinct owners per
    # tool, so a per-owner query would show.
    assert (
        assert_queries_do_not_grow(
            lambda: client.get(TOOLS),
            lambda n: [
                ToolFactory(owner=MembershipFactory(community=community).user, community=community, category=category)
                for _ in range(n)
            ],
            large=50,
        )
        == 4
    )


def test_a_request_goes_through_the_whole_loan_in_the_api(api_as, tool, member, owner):
    Profile.objects.filter(user=owner).update(exact_address="Elm Street 5", phone="+31 6 1111")
    start, end = window(days=1 / 24)  # in an hour: the pickup window is open, the handoff shown
    created = api_as(member).post(RES, {"tool": tool.pk, "starts_at": start, "ends_at": end}, format="json").json()
    assert created["status"] == "requested" and created["handoff"] is None
    rid = created["id"]
    assert api_as(owner).post(f"{RES}{rid}/approve/").json()["status"] == "approved"
    approved = api_as(member).get(f"{RES}{rid}/").json()
    assert approved["handoff"] == {"address": "Elm Street 5", "phone": "+31 6 1111"}
    assert api_as(member).post(f"{RES}{rid}/pickup/").json()["status"] == "picked_up"
    assert api_as(owner).post(f"{RES}{rid}/return/").json()["status"] == "returned"
    assert api_as(member).get(f"{RES}{rid}/").json()["handoff"] is None


def test_a_conflicting_request_is_a_409_naming_the_next_free_window(api_as, tool, member, organizer):
    start, end = window()
    api_as(member).post(RES, {"tool": tool.pk, "starts_at": start, "ends_at": end}, format="json")
    response = api_as(organizer).post(RES, {"tool": tool.pk, "starts_at": start, "ends_at": end}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict" and "next available for that long from" in response.json()["detail"]


def test_illegal_or_forbidden_transitions_are_409s_and_change_nothing(api_as, tool, member, owner, stranger):
    start, end = window()
    rid = api_as(member).post(RES, {"tool": tool.pk, "starts_at": start, "ends_at": end}, format="json").json()["id"]
    assert api_as(member).post(f"{RES}{rid}/approve/").status_code == 409  # not the owner
    assert api_as(owner).post(f"{RES}{rid}/return/").status_code == 409  # not picked up
    assert api_as(stranger).post(f"{RES}{rid}/approve/").status_code == 404  # not theirs to see
    assert Reservation.objects.get(pk=rid).status == "requested"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"starts_at": "tomorrow"}, "starts_at"), ({"tool": 999999}, "tool"), ({"ends_at": None}, "ends_at")],
)
def test_bad_reservation_input_is_a_400(api_as, tool, member, body, field):
    start, end = window()
    payload = {"tool": tool.pk, "starts_at": start, "ends_at": end, **body}
    response = api_as(member).post(RES, payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Reservation.objects.exists()


def test_the_reservation_list_query_count_does_not_grow(api_as, tool, member, owner):
    client = api_as(owner)
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            i = next(counter)
            start = timezone.now() + timedelta(days=2 + 2 * i)
            ReservationFactory(tool=tool, borrower=member, starts_at=start, ends_at=start + timedelta(hours=3))

    # The owner's tool ids, count(*), one page with tool, owner, borrower and their profiles
    # joined, condition reports prefetched.
    assert assert_queries_do_not_grow(lambda: client.get(RES), add) == 4
