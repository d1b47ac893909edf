"""Suggestions in the admin: read-only, for site superusers only.

They are computed, not written by anyone, and they are each member's own: organizers
have nothing to do with them, so only superusers see them (to check what the pairs
produce), and nobody changes them here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Suggestion


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "pair", "created_at", "dismissed_at")
    list_filter = ("pair", ("dismissed_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("user",)
    search_fields = ("title", "reason", "source_key", "target_key", "user__email")
    readonly_fields = (
        "user",
        "pair",
        "title",
        "reason",
        "url",
        "source_key",
        "target_key",
        "created_at",
        "dismissed_at",
    )
    date_hierarchy = "created_at"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
