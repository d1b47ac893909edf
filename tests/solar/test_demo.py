"""The solar market's demo: a day of cleared and settled slots from modelled meters,
open orders for the next slots, a ledger that verifies, and nothing added by a second run.

Seeded once for the module, like the other demo tests, inside a transaction rolled back
at the end; only the solar demo runs, on the demo's people (seed_demo's own profiles),
not the whole seed_demo (its tool photos take most of its time).
"""

from __future__ import annotations

import io
import random
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from apps.ledger.chain import verify_community
from apps.ledger.models import Account, Currency, Transfer
from apps.notifications.models import Notification
from apps.peers import demo_people
from apps.peers.factories import CommunityFactory, MembershipFactory, UserFactory
from apps.peers.models import Community
from apps.solar import demo, selectors
from apps.solar.models import Meter, MeterReading, Order, Slot, SlotEvent, StandingOrder, Trade, TradingDay

pytestmark = pytest.mark.django_db
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _neighborhood() -> list[Community]:
    """Two communities of demo people, as seed_demo makes them (the first with 16
    neighbors, the second with 8, none of them in both)."""
    sunnyside = CommunityFactory(
        slug="sunnyside", name="Sunnyside Commons", center_latitude="52.36000", center_longitude="4.90000"
    )
    riverside = CommunityFactory(
        slug="riverside", name="Riverside Neighbors", center_latitude="52.37500", center_longitude="4.88000"
    )
    for i in range(1, 25):
        profile = {f"profile__{k}": v for k, v in demo_people.neighbor(i, in_both=False).items()}
        user = UserFactory(email=f"neighbor{i:02d}@example.org", **profile)
        MembershipFactory(user=user, community=sunnyside if i <= 16 else riverside)
    return [sunnyside, riverside]


def _counts() -> dict[str, int]:
    models = (Meter, MeterReading, StandingOrder, Order, Slot, SlotEvent, Trade, TradingDay, Transfer, Notification)
    return {model.__name__: model.objects.count() for model in models}


def _seed(communities, log) -> float:
    began = time.perf_counter()
    demo.seed(communities=communities, rng=random.Random("p2pcommons-demo"), log=log)
    return time.perf_counter() - began


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed twice; yield (communities, counts after the first run and after the second,
    the logs of both, the seconds the first took)."""
    with django_db_blocker.unblock(), transaction.atomic():
        communities = _neighborhood()
        first_log, second_log = io.StringIO(), io.StringIO()
        seconds = _seed(communities, lambda line: first_log.write(line + "\n"))
        first = _counts()
        _seed(communities, lambda line: second_log.write(line + "\n"))
        yield communities, first, _counts(), first_log.getvalue(), second_log.getvalue(), seconds
        transaction.set_rollback(True)


def test_the_last_24_hours_have_cleared_and_settled_slots_with_trades_and_payments(seeded):
    communities, *_ = seeded
    now = timezone.now()
    recent = selectors.recent_slots(community_ids=[c.pk for c in communities], now=now)  # the market page's chart
    settled = [s for s in recent if s.status == Slot.Status.SETTLED]
    assert len(settled) >= 20
    assert {s.community_id for s in settled} == {c.pk for c in communities}
    traded = [s for s in settled if s.volume_wh]
    assert len(traded) >= 10
    assert all(s.clearing_price is not None and s.settled_at <= now for s in traded)
    paid = Trade.objects.filter(slot__in=traded, status=Trade.Status.SETTLED, amount__gt=0)
    assert paid.count() >= 10
    assert all(t.transfer.amount == t.amount for t in paid.select_related("transfer"))
    assert all(t.transfer.idempotency_key == f"solar-trade-{t.pk}" for t in paid.select_related("transfer"))
    # Every settled slot was settled after it ended and cleared after its gate closed.
    for slot in settled:
        assert slot.gate_closes_at <= slot.cleared_at < slot.end <= slot.settled_at <= now
    # Each slot's timeline says so, at those times.
    event = SlotEvent.objects.get(slot=traded[0], target=Slot.Status.SETTLED)
    assert event.created_at == traded[0].settled_at
    assert TradingDay.objects.filter(delivered_wh__gt=0).exists()


def test_the_ledger_of_each_community_verifies(seeded):
    communities, *_ = seeded
    for community in communities:
        assert verify_community(community=community).ok


def test_a_second_seed_adds_nothing(seeded):
    _, first, second, _, second_log, _ = seeded
    assert first == second
    assert first["Meter"] == 13 and first["StandingOrder"] > 0 and first["Trade"] > 0
    assert "nothing new" in second_log


def test_producers_export_most_around_midday(seeded):
    """Yesterday (a whole day) on the meters that see the panels alone: the most
    energy in the quarter hours between 11:00 and 15:00 local time, nothing at night."""
    yesterday = timezone.localdate() - timedelta(days=1)
    per_hour: dict[int, int] = defaultdict(int)
    readings = MeterReading.objects.filter(meter__kind=Meter.Kind.PRODUCER)
    for start, exported in readings.values_list("interval_start", "exported_wh"):
        local = start.astimezone(AMSTERDAM)
        if local.date() == yesterday:
            per_hour[local.hour] += exported
    assert max(per_hour, key=per_hour.get) in range(11, 15)
    assert per_hour[2] == 0 and per_hour[23] == 0
    assert all(r.source == MeterReading.Source.DEMO for r in MeterReading.objects.all()[:50])


def test_the_next_slots_have_open_orders_for_the_order_book(seeded):
    now = timezone.now()
    upcoming = Order.objects.filter(status=Order.Status.OPEN, slot__start__gt=now + timedelta(minutes=5))
    assert upcoming.exists()
    assert upcoming.filter(side=Order.Side.BUY).exists()


def test_the_neighbors_spend_a_small_part_of_their_credit(seeded):
    *_, first_log, _, _ = seeded
    assert "(0 refused)" in first_log
    traders = Meter.objects.values_list("owner", flat=True)
    accounts = Account.objects.filter(owner__in=traders, currency=Currency.CREDIT)
    assert accounts.exists()
    assert all(a.balance > Decimal("-10") and a.balance > a.limit for a in accounts)


def test_market_notifications_of_past_slots_are_read_and_none_is_dated_in_the_future(seeded):
    market = Notification.objects.filter(kind__in=["solar.cleared", "solar.settled"])
    old = market.filter(created_at__lt=timezone.now() - timedelta(hours=2, minutes=1))
    assert old.exists() and not old.filter(read_at=None).exists()
    assert not market.filter(created_at__gt=timezone.now()).exists()
