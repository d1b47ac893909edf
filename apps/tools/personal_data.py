"""What apps/tools holds about a member, for their data download (apps.privacy): the
tools they lend and their photos, their loans both ways (as borrower and as owner),
what happened to them, condition reports, reminders and waitlist places.

When a member moves house (``apps.privacy.move_house``), ``import_tool`` lists a tool
from their download again, through ``tool_create``.

The other party of a loan is named by their public display name; an owner's address
is never part of a loan's record."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.privacy.export import rows
from apps.privacy.registry import ImportItem, register_exporter, register_importer

from .models import Category, ConditionReport, Reminder, Reservation, ReservationEvent, Tool, ToolPhoto, WaitlistEntry

TOOL = [
    "id",
    "community_id",
    "title",
    "description",
    "condition",
    "usage_rules",
    "deposit_note",
    "fee_per_day",
    "max_loan_days",
    "min_notice_hours",
    "buffer_hours",
    "status",
    "auto_approve",
    "auto_approve_min_score",
    "auto_approve_min_exchanges",
    "created_at",
    "is_hidden",
]
LOAN = {
    "id": "id",
    "tool_id": "tool_id",
    "tool": "tool__title",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "status": "status",
    "message": "message",
    "created_at": "created_at",
    "picked_up_at": "picked_up_at",
    "returned_at": "returned_at",
    "fee_per_day": "fee_per_day",
    "fee_total": "fee_total",
}


def export(user) -> dict[str, list[dict]]:
    mine = Q(borrower=user) | Q(tool__owner=user)
    loans = Reservation.objects.filter(mine)
    return {
        "tools": rows(Tool.objects.filter(owner=user), {**{f: f for f in TOOL}, "category": "category__name"}),
        "tool_photos": rows(
            ToolPhoto.objects.filter(tool__owner=user),
            {
                "id": "id",
                "tool_id": "tool_id",
                "image_file": "image",
                "alt_text": "alt_text",
                "position": "position",
                "created_at": "created_at",
            },
        ),
        "loans_borrowed": rows(
            Reservation.objects.filter(borrower=user), {**LOAN, "owner": "tool__owner__profile__display_name"}
        ),
        "loans_lent": rows(
            Reservation.objects.filter(tool__owner=user), {**LOAN, "borrower": "borrower__profile__display_name"}
        ),
        "loan_events": rows(
            ReservationEvent.objects.filter(reservation__in=loans),
            {
                "id": "id",
                "reservation_id": "reservation_id",
                "from_status": "from_status",
                "to_status": "to_status",
                "note": "note",
                "by": "actor__profile__display_name",
                "created_at": "created_at",
            },
        ),
        "loan_condition_reports": rows(
            ConditionReport.objects.filter(reservation__in=loans),
            {
                "id": "id",
                "reservation_id": "reservation_id",
                "stage": "stage",
                "author": "author__profile__display_name",
                "condition": "condition",
                "note": "note",
                "damage": "damage",
                "created_at": "created_at",
            },
        ),
        "loan_condition_photos": rows(
            ConditionReport.objects.filter(author=user).exclude(photo=""),
            {"id": "id", "reservation_id": "reservation_id", "photo_file": "photo"},
        ),
        "loan_reminders": rows(
            Reminder.objects.filter(reservation__in=loans), ["id", "reservation_id", "kind", "sent_at"]
        ),
        "tool_waitlist": rows(
            WaitlistEntry.objects.filter(member=user),
            {
                "id": "id",
                "tool_id": "tool_id",
                "tool": "tool__title",
                "starts_at": "starts_at",
                "ends_at": "ends_at",
                "status": "status",
                "created_at": "created_at",
                "offered_at": "offered_at",
                "offer_expires_at": "offer_expires_at",
                "reservation_id": "reservation_id",
            },
        ),
    }


# The unit a tool's fee is counted in, in the open vocabulary (credits per day).
FEE_UNIT = "CREDIT"


def import_tool(*, user, community, item: ImportItem, paused: bool) -> Tool:
    """A tool from a member's download (``item``, checked by ``read_container``), listed
    again in ``community``: paused or available as they chose, under the category of the
    same name here (``ValidationError`` when there is none, or when its fee is not in
    credits). The listing rules are ``tool_create``'s."""
    from .services import tool_create

    fields = item.fields
    wanted = fields.category.strip()
    category = (
        Category.objects.filter(Q(name__iexact=wanted) | Q(slug=slugify(wanted)[:60])).first() if wanted else None
    )
    if category is None:
        raise ValidationError({"category": _("There is no tool category called “%(name)s” here.") % {"name": wanted}})
    values = {
        "title": fields.name,
        "description": fields.content,
        "category": category,
        "status": Tool.Status.PAUSED if paused else Tool.Status.ACTIVE,
    }
    if fields.fee_amount:
        if fields.fee_unit != FEE_UNIT:
            raise ValidationError({"fee_per_day": _("Its fee is not in community credits.")})
        values["fee_per_day"] = fields.fee_amount
    for name in ("condition", "usage_rules", "max_loan_days"):
        if name in item.extra:
            values[name] = item.extra[name]
    return tool_create(owner=user, community=community, **values)


register_exporter("tools", export)
register_importer("tools", kinds=("tool",), create=import_tool)
