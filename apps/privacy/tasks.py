"""Thin tasks for "Download my data": ids in, the services in ``export.py`` do the work."""

from celery import shared_task

from p2pcommons.resilience import DATABASE_LOST

from . import export

RETRY = {"acks_late": True, "autoretry_for": DATABASE_LOST, "retry_backoff": True, "max_retries": 5}


@shared_task(**RETRY)
def build_export(job_id: int) -> bool:
    """Build one export job's zip (once: the service claims the job)."""
    return export.export_build(job_id)


@shared_task(**RETRY)
def expire_exports() -> int:
    """Hourly (beat): delete expired downloads; requeue or fail jobs left behind."""
    return export.export_expire()
