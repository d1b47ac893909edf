"""Thin Celery tasks for the skill swap: matching on change and nightly, closing expired listings."""

from celery import shared_task

from p2pcommons.resilience import DATABASE_LOST

from . import services

RETRY = {"acks_late": True, "autoretry_for": DATABASE_LOST, "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def match_request(request_id: int) -> int:
    """After a request is created or changed: its best offers (idempotent)."""
    return len(services.match_request(request_id=request_id))


@shared_task(**RETRY)
def match_offer(offer_id: int) -> int:
    """After an offer is created or changed: the requests it serves (idempotent)."""
    return services.match_offer(offer_id=offer_id)


@shared_task(**RETRY)
def nightly_matching() -> int:
    """Every night: close expired offers and requests, then rematch every open request."""
    services.listings_close_expired()
    return services.match_all()
