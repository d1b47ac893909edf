from django.apps import AppConfig


class PeersConfig(AppConfig):
    name = "apps.peers"
    label = "peers"
    verbose_name = "Peers and communities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI description of the X-Session-Token authentication.
        import p2pcommons.api.schema  # noqa: F401
