"""The solar market's beat tasks, run as the test suite runs tasks: eagerly, in this
process (``CELERY_TASK_ALWAYS_EAGER``, p2pcommons/settings/test.py), on the clock of now.

- ``clear_due_slots`` clears the open slots past gate closure, and no others;
- ``settle_due_slots`` settles the cleared slots whose readings are in or whose deadline
  passed, and no others;
- a reading that completes a cleared slot settles it through ``settle_slot`` once the
  reading is committed;
- ``place_standing_orders`` places the standing orders' orders.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.solar import services, tasks
from apps.solar.factories import next_slot_start
from apps.solar.models import MeterReading, Order, Slot, Trade
from apps.solar.services import Row

QUARTER = timedelta(minutes=15)


def this_quarter(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)


def with_orders(panels, home, start: datetime, wh: int = 300) -> Slot:
    """Pia offers and Ben bids ``wh`` in the slot at ``start``, ten minutes before its gate."""
    for meter, side, price in ((panels, "sell", "0.20"), (home, "buy", "0.30")):
        services.order_place(
            member=meter.owner,
            meter=meter,
            slot_start=start,
            side=side,
            quantity_wh=wh,
            limit_price=Decimal(price),
            now=start - timedelta(minutes=15),
        )
    return Slot.objects.get(start=start)


def cleared_slot(panels, home, start: datetime) -> Slot:
    slot = with_orders(panels, home, start)
    assert services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)
    return slot


def read(meter, start: datetime, imported: int, exported: int) -> None:
    services.readings_record(
        meter=meter, rows=[Row(start, imported, exported)], source=MeterReading.Source.FORM, actor=meter.owner
    )


def status(slot: Slot) -> str:
    slot.refresh_from_db()
    return slot.status


def test_tasks_run_eagerly_in_the_test_suite(settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER is True


def test_clear_due_slots_clears_the_slots_past_gate_closure_and_no_others(panels, home):
    now = timezone.now()
    earlier = with_orders(panels, home, this_quarter(now) - 2 * QUARTER)
    ended = with_orders(panels, home, this_quarter(now) - QUARTER)
    upcoming = with_orders(panels, home, next_slot_start(now, ahead=2))

    assert tasks.clear_due_slots.delay().get() == 2

    assert (status(earlier), status(ended), status(upcoming)) == (
        Slot.Status.CLEARED,
        Slot.Status.CLEARED,
        Slot.Status.OPEN,
    )
    assert set(Trade.objects.values_list("slot", flat=True)) == {earlier.pk, ended.pk}
    assert set(Order.objects.filter(slot=upcoming).values_list("status", flat=True)) == {Order.Status.OPEN}
    assert tasks.clear_due_slots.delay().get() == 0  # nothing left to clear
    assert Trade.objects.count() == 2


def test_clearing_one_slot_by_its_task_twice_clears_it_once(panels, home):
    slot = with_orders(panels, home, this_quarter(timezone.now()) - QUARTER)

    assert tasks.clear_slot.delay(slot.pk).get() is True
    assert tasks.clear_slot.delay(slot.pk).get() is False

    assert Trade.objects.filter(slot=slot).count() == 1


def test_settle_due_slots_settles_the_slots_whose_readings_are_in_or_whose_deadline_passed_and_no_others(panels, home):
    now = timezone.now()
    quarter = this_quarter(now)
    complete = cleared_slot(panels, home, quarter - 4 * QUARTER)  # both readings in
    read(panels, complete.start, 0, 300)
    read(home, complete.start, 300, 0)
    waiting = cleared_slot(panels, home, quarter - 3 * QUARTER)  # Ben's reading may still come
    read(panels, waiting.start, 0, 300)
    overdue = cleared_slot(panels, home, quarter - 12 * QUARTER)  # no reading, deadline passed
    running = cleared_slot(panels, home, quarter + 2 * QUARTER)  # cleared, not delivered yet
    assert waiting.settle_deadline > now and overdue.settle_deadline <= now

    assert tasks.settle_due_slots.delay().get() == 2

    assert (status(complete), status(waiting), status(overdue), status(running)) == (
        Slot.Status.SETTLED,
        Slot.Status.CLEARED,
        Slot.Status.SETTLED,
        Slot.Status.CLEARED,
    )
    assert Trade.objects.get(slot=complete).delivered_wh == 300
    assert Trade.objects.get(slot=overdue).delivered_wh == 0
    assert Trade.objects.get(slot=waiting).status == Trade.Status.CLEARED
    assert tasks.settle_due_slots.delay().get() == 0


def test_the_last_missing_reading_settles_its_slot_once_committed(panels, home, django_capture_on_commit_callbacks):
    slot = cleared_slot(panels, home, this_quarter(timezone.now()) - 4 * QUARTER)
    with django_capture_on_commit_callbacks(execute=True):
        read(panels, slot.start, 0, 300)
    assert status(slot) == Slot.Status.CLEARED  # Ben's reading is still missing

    with django_capture_on_commit_callbacks(execute=True):
        read(home, slot.start, 280, 0)

    assert status(slot) == Slot.Status.SETTLED
    assert Trade.objects.get().delivered_wh == 280


def test_place_standing_orders_places_the_orders_of_the_next_hours(producer, panels):
    services.standing_create(
        member=producer,
        meter=panels,
        side="sell",
        quantity_wh=200,
        limit_price="0.20",
        from_time=time(0),
        until_time=time(23, 45),
    )

    placed = tasks.place_standing_orders.delay().get()

    assert placed > 0
    assert Order.objects.filter(standing__isnull=False).count() == placed
    assert tasks.place_standing_orders.delay().get() == 0


@pytest.mark.parametrize("task", [tasks.clear_due_slots, tasks.settle_due_slots, tasks.place_standing_orders])
def test_with_nothing_to_do_each_task_does_nothing(db, task):
    assert task.delay().get() == 0
