"""The federation's periodic tasks: the delivery and inbox sweep every minute, the
clearing reconciliation every hour."""

from django.db import migrations

TASKS = {
    "federation: deliveries and inbox sweep": ("apps.federation.tasks.sweep_federation", 1, "minutes"),
    "federation: clearing reconciliation": ("apps.federation.tasks.reconcile_clearing", 1, "hours"),
}


def forwards(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, every, period) in TASKS.items():
        schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": schedule})


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=list(TASKS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
