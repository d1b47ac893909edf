"""What organizers do to the market: stop a member trading (and let them again)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify
from apps.peers.guards import require_organizer
from apps.peers.models import Community, User
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

from ..models import TradingSuspension
from .orders import order_cancel_all


def trading_suspend(*, community: Community, member: User, actor: User, reason: str) -> TradingSuspension:
    """Stop ``member`` trading energy in ``community``: no new orders, their open ones
    cancelled; trades already cleared still settle. Recorded with who and why; the
    member is told the reason."""
    require_organizer(user=actor, community_id=community.pk, doing="stop a member's energy trading")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why; the member is told.")})
    try:
        with transaction.atomic():
            suspension = TradingSuspension.objects.create(
                community=community, member=member, reason=reason[:300], created_by=actor
            )
            cancelled = order_cancel_all(member=member, community_id=community.pk, reason=reason)
            # The reason is cut so that ". Reason: " and it fit in 300 characters.
            said = reason[: 300 - len(". Reason: ")]
            if not cancelled:
                text = Message(
                    "The organizers of {community} stopped your energy trading for now. Reason: {reason}",
                    community=community.name,
                    reason=said,
                )
            elif cancelled == 1:
                text = Message(
                    "The organizers of {community} stopped your energy trading for now "
                    "and cancelled {count} open order. Reason: {reason}",
                    community=community.name,
                    count=cancelled,
                    reason=said,
                )
            else:
                text = Message(
                    "The organizers of {community} stopped your energy trading for now "
                    "and cancelled {count} open orders. Reason: {reason}",
                    community=community.name,
                    count=cancelled,
                    reason=said,
                )
            notify(
                recipients=[member],
                kind="solar.cleared",
                text=text,
                actor=actor,
                url="/solar/",
            )
    except IntegrityError:
        raise RuleViolation(_("This member's trading is already stopped here."), code="already_suspended") from None
    return suspension


def trading_lift(*, suspension: TradingSuspension, actor: User) -> TradingSuspension:
    """Let the member trade again (the record stays, with who lifted it and when)."""
    require_organizer(user=actor, community_id=suspension.community_id, doing="let a member trade again")
    with transaction.atomic():
        changed = TradingSuspension.objects.filter(pk=suspension.pk, lifted_at__isnull=True).update(
            lifted_at=timezone.now(), lifted_by=actor
        )
        if changed:
            notify(
                recipients=[suspension.member],
                kind="solar.cleared",
                actor=actor,
                url="/solar/",
                text=Message("The organizers let you trade energy again."),
            )
    suspension.refresh_from_db()
    return suspension
