from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ModerationConfig(AppConfig):
    name = "apps.moderation"
    label = "moderation"
    verbose_name = gettext_lazy("Moderation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.notifications.kinds import register_kind
        from apps.peers.models import User

        from .registry import register_moderatable

        # A member is reported as a person: no community path (the report names one),
        # and the "author" of a member is the member.
        register_moderatable(
            User,
            author="",
            community="",
            noun=gettext_lazy("member"),
            readable=lambda users, viewer: users.filter(is_active=True),
        )

        register_kind(
            "moderation.flagged",
            label=gettext_lazy("Something was reported in a community you organize"),
            for_organizers=True,
        )
        register_kind("moderation.hidden", label=gettext_lazy("Something you wrote was hidden by moderation"))
        register_kind("moderation.restored", label=gettext_lazy("Something you wrote was restored after moderation"))
        register_kind("moderation.warning", label=gettext_lazy("A warning from your community's organizers"))
        register_kind("moderation.suspended", label=gettext_lazy("Your membership was suspended"))
        register_kind("moderation.reinstated", label=gettext_lazy("Your membership was reinstated"))
