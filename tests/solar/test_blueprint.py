"""The Micro Solar Exchange as the front door, the dashboard and the profile see it: its
live figure, what waits for a member, their coming quarter hours, the market's news,
their record; and a community that stopped using the exchange takes no new meters or
orders, while what already traded there still settles.

Times are taken from the real clock (the figure counts "this month"); the services are
given ``now`` so a slot can be placed, cleared and settled in the past.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.peers.exchanges import exchange_start, exchange_stop
from apps.peers.factories import MembershipFactory
from apps.peers.models import CommunityExchange
from apps.solar import services
from apps.solar.blueprint import BLUEPRINT, DEFAULT_RULES, month_bounds
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import Meter, MeterReading, Order, Slot, StandingOrder, Trade
from apps.solar.services import Row
from p2pcommons.errors import RuleViolation
from tests.querycount import assert_queries_do_not_grow, count_queries

QUARTER = timedelta(minutes=15)


def quarter_before(moment: datetime, quarters: int) -> datetime:
    """The start of the quarter hour ``quarters`` before the one ``moment`` is in (UTC)."""
    base = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return base.replace(minute=base.minute - base.minute % 15) - QUARTER * quarters


def place(meter: Meter, side: str, wh: int, price: str, start: datetime, now: datetime | None = None) -> Order:
    return services.order_place(
        member=meter.owner,
        meter=meter,
        slot_start=start,
        side=side,
        quantity_wh=wh,
        limit_price=Decimal(price),
        now=now or start - timedelta(hours=1),
    )


def cleared(seller: Meter, buyer: Meter, start: datetime, *, sell: int = 600, buy: int = 400) -> Slot:
    """One seller and one buyer trade ``min(sell, buy)`` Wh in the slot at 0.25."""
    place(seller, "sell", sell, "0.20", start)
    place(buyer, "buy", buy, "0.30", start, now=start - timedelta(minutes=59))
    slot = Slot.objects.get(community_id=seller.community_id, start=start)
    assert services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at) is True
    slot.refresh_from_db()
    return slot


def read(meter: Meter, start: datetime, *, imported: int = 0, exported: int = 0) -> None:
    services.readings_record(
        meter=meter, rows=[Row(start, imported, exported)], source=MeterReading.Source.FORM, actor=meter.owner,
        now=start + timedelta(minutes=20),
    )  # fmt: skip


def settled(seller: Meter, buyer: Meter, start: datetime, *, sold: int, exported: int) -> Slot:
    slot = cleared(seller, buyer, start, sell=sold, buy=sold)
    read(seller, start, exported=exported)
    read(buyer, start, imported=sold)
    assert services.slot_settle(slot_id=slot.pk, now=start + timedelta(minutes=20)) is True
    return slot


@pytest.fixture
def elsewhere(other_community) -> tuple[Meter, Meter]:
    """A seller and a buyer in Riverside, where none of the personas is a member."""
    seller = MeterFactory(community=other_community, kind=Meter.Kind.PRODUCER, name="Riverside roof")
    buyer = MeterFactory(community=other_community, kind=Meter.Kind.CONSUMER, name="Riverside flat")
    return seller, buyer


# --- the figure ------------------------------------------------------------------------
def test_the_figure_is_the_kwh_traded_in_slots_of_this_month_in_communities_using_the_exchange(
    community, organizer, panels, home, other_community, elsewhere
):
    first, _ = month_bounds()
    cleared(panels, home, first + timedelta(hours=2), sell=1000, buy=1000)
    cleared(panels, home, first + timedelta(hours=3), sell=300, buy=500)
    cleared(panels, home, first - timedelta(hours=2), sell=900, buy=900)  # last month
    cleared(*elsewhere, first + timedelta(hours=2), sell=800, buy=800)
    stopper = MembershipFactory(community=other_community, role="organizer").user
    exchange_stop(community=other_community, key="solar", actor=stopper)

    shown = BLUEPRINT.figure()

    assert (shown.value, shown.label) == ("1.3", "kWh traded this month")  # 1,300 Wh


def test_the_figure_groups_thousands_and_drops_a_zero_decimal(panels, home, monkeypatch):
    first, _ = month_bounds()
    cleared(panels, home, first + timedelta(hours=1), sell=1000, buy=1000)
    from apps.solar import selectors

    monkeypatch.setattr(selectors, "traded_wh", lambda **kwargs: 1_204_000)
    assert BLUEPRINT.figure().value == "1,204"


def test_the_month_runs_from_local_midnight_on_the_first():
    first, following = month_bounds(datetime(2026, 3, 31, 23, 30, tzinfo=UTC))  # 1 April, 01:30 in Amsterdam
    assert timezone.localtime(first).isoformat() == "2026-04-01T00:00:00+02:00"
    assert timezone.localtime(following).isoformat() == "2026-05-01T00:00:00+02:00"


def test_the_cached_figure_changes_when_a_slot_clears_though_its_trades_are_written_in_bulk(
    panels, home, django_capture_on_commit_callbacks
):
    from apps.front.figures import figures

    assert set(BLUEPRINT.figure_models) >= {Trade, Slot, CommunityExchange}
    start = month_bounds()[0] + timedelta(hours=1)
    place(panels, "sell", 500, "0.20", start)
    place(home, "buy", 500, "0.30", start)
    assert figures()["solar"].value == "0"
    slot = Slot.objects.get(start=start)
    with django_capture_on_commit_callbacks(execute=True):
        services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)
    assert figures()["solar"].value == "0.5"


# --- actions ---------------------------------------------------------------------------
def test_actions_list_my_hand_placed_orders_whose_gate_closes_within_two_hours(producer, buyer, panels, home):
    now = timezone.now()
    soon = next_slot_start(now, ahead=3)
    later = next_slot_start(now, ahead=20)
    mine = place(home, "buy", 400, "0.30", soon, now=now)
    place(home, "buy", 200, "0.30", later, now=now)  # closes in about five hours
    place(panels, "sell", 300, "0.20", soon, now=now)  # the producer's, not the buyer's
    cancelled = place(home, "buy", 100, "0.30", soon, now=now)
    services.order_cancel(order=cancelled, actor=buyer, now=now)
    StandingOrder.objects.create(
        member=buyer, meter=home, side="buy", quantity_wh=100, limit_price=Decimal("0.3"), from_time=time(0),
        until_time=time(23, 45),
    )  # fmt: skip
    services.standing_generate(now=now, horizon=timedelta(hours=1))  # placed by itself: nothing to do

    items = BLUEPRINT.actions(user=buyer, now=now)

    local = timezone.localtime
    assert [i.text for i in items] == [
        f"Your buy order of 0.4 kWh for {local(soon):%H:%M} closes at {local(soon - timedelta(minutes=5)):%H:%M}"
    ]
    assert items[0].url == reverse("solar:order-change", args=[mine.pk])
    assert (items[0].kind, items[0].verb, items[0].when) == ("solar", "Change or cancel", soon - timedelta(minutes=5))
    assert [i.text[:20] for i in BLUEPRINT.actions(user=producer, now=now)] == ["Your sell order of 0"]


def test_actions_ask_for_the_reading_a_traded_quarter_hour_still_waits_for(producer, buyer, panels, home):
    now = timezone.now()
    start = quarter_before(now, 4)  # ended 45 to 60 minutes ago
    slot = cleared(panels, home, start)
    read(panels, start, exported=600)

    items = BLUEPRINT.actions(user=buyer, now=now)

    local = timezone.localtime
    assert [i.text for i in items] == [
        f"Flat 2 has no reading for {local(start):%H:%M}-{local(start + QUARTER):%H:%M} yet: "
        f"send it by {local(slot.settle_deadline):%H:%M} so your trade settles"
    ]
    assert (
        items[0].url == reverse("solar:meter", args=[home.pk]) + "#reading-heading"
        and items[0].verb == "Add the reading"
    )
    assert BLUEPRINT.actions(user=producer, now=now) == []  # the panels' reading is in
    assert BLUEPRINT.actions(user=buyer, now=start + QUARTER + timedelta(minutes=10)) == []  # too early to ask
    assert BLUEPRINT.actions(user=buyer, now=slot.settle_deadline + timedelta(minutes=1)) == []  # too late
    read(home, start, imported=400)
    assert BLUEPRINT.actions(user=buyer, now=now) == []


def test_actions_are_nothing_for_a_visitor_or_a_stranger(stranger, panels, home):
    from django.contrib.auth.models import AnonymousUser

    now = timezone.now()
    place(home, "buy", 400, "0.30", next_slot_start(now, ahead=2), now=now)
    assert BLUEPRINT.actions(user=AnonymousUser()) == []
    assert BLUEPRINT.actions(user=stranger, now=now) == []


def test_actions_run_a_fixed_number_of_queries(buyer, home):
    now = timezone.now()
    soon = next_slot_start(now, ahead=2)

    def add(n: int) -> None:
        for _ in range(n):
            place(home, "buy", 10, "0.30", soon, now=now)

    count = assert_queries_do_not_grow(lambda: BLUEPRINT.actions(user=buyer, now=now), add, large=12)
    assert count == 2


# --- upcoming --------------------------------------------------------------------------
def test_upcoming_lists_the_next_quarter_hours_i_have_open_orders_in_one_line_each(
    community, buyer, producer, panels, home
):
    now = timezone.now()
    first, second = next_slot_start(now, ahead=8), next_slot_start(now, ahead=2)
    place(home, "buy", 400, "0.30", first, now=now)
    place(home, "buy", 100, "0.25", first, now=now)
    place(home, "buy", 250, "0.30", second, now=now)
    place(panels, "sell", 900, "0.20", next_slot_start(now, ahead=1), now=now)  # someone else's

    items = BLUEPRINT.upcoming(user=buyer, now=now)

    local = timezone.localtime
    assert [i.when for i in items] == [second, first]
    assert items[1].text == (
        f"{local(first):%a} {local(first).day} {local(first):%b}, {local(first):%H:%M}-"
        f"{local(first + QUARTER):%H:%M} in Sunnyside Commons: Buying 0.5 kWh"
    )
    assert items[0].url == reverse("solar:slot", args=[Slot.objects.get(start=second).pk]) and items[0].kind == "solar"
    assert [i.text.rsplit(": ", 1)[1] for i in BLUEPRINT.upcoming(user=producer, now=now)] == ["Selling 0.9 kWh"]


def test_upcoming_leaves_out_cancelled_orders_and_past_quarter_hours(buyer, home, panels):
    now = timezone.now()
    gone = place(home, "buy", 400, "0.30", next_slot_start(now, ahead=2), now=now)
    services.order_cancel(order=gone, actor=buyer, now=now)
    cleared(panels, home, quarter_before(now, 8))
    assert BLUEPRINT.upcoming(user=buyer, now=now) == []


def test_upcoming_runs_one_query_whatever_the_orders(buyer, home):
    now = timezone.now()
    made = []

    def add(n: int) -> None:
        for _ in range(n):
            made.append(place(home, "buy", 10, "0.30", next_slot_start(now, ahead=len(made) + 1), now=now))

    assert assert_queries_do_not_grow(lambda: BLUEPRINT.upcoming(user=buyer, now=now), add, large=15) == 1
    assert len(BLUEPRINT.upcoming(user=buyer, now=now)) == 10


# --- activity --------------------------------------------------------------------------
def test_activity_tells_of_quarter_hours_cleared_in_my_communities_only(
    community, other_community, buyer, panels, home, elsewhere
):
    now = timezone.now()
    older = cleared(panels, home, quarter_before(now, 12), sell=900, buy=900)
    newer = cleared(panels, home, quarter_before(now, 8), sell=500, buy=800)
    place(home, "buy", 100, "0.10", quarter_before(now, 4))  # nothing to trade with: clears empty
    empty = Slot.objects.get(start=quarter_before(now, 4))
    services.slot_clear(slot_id=empty.pk, now=empty.gate_closes_at)
    cleared(*elsewhere, quarter_before(now, 6))

    items = BLUEPRINT.activity(user=buyer, community_ids=[community.pk, other_community.pk], limit=10)

    local = timezone.localtime
    start = older.start
    assert [i.url for i in items] == [reverse("solar:slot", args=[newer.pk]), reverse("solar:slot", args=[older.pk])]
    assert items[1].text == (
        f"{local(start):%H:%M}-{local(start + QUARTER):%H:%M} cleared in Sunnyside Commons: "
        "0.9 kWh at 0.25 credits per kWh"
    )
    assert items[1].when == older.cleared_at and items[1].kind == "solar"
    assert len(BLUEPRINT.activity(user=buyer, community_ids=[community.pk], limit=1)) == 1
    assert BLUEPRINT.activity(user=buyer, community_ids=[other_community.pk], limit=10) == []


def test_activity_runs_one_query_whatever_the_slots(community, buyer, panels, home):
    now = timezone.now()
    done = []

    def add(n: int) -> None:
        for _ in range(n):
            done.append(cleared(panels, home, quarter_before(now, 8 + len(done)), sell=10, buy=10))

    count = assert_queries_do_not_grow(
        lambda: BLUEPRINT.activity(user=buyer, community_ids=[community.pk], limit=20), add, large=8
    )
    assert count == 1


# --- history ---------------------------------------------------------------------------
def test_history_shows_energy_delivered_reliability_and_energy_bought(producer, buyer, member, panels, home):
    now = timezone.now()
    settled(panels, home, quarter_before(now, 20), sold=600, exported=450)
    settled(panels, home, quarter_before(now, 16), sold=200, exported=200)
    cleared(panels, home, quarter_before(now, 12))  # not settled yet: promised nothing so far

    rows = BLUEPRINT.history(subject=producer, viewer=member)

    assert [(r.label, r.value, r.url) for r in rows] == [
        ("Energy delivered", "0.65 kWh", None),
        ("Delivery reliability (30 days)", "81%", None),  # 650 of 800 Wh
        ("Energy bought", "0 kWh", None),
    ]
    bought = BLUEPRINT.history(subject=buyer, viewer=buyer)
    assert [(r.value, r.url) for r in bought] == [
        ("0 kWh", reverse("solar:trades")),
        ("—", None),
        ("0.65 kWh", reverse("solar:trades")),
    ]


def test_history_runs_one_query(producer, member, panels, home):
    count, _ = count_queries(lambda: BLUEPRINT.history(subject=producer, viewer=member))
    assert count == 1


# --- turning the exchange off ----------------------------------------------------------
def test_a_community_that_stopped_the_exchange_takes_no_new_meters_orders_or_standing_orders(
    community, organizer, producer, buyer, panels, home
):
    exchange_stop(community=community, key="solar", actor=organizer)
    now = timezone.now()
    with pytest.raises(RuleViolation) as refused:
        services.meter_register(owner=producer, community=community, name="Shed", kind="producer", peak_capacity_w=900)
    assert refused.value.code == "exchange_off"
    assert "does not use the Micro Solar Exchange" in str(refused.value)
    with pytest.raises(RuleViolation) as refused:
        place(home, "buy", 400, "0.30", next_slot_start(now, ahead=2), now=now)
    assert refused.value.code == "exchange_off"
    with pytest.raises(RuleViolation) as refused:
        services.standing_create(member=producer, meter=panels, side="sell", quantity_wh=100,
                                 limit_price=Decimal("0.2"), from_time=time(10), until_time=time(12))  # fmt: skip
    assert refused.value.code == "exchange_off"
    assert not Meter.objects.filter(name="Shed").exists() and not Order.objects.exists()


def test_what_traded_before_the_exchange_stopped_still_settles_and_open_orders_can_be_cancelled(
    community, organizer, producer, buyer, panels, home
):
    now = timezone.now()
    start = quarter_before(now, 8)
    slot = cleared(panels, home, start)
    standing = services.standing_create(
        member=producer, meter=panels, side="sell", quantity_wh=100, limit_price=Decimal("0.2"), from_time=time(0),
        until_time=time(23, 45),
    )  # fmt: skip
    pending = place(home, "buy", 100, "0.30", next_slot_start(now, ahead=3), now=now)
    exchange_stop(community=community, key="solar", actor=organizer)

    read(panels, start, exported=400)
    read(home, start, imported=400)
    assert services.slot_settle(slot_id=slot.pk, now=start + timedelta(minutes=20)) is True
    assert Trade.objects.get(slot=slot).status == Trade.Status.SETTLED
    assert services.order_cancel(order=pending, actor=buyer, now=now).status == Order.Status.CANCELLED
    assert services.standing_generate(now=now) == 0  # no new orders from the standing one
    assert not Order.objects.filter(standing=standing).exists()

    exchange_start(community=community, key="solar", actor=organizer)
    assert place(home, "buy", 100, "0.30", next_slot_start(now, ahead=3), now=now).status == Order.Status.OPEN


def test_starting_the_exchange_sets_its_rules_and_nothing_else(organizer):
    from apps.peers.factories import CommunityFactory

    quiet = CommunityFactory(slug="quiet", exchanges=[])
    MembershipFactory(community=quiet, user=organizer, role="organizer")
    row = exchange_start(community=quiet, key="solar", actor=organizer)
    again = exchange_start(community=quiet, key="solar", actor=organizer)
    assert row.pk == again.pk and row.rules == DEFAULT_RULES
    assert "no fees" in DEFAULT_RULES and "meter" in DEFAULT_RULES
    assert BLUEPRINT.search_kinds == () and BLUEPRINT.search(user=organizer, query="sun") == []


def test_delivery_reliability_counts_the_last_30_days_and_delivered_energy_all_time(producer, member, panels, home):
    now = timezone.now()
    settled(panels, home, quarter_before(now, 31 * 96), sold=400, exported=0)  # a month ago: nothing delivered
    settled(panels, home, quarter_before(now, 16), sold=200, exported=200)

    rows = {r.label: r.value for r in BLUEPRINT.history(subject=producer, viewer=member)}

    assert rows["Delivery reliability (30 days)"] == "100%"
    assert rows["Energy delivered"] == "0.2 kWh"
