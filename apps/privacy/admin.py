"""Admin for deleted accounts: that an account was deleted, and when; never who it was.

Read-only for everyone. Organizers see the erasures of members of the communities they
organize (``Erasure.communities``); site superusers see all.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from apps.peers.selectors import organized_community_ids

from .models import Erasure


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    list_display = ("pseudonym", "erased_at", "cancelled")
    fields = ("pseudonym", "erased_at", "cancelled")
    readonly_fields = fields
    search_fields = ("pseudonym",)
    date_hierarchy = "erased_at"
    ordering = ("-erased_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(communities__in=self._organized_ids(request)).distinct()

    def _organized_ids(self, request: HttpRequest):
        # Shared with CommunityScopedAdminMixin: asked once per request, however many
        # admin modules ask (the admin index asks every one).
        cached = getattr(request, "_p2p_organized_ids", None)
        if cached is None:
            cached = organized_community_ids(user=request.user)
            request._p2p_organized_ids = cached  # type: ignore[attr-defined]
        return cached

    def _organizes(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff and self._organized_ids(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._organizes(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return True
        if not self._organizes(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
