"""Thin tasks for "Download my data": ids in, the services in ``export.py`` do the work."""

from celery import shared_task

from . import export


@shared_task
def build_export(job_id: int) -> bool:
    """Build one export job's zip (once: the service claims the job)."""
    return export.export_build(job_id)


@shared_task
def expire_exports() -> int:
    """Hourly (beat): delete expired downloads; requeue or fail jobs left behind."""
    return export.export_expire()
