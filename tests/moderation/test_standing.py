"""Only reports from members in good standing hide content; an automatically hidden review
keeps counting in its subject's trust score until an organizer decides; a member's
reports are capped per day."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.moderation import selectors, services
from apps.moderation.models import Flag, ModerationAction
from apps.peers.factories import MembershipFactory
from apps.reputation.factories import ReviewFactory
from apps.reputation.models import Review, TrustScore
from apps.reputation.services import trust_recompute
from p2pcommons.errors import RuleViolation
from tests.exchanges.factories import ExchangeFactory

pytestmark = pytest.mark.django_db


def hidden(review: Review) -> bool:
    review.refresh_from_db()
    return review.is_hidden


# --- who counts -----------------------------------------------------------------------
def test_three_throwaway_accounts_cannot_hide_a_review(report, newcomers, review):
    for newcomer in newcomers:
        report(newcomer, review)

    assert not hidden(review)
    assert not ModerationAction.objects.exists()


def test_reports_from_newcomers_are_kept_and_shown_to_organizers(report, newcomers, organizer, review):
    flags = [report(newcomer, review) for newcomer in newcomers]

    shown = selectors.flags_visible_to(user=organizer)
    assert set(shown.values_list("pk", flat=True)) == {flag.pk for flag in flags}
    assert not any(flag.counts for flag in flags)


def test_an_old_membership_without_a_completed_exchange_does_not_count(report, community, review):
    idle = [
        MembershipFactory(community=community, joined_at=timezone.now() - timedelta(days=90)).user for _ in range(3)
    ]
    for member in idle:
        report(member, review)

    assert not hidden(review)


def test_a_recent_membership_with_an_exchange_does_not_count(report, community, review):
    for _ in range(3):
        trader = MembershipFactory(community=community, joined_at=timezone.now() - timedelta(days=6)).user
        ExchangeFactory(community=community, provider=trader, receiver=MembershipFactory(community=community).user)
        report(trader, review)

    assert not hidden(review)


def test_an_exchange_in_another_community_gives_no_standing_here(report, community, other_community, review):
    for _ in range(3):
        outsider = MembershipFactory(community=community, joined_at=timezone.now() - timedelta(days=30)).user
        ExchangeFactory(community=other_community, provider=outsider, receiver=MembershipFactory().user)
        report(outsider, review)

    assert not hidden(review)


def test_members_in_good_standing_hide_a_review_at_the_threshold(report, neighbors, newcomers, review):
    report(newcomers[0], review)
    report(neighbors[0], review)
    report(neighbors[1], review)
    assert not hidden(review)  # two that count, one that doesn't

    report(neighbors[2], review)

    assert hidden(review)


def test_a_community_sets_what_standing_means(report, community, newcomers, review):
    community.flag_min_member_days = 0
    community.flag_min_exchanges = 0
    community.save()

    for newcomer in newcomers:
        report(newcomer, review)

    assert hidden(review)


def test_the_audit_log_says_why_a_review_was_hidden_automatically(report, neighbors, review):
    for neighbor in neighbors:
        report(neighbor, review)

    entry = ModerationAction.objects.get()
    assert entry.action == "auto_hide" and entry.actor is None
    assert entry.reason.startswith("Hidden automatically: 3 reports from members in good standing")


# --- trust while hidden ---------------------------------------------------------------
def test_an_automatically_hidden_review_keeps_counting_in_the_trust_score(report, neighbors, owner, review):
    before = trust_recompute(user=owner)
    for neighbor in neighbors:
        report(neighbor, review)

    assert hidden(review)
    after = trust_recompute(user=owner)
    assert (after.rating_count, after.score) == (1, before.score)


def test_an_upheld_report_stops_an_automatically_hidden_review_counting(report, neighbors, organizer, owner, review):
    flags = [report(neighbor, review) for neighbor in neighbors]

    services.flag_uphold(flag=flags[0], actor=organizer, reason="Personal attack")

    assert hidden(review)
    assert trust_recompute(user=owner).rating_count == 0
    actions = list(ModerationAction.objects.order_by("pk").values_list("action", "actor"))
    assert actions == [("auto_hide", None), ("uphold", organizer.pk), ("hide", organizer.pk)]


def test_an_organizer_confirms_an_automatic_hide_by_hiding_it(report, neighbors, organizer, owner, review):
    for neighbor in neighbors:
        report(neighbor, review)

    services.content_hide(target=review, actor=organizer, reason="Agreed with the neighbors")

    assert hidden(review)
    assert trust_recompute(user=owner).rating_count == 0
    assert set(Flag.objects.values_list("status", flat=True)) == {"upheld"}


def test_dismissing_the_reports_shows_an_automatically_hidden_review_again(
    report, neighbors, organizer, owner, stranger, review
):
    flags = [report(neighbor, review) for neighbor in neighbors]

    services.flag_dismiss(flag=flags[0], actor=organizer, reason="Harsh but fair")

    assert not hidden(review)
    assert Review.objects.visible_to(stranger).filter(pk=review.pk).exists()
    assert trust_recompute(user=owner).rating_count == 1
    restore = ModerationAction.objects.get(action="restore")
    assert (restore.actor, restore.reason) == (organizer, "Harsh but fair")


def test_dismissing_a_report_that_did_not_count_leaves_the_review_hidden(
    report, neighbors, newcomers, organizer, review
):
    newcomer_flag = report(newcomers[0], review)
    for neighbor in neighbors:
        report(neighbor, review)

    services.flag_dismiss(flag=newcomer_flag, actor=organizer, reason="Not a real complaint")

    assert hidden(review)  # three members in good standing still report it


def test_a_restored_review_counts_again(report, neighbors, organizer, owner, review):
    flags = [report(neighbor, review) for neighbor in neighbors]
    services.flag_uphold(flag=flags[0], actor=organizer, reason="Agreed")
    assert trust_recompute(user=owner).rating_count == 0

    services.content_restore(target=review, actor=organizer, reason="On second thought, fair")

    assert not hidden(review)
    assert trust_recompute(user=owner).rating_count == 1


def test_trust_recomputes_are_enqueued_when_an_organizer_upholds(
    report, neighbors, organizer, owner, review, django_capture_on_commit_callbacks
):
    flags = [report(neighbor, review) for neighbor in neighbors]
    trust_recompute(user=owner)

    with django_capture_on_commit_callbacks(execute=True):
        services.flag_uphold(flag=flags[0], actor=organizer, reason="Agreed")

    assert TrustScore.objects.get(user=owner).rating_count == 0


# --- the daily cap ---------------------------------------------------------------------
def test_a_member_sends_at_most_twenty_reports_a_day_in_a_community(report, community, owner, member):
    reviews = [
        ReviewFactory(exchange=ExchangeFactory(community=community, provider=member, receiver=owner), author=member)
        for _ in range(services.REPORTS_PER_DAY + 1)
    ]
    for each in reviews[:-1]:
        report(owner, each)

    with pytest.raises(RuleViolation, match="20 reports in Sunnyside Commons in the last 24 hours"):
        report(owner, reviews[-1])
    assert Flag.objects.filter(reporter=owner).count() == services.REPORTS_PER_DAY

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        report(owner, reviews[-1])
    assert Flag.objects.filter(reporter=owner).count() == services.REPORTS_PER_DAY + 1


def test_the_queue_shows_how_many_reports_come_from_members_in_good_standing(
    web_as, report, neighbors, newcomers, organizer, review
):
    from django.urls import reverse

    from apps.moderation.selectors import moderation_queue

    report(newcomers[0], review)
    report(newcomers[1], review)
    report(neighbors[0], review)

    row = moderation_queue().get()
    assert (row.open_count, row.counting_count) == (3, 1)
    html = web_as(organizer).get(reverse("admin:moderation_moderationqueueitem_changelist")).content.decode()
    assert "from members in good standing" in html.lower()
