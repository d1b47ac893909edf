from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "apps.ledger"
    label = "ledger"
    verbose_name = "Ledger (mutual credit)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.notifications.kinds import register_kind

        register_kind("ledger.received", label="A neighbor sent you credits", default="immediate")
