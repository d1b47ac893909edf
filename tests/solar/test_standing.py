"""Standing orders: 'sell up to 200 Wh every slot from 10:00 to 12:00 at 0.20 or more'.

``standing_generate`` (the beat task's service) places one order for each upcoming slot
in the hours, read in its community's time zone (Amsterdam here, the default), whose gate is still
open, as far as six hours ahead; once per slot, whatever happened to that order since.

Times are fixed: Monday 22 June 2026, 09:50 in Amsterdam (07:50 UTC) unless said.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.solar import services
from apps.solar.models import Order, StandingOrder
from p2pcommons.errors import RuleViolation

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 6, 22, 9, 50, tzinfo=AMSTERDAM)
QUARTER = timedelta(minutes=15)


def local(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=AMSTERDAM)


def standing(meter, side: str = "sell", wh: int = 200, price: str = "0.20", hours=(time(10), time(12))):
    return services.standing_create(
        member=meter.owner,
        meter=meter,
        side=side,
        quantity_wh=wh,
        limit_price=Decimal(price),
        from_time=hours[0],
        until_time=hours[1],
    )


def slots_ordered(**filters) -> list[datetime]:
    """The local starts of the slots the standing orders ordered for, soonest first."""
    starts = Order.objects.filter(standing__isnull=False, **filters).values_list("slot__start", flat=True)
    return sorted(timezone.localtime(start) for start in starts)


def every_quarter(first: datetime, last: datetime) -> list[datetime]:
    starts, start = [], first
    while start <= last:
        starts.append(start)
        start += QUARTER
    return starts


def test_the_suite_reads_standing_hours_in_amsterdam_time(settings):
    assert settings.TIME_ZONE == "Europe/Amsterdam"


# --- placing ---------------------------------------------------------------------------------
def test_a_standing_order_places_one_order_for_each_upcoming_slot_in_its_hours_and_none_outside(producer, panels):
    sell = standing(panels)

    placed = services.standing_generate(now=NOW)

    assert placed == 8
    assert slots_ordered() == every_quarter(local(10), local(11, 45))
    orders = Order.objects.filter(standing=sell)
    assert orders.count() == 8
    assert {(o.member, o.meter, o.side, o.quantity_wh, o.limit_price, o.status) for o in orders} == {
        (producer, panels, "sell", 200, Decimal("0.2000"), Order.Status.OPEN)
    }
    assert {o.created_at for o in orders} == {NOW}


@pytest.mark.parametrize(
    ("now", "first"),
    [
        (datetime(2026, 1, 12, 9, 50, tzinfo=AMSTERDAM), datetime(2026, 1, 12, 10, 0, tzinfo=UTC)),  # winter, +01
        (datetime(2026, 6, 22, 9, 50, tzinfo=AMSTERDAM), datetime(2026, 6, 22, 9, 0, tzinfo=UTC)),  # summer, +02
    ],
    ids=["winter", "summer"],
)
def test_the_hours_are_local_time_in_winter_and_in_summer(panels, now, first):
    standing(panels, hours=(time(11), time(12)))

    services.standing_generate(now=now)

    assert sorted(Order.objects.values_list("slot__start", flat=True)) == every_quarter(first, first + 3 * QUARTER)


def test_it_orders_no_further_than_six_hours_ahead(panels):
    standing(panels, hours=(time(10), time(23)))

    services.standing_generate(now=NOW)

    assert slots_ordered() == every_quarter(local(10), local(15, 45))  # up to 15:50


def test_a_slot_whose_gate_has_closed_is_left_out(panels):
    standing(panels)

    services.standing_generate(now=local(10, 10))  # the 10:15 slot closed at 10:10

    assert slots_ordered() == every_quarter(local(10, 30), local(11, 45))


def test_running_it_again_places_nothing_more(panels):
    standing(panels)
    services.standing_generate(now=NOW)

    assert services.standing_generate(now=NOW) == 0
    assert services.standing_generate(now=NOW + QUARTER) == 0
    assert Order.objects.count() == 8


def test_the_next_day_it_orders_for_that_days_hours(panels):
    standing(panels)
    services.standing_generate(now=NOW)

    assert services.standing_generate(now=NOW + timedelta(days=1)) == 8

    assert slots_ordered() == every_quarter(local(10), local(11, 45)) + every_quarter(
        local(10, day=23), local(11, 45, day=23)
    )


def test_an_order_the_member_cancelled_is_not_placed_again(producer, panels):
    standing(panels)
    services.standing_generate(now=NOW)
    order = Order.objects.get(slot__start=local(10, 30))
    services.order_cancel(order=order, actor=producer, now=NOW + timedelta(minutes=1))

    assert services.standing_generate(now=NOW + timedelta(minutes=2)) == 0

    assert list(Order.objects.filter(slot__start=local(10, 30)).values_list("status", flat=True)) == [
        Order.Status.CANCELLED
    ]


def test_a_paused_standing_order_places_nothing_until_resumed_and_an_ended_one_nothing_at_all(producer, panels):
    sell = standing(panels)

    services.standing_step(standing=sell, actor=producer, action="pause")
    assert services.standing_generate(now=NOW) == 0
    assert not Order.objects.exists()

    services.standing_step(standing=sell, actor=producer, action="resume")
    assert services.standing_generate(now=NOW) == 8

    services.standing_step(standing=sell, actor=producer, action="end")
    assert services.standing_generate(now=NOW + timedelta(days=1)) == 0
    assert Order.objects.count() == 8
    sell.refresh_from_db()
    assert sell.status == StandingOrder.Status.ENDED


def test_a_slot_whose_capacity_is_used_up_is_skipped_and_the_others_are_placed(producer, panels):
    manual = services.order_place(
        member=producer,
        meter=panels,
        slot_start=local(10, 30),
        side="sell",
        quantity_wh=900,
        limit_price="0.30",
        now=NOW - timedelta(minutes=5),
    )
    standing(panels)  # 200 Wh more would make 1,100 Wh in the 10:30 slot: the panels pass 1,000

    assert services.standing_generate(now=NOW) == 7

    assert slots_ordered() == [start for start in every_quarter(local(10), local(11, 45)) if start != local(10, 30)]
    assert list(Order.objects.filter(slot__start=local(10, 30))) == [manual]


def test_a_standing_buy_skips_the_slots_its_credit_no_longer_covers(buyer, home):
    # Sunnyside's room is 50 credits: 1000 Wh at 12 credits/kWh is 12 credits a slot, four fit.
    standing(home, side="buy", wh=1000, price="12")

    assert services.standing_generate(now=NOW) == 4

    assert slots_ordered() == every_quarter(local(10), local(10, 45))


def test_standing_orders_of_several_members_are_each_placed(panels, home):
    standing(panels)
    standing(home, side="buy", wh=300, price="0.30", hours=(time(11), time(11, 30)))

    assert services.standing_generate(now=NOW) == 10

    assert slots_ordered(side="buy") == [local(11), local(11, 15)]


# --- making and stepping ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hours", "errors"),
    [
        ((time(10, 7), time(12)), {"from_time": ["Use a quarter hour (:00, :15, :30 or :45)."]}),
        ((time(10), time(12, 0, 30)), {"until_time": ["Use a quarter hour (:00, :15, :30 or :45)."]}),
        ((time(12), time(10)), {"until_time": ["The end comes after the start, on the same day."]}),
        ((time(10), time(10)), {"until_time": ["The end comes after the start, on the same day."]}),
        (("10:00", time(12)), {"from_time": ["Give a time of day, e.g. 10:00."]}),
    ],
    ids=["from at 10:07", "until with seconds", "until before from", "no hours", "not a time"],
)
def test_standing_hours_are_quarter_hours_from_before_until(panels, hours, errors):
    with pytest.raises(ValidationError) as caught:
        standing(panels, hours=hours)

    assert caught.value.message_dict == errors
    assert not StandingOrder.objects.exists()


def test_a_standing_order_has_a_whole_quantity_and_a_valid_price(panels):
    with pytest.raises(ValidationError) as caught:
        standing(panels, wh=0, price="-0.01")

    assert set(caught.value.message_dict) == {"quantity_wh", "limit_price"}


def test_a_standing_sell_stays_within_the_meters_capacity(panels):
    with pytest.raises(RuleViolation) as caught:
        standing(panels, wh=1001)

    assert (caught.value.code, caught.value.data) == ("over_capacity", {"available_wh": 1000})
    standing(panels, wh=1000)
    assert StandingOrder.objects.count() == 1


def test_a_standing_order_uses_a_meter_that_trades_on_its_side(panels, home):
    for meter, side in ((home, "sell"), (panels, "buy")):
        with pytest.raises(ValidationError) as caught:
            standing(meter, side=side)
        assert set(caught.value.message_dict) == {"side"}
    assert not StandingOrder.objects.exists()


def test_a_standing_order_is_made_only_on_ones_own_meter(buyer, panels):
    with pytest.raises(RuleViolation) as caught:
        services.standing_create(
            member=buyer,
            meter=panels,
            side="sell",
            quantity_wh=100,
            limit_price="0.2",
            from_time=time(10),
            until_time=time(12),
        )

    assert caught.value.code == "forbidden"


def test_only_the_member_who_made_a_standing_order_pauses_or_ends_it(producer, buyer, panels):
    sell = standing(panels)

    with pytest.raises(RuleViolation) as caught:
        services.standing_step(standing=sell, actor=buyer, action="end")
    assert caught.value.code == "forbidden"

    services.standing_step(standing=sell, actor=producer, action="end")
    with pytest.raises(RuleViolation) as caught:
        services.standing_step(standing=sell, actor=producer, action="resume")
    assert caught.value.code == "illegal_transition"


def test_a_standing_orders_hours_are_its_communitys_local_hours(producer, panels):
    """A community in Lisbon (an hour behind Amsterdam): "10:00 to 12:00" is Lisbon's
    10:00 to 12:00, whatever the site's own zone."""
    lisbon = ZoneInfo("Europe/Lisbon")
    panels.community.time_zone = "Europe/Lisbon"
    panels.community.save(update_fields=["time_zone"])
    standing(panels)

    services.standing_generate(now=NOW)  # 09:50 in Amsterdam is 08:50 in Lisbon

    starts = sorted(Order.objects.filter(standing__isnull=False).values_list("slot__start", flat=True))
    assert [s.astimezone(lisbon).time() for s in starts][:1] == [time(10)]
    assert all(time(10) <= s.astimezone(lisbon).time() < time(12) for s in starts)
    assert starts[0].astimezone(AMSTERDAM).time() == time(11)
