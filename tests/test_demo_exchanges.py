"""seed_demo's exchanges: tool sharing (a catalog with photos, loans in every state,
reviews and waitlists) and the skill swap (offers, requests, matches, sessions in every
state), and nothing added by a second run.

The demo is seeded once for the whole module (each run takes seconds), inside a
transaction that is rolled back when the module is done; each test then runs in a
savepoint of it, as usual.
"""

from __future__ import annotations

import io
from collections import defaultdict
from itertools import pairwise

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.ledger.chain import verify_community
from apps.peers.models import Community
from apps.reputation.models import Review, TrustScore
from apps.skills.models import Match, Offer, Request, Seat, Session
from apps.tools.demo import CATEGORIES
from apps.tools.models import Category, ConditionReport, Reservation, ReservationEvent, Tool, ToolPhoto, WaitlistEntry

pytestmark = pytest.mark.django_db
S = Reservation.Status


def _counts() -> dict[str, int]:
    return {
        "categories": Category.objects.count(),
        "tools": Tool.objects.count(),
        "photos": ToolPhoto.objects.count(),
        "reservations": Reservation.objects.count(),
        "events": ReservationEvent.objects.count(),
        "reviews": Review.objects.count(),
        "reports": ConditionReport.objects.count(),
        "waitlist": WaitlistEntry.objects.count(),
        "offers": Offer.objects.count(),
        "requests": Request.objects.count(),
        "matches": Match.objects.count(),
        "sessions": Session.objects.count(),
        "seats": Seat.objects.count(),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Run seed_demo twice; yield (counts after the first run, after the second, the
    second run's output)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        first = _counts()
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield first, _counts(), out.getvalue()
        transaction.set_rollback(True)


def test_it_lists_about_60_tools_across_both_communities_in_the_managed_categories(seeded):
    assert 50 <= Tool.objects.count() <= 70
    per_community = dict(Tool.objects.values_list("community__slug").annotate(n=Count("id")))
    assert per_community == {"sunnyside": 30, "riverside": 30}
    assert sorted(Category.objects.values_list("slug", "name")) == sorted((slug, name) for slug, name, _ in CATEGORIES)
    statuses = set(Tool.objects.values_list("status", flat=True))
    assert statuses == {Tool.Status.ACTIVE, Tool.Status.PAUSED, Tool.Status.RETIRED}
    assert Tool.objects.exclude(fee_per_day=None).exists() and Tool.objects.filter(fee_per_day=None).exists()
    assert Tool.objects.filter(auto_approve=True).exists()


def test_every_tool_has_a_photo_with_a_thumbnail_in_storage(seeded):
    assert not Tool.objects.filter(photos=None).exists()
    photos = list(ToolPhoto.objects.all())
    assert len(photos) >= Tool.objects.count()
    for photo in photos:
        assert photo.thumbnail.storage.exists(photo.thumbnail.name)
        assert photo.image.storage.exists(photo.image.name)


def test_loans_are_in_every_state_and_one_is_overdue(seeded):
    assert set(Reservation.objects.values_list("status", flat=True)) == set(S.values)
    overdue = Reservation.objects.filter(status=S.PICKED_UP, ends_at__lt=timezone.now())
    assert overdue.exists()
    assert all(r.is_overdue for r in overdue)
    returned = Reservation.objects.filter(status=S.RETURNED)
    assert all(r.picked_up_at < r.returned_at < timezone.now() for r in returned)


def test_no_two_live_loans_of_a_tool_overlap(seeded):
    windows = defaultdict(list)
    for tool_id, start, blocked_until in Reservation.objects.filter(status__in=Reservation.LIVE).values_list(
        "tool_id", "starts_at", "blocked_until"
    ):
        windows[tool_id].append((start, blocked_until))
    for spans in windows.values():
        spans.sort()
        assert all(earlier[1] <= later[0] for earlier, later in pairwise(spans))


def test_returned_loans_have_revealed_reviews_and_trust_scores(seeded):
    reservation_type = ContentType.objects.get_for_model(Reservation)
    revealed = (
        Review.objects.filter(content_type=reservation_type, revealed_at__isnull=False)
        .values("object_id")
        .annotate(n=Count("id"))
        .filter(n=2)
    )
    returned = set(Reservation.objects.filter(status=S.RETURNED).values_list("pk", flat=True))
    assert {row["object_id"] for row in revealed} & returned
    assert Review.objects.filter(revealed_at=None).exists()  # one side reviewed: still hidden
    assert TrustScore.objects.exclude(score=None).exists()
    assert ReservationEvent.objects.filter(note__startswith="Approved automatically").exists()


def test_neighbors_wait_for_taken_windows_and_a_cancellation_offers_one(seeded):
    assert WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING).exists()
    offered = list(WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED))
    assert offered
    for entry in offered:
        assert entry.offer_expires_at > timezone.now()
        assert entry.tool.reservations.filter(status=S.CANCELLED, starts_at=entry.starts_at).exists()
    assert ConditionReport.objects.filter(stage=ConditionReport.Stage.PICKUP).exists()
    assert ConditionReport.objects.filter(stage=ConditionReport.Stage.RETURN).exists()


def test_a_second_run_adds_nothing(seeded):
    first, second, out = seeded
    assert second == first
    assert "  0 new tools with 0 photos (0 new categories), 0 reservations" in out
    assert "  0 offers, 0 requests, 0 sessions" in out


def test_the_skill_swap_has_offers_requests_and_their_matches_with_reasons(seeded):
    assert Offer.objects.filter(status="open").count() >= 8 and Request.objects.filter(status="open").count() >= 6
    assert Match.objects.exists()
    assert all(match.reasons for match in Match.objects.all())
    assert any("same skill" in m.reasons for m in Match.objects.all())


def test_sessions_are_in_every_state_and_hours_moved_through_the_ledger(seeded):
    assert set(Session.objects.values_list("status", flat=True)) == set(Session.Status.values)
    assert set(Seat.objects.values_list("status", flat=True)) == set(Seat.Status.values)
    assert Session.objects.filter(capacity__gt=1).exists()
    completed = Seat.objects.filter(status="completed")
    assert completed.exists() and all(seat.transfer and seat.transfer.amount == seat.hours for seat in completed)
    seat_type = ContentType.objects.get_for_model(Seat)
    assert Review.objects.filter(content_type=seat_type, revealed_at__isnull=False).exists()
    for community in Community.objects.all():
        assert verify_community(community=community).ok
