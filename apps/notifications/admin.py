"""Notifications in the admin: superusers only (they are members' private mail)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from apps.peers.admin_scoping import ReadOnlyAdminMixin, when_column

from .models import Notification, Preference


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        when_column("created_at", gettext_lazy("created")),
        "recipient",
        "kind",
        "text",
        when_column("read_at", gettext_lazy("read")),
        "email",
        when_column("delivered_at", gettext_lazy("delivered")),
    )
    list_filter = ("kind", "email")
    search_fields = ("text", "recipient__email")
    list_select_related = ("recipient__profile",)
    date_hierarchy = "created_at"


@admin.register(Preference)
class PreferenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "kind", "delivery")
    list_filter = ("kind", "delivery")
    list_select_related = ("user__profile",)
