from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = gettext_lazy("Notifications")
    default_auto_field = "django.db.models.BigAutoField"
