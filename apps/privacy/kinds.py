"""The notification kinds of apps/privacy."""

from django.utils.translation import gettext_lazy as _

from apps.notifications.kinds import register_kind


def register() -> None:
    register_kind("privacy.export_ready", label=_("Your data download is ready"))
    register_kind(
        "privacy.partner_left",
        label=_("A neighbor you had plans with deleted their account"),
    )
