"""Reads for notifications."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from apps.peers.models import User
from apps.peers.selectors import active_community_ids

from .kinds import KINDS
from .models import Notification, Preference


def _without_hidden_targets(qs: QuerySet[Notification], user: User) -> QuerySet[Notification]:
    """Drop notifications about content moderation has hidden from this user: hidden
    content disappears from notifications as it does from every list (subqueries only)."""
    # Imported here, not at the top: apps.moderation imports apps.notifications at module
    # level (its services notify), so a top-level import would make the cycle
    # notifications -> moderation -> notifications.
    from apps.moderation.registry import registered

    for kind in registered():
        if kind.is_member:
            continue
        manager = kind.model._default_manager
        hidden = manager.filter(is_hidden=True).exclude(pk__in=manager.visible_to(user).values("pk"))
        qs = qs.exclude(target_type=ContentType.objects.get_for_model(kind.model), target_id__in=hidden.values("pk"))
    return qs


def notifications_of(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("actor__profile").order_by("-created_at", "-id")
    qs = _without_hidden_targets(qs, user)
    return qs.filter(read_at__isnull=True) if unread_only else qs


def unread_count(*, user: User) -> int:
    if not user.is_authenticated:
        return 0
    return _without_hidden_targets(Notification.objects.filter(recipient=user, read_at__isnull=True), user).count()


def preferences_of(*, user: User) -> list[dict]:
    """Every kind the member can receive, with their choice (or its default), grouped by
    the app that sends it (``group``: the app's name) in a fixed order. Kinds meant for
    organizers are left out for people who organize no community."""
    from django.apps import apps

    organizes = user.is_superuser or active_community_ids(user=user, as_organizer=True).exists()
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "delivery"))
    order = {config.label: i for i, config in enumerate(apps.get_app_configs())}
    kinds = [k for k in KINDS.values() if organizes or not k.for_organizers]
    return [
        {
            "kind": k.key,
            "label": k.label,
            "delivery": chosen.get(k.key, k.default),
            "default": k.default,
            "group": apps.get_app_config(k.group).verbose_name if k.group in order else k.group,
        }
        for k in sorted(kinds, key=lambda k: (order.get(k.group, len(order)), k.label))
    ]
