from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PeersConfig(AppConfig):
    name = "apps.peers"
    label = "peers"
    verbose_name = gettext_lazy("Peers and communities")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account.decorators import secure_admin_login
        from django.contrib import admin

        # Registers the OpenAPI description of the X-Session-Token authentication.
        import p2pcommons.api.schema  # noqa: F401
        from apps.notifications.kinds import register_kind
        from apps.peers import signals  # noqa: F401  (the member's language and zone at sign-in)

        register_kind(
            "peers.join_requested",
            label=gettext_lazy("Someone asks to join a community you organize"),
            for_organizers=True,
        )
        register_kind("peers.join_decided", label=gettext_lazy("Your request to join a community was answered"))

        # The admin has no login form of its own: signing in goes through allauth's login,
        # with its rate limits (failed attempts per account and address, per address).
        if not getattr(admin.site.login, "_p2p_secured", False):
            admin.site.login = secure_admin_login(admin.site.login)
            admin.site.login._p2p_secured = True
