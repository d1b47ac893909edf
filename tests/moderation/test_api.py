"""/api/v1/flags/: report something; list my reports and, for organizers, their community's."""

from __future__ import annotations

import pytest

from apps.moderation.models import Flag
from apps.peers.factories import MembershipFactory
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
URL = "/api/v1/flags/"


def payload(review, **overrides) -> dict:
    return {"target_type": "reputation.review", "target_id": review.pk, "reason": "spam", "text": "Ad", **overrides}


def test_a_member_reports_a_review_through_the_api(api_as, owner, review):
    response = api_as(owner).post(URL, payload(review), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["target_type"], body["target_id"], body["status"]) == ("reputation.review", review.pk, "open")
    assert body["reporter"] == {"id": owner.pk, "display_name": "Olive Owner"}
    assert Flag.objects.get().reporter == owner


def test_a_member_reports_a_member_in_a_shared_community(api_as, owner, member, community):
    response = api_as(owner).post(
        URL, {"target_type": "peers.user", "target_id": member.pk, "community": community.pk, "reason": "scam"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["target_label"] == "member Max Member"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_type": "ledger.transfer"}, "target_type"),
        ({"target_type": "nonsense"}, "target_type"),
        ({"target_id": 999_999}, "target_id"),
        ({"target_id": 2**63}, "target_id"),
        ({"reason": "boring"}, "reason"),
        ({"community": 999_999}, "community"),
    ],
)
def test_bad_input_is_a_400_with_field_errors(api_as, owner, review, overrides, field):
    response = api_as(owner).post(URL, payload(review, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Flag.objects.exists()


def test_a_missing_target_is_a_400(api_as, owner):
    response = api_as(owner).post(URL, {"reason": "spam"}, format="json")

    assert response.status_code == 400
    assert {"target_type", "target_id"} <= set(response.json())


def test_reporting_a_member_without_a_community_is_a_400(api_as, owner, member):
    response = api_as(owner).post(URL, {"target_type": "peers.user", "target_id": member.pk, "reason": "scam"})

    assert response.status_code == 400
    assert "community" in response.json()


def test_reporting_ones_own_review_is_a_409(api_as, member, review):
    response = api_as(member).post(URL, payload(review), format="json")

    assert (response.status_code, response.json()["code"]) == (409, "own_content")


def test_reporting_in_a_community_one_is_not_in_is_a_409(api_as, stranger, member, community):
    response = api_as(stranger).post(
        URL, {"target_type": "peers.user", "target_id": member.pk, "community": community.pk, "reason": "scam"}
    )

    assert (response.status_code, response.json()["code"]) == (409, "not_member")


def test_a_review_in_another_community_does_not_exist_for_the_reporter(api_as, stranger, review):
    response = api_as(stranger).post(URL, payload(review), format="json")

    assert response.status_code == 400
    assert response.json()["target_id"] == ["No such review."]
    assert not Flag.objects.exists()


def test_the_twenty_first_report_of_the_day_is_a_409(api_as, owner, community):
    from apps.moderation.services import REPORTS_PER_DAY

    client = api_as(owner)
    for _ in range(REPORTS_PER_DAY):
        neighbor = MembershipFactory(community=community).user
        body = {"target_type": "peers.user", "target_id": neighbor.pk, "community": community.pk, "reason": "spam"}
        assert client.post(URL, body, format="json").status_code == 201

    neighbor = MembershipFactory(community=community).user
    response = client.post(
        URL, {"target_type": "peers.user", "target_id": neighbor.pk, "community": community.pk, "reason": "spam"}
    )

    assert (response.status_code, response.json()["code"]) == (409, "too_many_reports")
    assert Flag.objects.filter(reporter=owner).count() == REPORTS_PER_DAY


def test_a_second_open_report_is_a_409(api_as, owner, review):
    client = api_as(owner)
    client.post(URL, payload(review), format="json")

    response = client.post(URL, payload(review), format="json")

    assert (response.status_code, response.json()["code"]) == (409, "already_flagged")


def test_a_member_lists_only_their_own_reports(api_as, owner, neighbors, review):
    api_as(owner).post(URL, payload(review), format="json")
    api_as(neighbors[0]).post(URL, payload(review), format="json")

    body = api_as(owner).get(URL).json()

    assert [flag["reporter"]["id"] for flag in body["results"]] == [owner.pk]


def test_an_organizer_lists_every_report_of_their_community_only(
    api_as, organizer, owner, neighbors, review, riverside_review, other_community
):
    api_as(owner).post(URL, payload(review), format="json")
    api_as(neighbors[0]).post(URL, payload(review), format="json")
    river = MembershipFactory(community=other_community).user
    api_as(river).post(URL, payload(riverside_review), format="json")

    body = api_as(organizer).get(URL).json()

    assert body["count"] == 2
    assert {flag["target_id"] for flag in body["results"]} == {review.pk}


def test_someone_elses_report_is_not_found(api_as, owner, neighbors, review):
    api_as(owner).post(URL, payload(review), format="json")
    flag = Flag.objects.get()

    assert api_as(neighbors[0]).get(f"{URL}{flag.pk}/").status_code == 404
    assert api_as(owner).get(f"{URL}{flag.pk}/").status_code == 200


def test_it_requires_authentication(api_client, review):
    assert api_client.post(URL, payload(review), format="json").status_code == 401


def test_the_list_query_count_does_not_grow(api_as, organizer, community, owner):
    client = api_as(organizer)

    def add(n):
        for _ in range(n):
            target = MembershipFactory(community=community).user
            api_as(owner).post(
                URL, {"target_type": "peers.user", "target_id": target.pk, "community": community.pk, "reason": "scam"}
            )

    # Queries: count, one page of reports with reporters' profiles and communities joined.
    assert assert_queries_do_not_grow(lambda: client.get(URL), add) == 2
