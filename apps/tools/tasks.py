"""Thin beat tasks for tool loans; both are idempotent by claim."""

from celery import shared_task

from . import services


@shared_task
def send_loan_reminders() -> int:
    """Every 15 minutes: pickup tomorrow, return due tomorrow, overdue, escalation."""
    return services.reminders_send()


@shared_task
def expire_unpicked_loans() -> int:
    """Every 15 minutes: approved loans not picked up within the grace period expire."""
    return services.reservations_expire()
