"""Writes for moderation: reports, hiding and restoring, warnings and suspensions.

The only home of moderation's rules. Every action an organizer (or the automatic hide)
takes writes one ``ModerationAction`` to the append-only audit log, in the same
transaction as the change it records, and notifies the member concerned.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify
from apps.peers.guards import require_active_member, require_organizer
from apps.peers.models import Community, Membership, User
from apps.peers.selectors import membership_for_update, membership_for_update_by_id, membership_of, organizers_of
from apps.peers.services import staff_access_end_if_not_organizing, staff_access_grant_if_organizing
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

from . import registry, selectors
from .helpers import (
    REPORTS_PER_DAY,
    REPORTS_WINDOW,
    _close_open_flags,
    _counting_reporters,
    _hidden_automatically,
    _label_message,
    _lock_content,
    _queue_url,
    _record,
    _refuse_own_case,
    _require_reason,
    _set_hidden,
    _target_filter,
    noun_of,
    target_label,
)
from .models import TEXT_MAX_LENGTH, Flag, ModerationAction, Reason


# --- reports --------------------------------------------------------------------
def flag_create(
    *, reporter: User, target: Model, reason: str, text: str = "", community: Community | None = None
) -> Flag:
    """Report ``target`` (content, or a member) to the organizers of its community.

    Rules: the reporter is an active member of that community and can read the target;
    nobody reports their own content or themselves; a member is reported in a community
    both belong to (``community`` is required then, and ignored for content, which has
    its own); one open report per reporter and target; at most ``REPORTS_PER_DAY``
    reports by one member in one community in 24 hours.

    A report counts toward the automatic hide only when its reporter has standing in the
    community (``selectors.reporter_has_standing``); every report is kept and shown to
    organizers. When the number of distinct members in good standing with an open
    report on a piece of content reaches the community's ``flag_threshold``, it is
    hidden (until an organizer handles it), the automatic hide is logged with why and the
    organizers are notified, once.
    Locking: holds SELECT FOR UPDATE on the target row while it counts, so concurrent
    reports of one target are counted one after the other and exactly one of them
    crosses the threshold, and on the reporter's membership row, so one member's
    concurrent reports are capped one after the other; the partial unique constraint
    settles a double submit.
    """
    errors = {}
    if reason not in Reason.values:
        errors["reason"] = _("Choose one of the listed reasons.")
    if len(text or "") > TEXT_MAX_LENGTH:
        errors["text"] = _("Keep the explanation under %(count)s characters.") % {"count": TEXT_MAX_LENGTH}
    try:
        kind = registry.moderatable_type_of(target)
    except registry.UnknownModeratableType as exc:
        errors["target_type"] = str(exc)
        kind = None
    if kind is not None and kind.is_member and community is None:
        errors["community"] = _("Say in which community you report this member.")
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        target = kind.model._default_manager.select_for_update().get(pk=target.pk)
        if kind.is_member:
            author = target
            if membership_of(user=author, community=community) is None:
                raise RuleViolation(
                    _("%(name)s is not a member of %(community)s.")
                    % {"name": author.public_name, "community": community.name},
                    code="not_member",
                )
        else:
            author = kind.author_of(target)
            community = kind.community_of(target)
        membership_for_update(user=reporter, community_id=community.pk)  # the cap below: one report at a time
        require_active_member(user=reporter, community=community, doing=_("report anything"))
        now = timezone.now()
        recent = Flag.objects.filter(reporter=reporter, community=community, created_at__gt=now - REPORTS_WINDOW)
        if recent.count() >= REPORTS_PER_DAY:
            raise RuleViolation(
                _(
                    "You have sent %(count)s reports in %(community)s in the last 24 hours. "
                    "The organizers will look at them; you can report more tomorrow."
                )
                % {"count": REPORTS_PER_DAY, "community": community.name},
                code="too_many_reports",
            )
        if author.pk == reporter.pk:
            raise RuleViolation(_("You can't report your own %(noun)s.") % {"noun": noun_of(kind)}, code="own_content")
        if not kind.readable_by(reporter).filter(pk=target.pk).exists():
            raise RuleViolation(
                _("You can't report a %(noun)s you can't see.") % {"noun": noun_of(kind)}, code="not_visible"
            )
        open_flags = Flag.objects.filter(**_target_filter(target), status=Flag.Status.OPEN)
        if open_flags.filter(reporter=reporter).exists():
            raise RuleViolation(_("You already reported this; the organizers will look at it."), code="already_flagged")
        try:
            with transaction.atomic():
                flag = Flag.objects.create(
                    reporter=reporter,
                    community=community,
                    **_target_filter(target),
                    target_author=author,
                    target_label=target_label(target=target, kind=kind),
                    reason=reason,
                    text=(text or "").strip(),
                    counts=selectors.reporter_has_standing(reporter=reporter, community=community, now=now),
                    created_at=now,
                )
        except IntegrityError:
            raise RuleViolation(
                _("You already reported this; the organizers will look at it."), code="already_flagged"
            ) from None
        if not flag.counts:
            return flag
        reporters = _counting_reporters(target=target, community_id=community.pk)
        # Content: at or past the threshold while still visible (an organizer may have
        # lowered the threshold below the reports already open). Members: once, at it.
        reached = (
            reporters == community.flag_threshold
            if kind.is_member
            else reporters >= community.flag_threshold and not target.is_hidden
        )
        if reached:
            _threshold_reached(kind=kind, target=target, author=author, community=community, reporters=reporters)
    return flag


def _threshold_reached(
    *, kind: registry.ModeratableType, target: Model, author: User, community: Community, reporters: int
) -> None:
    url = _queue_url(target=target, community_id=community.pk)
    label = target_label(target=target, kind=kind)
    if kind.is_member:
        notify(
            recipients=organizers_of(community_id=community.pk),
            kind="moderation.flagged",
            text=Message(
                "{count} neighbors in good standing in {community} reported {label}.",
                count=reporters,
                community=community.name,
                label=_label_message(target=target, kind=kind),
            ),
            target=target,
            url=url,
        )
        return
    if not target.is_hidden:
        _set_hidden(kind=kind, target=target, hidden=True)
        _record(
            action=ModerationAction.Kind.AUTO_HIDE,
            actor=None,
            community_id=community.pk,
            target=target,
            subject=author,
            reason=f"Hidden automatically: {reporters} reports from members in good standing "
            f"(the community hides at {community.flag_threshold}); it still counts until an organizer decides.",
            label=label,
        )
        notify(
            recipients=[author],
            kind="moderation.hidden",
            text=Message(
                "Your {noun} in {community} was reported by several neighbors and is hidden "
                "until an organizer looks at it.",
                noun=noun_of(kind),
                community=community.name,
            ),
            target=target,
        )
    notify(
        recipients=organizers_of(community_id=community.pk),
        kind="moderation.flagged",
        text=Message(
            "{count} neighbors in good standing reported a {noun} by {name} in {community}; "
            "it is hidden until you decide.",
            count=reporters,
            noun=noun_of(kind),
            name=author.public_name,
            community=community.name,
        ),
        target=target,
        url=url,
    )


@transaction.atomic
def flag_uphold(*, flag: Flag, actor: User, reason: str) -> Flag:
    """Agree with a report. Content it is about is hidden by this decision (if it was
    hidden automatically, it now stays hidden and stops counting, e.g. in trust scores).

    Locking: holds SELECT FOR UPDATE on the flag, so a report is handled once.
    """
    return _handle_flag(flag=flag, actor=actor, reason=reason, status=Flag.Status.UPHELD)


@transaction.atomic
def flag_dismiss(*, flag: Flag, actor: User, reason: str) -> Flag:
    """Disagree with a report. Content hidden automatically is shown again once fewer
    members in good standing than the threshold still report it; content an organizer
    hid stays hidden (restore it for that).

    Locking: holds SELECT FOR UPDATE on the flag, so a report is handled once.
    """
    return _handle_flag(flag=flag, actor=actor, reason=reason, status=Flag.Status.DISMISSED)


def _handle_flag(*, flag: Flag, actor: User, reason: str, status: str) -> Flag:
    reason = _require_reason(reason)
    require_organizer(user=actor, community_id=flag.community_id, doing=_("moderate it"))
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    kind = registry.moderatable_type_for(f"{flag.content_type.app_label}.{flag.content_type.model}")
    target = flag.target
    concerned = {flag.target_author_id} | (kind.people_concerned_ids(target) if target is not None else set())
    _refuse_own_case(actor=actor, concerned=concerned, what=_("handle reports about you or about something of yours"))
    if not flag.is_open:
        raise RuleViolation(
            _("This report was already %(status)s.") % {"status": str(flag.get_status_display()).lower()},
            code="already_handled",
        )
    flag.status, flag.handled_by, flag.handled_at = status, actor, timezone.now()
    flag.save(update_fields=["status", "handled_by", "handled_at"])
    action = ModerationAction.Kind.UPHOLD if status == Flag.Status.UPHELD else ModerationAction.Kind.DISMISS
    _record(
        action=action,
        actor=actor,
        community_id=flag.community_id,
        target=target,
        subject=flag.target_author,
        reason=reason,
        flag=flag,
        label=flag.target_label,
    )
    if kind.is_member:
        return flag
    target = kind.model._default_manager.select_for_update().filter(pk=flag.object_id).first()
    if target is None:  # deleted content has nothing left to hide or show
        return flag
    if status == Flag.Status.UPHELD and (not target.is_hidden or _hidden_automatically(target)):
        _hide(kind=kind, target=target, actor=actor, reason=reason, community_id=flag.community_id)
    elif (
        status == Flag.Status.DISMISSED
        and _hidden_automatically(target)
        and _counting_reporters(target=target, community_id=flag.community_id) < flag.community.flag_threshold
    ):
        _show(kind=kind, target=target, actor=actor, reason=reason, community_id=flag.community_id)
    return flag


# --- content --------------------------------------------------------------------
@transaction.atomic
def content_hide(*, target: Model, actor: User, reason: str) -> Model:
    """Hide content from everyone but its author and the organizers; its open reports are
    upheld. Content hidden automatically by reports may be hidden again: the organizer's
    decision confirms it (it then stops counting, e.g. in trust scores). Nobody hides
    content they wrote or that is about them.

    Locking: holds SELECT FOR UPDATE on the content row.
    """
    reason = _require_reason(reason)
    kind = registry.moderatable_type_of(target)
    if not kind.is_member:
        require_organizer(user=actor, community_id=kind.community_of(target).pk, doing=_("moderate it"))
    kind, target = _lock_content(target)
    _refuse_own_case(
        actor=actor,
        concerned=kind.people_concerned_ids(target),
        what=_("hide a %(noun)s by you or about you") % {"noun": noun_of(kind)},
    )
    if target.is_hidden and not _hidden_automatically(target):
        raise RuleViolation(_("This %(noun)s is already hidden.") % {"noun": noun_of(kind)}, code="already_hidden")
    community_id = kind.community_of(target).pk
    _hide(kind=kind, target=target, actor=actor, reason=reason, community_id=community_id)
    _close_open_flags(target=target, community_id=community_id, status=Flag.Status.UPHELD, actor=actor)
    return target


def _hide(*, kind: registry.ModeratableType, target: Model, actor: User, reason: str, community_id: int) -> None:
    _set_hidden(kind=kind, target=target, hidden=True)
    author = kind.author_of(target)
    _record(
        action=ModerationAction.Kind.HIDE,
        actor=actor,
        community_id=community_id,
        target=target,
        subject=author,
        reason=reason,
    )
    notify(
        recipients=[author],
        kind="moderation.hidden",
        text=Message("An organizer hid your {noun}. Reason: {reason}", noun=noun_of(kind), reason=reason),
        target=target,
        actor=actor,
    )


@transaction.atomic
def content_restore(*, target: Model, actor: User, reason: str) -> Model:
    """Show hidden content again; its open reports are dismissed, so counting starts afresh.
    Nobody restores content they wrote or that is about them.

    Locking: holds SELECT FOR UPDATE on the content row.
    """
    reason = _require_reason(reason)
    kind = registry.moderatable_type_of(target)
    if not kind.is_member:
        require_organizer(user=actor, community_id=kind.community_of(target).pk, doing=_("moderate it"))
    kind, target = _lock_content(target)
    _refuse_own_case(
        actor=actor,
        concerned=kind.people_concerned_ids(target),
        what=_("restore a %(noun)s by you or about you") % {"noun": noun_of(kind)},
    )
    if not target.is_hidden:
        raise RuleViolation(_("This %(noun)s is not hidden.") % {"noun": noun_of(kind)}, code="not_hidden")
    community_id = kind.community_of(target).pk
    _close_open_flags(target=target, community_id=community_id, status=Flag.Status.DISMISSED, actor=actor)
    _show(kind=kind, target=target, actor=actor, reason=reason, community_id=community_id)
    return target


def _show(*, kind: registry.ModeratableType, target: Model, actor: User, reason: str, community_id: int) -> None:
    _set_hidden(kind=kind, target=target, hidden=False)
    author = kind.author_of(target)
    _record(
        action=ModerationAction.Kind.RESTORE,
        actor=actor,
        community_id=community_id,
        target=target,
        subject=author,
        reason=reason,
    )
    notify(
        recipients=[author],
        kind="moderation.restored",
        text=Message(
            "An organizer restored your {noun}: everyone can see it again. {reason}", noun=noun_of(kind), reason=reason
        ),
        target=target,
        actor=actor,
    )


# --- members --------------------------------------------------------------------
def _lock_membership(membership: Membership, actor: User) -> Membership:
    require_organizer(user=actor, community_id=membership.community_id, doing=_("moderate it"))
    return membership_for_update_by_id(membership_id=membership.pk)


@transaction.atomic
def member_warn(*, membership: Membership, actor: User, reason: str) -> ModerationAction:
    """Warn a member: the warning (with its reason) is logged and sent to them."""
    reason = _require_reason(reason)
    membership = _lock_membership(membership, actor)
    _refuse_own_case(actor=actor, concerned={membership.user_id}, what=_("warn yourself"))
    entry = _record(
        action=ModerationAction.Kind.WARN,
        actor=actor,
        community_id=membership.community_id,
        target=membership.user,
        subject=membership.user,
        reason=reason,
    )
    notify(
        recipients=[membership.user],
        kind="moderation.warning",
        text=Message(
            "A warning from the organizers of {community}: {reason}", community=membership.community.name, reason=reason
        ),
        target=membership.community,
        actor=actor,
        url=membership.community.get_absolute_url(),
    )
    return entry


@transaction.atomic
def membership_suspend(*, membership: Membership, actor: User, reason: str) -> Membership:
    """Suspend a membership: the member can't post, book, trade or report in that community
    and sees ``reason`` there. Organizers suspend members; only a site superuser may
    suspend an organizer (organizers don't police each other). Nobody suspends themselves.

    Locking: holds SELECT FOR UPDATE on the membership row.
    """
    reason = _require_reason(reason)
    membership = _lock_membership(membership, actor)
    _refuse_own_case(actor=actor, concerned={membership.user_id}, what=_("suspend yourself"))
    if membership.role == Membership.Role.ORGANIZER and not actor.is_superuser:
        raise RuleViolation(_("Only a site administrator can suspend an organizer."), code="organizer")
    if membership.status == Membership.Status.SUSPENDED:
        raise RuleViolation(
            _("%(name)s is already suspended.") % {"name": membership.user.public_name}, code="already_suspended"
        )
    membership.status, membership.status_reason = Membership.Status.SUSPENDED, reason
    membership.save(update_fields=["status", "status_reason"])
    staff_access_end_if_not_organizing(user=membership.user)
    _record(
        action=ModerationAction.Kind.SUSPEND,
        actor=actor,
        community_id=membership.community_id,
        target=membership.user,
        subject=membership.user,
        reason=reason,
    )
    notify(
        recipients=[membership.user],
        kind="moderation.suspended",
        text=Message(
            "Your membership in {community} is suspended. Reason: {reason}",
            community=membership.community.name,
            reason=reason,
        ),
        target=membership.community,
        actor=actor,
        url=membership.community.get_absolute_url(),
    )
    return membership


@transaction.atomic
def membership_reinstate(*, membership: Membership, actor: User, reason: str) -> Membership:
    """Lift a suspension; nobody lifts their own. Locking: holds SELECT FOR UPDATE on the
    membership row."""
    reason = _require_reason(reason)
    membership = _lock_membership(membership, actor)
    _refuse_own_case(actor=actor, concerned={membership.user_id}, what=_("reinstate yourself"))
    if membership.status != Membership.Status.SUSPENDED:
        raise RuleViolation(
            _("%(name)s is not suspended.") % {"name": membership.user.public_name}, code="not_suspended"
        )
    membership.status, membership.status_reason = Membership.Status.ACTIVE, ""
    membership.save(update_fields=["status", "status_reason"])
    staff_access_grant_if_organizing(user=membership.user)
    _record(
        action=ModerationAction.Kind.REINSTATE,
        actor=actor,
        community_id=membership.community_id,
        target=membership.user,
        subject=membership.user,
        reason=reason,
    )
    notify(
        recipients=[membership.user],
        kind="moderation.reinstated",
        text=Message(
            "Your membership in {community} is active again. {reason}",
            community=membership.community.name,
            reason=reason,
        ),
        target=membership.community,
        actor=actor,
        url=membership.community.get_absolute_url(),
    )
    return membership


# --- the queue ------------------------------------------------------------------
def _queue_target(flag: Flag) -> tuple[registry.ModeratableType, Model]:
    kind = registry.moderatable_type_for(f"{flag.content_type.app_label}.{flag.content_type.model}")
    target = kind.model._default_manager.filter(pk=flag.object_id).first()
    if target is None:
        raise RuleViolation(_("The reported item no longer exists."), code="gone")
    return kind, target


def queue_hide(*, flag: Flag, actor: User, reason: str) -> Model:
    """The queue's "hide" on the target of ``flag`` (see ``content_hide``)."""
    require_organizer(user=actor, community_id=flag.community_id, doing=_("moderate it"))
    return content_hide(target=_queue_target(flag)[1], actor=actor, reason=reason)


def queue_restore(*, flag: Flag, actor: User, reason: str) -> Model:
    """The queue's "restore" on the target of ``flag`` (see ``content_restore``)."""
    require_organizer(user=actor, community_id=flag.community_id, doing=_("moderate it"))
    return content_restore(target=_queue_target(flag)[1], actor=actor, reason=reason)


@transaction.atomic
def queue_resolve(*, flag: Flag, actor: User, reason: str, uphold: bool) -> int:
    """Uphold or dismiss every open report on the target of ``flag`` in its community; each
    is logged. Returns how many were handled."""
    _require_reason(reason)
    require_organizer(user=actor, community_id=flag.community_id, doing=_("moderate it"))
    handle = flag_uphold if uphold else flag_dismiss
    open_flags = Flag.objects.filter(
        content_type_id=flag.content_type_id,
        object_id=flag.object_id,
        community_id=flag.community_id,
        status=Flag.Status.OPEN,
    ).select_related("content_type")
    count = 0
    for each in open_flags.order_by("pk"):
        handle(flag=each, actor=actor, reason=reason)
        count += 1
    if not count:
        raise RuleViolation(_("There are no open reports on this any more."), code="already_handled")
    return count
