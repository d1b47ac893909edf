"""The "Report" buttons on profiles and reviews, and what hiding does to the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.moderation import services
from apps.moderation.models import Flag
from apps.peers.factories import MembershipFactory
from apps.reputation.factories import ReviewFactory
from tests.exchanges.factories import ExchangeFactory
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
REPORT = reverse("moderation:report")


def profile(user) -> str:
    return reverse("peers:profile", args=[user.pk])


def test_a_member_sees_a_report_button_on_another_members_profile(web_as, owner, member):
    html = web_as(owner).get(profile(member)).content.decode()

    assert "Report this member" in html
    assert "Sunnyside Commons" in html  # the community to report them in


def test_nobody_sees_a_report_button_on_their_own_profile_or_review(web_as, member, owner, review):
    assert "Report this" not in web_as(member).get(profile(member)).content.decode()
    assert "Report this review" not in web_as(member).get(profile(owner)).content.decode()


def test_a_member_sees_a_report_button_on_reviews(web_as, owner, review):
    assert "Report this review" in web_as(owner).get(profile(owner)).content.decode()


def test_a_member_reports_a_review_and_is_thanked(web_as, owner, review):
    response = web_as(owner).post(
        REPORT,
        {"target_type": "reputation.review", "target_id": review.pk, "reason": "harassment", "next": profile(owner)},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == profile(owner)
    assert "Thank you: your report was sent to the organizers." in response.content.decode()
    assert Flag.objects.get().reporter == owner


def test_a_member_reports_a_member_in_a_community(web_as, owner, member, community):
    response = web_as(owner).post(
        REPORT,
        {"target_type": "peers.user", "target_id": member.pk, "community": community.pk, "reason": "scam"},
        follow=True,
    )

    assert "Thank you" in response.content.decode()
    assert Flag.objects.get().target == member


def test_a_refused_report_says_why(web_as, owner, review):
    client = web_as(owner)
    data = {"target_type": "reputation.review", "target_id": review.pk, "reason": "spam", "next": "/"}
    client.post(REPORT, data)

    response = client.post(REPORT, data, follow=True)

    assert "You already reported this" in response.content.decode()


def test_bad_report_input_is_named_and_nothing_is_written(web_as, owner, member, review):
    client = web_as(owner)
    base = {"target_type": "reputation.review", "target_id": review.pk, "next": "/"}
    no_reason = client.post(REPORT, base, follow=True).content.decode()
    assert "Reason: This field is required." in no_reason
    too_long = client.post(REPORT, {**base, "reason": "spam", "text": "x" * 1001}, follow=True).content.decode()
    assert "What happened (optional): Ensure this value has at most 1000 characters" in too_long
    nowhere = client.post(
        REPORT,
        {"target_type": "peers.user", "target_id": member.pk, "community": 999999, "reason": "scam"},
        follow=True,
    ).content.decode()
    assert "No such community." in nowhere
    assert not Flag.objects.exists()


def test_the_report_goes_back_only_to_this_site(web_as, owner, review):
    response = web_as(owner).post(
        REPORT,
        {"target_type": "reputation.review", "target_id": review.pk, "reason": "spam", "next": "https://evil.example"},
    )

    assert response["Location"] == "/"


def test_a_hidden_review_disappears_from_the_profile_for_others(web_as, report, neighbors, owner, review):
    for neighbor in neighbors:
        report(neighbor, review)

    html = web_as(owner).get(profile(owner)).content.decode()

    assert "Rude and late, avoid" not in html


def test_its_author_still_sees_a_hidden_review_marked_as_hidden(web_as, report, neighbors, owner, member, review):
    for neighbor in neighbors:
        report(neighbor, review)

    html = web_as(member).get(profile(owner)).content.decode()

    assert "Rude and late, avoid" in html and "Hidden by moderation" in html


def test_a_restored_review_is_back_on_the_profile(web_as, report, neighbors, organizer, owner, review):
    for neighbor in neighbors:
        report(neighbor, review)
    services.content_restore(target=review, actor=organizer, reason="Fair")

    assert "Rude and late, avoid" in web_as(neighbors[0]).get(profile(owner)).content.decode()


def test_a_hidden_review_disappears_from_the_api(api_as, report, neighbors, owner, review):
    for neighbor in neighbors:
        report(neighbor, review)

    body = api_as(owner).get("/api/v1/reviews/", {"subject": owner.pk}).json()

    assert body["count"] == 0


def test_the_profile_with_report_buttons_query_count_does_not_grow(web_as, owner, member, community):
    client = web_as(owner)

    def add(n):
        for _ in range(n):
            other = MembershipFactory(community=community).user
            ReviewFactory(exchange=ExchangeFactory(community=community, provider=other, receiver=member))

    assert_queries_do_not_grow(lambda: client.get(profile(member)), add, large=12)
