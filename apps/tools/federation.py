"""Tool sharing on the federation: tools as FEP-0837 Proposals, and loans to neighbours
from other servers through the tools' own booking rules (``apps.federation.registry``).

Registered from ``ToolsConfig.ready()``: a public tool (available, not hidden) is
announced to the communities that follow its community; a paused, retired, hidden or
deleted one is withdrawn. A remote request becomes a real ``Reservation`` for the
stand-in of the remote borrower (``reservation_request_remote``).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

S_TO_REMOTE = {
    "requested": "offered",
    "approved": "accepted",
    "declined": "rejected",
    "cancelled": "cancelled",
    "expired": "cancelled",
    "picked_up": "picked_up",
    "returned": "returned",
}


def _fields(tool):
    from apps.federation.registry import ProposalData

    return ProposalData(
        name=tool.title,
        content=tool.description,
        category=tool.category.name,
        url=f"{settings.SITE_URL.rstrip('/')}{tool.get_absolute_url()}",
        published=tool.created_at,
        # Tools keep no edit time: each announcement is the tool as it is now.
        updated=timezone.now(),
        unit="day",
        fee_amount=tool.fee_per_day or None,
        fee_unit="CREDIT" if tool.fee_per_day else None,
    )


def _is_public(tool) -> bool:
    return tool.status == tool.Status.ACTIVE and not tool.is_hidden


def _public_in(community_ids):
    from .models import Tool

    return (
        Tool.objects.filter(community_id__in=community_ids, status=Tool.Status.ACTIVE, is_hidden=False)
        .select_related("category")
        .order_by("id")
    )


def _request(tool, *, borrower, starts_at, ends_at, message, expected_fee_per_day):
    from .services import reservation_request_remote

    return reservation_request_remote(
        tool=tool,
        borrower=borrower,
        starts_at=starts_at,
        ends_at=ends_at,
        message=message,
        expected_fee_per_day=expected_fee_per_day,
    )


def _pickup(reservation, borrower):
    from .services import reservation_pickup_remote

    return reservation_pickup_remote(reservation=reservation, borrower=borrower)


def _cancel(reservation, actor):
    from .services import reservation_cancel

    return reservation_cancel(reservation=reservation, actor=actor)


def _tool_saved(sender, instance, created: bool = False, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    from apps.federation.services import listing_changed

    listing_changed(obj=instance, created=created)


def _tool_deleted(sender, instance, **kwargs) -> None:
    from apps.federation.services import listing_changed

    listing_changed(obj=instance)


def register() -> None:
    """Called once from ``ToolsConfig.ready()``."""
    from django.db.models.signals import post_delete, post_save

    from apps.federation.registry import BorrowAdapter, ListingType, register_listing

    from .models import Reservation, Tool

    register_listing(
        ListingType(
            kind="tool",
            model=Tool,
            community_id=lambda tool: tool.community_id,
            is_public=_is_public,
            fields=_fields,
            public_in=_public_in,
            borrow=BorrowAdapter(
                exchange_model=Reservation,
                request=_request,
                status=lambda reservation: S_TO_REMOTE.get(reservation.status, ""),
                pickup=_pickup,
                cancel=_cancel,
                fee_total=lambda reservation: reservation.fee_total,
                owner=lambda tool: tool.owner,
                currency="CREDIT",
            ),
        )
    )
    post_save.connect(_tool_saved, sender=Tool, dispatch_uid="tools.federation.save")
    post_delete.connect(_tool_deleted, sender=Tool, dispatch_uid="tools.federation.delete")
