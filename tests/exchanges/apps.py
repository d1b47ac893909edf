from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    """Installed only by the test settings: stand-in exchanges for the core apps' tests."""

    name = "tests.exchanges"
    label = "exchanges"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registered here, as a domain app would, so registration happens once per process.
        from apps.reputation.registry import register_exchange

        from .models import Exchange, Session

        register_exchange(
            Exchange,
            domain="tools",
            parties=("provider", "receiver"),
            completed_at="completed_at",
            community="community",
        )
        register_exchange(
            Session, domain="skills", parties=("teacher", "learner"), completed_at="confirmed_at", community="community"
        )
