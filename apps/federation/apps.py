from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class FederationConfig(AppConfig):
    name = "apps.federation"
    label = "federation"
    verbose_name = gettext_lazy("Neighbouring communities on other servers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from apps.notifications.kinds import register_kind
        from apps.reputation.models import Review
        from apps.reputation.registry import register_exchange

        from .models import RemoteExchange

        # The borrower's side of a cross-community loan is the exchange its member reviews
        # (the lender's side reviews its own local object, e.g. the Reservation).
        register_exchange(
            RemoteExchange,
            domain="tools",
            parties=("member", "remote_person__user"),
            completed_at="completed_at",
            community="local__community",
        )
        register_kind(
            "federation.exchange",
            label=gettext_lazy("News about what you borrow from a neighbour community"),
            default="immediate",
        )
        register_kind(
            "federation.follow",
            label=gettext_lazy("A neighbour community asks to follow yours (organizers)"),
            default="immediate",
        )
        post_save.connect(_review_saved, sender=Review, dispatch_uid="federation.review_written")


def _review_saved(sender, instance, created: bool = False, raw: bool = False, **kwargs) -> None:
    """A review of a cross-community exchange written here goes to the other side too."""
    if created and not raw:
        from .services import review_written

        review_written(review=instance)
