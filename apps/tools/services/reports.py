"""Condition reports at pickup and return, and the damage report they may open."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.models import User
from p2pcommons.errors import RuleViolation

from .. import images
from ..models import (
    ConditionReport,
    Reservation,
)
from ..transitions import (
    LOAN,
    REPORT_ACTIONS,
)


# --- condition reports ---------------------------------------------------------------
@transaction.atomic
def condition_report_create(
    *,
    reservation: Reservation,
    author: User,
    stage: str,
    condition: str,
    note: str = "",
    photo=None,
    damage: bool = False,
) -> ConditionReport:
    """Record the tool's state at pickup or return. Either party, once per stage; at
    pickup while the loan is approved or picked up, at return once picked up or returned.

    A damage report (the owner only, at return) also opens a moderation report about
    the borrower for the community's organizers, naming the tool and the note.
    """
    errors = {}
    if stage not in ConditionReport.Stage.values:
        errors["stage"] = _("Choose pickup or return.")
    if condition not in ConditionReport.Condition.values:
        errors["condition"] = _("Choose one of the listed conditions.")
    if len(note) > 1000:
        errors["note"] = _("At most 1000 characters.")
    if damage and not note.strip():
        errors["note"] = _("Describe the damage for the organizers.")
    if errors:
        raise ValidationError(errors)
    reservation = Reservation.objects.select_for_update().select_related("tool").get(pk=reservation.pk)
    if damage and stage != ConditionReport.Stage.RETURN:
        raise RuleViolation(_("Only the owner reports damage, at return."), code="forbidden")
    LOAN.check("report_damage" if damage else REPORT_ACTIONS[stage], reservation, author)
    report = ConditionReport(
        reservation=reservation,
        stage=stage,
        author=author,
        condition=ConditionReport.Condition.DAMAGED if damage else condition,
        note=note.strip(),
        damage=damage,
    )
    if photo:
        full, _thumb = images.process_upload(photo, field="photo", thumbnail=False)
        report.photo.save("report.jpg", full, save=False)
    if damage:
        report.flag = _damage_flag(reservation=reservation, owner=author, note=note.strip())
    report.save()
    return report


def _damage_flag(*, reservation: Reservation, owner: User, note: str):
    """Open (or reuse) the owner's report about the borrower in the tool's community."""
    from apps.moderation.models import Flag, Reason
    from apps.moderation.services import flag_create

    tool = reservation.tool
    text = f"Damage to {tool.title} on loan #{reservation.pk} ({timezone.localtime(reservation.starts_at):%d %b %Y}): "
    try:
        return flag_create(
            reporter=owner,
            target=reservation.borrower,
            reason=Reason.OTHER,
            text=(text + note)[:1000],
            community=tool.community,
        )
    except RuleViolation as exc:
        if exc.code != "already_flagged":
            raise
        return (
            Flag.objects.filter(reporter=owner, status=Flag.Status.OPEN, target_author=reservation.borrower)
            .order_by("-created_at")
            .first()
        )
