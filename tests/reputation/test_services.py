"""The review rules (DESIGN invariant 4) and the trust score, at the service level."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.peers.factories import MembershipFactory, UserFactory
from apps.reputation import selectors, services
from apps.reputation.factories import ReviewFactory
from apps.reputation.models import Review, TrustScore
from p2pcommons.errors import RuleViolation
from tests.exchanges.factories import ExchangeFactory, SessionFactory

pytestmark = pytest.mark.django_db


def test_a_party_reviews_the_other_party_of_the_exchange(exchange, owner, member, review):
    created = review(owner, exchange, rating=5, comment="Took great care of my ladder")

    assert (created.author, created.subject, created.rating) == (owner, member, 5)
    assert (created.community, created.domain) == (exchange.community, "tools")
    assert created.window_closes_at == exchange.completed_at + timedelta(days=14)
    assert created.revealed_at is None


def test_a_stranger_cannot_review(exchange, stranger, review):
    with pytest.raises(RuleViolation) as refused:
        review(stranger, exchange)

    assert refused.value.code == "not_a_party"
    assert not Review.objects.exists()


def test_a_community_member_who_was_not_a_party_cannot_review(exchange, organizer, review):
    with pytest.raises(RuleViolation) as refused:
        review(organizer, exchange)

    assert refused.value.code == "not_a_party"


def test_a_party_cannot_review_twice(exchange, owner, review):
    review(owner, exchange, rating=2)

    with pytest.raises(RuleViolation) as refused:
        review(owner, exchange, rating=5)

    assert refused.value.code == "already_reviewed"
    assert list(Review.objects.values_list("rating", flat=True)) == [2]


def test_a_party_cannot_review_before_the_exchange_is_completed(community, owner, member, review):
    ongoing = ExchangeFactory(community=community, provider=owner, receiver=member, completed_at=None)

    with pytest.raises(RuleViolation) as refused:
        review(owner, ongoing)

    assert refused.value.code == "not_completed"
    assert not Review.objects.exists()


def test_a_party_cannot_review_after_the_14_day_window(exchange, owner, review):
    with (
        time_machine.travel(exchange.completed_at + timedelta(days=14, seconds=1)),
        pytest.raises(RuleViolation) as refused,
    ):
        review(owner, exchange)

    assert refused.value.code == "review_window_closed"


def test_a_party_may_still_review_on_the_last_day_of_the_window(exchange, owner, review):
    with time_machine.travel(exchange.completed_at + timedelta(days=13, hours=23)):
        assert review(owner, exchange).pk


@pytest.mark.parametrize("rating", [0, 6, -1, "5", None, True])
def test_a_rating_outside_1_to_5_is_bad_input(exchange, owner, review, rating):
    with pytest.raises(ValidationError) as refused:
        review(owner, exchange, rating=rating)

    assert "rating" in refused.value.message_dict
    assert not Review.objects.exists()


def test_the_first_review_stays_hidden_from_the_other_party(exchange, owner, member, review):
    review(owner, exchange)

    assert list(selectors.reviews_about(user=member, viewer=member)) == []
    assert list(selectors.reviews_visible_to(viewer=member)) == []
    assert selectors.exchange_reviews_for(exchange=exchange, viewer=member) == (None, None)


def test_the_author_sees_their_own_hidden_review(exchange, owner, review):
    mine = review(owner, exchange)

    assert list(selectors.reviews_visible_to(viewer=owner, author_id=owner.pk)) == [mine]


def test_the_second_review_reveals_both(exchange, owner, member, review):
    first = review(owner, exchange, rating=5)
    second = review(member, exchange, rating=3)

    first.refresh_from_db()
    assert first.revealed_at is not None and first.revealed_at == second.revealed_at
    assert list(selectors.reviews_about(user=member, viewer=member)) == [first]
    assert list(selectors.reviews_about(user=owner, viewer=member)) == [second]


def test_a_lone_review_is_revealed_once_the_window_has_closed(exchange, owner, member, review):
    lone = review(owner, exchange)

    with time_machine.travel(exchange.completed_at + timedelta(days=13)):
        assert services.reviews_reveal_expired() == 0
    assert list(selectors.reviews_about(user=member, viewer=member)) == []

    with time_machine.travel(exchange.completed_at + timedelta(days=14, minutes=1)):
        assert services.reviews_reveal_expired() == 1
    assert list(selectors.reviews_about(user=member, viewer=member)) == [lone]


def test_revealing_expired_reviews_twice_reveals_them_once(exchange, owner, review):
    lone = review(owner, exchange)
    later = exchange.completed_at + timedelta(days=15)

    assert services.reviews_reveal_expired(now=later) == 1
    assert services.reviews_reveal_expired(now=later + timedelta(hours=1)) == 0

    lone.refresh_from_db()
    assert lone.revealed_at == later


def test_the_trust_score_does_not_change_before_the_reveal(exchange, owner, member, review):
    review(owner, exchange, rating=5)

    assert not TrustScore.objects.filter(user=member).exists()


def test_the_trust_score_changes_when_the_reviews_are_revealed(exchange, owner, member, review):
    review(owner, exchange, rating=5)
    review(member, exchange, rating=3)

    # Both accounts are new: no prior from others (m = 3), and each one's word weighs 1/4.
    member_trust = TrustScore.objects.get(user=member)
    assert member_trust.rating_count == 1
    assert member_trust.score == Decimal("3.10")  # (5 * 3 + 0.25 * 5) / 5.25
    assert TrustScore.objects.get(user=owner).score == Decimal("3.00")  # (5 * 3 + 0.25 * 3) / 5.25


def test_the_trust_score_changes_when_the_beat_task_reveals(
    exchange, owner, member, review, django_capture_on_commit_callbacks
):
    review(owner, exchange, rating=5)

    with django_capture_on_commit_callbacks(execute=True):
        services.reviews_reveal_expired(now=exchange.completed_at + timedelta(days=15))

    trust = TrustScore.objects.get(user=member)
    assert (trust.rating_count, trust.score) == (1, Decimal("3.10"))  # (5 * 3 + 0.25 * 5) / 5.25
    assert not TrustScore.objects.filter(user=owner).exists()


def test_bayesian_score_pulls_few_ratings_towards_the_prior():
    assert services.bayesian_score(prior=Decimal(4), rating_sum=5, rating_count=1) == Decimal("4.17")
    assert services.bayesian_score(prior=Decimal(3), rating_sum=0, rating_count=0) == Decimal("3.00")
    # 100 five-star ratings: close to 5 whatever the prior.
    assert services.bayesian_score(prior=Decimal(1), rating_sum=500, rating_count=100) == Decimal("4.81")


def test_the_prior_is_the_mean_of_revealed_ratings_in_the_members_communities(community, other_community, member):
    month_ago = timezone.now() - timedelta(days=31)
    neighbors = [MembershipFactory(community=community, user__date_joined=month_ago).user for _ in range(4)]
    for rating, (a, b) in zip([2, 4], [(neighbors[0], neighbors[1]), (neighbors[2], neighbors[3])], strict=True):
        ReviewFactory(exchange=ExchangeFactory(community=community, provider=a, receiver=b), rating=rating)
    hidden = ExchangeFactory(community=community, provider=neighbors[0], receiver=neighbors[2])
    ReviewFactory(exchange=hidden, rating=5, revealed_at=None)
    elsewhere = MembershipFactory(community=other_community, user__date_joined=month_ago).user
    ReviewFactory(
        exchange=ExchangeFactory(community=other_community, provider=elsewhere, receiver=UserFactory()), rating=1
    )

    assert services.community_prior(user=member) == Decimal(3)  # (2 + 4) / 2: not the hidden 5, not riverside's 1


def test_the_prior_falls_back_to_the_middle_of_the_scale(stranger):
    assert services.community_prior(user=stranger) == services.DEFAULT_PRIOR == Decimal(3)


def test_trust_counts_completed_exchanges_per_domain(community, owner, member):
    ExchangeFactory.create_batch(2, community=community, provider=owner, receiver=member)
    ExchangeFactory(community=community, provider=member, receiver=owner)
    ExchangeFactory(community=community, provider=owner, receiver=member, completed_at=None)  # not completed
    SessionFactory(community=community, teacher=UserFactory(), learner=owner)

    trust = services.trust_recompute(user=owner)

    assert trust.completed_counts == {"tools": 3, "skills": 1, "solar": 0, "codesign": 0}
    assert (trust.score, trust.rating_count) == (None, 0)


def test_recomputing_trust_twice_changes_nothing(exchange, owner, member, review):
    review(owner, exchange, rating=5)
    review(member, exchange, rating=3)
    before = TrustScore.objects.values().get(user=member)

    services.trust_recompute(user=member)

    after = TrustScore.objects.values().get(user=member)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_reviews_of_a_skill_session_count_in_the_skills_domain(community, owner, member, review):
    session = SessionFactory(community=community, teacher=owner, learner=member)

    created = review(member, session, rating=5)

    assert (created.domain, created.subject) == ("skills", owner)


def test_anonymous_visitors_and_outsiders_read_no_reviews(exchange, owner, member, review, stranger):
    from django.contrib.auth.models import AnonymousUser

    review(owner, exchange, rating=5)
    review(member, exchange, rating=3)

    assert list(selectors.reviews_about(user=member, viewer=None)) == []
    assert list(selectors.reviews_about(user=member, viewer=AnonymousUser())) == []
    assert list(selectors.reviews_about(user=member, viewer=stranger)) == []
    assert len(selectors.reviews_about(user=member, viewer=owner)) == 1
