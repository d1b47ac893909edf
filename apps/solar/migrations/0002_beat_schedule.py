"""The solar market's periodic tasks: clear slots past gate closure every minute (a
slot's gate closes 5 minutes before it starts, so a one-minute sweep clears it well
before it begins), settle slots every 5 minutes, and turn standing orders into orders
every 15 minutes (one slot's length). Created idempotently, like the other apps'."""

from django.db import migrations
from django.utils import timezone

TASKS = {
    "solar: clear slots past gate closure": ("apps.solar.tasks.clear_due_slots", 1),
    "solar: settle slots": ("apps.solar.tasks.settle_due_slots", 5),
    "solar: place standing orders": ("apps.solar.tasks.place_standing_orders", 15),
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
        ("solar", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
