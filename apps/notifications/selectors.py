"""Reads for notifications."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, QuerySet

from apps.peers.models import User
from apps.peers.selectors import active_community_ids

from .kinds import KINDS
from .models import Notification, Preference


def _without_hidden_targets(
    qs: QuerySet[Notification], user: User, *, target_types: set[int] | None = None
) -> QuerySet[Notification]:
    """Drop notifications about content moderation has hidden from this user: hidden
    content disappears from notifications as it does from every list (subqueries only).
    ``target_types`` (content type ids) limits the check to the kinds that can be among
    the rows: each kind costs two subqueries to build, plan and run."""
    # Imported here, not at the top: apps.moderation imports apps.notifications at module
    # level (its services notify), so a top-level import would make the cycle
    # notifications -> moderation -> notifications.
    from apps.moderation.registry import registered

    for kind in registered():
        if kind.is_member:
            continue
        content_type = ContentType.objects.get_for_model(kind.model)
        if target_types is not None and content_type.pk not in target_types:
            continue
        manager = kind.model._default_manager
        hidden = manager.filter(is_hidden=True).exclude(pk__in=manager.visible_to(user).values("pk"))
        qs = qs.exclude(target_type=content_type, target_id__in=hidden.values("pk"))
    return qs


def notifications_of(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("actor__profile").order_by("-created_at", "-id")
    qs = _without_hidden_targets(qs, user)
    return qs.filter(read_at__isnull=True) if unread_only else qs


def unread_count(*, user: User) -> int:
    """The bell's number, on every page. One grouped query on the partial index of
    unread rows counts them by the kind of thing they are about; only when some are
    about content moderation can hide is the count with hidden content left out made,
    for those kinds only (measured on the scale data: the full check over every
    reportable kind cost about 27 ms per page, most of it building and planning
    subqueries for kinds no unread notification was about)."""
    if not user.is_authenticated:
        return 0
    from apps.moderation.registry import registered

    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    by_type = dict(unread.order_by().values_list("target_type_id").annotate(n=Count("id")))
    hideable = {ContentType.objects.get_for_model(kind.model).pk for kind in registered() if not kind.is_member} & set(
        by_type
    )
    if not hideable:
        return sum(by_type.values())
    return _without_hidden_targets(unread, user, target_types=hideable).count()


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
