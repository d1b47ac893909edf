"""Thin Celery tasks for reputation: take ids, call a service. All are idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from apps.peers.models import User
from p2pcommons.resilience import DATABASE_LOST

from . import services

RETRY = {
    "acks_late": True,
    "autoretry_for": DATABASE_LOST,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


@shared_task(**RETRY)
def reviews_reveal_expired() -> int:
    """Hourly (celery beat, see migration 0002): reveal reviews whose 14-day window closed."""
    return services.reviews_reveal_expired(now=timezone.now())


@shared_task(**RETRY)
def trust_recompute(user_id: int) -> bool:
    """Recompute one member's trust score; a deleted member is nothing to do."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return False
    services.trust_recompute(user=user)
    return True


@shared_task(**RETRY)
def trust_refresh_stale() -> int:
    """Hourly (celery beat, see migration 0004): bring day-old trust scores up to date."""
    return services.trust_refresh_stale(now=timezone.now())
