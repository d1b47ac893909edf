"""The end of every walk: everything winds down, and nothing may be left behind.

The clock moves past every deadline, neighbors catch up (tools come back, sessions that
took place are confirmed), devices send the readings they owe, the beat runs every
sweep, and every message still queued is delivered (in random order). Then no slot
waits to be cleared or settled, no stale loan waits to expire, no vote waits to close:
what was lost with the broker, the sweeps made up for (invariant 6). It also makes sure
the final state holds every kind of row the breakages of ``test_simulation`` need.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from apps.codesign import tasks as codesign_tasks
from apps.skills import services as skills
from apps.skills.models import Seat, Session
from apps.solar import services as solar
from apps.solar import tasks as solar_tasks
from apps.solar.models import Order, Slot
from apps.solar.services import Row
from apps.tools import services as tools
from apps.tools import tasks as tools_tasks
from apps.tools.models import Reservation

from . import invariants
from .model import Call, Engine, Outcome

S = Reservation.Status
MAX_DELIVERIES = 1000


def quiesce(engine: Engine) -> None:
    """Wind the walk down (see the module docstring); every call is a step, checked."""
    engine.step += 1
    for call in _pickups_due():
        _run(engine, call)
    for call in _returns() + _confirmations():
        _run(engine, call)
    engine.traveller.shift(timedelta(hours=4))
    engine.record("time", "4 hours pass: every deadline of the walk is over", Outcome("ok"))
    for call in _late_readings() + _every_sweep() + _every_sweep():
        _run(engine, call)
    for _delivery in range(MAX_DELIVERIES):
        if not engine.queue:
            break
        message = engine.queue.pop(engine.rng.randrange(len(engine.queue)))
        _run(engine, Call("deliver", message.label, lambda message=message: message.task(*message.args)))
    left = invariants.nothing_is_left_behind()
    if engine.queue:
        left.append(f"{len(engine.queue)} messages still queued after {MAX_DELIVERIES} deliveries")
    if left:
        engine.fail("left behind after the wind-down:\n  " + "\n  ".join(left))


def _run(engine: Engine, call: Call) -> None:
    engine.perform(call)
    engine.collect_enqueued()
    engine.check()


def _pickups_due() -> list[Call]:
    """Borrowers pick up every approved loan whose pickup window is open now."""
    now = timezone.now()
    ready = Reservation.objects.filter(
        status=S.APPROVED, starts_at__lte=now + tools.PICKUP_EARLY, starts_at__gte=now - tools.PICKUP_GRACE
    ).select_related("tool__owner", "borrower")
    return [
        Call("pickup", f"{loan.borrower.email} picks up loan {loan.pk}",
             lambda loan=loan: tools.reservation_pickup(reservation=loan, actor=loan.borrower))
        for loan in ready.order_by("pk")
    ]  # fmt: skip


def _returns() -> list[Call]:
    """Owners record the return of every tool still out."""
    out = Reservation.objects.filter(status=S.PICKED_UP).select_related("tool__owner").order_by("pk")
    return [
        Call("return", f"owner records the return of loan {loan.pk}",
             lambda loan=loan: tools.reservation_return(reservation=loan, actor=loan.tool.owner))
        for loan in out
    ]  # fmt: skip


def _confirmations() -> list[Call]:
    """Both people of every place at a session that has taken place confirm its planned hours."""
    seats = Seat.objects.filter(
        status=Seat.Status.BOOKED, session__status=Session.Status.SCHEDULED, session__starts_at__lte=timezone.now()
    ).select_related("learner", "session__helper")
    calls = []
    for seat in seats.order_by("pk"):
        session, hours = seat.session, seat.session.planned_hours
        calls.append(Call("confirm", f"learner {seat.learner.email} confirms session {session.pk}",
                          lambda s=session, seat=seat, h=hours: skills.session_confirm(
                              session=s, actor=seat.learner, hours=h)))  # fmt: skip
        calls.append(Call("confirm", f"helper {session.helper.email} confirms session {session.pk}",
                          lambda s=session, seat=seat, h=hours: skills.session_confirm(
                              session=s, actor=s.helper, hours=h, learner=seat.learner)))  # fmt: skip
    return calls


def _late_readings() -> list[Call]:
    """Every meter that traded in a cleared slot sends the reading it still owes (a
    device back online after an outage): what its orders filled."""
    owed = (
        Order.objects.filter(slot__status=Slot.Status.CLEARED, status__in=(Order.Status.FILLED, Order.Status.PARTIAL))
        .exclude(meter__readings__interval_start=F("slot__start"))
        .select_related("meter__owner", "slot")
        .order_by("pk")
    )
    calls, seen = [], set()
    for order in owed:
        if (order.meter_id, order.slot_id) in seen:
            continue
        seen.add((order.meter_id, order.slot_id))
        meter, sells = order.meter, order.side == Order.Side.SELL
        row = Row(
            interval_start=order.slot.start,
            imported_wh=0 if sells else order.filled_wh,
            exported_wh=min(order.filled_wh, meter.slot_capacity_wh) if sells else 0,
        )
        calls.append(
            Call("reading", f"{meter.owner.email}'s device catches up on {row.interval_start:%d %H:%M}",
                 lambda meter=meter, row=row: solar.readings_record(meter=meter, rows=[row], source="device"))
        )  # fmt: skip
    return calls


def _every_sweep() -> list[Call]:
    """Each periodic task once, as the beat runs them."""
    sweeps = [
        solar_tasks.clear_due_slots, solar_tasks.settle_due_slots, tools_tasks.send_loan_reminders,
        tools_tasks.expire_unpicked_loans, tools_tasks.lapse_waitlist_offers, codesign_tasks.advance_phases,
    ]  # fmt: skip
    return [
        Call("sweep", f"beat runs {task.name.rsplit('.', 1)[-1]}", lambda task=task: task(), sweep=True)
        for task in sweeps
    ]
