"""The member API of neighbouring communities: /api/v1/federation/listings/ and
/api/v1/federation/exchanges/ (what a member's app sees and does)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import include, path
from django.utils import timezone

from apps.federation.models import Follow, RemoteExchange
from p2pcommons import urls as site_urls
from tests.federation.test_pages import exchange, listing, make_federated, make_outsider, neighbour_listing
from tests.querycount import assert_queries_do_not_grow

# The routes as p2pcommons/api/urls.py mounts them (``federation/`` under /api/v1/); kept
# here too so these tests run before and after that line is in place.
urlpatterns = [path("api/v1/federation/", include("apps.federation.api_urls")), *site_urls.urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def federated(community):
    return make_federated(community)


@pytest.fixture
def outsider(other_community):
    return make_outsider(other_community)


LISTINGS = "/api/v1/federation/listings/"
EXCHANGES = "/api/v1/federation/exchanges/"


def window(days: int = 3, hours: int = 24) -> dict:
    start = timezone.now() + timedelta(days=days)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat()}


class TestListings:
    def test_a_member_lists_the_neighbouring_listings_with_their_home(self, api_as, member, federated):
        _local, harbour = federated
        item = listing(harbour)
        body = api_as(member).get(LISTINGS).json()
        assert body["count"] == 1
        row = body["results"][0]
        assert row["id"] == item.pk and row["kind"] == "tool" and row["can_borrow"] is True
        assert row["community"] == {
            "name": "Harbour Street",
            "handle": "harbour@harbour.example",
            "host": "harbour.example",
        }

    def test_kind_and_words_narrow_the_list(self, api_as, member, federated):
        _local, harbour = federated
        listing(harbour)
        listing(harbour, kind="skill_offer", name="Bike repair", summary="", category="Bikes")
        client = api_as(member)
        assert [r["name"] for r in client.get(LISTINGS, {"kind": "skill_offer"}).json()["results"]] == ["Bike repair"]
        assert [r["name"] for r in client.get(LISTINGS, {"q": "ladder"}).json()["results"]] == ["Long ladder"]

    def test_an_unknown_kind_is_a_400_with_the_field(self, api_as, member, federated):
        response = api_as(member).get(LISTINGS, {"kind": "spaceship"})
        assert response.status_code == 400
        assert "kind" in response.json()

    def test_an_outsider_sees_none_and_cannot_open_one(self, api_as, outsider, federated):
        _local, harbour = federated
        item = listing(harbour)
        client = api_as(outsider)
        assert client.get(LISTINGS).json()["count"] == 0
        assert client.get(f"{LISTINGS}{item.pk}/").status_code == 404

    def test_a_visitor_is_refused(self, api_client, federated):
        assert api_client.get(LISTINGS).status_code in (401, 403)

    def test_a_home_address_that_is_not_a_web_page_is_left_out(self, api_as, member, federated):
        _local, harbour = federated
        item = listing(harbour, url="javascript:alert(1)")
        assert api_as(member).get(f"{LISTINGS}{item.pk}/").json()["url"] == ""

    def test_the_list_costs_the_same_with_many_listings(self, api_as, member, federated):
        local, _harbour = federated
        client = api_as(member)
        count = assert_queries_do_not_grow(
            lambda: client.get(LISTINGS), lambda n: [neighbour_listing(local) for _ in range(n)], small=1, large=10
        )
        assert count <= 7


class TestBorrow:
    def test_asking_to_borrow_answers_201_with_the_exchange(self, api_as, member, federated):
        _local, harbour = federated
        item = listing(harbour)
        response = api_as(member).post(f"{LISTINGS}{item.pk}/borrow/", {**window(), "message": "For the gutter."})
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "offered" and body["side"] == "borrower" and body["can_cancel"] is True
        assert RemoteExchange.objects.get(pk=body["id"]).member == member

    def test_an_end_before_the_start_is_a_400_on_the_end(self, api_as, member, federated):
        _local, harbour = federated
        response = api_as(member).post(f"{LISTINGS}{listing(harbour).pk}/borrow/", window(hours=-2))
        assert response.status_code == 400
        assert "ends_at" in response.json()
        assert not RemoteExchange.objects.exists()

    def test_missing_dates_are_a_400_with_both_fields(self, api_as, member, federated):
        _local, harbour = federated
        response = api_as(member).post(f"{LISTINGS}{listing(harbour).pk}/borrow/", {})
        assert response.status_code == 400
        assert {"starts_at", "ends_at"} <= set(response.json())

    def test_a_skill_cannot_be_borrowed_409(self, api_as, member, federated):
        _local, harbour = federated
        response = api_as(member).post(f"{LISTINGS}{listing(harbour, kind='skill_offer').pk}/borrow/", window())
        assert response.status_code == 409
        assert response.json()["code"] == "not_a_tool"
        assert not RemoteExchange.objects.exists()

    def test_an_outsider_cannot_borrow_what_they_cannot_see(self, api_as, outsider, federated):
        _local, harbour = federated
        response = api_as(outsider).post(f"{LISTINGS}{listing(harbour).pk}/borrow/", window())
        assert response.status_code == 404
        assert not RemoteExchange.objects.exists()

    def test_a_follow_ended_meanwhile_hides_the_listing(self, api_as, member, federated):
        local, harbour = federated
        item = listing(harbour)
        Follow.objects.filter(local=local).update(state=Follow.State.ENDED)
        assert api_as(member).post(f"{LISTINGS}{item.pk}/borrow/", window()).status_code == 404


class TestExchanges:
    def test_my_exchanges_are_listed_and_nobody_elses(self, api_as, member, owner, federated):
        local, harbour = federated
        mine = exchange(local, member, listing(harbour))
        exchange(local, owner, listing(harbour, name="Drill"))
        body = api_as(member).get(EXCHANGES).json()
        assert [row["id"] for row in body["results"]] == [mine.pk]
        assert body["results"][0]["listing_name"] == "Long ladder"
        assert body["results"][0]["community"]["name"] == "Harbour Street"

    def test_cancelling_someone_elses_is_a_404(self, api_as, member, owner, federated):
        local, harbour = federated
        theirs = exchange(local, owner, listing(harbour))
        assert api_as(member).post(f"{EXCHANGES}{theirs.pk}/cancel/").status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == RemoteExchange.Status.OFFERED

    def test_cancelling_mine_before_pickup_cancels_it(self, api_as, member, federated):
        local, harbour = federated
        mine = exchange(local, member, listing(harbour))
        response = api_as(member).post(f"{EXCHANGES}{mine.pk}/cancel/")
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        mine.refresh_from_db()
        assert mine.status == RemoteExchange.Status.CANCELLED

    def test_cancelling_a_returned_loan_is_a_409(self, api_as, member, federated):
        local, harbour = federated
        mine = exchange(local, member, listing(harbour), status="returned")
        response = api_as(member).post(f"{EXCHANGES}{mine.pk}/cancel/")
        assert response.status_code == 409
        assert response.json()["code"] == "illegal_transition"

    def test_the_list_costs_the_same_with_many_exchanges(self, api_as, member, federated):
        local, _harbour = federated
        client = api_as(member)
        count = assert_queries_do_not_grow(
            lambda: client.get(EXCHANGES),
            lambda n: [exchange(local, member, neighbour_listing(local)) for _ in range(n)],
            small=1,
            large=10,
        )
        assert count <= 7
