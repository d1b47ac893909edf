"""Reads for notifications."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from apps.peers.models import User

from .kinds import KINDS
from .models import Notification, Preference


def _without_hidden_targets(qs: QuerySet[Notification], user: User) -> QuerySet[Notification]:
    """Drop notifications about content moderation has hidden from this user: hidden
    content disappears from notifications as it does from every list (subqueries only)."""
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
    """Every registered kind with the member's choice (or its default)."""
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "delivery"))
    return [
        {"kind": k.key, "label": k.label, "delivery": chosen.get(k.key, k.default), "default": k.default}
        for k in sorted(KINDS.values(), key=lambda k: k.label)
    ]
