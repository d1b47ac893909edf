"""Schedule the hourly refresh of day-old trust scores (celery beat).

A reviewer's weight in the trust rule grows as their account ages and they trade with
more people, so scores are recomputed even when no new review is revealed. Created
idempotently, like the reveal schedule in 0002.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Refresh day-old trust scores"
TASK = "apps.reputation.tasks.trust_refresh_stale"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_hour = IntervalSchedule.objects.filter(every=1, period="hours").order_by("id").first()
    if every_hour is None:
        every_hour = IntervalSchedule.objects.create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "interval": every_hour,
            "description": "Reviewers' weights grow with their account's age and counterparts.",
        },
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reputation", "0003_review_hidden_at_review_is_hidden"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
