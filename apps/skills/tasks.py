"""Thin Celery tasks for the skill swap: matching on change and nightly, closing expired listings."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def match_request(request_id: int) -> int:
    """After a request is created or changed: its best offers (idempotent)."""
    return len(services.match_request(request_id=request_id))


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def match_offer(offer_id: int) -> int:
    """After an offer is created or changed: the requests it serves (idempotent)."""
    return services.match_offer(offer_id=offer_id)


@shared_task
def nightly_matching() -> int:
    """Every night: close expired offers and requests, then rematch every open request."""
    services.listings_close_expired()
    return services.match_all()
