"""Thin tasks for the federation: each takes ids, claims before it acts, and retries
when the database connection is lost; the sweeps pick up whatever a dead worker or an
unreachable broker left behind."""

from celery import shared_task

from p2pcommons.resilience import DATABASE_LOST

from . import services

RETRY = {"acks_late": True, "autoretry_for": DATABASE_LOST, "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def deliver(delivery_id: int) -> str:
    """Post one outgoing activity to one inbox (claimed with a lease; retried with backoff)."""
    return services.delivery_send(delivery_id=delivery_id)


@shared_task(**RETRY)
def process_inbox_item(item_id: int) -> str:
    """Process one incoming activity, once."""
    return services.inbox_process(item_id=item_id)


@shared_task(**RETRY)
def sweep_federation() -> int:
    """Every minute: deliveries due again, inbox items never processed (or left by a dead
    worker), and old replay tokens forgotten."""
    done = 0
    for delivery_id in services.deliveries_due():
        services.delivery_send(delivery_id=delivery_id)
        done += 1
    for item_id in services.inbox_due():
        services.inbox_process(item_id=item_id)
        done += 1
    services.seen_signatures_prune()
    return done


@shared_task(**RETRY)
def reconcile_clearing() -> int:
    """Every hour: compare each clearing account with the neighbour's statement."""
    return services.clearing_reconcile_all()
