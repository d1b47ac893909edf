"""The review form (reached from an exchange) and reputation on profiles and member lists."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.peers.factories import MembershipFactory
from apps.reputation import views
from apps.reputation.factories import ReviewFactory, TrustScoreFactory
from apps.reputation.models import Review
from apps.reputation.templatetags.reputation import review_url
from p2pcommons.errors import RuleViolation
from tests.exchanges.factories import ExchangeFactory
from tests.querycount import assert_queries_do_not_grow

from .conftest import EXCHANGE_TYPE

pytestmark = pytest.mark.django_db


def form_url(exchange) -> str:
    return reverse("reputation:review-create", args=[EXCHANGE_TYPE, exchange.pk])


def test_the_exchange_links_to_its_review_form(exchange):
    assert review_url(exchange) == f"/reviews/new/{EXCHANGE_TYPE}/{exchange.pk}/"


def test_a_party_sees_the_review_form(web_as, owner, exchange):
    html = web_as(owner).get(form_url(exchange)).content.decode()

    assert "Review: Lent a ladder" in html and "Max Member" in html
    assert 'name="rating"' in html and "Submit review" in html


def test_a_party_submits_a_review_and_is_told_it_stays_hidden(web_as, owner, member, exchange):
    response = web_as(owner).post(form_url(exchange), {"rating": "5", "comment": "Lovely"}, follow=True)

    html = response.content.decode()
    assert "Thank you: your review is saved." in html
    assert "Your review stays hidden until Max Member has reviewed too" in html
    assert Review.objects.get().rating == 5


def test_a_missing_rating_shows_the_form_again_with_the_error(web_as, owner, exchange):
    response = web_as(owner).post(form_url(exchange), {"comment": "Forgot the stars"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose how many stars to give." in html
    assert "Forgot the stars" in html
    assert not Review.objects.exists()


def test_a_rule_broken_between_page_load_and_submit_is_shown_on_the_form(web_as, owner, exchange, monkeypatch):
    def refuse(**kwargs):
        raise RuleViolation("You already reviewed this exchange; reviews can't be changed.", code="already_reviewed")

    monkeypatch.setattr(views.services, "review_create", refuse)
    html = unescape(web_as(owner).post(form_url(exchange), {"rating": "3"}).content.decode())

    assert "You already reviewed this exchange" in html and 'name="rating"' in html


def test_the_form_explains_why_an_unfinished_exchange_cannot_be_reviewed(web_as, owner, member, community):
    ongoing = ExchangeFactory(community=community, provider=owner, receiver=member, completed_at=None)

    html = unescape(web_as(owner).get(form_url(ongoing)).content.decode())

    assert "isn't completed yet" in html and 'name="rating"' not in html


def test_a_stranger_gets_a_404_and_learns_nothing(web_as, stranger, exchange):
    response = web_as(stranger).get(form_url(exchange))

    assert response.status_code == 404
    assert "Max Member" not in response.content.decode()
    assert web_as(stranger).post(form_url(exchange), {"rating": "1"}).status_code == 404
    assert not Review.objects.exists()


def test_an_unknown_exchange_type_is_a_404(web_as, owner):
    assert web_as(owner).get("/reviews/new/peers.user/1/").status_code == 404


def test_the_form_requires_login(client, exchange):
    assert client.get(form_url(exchange)).status_code == 302


def test_the_other_partys_review_is_hidden_on_the_form_and_the_profile(web_as, client, owner, member, exchange, review):
    review(owner, exchange, comment="Hidden words")

    form_html = web_as(member).get(form_url(exchange)).content.decode()
    profile_html = client.get(reverse("peers:profile", args=[member.pk])).content.decode()  # as the member

    assert "Hidden words" not in form_html and "Hidden words" not in profile_html
    assert "No reviews yet" in profile_html


def test_once_both_reviewed_each_sees_the_others_review(web_as, owner, member, exchange, review):
    review(owner, exchange, rating=5, comment="From Olive")
    review(member, exchange, rating=4, comment="From Max")

    html = unescape(web_as(member).get(form_url(exchange)).content.decode())

    assert "From Max" in html and "Olive Owner's review of you" in html and "From Olive" in html


def test_the_profile_shows_stars_counts_and_revealed_reviews(web_as, owner, member, exchange, review, community):
    review(owner, exchange, rating=5, comment="Took great care of my ladder")
    review(member, exchange, rating=3)
    neighbor = MembershipFactory(community=community).user

    html = web_as(neighbor).get(reverse("peers:profile", args=[member.pk])).content.decode()

    # Two new accounts: (5 * 3 + 0.25 * 5) / 5.25 = 3.10 (see tests/reputation/test_trust_rule.py).
    assert 'aria-label="3.1 out of 5 from 1 review"' in html
    assert "★★★☆☆" in html
    assert "Tool loans completed: 1" in html
    assert "Took great care of my ladder" in html and "Olive Owner" in html


def test_a_profile_without_reviews_says_so(web_as, owner, member):
    html = web_as(owner).get(reverse("peers:profile", args=[member.pk])).content.decode()

    assert "No reviews yet" in html and "No completed exchanges yet" in html


def test_the_profile_query_count_does_not_grow_with_reviews(web_as, owner, community, member):
    url = reverse("peers:profile", args=[member.pk])
    client = web_as(owner)

    def add(n):
        for _ in range(n):
            other = MembershipFactory(community=community).user
            ReviewFactory(exchange=ExchangeFactory(community=community, provider=other, receiver=member))

    assert_queries_do_not_grow(lambda: client.get(url), add, large=12)


def test_the_community_page_shows_each_members_trust_badge(web_as, owner, member, community):
    TrustScoreFactory(user=member)

    html = web_as(owner).get(community.get_absolute_url()).content.decode()

    assert 'aria-label="4.3 out of 5 from 12 reviews"' in html
    assert "No reviews yet" in html  # the owner has none


def test_the_community_page_query_count_does_not_grow_with_trust_badges(web_as, member, community):
    client = web_as(member)

    def add(n):
        for membership in MembershipFactory.create_batch(n, community=community):
            TrustScoreFactory(user=membership.user)

    assert_queries_do_not_grow(lambda: client.get(community.get_absolute_url()), add)


def test_reviews_on_the_profile_are_paginated(web_as, owner, community, member):
    for _ in range(11):
        other = MembershipFactory(community=community).user
        ReviewFactory(exchange=ExchangeFactory(community=community, provider=other, receiver=member))
    url = reverse("peers:profile", args=[member.pk])
    client = web_as(owner)

    assert "Page 1 of 2" in client.get(url).content.decode()
    assert "Page 2 of 2" in client.get(url, {"reviews_page": 2}).content.decode()


def test_a_profile_shows_only_reviews_from_communities_the_viewer_belongs_to(
    web_as, owner, member, community, other_community
):
    MembershipFactory(community=other_community, user=member)
    riverside = MembershipFactory(community=other_community).user
    ReviewFactory(exchange=ExchangeFactory(community=community, provider=owner, receiver=member), comment="Sunny words")
    ReviewFactory(
        exchange=ExchangeFactory(community=other_community, provider=riverside, receiver=member), comment="River words"
    )

    html = web_as(riverside).get(reverse("peers:profile", args=[member.pk])).content.decode()

    assert "River words" in html
    assert "Sunny words" not in html and "Olive Owner" not in html


def test_a_review_window_that_closed_is_explained(web_as, owner, member, community):
    old = ExchangeFactory(
        community=community, provider=owner, receiver=member, completed_at=timezone.now() - timedelta(days=20)
    )

    assert "review window of this exchange has closed" in unescape(web_as(owner).get(form_url(old)).content.decode())
