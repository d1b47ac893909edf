"""The federation in the admin: read-only views for organizers of their own communities
(what was followed, exchanged, sent and received); changes go through the pages."""

from django.contrib import admin

from apps.peers.admin_scoping import CommunityScopedAdminMixin, ReadOnlyAdminMixin

from .models import Delivery, Follow, InboxItem, RemoteExchange


@admin.register(Follow)
class FollowAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "local__community"
    list_display = ("local", "direction", "remote", "state", "created_at", "decided_at")
    list_filter = ("direction", "state")
    list_select_related = ("local__community", "remote")


@admin.register(RemoteExchange)
class RemoteExchangeAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "local__community"
    list_display = ("side", "peer", "status", "starts_at", "ends_at", "fee_total", "payment_state")
    list_filter = ("side", "status")
    list_select_related = ("peer",)
    exclude = ("content_type", "object_id")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "local__community"
    list_display = ("kind", "inbox", "state", "attempts", "last_status", "created_at", "sent_at")
    list_filter = ("state", "kind")


@admin.register(InboxItem)
class InboxItemAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    community_path = "local__community"
    list_display = ("kind", "actor_uri", "state", "reason", "received_at", "processed_at")
    list_filter = ("state", "kind")
