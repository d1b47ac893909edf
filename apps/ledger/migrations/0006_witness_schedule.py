"""The 5-minute sweep in which each community witnesses the neighbouring ledgers it watches
(apps/ledger/witness.py): fetch, check, co-sign or raise an alarm."""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "ledger: witness neighbouring ledgers"
TASK = "apps.ledger.tasks.witness_logs"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every = IntervalSchedule.objects.filter(every=5, period="minutes").order_by("id").first()
    if every is None:
        every = IntervalSchedule.objects.create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(name=TASK_NAME, defaults={"task": TASK, "interval": every})
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_merkle_log_backfill"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
