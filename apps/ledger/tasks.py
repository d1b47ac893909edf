"""Thin Celery tasks of the ledger's Merkle log: checkpoints (and, in ``witness``, co-signing)."""

from celery import shared_task

from apps.peers.models import Community
from p2pcommons.resilience import DATABASE_LOST

from . import log

RETRY = {"acks_late": True, "autoretry_for": DATABASE_LOST, "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def publish_checkpoint(community_id: int) -> int | None:
    """Sign the community's log head (every LEDGER_CHECKPOINT_EVERY entries); the checkpoint's
    size, or None when the newest one already covers the head. Safe to run twice."""
    community = Community.objects.filter(pk=community_id).first()
    checkpoint = log.publish_checkpoint(community=community) if community else None
    return checkpoint.size if checkpoint else None


@shared_task(**RETRY)
def publish_due_checkpoints() -> int:
    """Every 5 minutes: a checkpoint for each log that grew since its newest one."""
    published = 0
    for community_id in log.communities_due():
        published += publish_checkpoint(community_id) is not None
    return published


@shared_task(**RETRY)
def witness_logs() -> dict[str, int]:
    """Every 5 minutes: each community checks and co-signs the neighbouring ledgers it witnesses
    (apps.ledger.witness); how many logs ended with each outcome."""
    from . import witness  # keeps the HTTP client out of the checkpoint tasks' import

    return witness.witness_all()
