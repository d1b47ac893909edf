from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class LedgerConfig(AppConfig):
    name = "apps.ledger"
    label = "ledger"
    verbose_name = gettext_lazy("Ledger (mutual credit)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.notifications.kinds import register_kind

        register_kind("ledger.received", label=gettext_lazy("A neighbor sent you credits"), default="immediate")
        register_kind(
            "ledger.log_alarm",
            label=gettext_lazy("A neighbouring ledger showed two different histories"),
            for_organizers=True,
        )
        register_kind(
            "ledger.clearing_mismatch",
            label=gettext_lazy("A neighbouring community's books no longer match ours (or match again)"),
            for_organizers=True,
        )
