from django.apps import AppConfig


class ReputationConfig(AppConfig):
    name = "apps.reputation"
    label = "reputation"
    verbose_name = "Reviews and reputation"
    default_auto_field = "django.db.models.BigAutoField"
