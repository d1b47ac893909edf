"""`manage.py seed_scale` (bench/scale.py): the benchmarks' data is what the brief says
and keeps every rule the services keep, at a tiny scale (seconds, on SQLite and
PostgreSQL alike)."""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F

from apps.codesign.models import Ballot, Challenge, Idea, PlusOne
from apps.ledger.chain import verify_community
from apps.ledger.models import Account, Entry
from apps.peers.blueprints import blueprint_keys
from apps.peers.models import Community, CommunityExchange, Membership, User
from apps.reputation.models import Review, TrustScore
from apps.reputation.services import trust_recompute
from apps.skills.models import Offer, Request
from apps.solar import clearing
from apps.solar.models import Order, Slot, Trade
from apps.tools.models import Reservation, Tool
from bench import personas
from bench.scale import BASE, seed

SCALE = 0.002
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _seed() -> dict[str, int]:
    return seed(scale=SCALE, seed=7, now=NOW, progress=lambda _line: None)


def _digest() -> str:
    """What was seeded, by natural keys (ids differ between two databases' sequences)."""
    h = hashlib.sha256()
    for row in User.objects.order_by("email").values_list("email", "profile__display_name", "profile__approx_latitude"):
        h.update(repr(row).encode())
    rows = Tool.objects.order_by("community__slug", "created_at", "title")
    for row in rows.values_list("community__slug", "owner__email", "title", "status", "fee_per_day", "created_at"):
        h.update(repr(row).encode())
    rows = Reservation.objects.order_by("tool__created_at", "starts_at")
    for row in rows.values_list("tool__owner__email", "borrower__email", "starts_at", "ends_at", "status"):
        h.update(repr(row).encode())
    rows = Entry.objects.order_by("community__slug", "seq")
    for row in rows.values_list("community__slug", "seq", "account__owner__email", "amount", "balance_after"):
        h.update(repr(row).encode())
    for row in Trade.objects.order_by("slot__community__slug", "slot__start", "seq").values_list(
        "quantity_wh", "price"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def test_the_same_seed_scale_and_hour_give_the_same_rows(db):
    digests = []
    for _ in range(2):
        with transaction.atomic():
            _seed()
            digests.append(_digest())
            transaction.set_rollback(True)
    assert digests[0] == digests[1]
    assert Tool.objects.count() == 0  # both runs were rolled back


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the class; check the deferred foreign keys (the test's transaction
    never commits, so a dangling id would otherwise go unseen), roll back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        counts = _seed()
        connection.check_constraints()
        yield counts
        transaction.set_rollback(True)


@pytest.mark.usefixtures("seeded")
class TestScaleData:
    def test_every_kind_of_listing_is_split_two_eighteen_and_eighty_percent_over_the_communities(self, db):
        assert Tool.objects.count() == round(BASE["tools"] * SCALE)
        assert Reservation.objects.count() == round(BASE["reservations"] * SCALE)
        assert Offer.objects.count() == round(BASE["offers"] * SCALE)
        assert Request.objects.count() == round(BASE["requests"] * SCALE)
        per = dict(Tool.objects.values_list("community__slug").annotate(n=Count("id")))
        total = round(BASE["tools"] * SCALE)
        assert per["scale-01"] == round(total * 0.02)
        assert per["scale-02"] == round(total * 0.18)
        assert sum(per.values()) == total and len(per) == personas.COMMUNITIES
        assert abs(Entry.objects.count() - BASE["ledger_entries"] * SCALE) <= 2 * personas.COMMUNITIES
        assert Challenge.objects.values("phase").distinct().count() == 5

    def test_the_personas_are_members_of_exactly_their_communities_and_the_organizer_organizes_all(self, db):
        for _label, email, numbers, _share in personas.GROWTH:
            slugs = set(
                Membership.objects.filter(user__email=email, status="active").values_list("community__slug", flat=True)
            )
            assert slugs == {personas.COMMUNITY_SLUG.format(n) for n in numbers}
        organizing = Membership.objects.filter(user__email=personas.ORGANIZER, role="organizer")
        assert organizing.count() == personas.COMMUNITIES

    def test_every_community_uses_all_four_exchanges(self, db):
        for community in Community.objects.filter(slug__startswith="scale-"):
            keys = set(
                CommunityExchange.objects.filter(community=community, stopped_at=None).values_list("key", flat=True)
            )
            assert keys == set(blueprint_keys())

    def test_everyone_logs_in_with_the_one_password_hashed_once(self, db):
        assert User.objects.values("password").distinct().count() == 1
        user = User.objects.get(email=personas.LARGE)
        assert check_password(personas.PASSWORD, user.password)
        assert not check_password("not-the-password", user.password)
        assert User.objects.filter(profile__approx_latitude__isnull=False).count() == User.objects.count()

    def test_every_ledger_verifies_and_sums_to_zero_per_currency_within_limits(self, db):
        for community in Community.objects.filter(slug__startswith="scale-"):
            report = verify_community(community=community)
            assert report.ok, (community.slug, report)
            assert report.checked > 0
            for currency in ("HOUR", "CREDIT"):  # summed in Python: SQLite sums decimals as floats
                balances = Account.objects.filter(community=community, currency=currency).values_list(
                    "balance", flat=True
                )
                assert sum(balances, Decimal("0")) == 0
        assert not Account.objects.filter(balance__lt=F("limit")).exists()

    def test_live_loans_of_a_tool_never_overlap(self, db):
        windows = defaultdict(list)
        for tool, start, blocked in Reservation.objects.filter(status__in=Reservation.LIVE).values_list(
            "tool_id", "starts_at", "blocked_until"
        ):
            windows[tool].append((start, blocked))
        assert windows  # some loans are live: requested or approved ahead, picked up now
        for spans in windows.values():
            spans.sort()
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))

    def test_cleared_solar_slots_hold_what_the_clearing_rule_gives_for_their_orders(self, db):
        cleared = Slot.objects.filter(status="cleared").order_by("start")
        assert cleared.exists() and Slot.objects.filter(status="open", start__gt=NOW).exists()
        traded = 0
        for slot in cleared:
            orders = list(Order.objects.filter(slot=slot))
            book = [clearing.Order(o.pk, o.quantity_wh, o.limit_price, (o.priority_at, o.pk)) for o in orders]
            result = clearing.clear(
                [b for b, o in zip(book, orders, strict=True) if o.side == "buy"],
                [b for b, o in zip(book, orders, strict=True) if o.side == "sell"],
            )
            trades = list(
                Trade.objects.filter(slot=slot)
                .order_by("seq")
                .values_list("buy_order_id", "sell_order_id", "quantity_wh")
            )
            assert trades == [(t.buy, t.sell, t.quantity_wh) for t in result.trades]
            assert (slot.clearing_price, slot.volume_wh) == (result.price, result.volume_wh)
            filled = defaultdict(int)
            for buy, sell, quantity in trades:
                filled[buy] += quantity
                filled[sell] += quantity
            assert all(o.filled_wh == filled[o.pk] for o in orders)
            traded += bool(trades)
        assert traded > 0

    def test_idea_plus_ones_and_ballots_match_their_rows(self, db):
        counted = dict(PlusOne.objects.values_list("idea_id").annotate(n=Count("id")))
        assert all(idea.plus_ones == counted.get(idea.pk, 0) for idea in Idea.objects.all())
        for ballot in Ballot.objects.select_related("challenge").prefetch_related("entries"):
            dots = [entry.dots for entry in ballot.entries.all()]
            assert sum(dots) <= ballot.challenge.dots
            assert max(dots) <= ballot.challenge.max_dots_per_proposal

    def test_trust_rows_are_what_the_reputation_app_computes_from_the_reviews(self, db):
        seeded = {t.user_id: (t.score, t.rating_count, t.tools_count) for t in TrustScore.objects.all()}
        assert len(seeded) > 10
        assert set(seeded) == set(Review.objects.values_list("subject_id", flat=True))
        for user in User.objects.filter(pk__in=seeded):
            trust = trust_recompute(user=user, now=NOW)
            assert (trust.score, trust.rating_count, trust.tools_count) == seeded[user.pk]

    def test_seeding_a_seeded_database_again_is_refused_with_a_clear_message(self, db):
        with pytest.raises(CommandError, match="already has the scale data"):
            call_command("seed_scale", scale=SCALE)
        assert Tool.objects.count() == round(BASE["tools"] * SCALE)
