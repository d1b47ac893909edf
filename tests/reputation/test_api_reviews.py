"""/api/v1/reviews/: create for an exchange I took part in; list what I may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from apps.peers.factories import MembershipFactory
from apps.reputation.factories import ReviewFactory
from apps.reputation.models import Review
from tests.exchanges.factories import ExchangeFactory
from tests.querycount import assert_queries_do_not_grow

from .conftest import EXCHANGE_TYPE

pytestmark = pytest.mark.django_db
URL = "/api/v1/reviews/"


def payload(exchange, **overrides) -> dict:
    return {"exchange_type": EXCHANGE_TYPE, "exchange_id": exchange.pk, "rating": 4, "comment": "Thanks!", **overrides}


def test_a_party_reviews_through_the_api(api_as, owner, member, exchange):
    response = api_as(owner).post(URL, payload(exchange, rating=5), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["exchange_type"] == EXCHANGE_TYPE and body["exchange_id"] == exchange.pk
    assert body["subject"] == {"id": member.pk, "display_name": "Max Member"}
    assert (body["rating"], body["revealed_at"]) == (5, None)
    assert Review.objects.get().author == owner


def test_it_requires_authentication(api_client, exchange):
    assert api_client.post(URL, payload(exchange), format="json").status_code == 401
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rating": 6}, "rating"),
        ({"rating": 0}, "rating"),
        ({"rating": "many"}, "rating"),
        ({"exchange_type": "peers.user"}, "exchange_type"),
        ({"exchange_type": "nonsense"}, "exchange_type"),
        ({"exchange_id": 2**63}, "exchange_id"),
        ({"exchange_id": 999999}, "exchange_id"),
        ({"comment": "x" * 2001}, "comment"),
    ],
)
def test_bad_input_is_a_400_with_field_errors(api_as, owner, exchange, overrides, field):
    response = api_as(owner).post(URL, payload(exchange, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Review.objects.exists()


def test_a_stranger_reviewing_is_a_409(api_as, stranger, exchange):
    response = api_as(stranger).post(URL, payload(exchange), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "not_a_party"
    assert not Review.objects.exists()


def test_reviewing_twice_is_a_409(api_as, owner, exchange):
    client = api_as(owner)
    client.post(URL, payload(exchange), format="json")

    response = client.post(URL, payload(exchange, rating=1), format="json")

    assert (response.status_code, response.json()["code"]) == (409, "already_reviewed")
    assert list(Review.objects.values_list("rating", flat=True)) == [4]


def test_reviewing_before_completion_is_a_409(api_as, owner, member, community):
    ongoing = ExchangeFactory(community=community, provider=owner, receiver=member, completed_at=None)

    response = api_as(owner).post(URL, payload(ongoing), format="json")

    assert (response.status_code, response.json()["code"]) == (409, "not_completed")


def test_the_other_party_cannot_see_a_hidden_review(api_as, owner, member, exchange, review):
    review(owner, exchange, comment="Secret until you review me")

    for query in ({}, {"subject": member.pk}, {"author": owner.pk}):
        body = api_as(member).get(URL, query).json()
        assert body["count"] == 0 and "Secret" not in str(body)


def test_i_see_my_own_hidden_review_as_its_author(api_as, owner, exchange, review):
    review(owner, exchange, comment="Only I can read this for now")

    body = api_as(owner).get(URL, {"author": "me"}).json()

    assert [r["comment"] for r in body["results"]] == ["Only I can read this for now"]
    assert body["results"][0]["revealed_at"] is None


def test_both_reviews_are_listed_once_both_parties_reviewed(api_as, owner, member, exchange, review, community):
    review(owner, exchange, rating=5, comment="From the owner")
    review(member, exchange, rating=3, comment="From the member")
    neighbor = MembershipFactory(community=community).user

    about_member = api_as(neighbor).get(URL, {"subject": member.pk}).json()

    assert [(r["rating"], r["comment"]) for r in about_member["results"]] == [(5, "From the owner")]
    assert about_member["results"][0]["revealed_at"] is not None


def test_reviews_are_listed_only_to_members_of_their_community(
    api_as, owner, member, exchange, review, stranger, other_community
):
    review(owner, exchange, rating=5, comment="From the owner")
    review(member, exchange, rating=3, comment="From the member")
    riverside_member = MembershipFactory(community=other_community).user

    for outsider in (stranger, riverside_member):
        for query in ({}, {"subject": member.pk}, {"author": owner.pk}):
            body = api_as(outsider).get(URL, query).json()
            assert body["count"] == 0 and "From the" not in str(body)
    assert api_as(member).get(URL).json()["count"] == 2


def test_a_former_member_still_sees_the_reviews_they_wrote_and_received(api_as, owner, member, exchange, review):
    review(owner, exchange, rating=5, comment="From the owner")
    review(member, exchange, rating=3, comment="From the member")
    member.memberships.all().delete()

    body = api_as(member).get(URL).json()

    assert sorted(r["comment"] for r in body["results"]) == ["From the member", "From the owner"]


def test_a_hidden_review_is_listed_for_the_other_party_after_14_days(api_as, owner, member, exchange, review):
    from apps.reputation import tasks

    review(owner, exchange, comment="Finally visible")
    with time_machine.travel(exchange.completed_at + timedelta(days=14, minutes=5)):
        tasks.reviews_reveal_expired.delay()

    body = api_as(member).get(URL, {"subject": member.pk}).json()

    assert [r["comment"] for r in body["results"]] == ["Finally visible"]


@pytest.mark.parametrize("query", [{"subject": "abc"}, {"subject": 2**63}, {"author": "you"}, {"subject": 0}])
def test_a_bad_filter_is_a_400(api_as, member, query):
    response = api_as(member).get(URL, query)

    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_reviews_cannot_be_changed_or_deleted_through_the_api(api_as, owner, exchange, review):
    mine = review(owner, exchange)
    client = api_as(owner)

    assert client.put(f"{URL}{mine.pk}/", payload(exchange, rating=1), format="json").status_code in (404, 405)
    assert client.delete(f"{URL}{mine.pk}/").status_code in (404, 405)
    assert Review.objects.get().rating == 4


def test_the_list_query_count_does_not_grow(api_as, community, member):
    client = api_as(member)

    def add(n):
        for _ in range(n):
            a, b = MembershipFactory(community=community).user, MembershipFactory(community=community).user
            ReviewFactory(exchange=ExchangeFactory(community=community, provider=a, receiver=b), subject=member)

    # Queries: count(*) for pagination, the page with authors', subjects' profiles and content types.
    assert assert_queries_do_not_grow(lambda: client.get(URL, {"subject": member.pk}), add) == 2


def test_my_own_reviews_query_count_does_not_grow(api_as, community, member):
    client = api_as(member)

    def add(n):
        for _ in range(n):
            other = MembershipFactory(community=community).user
            ReviewFactory(
                exchange=ExchangeFactory(community=community, provider=member, receiver=other), revealed_at=None
            )

    # Queries: count(*) for pagination, the page with profiles and content types.
    assert assert_queries_do_not_grow(lambda: client.get(URL, {"author": "me"}), add) == 2


def test_profiles_in_the_api_carry_the_trust_score(api_as, owner, member, exchange, review, community):
    review(owner, exchange, rating=5)
    review(member, exchange, rating=3)

    me = api_as(member).get("/api/v1/me/").json()
    members = api_as(owner).get(f"/api/v1/communities/{community.pk}/members/").json()["results"]

    assert me["trust"] == {
        "score": "3.10",  # two new accounts: (5 * 3 + 0.25 * 5) / 5.25
        "rating_count": 1,
        "completed": {"tools": 1, "skills": 0, "solar": 0, "codesign": 0},
    }
    row = next(r["member"] for r in members if r["member"]["id"] == member.pk)
    assert row["trust"]["score"] == "3.10"


def test_a_member_without_reviews_has_an_empty_trust_score(api_as, member):
    assert api_as(member).get("/api/v1/me/").json()["trust"] == {
        "score": None,
        "rating_count": 0,
        "completed": {"tools": 0, "skills": 0, "solar": 0, "codesign": 0},
    }
