"""The trust rule (README, "Trust score"): each reviewer counts once, brand-new accounts and
a sock puppet's circle count a quarter, and "completed exchanges" for automatic decisions
count distinct people, not repeats."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.peers.factories import MembershipFactory, UserFactory
from apps.reputation import selectors, services
from apps.reputation.factories import ReviewFactory
from apps.reputation.models import TrustScore
from tests.exchanges.factories import ExchangeFactory, SessionFactory

pytestmark = pytest.mark.django_db

# A typical tool's automatic approval (the demo's): trust 4.00 and 2 completed exchanges.
TYPICAL_MIN_SCORE, TYPICAL_MIN_EXCHANGES = Decimal("4.00"), 2


def newcomer(community, name: str = "Newcomer"):
    return MembershipFactory(community=community, user__profile__display_name=name).user


def established(community, name: str = "Old hand"):
    """A member for two months who has completed exchanges with three different people."""
    user = MembershipFactory(
        community=community,
        user__profile__display_name=name,
        user__date_joined=timezone.now() - timedelta(days=60),
    ).user
    for _ in range(selectors.ESTABLISHED_COUNTERPARTS):
        ExchangeFactory(community=community, provider=user, receiver=UserFactory())
    return user


def passes_typical_auto_approval(user) -> bool:
    standing = selectors.trust_standing(user=user)
    return (
        standing.score is not None
        and standing.score >= TYPICAL_MIN_SCORE
        and standing.counterparts >= TYPICAL_MIN_EXCHANGES
    )


def farm(community, review, farmer, puppet, loans: int = 3) -> None:
    """``loans`` completed loans between the two, each reviewed 5 stars both ways."""
    for _ in range(loans):
        loan = ExchangeFactory(community=community, provider=puppet, receiver=farmer)
        review(farmer, loan, rating=5)
        review(puppet, loan, rating=5)


def test_a_new_account_and_a_sock_puppet_do_not_farm_their_way_past_auto_approval(community, review):
    farmer, puppet = newcomer(community, "Farmer"), newcomer(community, "Puppet")

    farm(community, review, farmer, puppet)

    standing = selectors.trust_standing(user=farmer)
    assert standing.counterparts == 0  # one brand-new person, three times
    assert standing.score == Decimal("3.10")  # (5 * 3 + 0.25 * 5) / 5.25: no prior of their own making
    assert not passes_typical_auto_approval(farmer)


def test_farming_in_a_well_rated_community_still_does_not_pass_auto_approval(community, review):
    for _ in range(3):  # a neighborhood whose established members rate each other 5 stars
        a, b = established(community), established(community)
        ReviewFactory(exchange=ExchangeFactory(community=community, provider=a, receiver=b), rating=5)
    farmer, puppet = newcomer(community, "Farmer"), newcomer(community, "Puppet")

    farm(community, review, farmer, puppet)

    standing = selectors.trust_standing(user=farmer)
    assert standing.score >= TYPICAL_MIN_SCORE  # the neighborhood's prior is high...
    assert standing.counterparts == 0  # ...but nobody established has traded with them
    assert not passes_typical_auto_approval(farmer)


def test_a_ring_of_four_fresh_accounts_counts_as_one_counterpart(community):
    farmer = newcomer(community)
    for _ in range(4):
        ExchangeFactory(community=community, provider=newcomer(community), receiver=farmer)

    assert selectors.trust_standing(user=farmer).counterparts == 1


def test_repeated_exchanges_with_one_person_count_once(community, member):
    old_hand = established(community)
    ExchangeFactory.create_batch(3, community=community, provider=old_hand, receiver=member)
    SessionFactory(community=community, teacher=member, learner=old_hand)

    assert selectors.trust_standing(user=member).counterparts == 1


def test_established_neighbors_count_fully_and_unfinished_exchanges_not_at_all(community, member):
    first, second, third = established(community), established(community), established(community)
    ExchangeFactory(community=community, provider=first, receiver=member)
    SessionFactory(community=community, teacher=member, learner=second)
    ExchangeFactory(community=community, provider=third, receiver=member, completed_at=None)

    assert selectors.trust_standing(user=member).counterparts == 2


def test_an_old_account_with_few_counterparts_is_not_established(community, member):
    loner = MembershipFactory(community=community, user__date_joined=timezone.now() - timedelta(days=365)).user
    ExchangeFactory(community=community, provider=loner, receiver=member)

    assert selectors.established_among(user_ids=[loner.pk]) == set()
    assert selectors.trust_standing(user=member).counterparts == 0


def test_each_reviewer_counts_once_with_the_mean_of_their_ratings(community, member):
    old_hand = established(community)
    for rating in (5, 3):
        ReviewFactory(exchange=ExchangeFactory(community=community, provider=old_hand, receiver=member), rating=rating)

    trust = services.trust_recompute(user=member)

    # m = 3 (no other ratings); one established reviewer with mean 4: (5 * 3 + 4) / 6.
    assert (trust.rating_count, trust.score) == (1, Decimal("3.17"))


def test_a_new_accounts_review_weighs_a_quarter_of_an_established_neighbors(community, member):
    old_hand, fresh = established(community), newcomer(community)
    ReviewFactory(exchange=ExchangeFactory(community=community, provider=old_hand, receiver=member), rating=5)
    ReviewFactory(exchange=ExchangeFactory(community=community, provider=fresh, receiver=member), rating=1)

    trust = services.trust_recompute(user=member)

    # (5 * 3 + 1 * 5 + 0.25 * 1) / (5 + 1 + 0.25) = 20.25 / 6.25
    assert (trust.rating_count, trust.score) == (2, Decimal("3.24"))


def test_the_prior_leaves_out_the_members_own_reviews_and_new_accounts(community, member):
    old_a, old_b = established(community), established(community)
    ReviewFactory(exchange=ExchangeFactory(community=community, provider=old_a, receiver=old_b), rating=2)
    fresh = newcomer(community)
    ReviewFactory(exchange=ExchangeFactory(community=community, provider=fresh, receiver=old_a), rating=5)
    ReviewFactory(exchange=ExchangeFactory(community=community, provider=old_a, receiver=member), rating=5)
    ReviewFactory(exchange=ExchangeFactory(community=community, provider=member, receiver=old_b), rating=5)

    assert services.community_prior(user=member) == Decimal(2)


def test_the_trust_standing_costs_three_queries_whatever_the_number_of_counterparts(
    community, member, django_assert_num_queries
):
    TrustScore.objects.create(user=member, score=Decimal("4.20"), rating_count=3)
    for _ in range(3):
        ExchangeFactory(community=community, provider=established(community), receiver=member)
        SessionFactory(community=community, teacher=member, learner=newcomer(community))

    # 1. the stored score; 2. the member's counterparts (a UNION over the exchange
    # types); 3. those counterparts' own counterparts, old accounts only.
    with django_assert_num_queries(3):
        standing = selectors.trust_standing(user=member)

    assert standing == selectors.TrustStanding(score=Decimal("4.20"), counterparts=3)


def test_a_member_without_counted_reviews_has_no_score(community, member):
    assert selectors.trust_standing(user=member) == selectors.TrustStanding(score=None, counterparts=0)


def test_a_newcomers_review_counts_fully_once_they_are_established(community, member):
    fresh = newcomer(community, "Fresh")
    ReviewFactory(exchange=ExchangeFactory(community=community, provider=fresh, receiver=member), rating=5)
    assert services.trust_recompute(user=member).score == Decimal("3.10")  # (15 + 0.25 * 5) / 5.25
    for _ in range(2):  # two more people: three counterparts in all
        ExchangeFactory(community=community, provider=fresh, receiver=UserFactory())
    later = timezone.now() + timedelta(days=selectors.ESTABLISHED_ACCOUNT_DAYS + 1)

    with time_machine.travel(later):
        assert services.trust_refresh_stale() == 1
        assert services.trust_refresh_stale() == 0  # refreshed: not stale any more

    assert TrustScore.objects.get(user=member).score == Decimal("3.33")  # (15 + 1 * 5) / 6


def test_the_trust_refresh_is_scheduled_hourly_by_the_migrations():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from apps.reputation import tasks

    task = PeriodicTask.objects.get(task="apps.reputation.tasks.trust_refresh_stale")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, IntervalSchedule.HOURS)
    assert tasks.trust_refresh_stale.name == task.task
