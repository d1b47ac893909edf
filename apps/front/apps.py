from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class FrontConfig(AppConfig):
    """The front door: the public home with the four blueprints, the guide, each
    blueprint's page, the member's dashboard, unified search and cross-exchange
    suggestions. It composes the exchanges through ``apps.peers.blueprints`` (and, for
    suggestions, their selectors); no exchange imports it."""

    name = "apps.front"
    label = "front"
    verbose_name = gettext_lazy("Front door")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import figures, signals

        figures.connect_invalidation()
        signals.connect()
