"""Thin beat tasks for tool loans; both are idempotent by claim."""

from celery import shared_task

from p2pcommons.resilience import DATABASE_LOST

from . import services

RETRY = {"acks_late": True, "autoretry_for": DATABASE_LOST, "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def send_loan_reminders() -> int:
    """Every 15 minutes: pickup tomorrow, return due tomorrow, overdue, escalation."""
    return services.reminders_send()


@shared_task(**RETRY)
def expire_unpicked_loans() -> int:
    """Every 15 minutes: approved loans not picked up within the grace period expire."""
    return services.reservations_expire()


@shared_task(**RETRY)
def lapse_waitlist_offers() -> int:
    """Every 5 minutes: waitlist offers not taken in time go to the next in line."""
    return services.waitlist_lapse_offers()
