"""Reviews in the admin: read-only, scoped to the organizer's communities, blind."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.peers.factories import MembershipFactory, UserFactory
from apps.reputation.factories import ReviewFactory
from apps.reputation.models import Review
from tests.exchanges.factories import ExchangeFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:reputation_review_changelist")


@pytest.fixture
def sunnyside_review(exchange):
    return ReviewFactory(exchange=exchange, comment="A sunny review", rating=5)


@pytest.fixture
def riverside_review(other_community):
    a = MembershipFactory(community=other_community, user__profile__display_name="Rita Riverside").user
    b = MembershipFactory(community=other_community).user
    exchange = ExchangeFactory(community=other_community, provider=a, receiver=b)
    return ReviewFactory(exchange=exchange, comment="A river review")


def test_the_organizer_sees_only_their_communitys_reviews(web_as, organizer, sunnyside_review, riverside_review):
    html = web_as(organizer).get(CHANGELIST).content.decode()

    assert "Olive Owner" in html
    assert "Rita Riverside" not in html


def test_the_organizer_cannot_open_another_communitys_review_by_url(web_as, organizer, riverside_review):
    url = reverse("admin:reputation_review_change", args=[riverside_review.pk])

    response = web_as(organizer).get(url, follow=True)

    assert "A river review" not in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:index")


def test_reviews_are_read_only_in_the_admin(web_as, organizer, sunnyside_review):
    client = web_as(organizer)
    url = reverse("admin:reputation_review_change", args=[sunnyside_review.pk])

    html = client.get(url).content.decode()
    client.post(url, {"rating": 1, "comment": "changed"})
    client.post(reverse("admin:reputation_review_delete", args=[sunnyside_review.pk]), {"post": "yes"})

    assert "A sunny review" in html and 'name="comment"' not in html
    assert Review.objects.get(pk=sunnyside_review.pk).comment == "A sunny review"


def test_a_hidden_reviews_rating_and_comment_are_not_shown_even_to_a_superuser(web_as, exchange):
    hidden = ReviewFactory(exchange=exchange, comment="Not yet", revealed_at=None)
    admin = UserFactory(is_staff=True, is_superuser=True)

    html = web_as(admin).get(reverse("admin:reputation_review_change", args=[hidden.pk])).content.decode()

    assert "Not yet" not in html and "hidden until both reviewed" in html


def test_organizers_do_not_see_trust_scores_in_the_admin(web_as, organizer):
    assert web_as(organizer).get(reverse("admin:reputation_trustscore_changelist")).status_code == 403


def test_url_filters_on_rating_or_comment_are_refused_for_blindness(web_as, organizer, sunnyside_review):
    client = web_as(organizer)
    url = reverse("admin:reputation_review_changelist")
    for query in ({"rating": sunnyside_review.rating}, {"comment__icontains": sunnyside_review.comment[:5]}):
        response = client.get(url, query)
        assert response.status_code == 400, query  # DisallowedModelAdminLookup, not a row count
