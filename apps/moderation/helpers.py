"""Moderation's helpers: labels for reported things, the audit log's writer, and the
small steps the services in ``services.py`` share (split out to keep that module short)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.models import User
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

from . import registry, selectors  # noqa: F401
from .models import LABEL_MAX_LENGTH, TEXT_MAX_LENGTH, Flag, ModerationAction

REASON_REQUIRED = gettext_lazy("Give a reason: the member concerned and the audit log will show it.")
# At most this many reports by one member in one community in 24 hours, so reporting
# can't be used to flood the organizers (and, through them, everyone's notifications).
REPORTS_PER_DAY = 20
REPORTS_WINDOW = timedelta(hours=24)
SOMEONE_ELSE_DECIDES = gettext_lazy("another organizer or a site administrator must decide")


def target_label(*, target: Model, kind: registry.ModeratableType | None = None) -> str:
    """A short description of a reported thing that never quotes its content."""
    kind = kind or registry.moderatable_type_of(target)
    if kind.is_member:
        return f"member {target.public_name}"[:LABEL_MAX_LENGTH]
    return f"{noun_of(kind).msgid} #{target.pk} by {kind.author_of(target).public_name}"[:LABEL_MAX_LENGTH]


def noun_of(kind: registry.ModeratableType) -> Message:
    """The kind's noun ("review"), put into words in the reader's language when shown:
    a notification keeps it as a ``Message``, a refusal uses ``str()`` of it at once."""
    with translation.override("en"):
        english = str(kind.noun)
    return Message(english)


def _label_message(*, target: Model, kind: registry.ModeratableType) -> Message:
    """``target_label`` as a ``Message``, for notifications (the stored label stays English)."""
    if kind.is_member:
        return Message("member {name}", name=target.public_name)
    return Message(
        "{noun} #{number} by {name}", noun=noun_of(kind), number=target.pk, name=kind.author_of(target).public_name
    )


def _target_filter(target: Model) -> dict:
    return {"content_type": ContentType.objects.get_for_model(target), "object_id": target.pk}


def _refuse_own_case(*, actor: User, concerned: set[int], what: str) -> None:
    """Nobody moderates their own case, site superusers included: ``what`` names it."""
    if actor.pk in concerned:
        raise RuleViolation(
            _("You can't %(what)s: %(who)s.") % {"what": what, "who": SOMEONE_ELSE_DECIDES}, code="own_case"
        )


def _hidden_automatically(target: Model) -> bool:
    """Hidden by the report threshold and not yet decided by an organizer: the last
    hide/restore entry in the audit log about it is the automatic hide."""
    if not target.is_hidden:
        return False
    last = (
        ModerationAction.objects.filter(**_target_filter(target))
        .filter(action__in=[ModerationAction.Kind.AUTO_HIDE, ModerationAction.Kind.HIDE, ModerationAction.Kind.RESTORE])
        .order_by("-pk")
        .values_list("action", flat=True)
        .first()
    )
    return last == ModerationAction.Kind.AUTO_HIDE


def _counting_reporters(*, target: Model, community_id: int) -> int:
    """Distinct members in good standing with an open report on ``target`` in the community."""
    return (
        Flag.objects.filter(**_target_filter(target), community_id=community_id, status=Flag.Status.OPEN, counts=True)
        .values("reporter")
        .distinct()
        .count()
    )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": str(REASON_REQUIRED)})
    if len(reason) > TEXT_MAX_LENGTH:
        raise ValidationError({"reason": _("Keep the reason under %(count)s characters.") % {"count": TEXT_MAX_LENGTH}})
    return reason


def _record(
    *,
    action: str,
    actor: User | None,
    community_id: int,
    target: Model | None,
    subject: User,
    reason: str,
    flag: Flag | None = None,
    label: str | None = None,
) -> ModerationAction:
    """Log an action. ``target`` is None only for a report whose content was deleted
    since: the entry then names it by the report's type and id (and ``label``)."""
    where = (
        _target_filter(target)
        if target is not None
        else {"content_type_id": flag.content_type_id, "object_id": flag.object_id}
    )
    return ModerationAction.objects.create(
        action=action,
        actor=actor,
        community_id=community_id,
        **where,
        target_label=label or target_label(target=target),
        subject=subject,
        flag=flag,
        reason=reason,
        created_at=timezone.now(),
    )


def _queue_url(*, target: Model, community_id: int) -> str:
    ct = ContentType.objects.get_for_model(target)
    return (
        f"{reverse('admin:moderation_moderationqueueitem_changelist')}"
        f"?content_type__id__exact={ct.pk}&object_id={target.pk}&community__id__exact={community_id}"
    )


def _lock_content(target: Model) -> tuple[registry.ModeratableType, Model]:
    kind = registry.moderatable_type_of(target)
    if kind.is_member:
        raise RuleViolation(
            _("A member can't be hidden; warn or suspend their membership instead."), code="not_content"
        )
    return kind, kind.model._default_manager.select_for_update().get(pk=target.pk)


def _set_hidden(*, kind: registry.ModeratableType, target: Model, hidden: bool) -> None:
    target.is_hidden = hidden
    target.hidden_at = timezone.now() if hidden else None
    kind.model._default_manager.filter(pk=target.pk).update(is_hidden=target.is_hidden, hidden_at=target.hidden_at)
    if kind.on_visibility_change is not None:
        kind.on_visibility_change(target)


def _close_open_flags(*, target: Model, community_id: int, status: str, actor: User | None) -> int:
    return Flag.objects.filter(**_target_filter(target), community_id=community_id, status=Flag.Status.OPEN).update(
        status=status, handled_by=actor, handled_at=timezone.now()
    )
