"""The front door's periodic task: every 15 minutes, the suggestions sweep (producers
told of the buy orders nobody filled in the slots cleared in the last hour, and any
suggestion whose own task was lost). Idempotent: suggestions are unique per member,
pair, source and target. Created idempotently, like the other apps'."""

from django.db import migrations
from django.utils import timezone

TASKS = {
    "front: cross-exchange suggestions sweep": ("apps.front.tasks.sweep_suggestions", 15),
}


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, (task, minutes) in TASKS.items():
        # filter().first(), not get_or_create: other apps' migrations may have made the
        # same interval twice, and get_or_create would then fail.
        every = IntervalSchedule.objects.filter(every=minutes, period="minutes").order_by("id").first()
        if every is None:
            every = IntervalSchedule.objects.create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": every})
    # Tell a running beat that its schedule changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=list(TASKS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("front", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
