"""Thin Celery tasks for the solar market: clearing, settlement, standing orders.

Each takes ids and calls a service that claims its slot by a conditional update, so a
task run twice, retried, or run by two workers at once acts once.
"""

from celery import shared_task

from p2pcommons.resilience import DATABASE_LOST

from . import services

RETRY = {"acks_late": True, "autoretry_for": DATABASE_LOST, "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def clear_slot(slot_id: int) -> bool:
    return services.slot_clear(slot_id=slot_id)


@shared_task(**RETRY)
def tell_traders(slot_id: int) -> int:
    return services.slot_tell_traders(slot_id=slot_id)


@shared_task(**RETRY)
def settle_slot(slot_id: int) -> bool:
    return services.slot_settle(slot_id=slot_id)


@shared_task(**RETRY)
def clear_due_slots() -> int:
    """Every minute: clear each slot past gate closure (in this process: one at a time,
    each in its own transaction, so one slot's failure does not hold back the others),
    and tell the traders of any cleared slot whose own task was lost."""
    cleared = sum(services.slot_clear(slot_id=slot_id) for slot_id in services.slots_due_for_clearing())
    for slot_id in services.slots_with_traders_to_tell():
        services.slot_tell_traders(slot_id=slot_id)
    return cleared


@shared_task(**RETRY)
def settle_due_slots() -> int:
    """Every five minutes: settle each cleared slot whose readings are in or whose
    deadline passed."""
    return sum(services.slot_settle(slot_id=slot_id) for slot_id in services.slots_due_for_settlement())


@shared_task(**RETRY)
def place_standing_orders() -> int:
    """Every 15 minutes: the orders of standing orders for the next hours (idempotent)."""
    return services.standing_generate()
