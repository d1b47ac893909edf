"""The Celery application: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "p2pcommons.settings.local")

app = Celery("p2pcommons")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
