"""Thin Celery tasks for co-design challenges."""

from celery import shared_task

from p2pcommons.resilience import DATABASE_LOST

from . import services


@shared_task(acks_late=True, autoretry_for=DATABASE_LOST, retry_backoff=True, max_retries=5)
def advance_phases() -> int:
    """Every 15 minutes: move each challenge whose phase's planned end passed (idempotent:
    a phase moves by a conditional update from the phase that was read)."""
    return services.challenges_advance_due()
