"""Thin delivery tasks: ids in, services do the work, idempotent by claim."""

from celery import shared_task

from p2pcommons.resilience import DATABASE_LOST

from . import services


@shared_task(
    acks_late=True, autoretry_for=(OSError, *DATABASE_LOST), retry_backoff=True, retry_backoff_max=600, max_retries=8
)
def deliver_notifications(notification_ids: list[int]) -> int:
    return services.deliver(notification_ids=notification_ids)


@shared_task(acks_late=True, autoretry_for=DATABASE_LOST, retry_backoff=True, max_retries=5)
def flush_notification_outbox() -> int:
    """Every minute (beat): deliver what the broker never carried."""
    return services.flush_outbox()


@shared_task(acks_late=True, autoretry_for=(OSError, *DATABASE_LOST), retry_backoff=True, max_retries=5)
def send_daily_digests() -> int:
    """Every morning (beat): one digest email per member with unread digest items."""
    return services.send_digests()
