"""Schedule the hourly reveal of reviews whose 14-day window has closed (celery beat).

django-celery-beat's DatabaseScheduler reads its schedule from the database, so the
periodic task is created here, idempotently, and exists in every environment.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Reveal reviews whose window has closed"
TASK = "apps.reputation.tasks.reviews_reveal_expired"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_hour = IntervalSchedule.objects.filter(every=1, period="hours").order_by("id").first()
    if every_hour is None:
        every_hour = IntervalSchedule.objects.create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": TASK, "interval": every_hour, "description": "Reviews are blind for at most 14 days."},
    )
    # Tell a running beat that its schedule changed (what PeriodicTask.save() does).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reputation", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
