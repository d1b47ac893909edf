"""The catalog: tools, their photos, and what organizers may change about them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.peers.guards import require_active_member, require_exchange_in_use, require_organizer
from apps.peers.models import User

from .. import images
from ..models import (
    Tool,
    ToolPhoto,
)
from ..transitions import LISTING
from ._common import _require
from .waitlist import waitlist_offer_next

TOOL_FIELDS = (
    "title",
    "description",
    "category",
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
)


# --- the catalog -------------------------------------------------------------------
@transaction.atomic
def tool_create(*, owner: User, community, **fields) -> Tool:
    """List a tool in one of the owner's communities (validated like the model says), while
    the community uses tool sharing."""
    require_active_member(user=owner, community=community, doing="list tools")
    require_exchange_in_use(community_id=community.pk, key="tools", doing="list tools")
    unknown = set(fields) - set(TOOL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown tool fields: {sorted(unknown)}")
    tool = Tool(owner=owner, community=community, **fields)
    tool.full_clean()
    tool.save()
    return tool


@transaction.atomic
def tool_update(*, tool: Tool, actor: User, **fields) -> Tool:
    """The owner edits their listing (pausing or retiring it is ``status``)."""
    _require(actor, actor.pk == tool.owner_id, "the tool's owner")
    unknown = set(fields) - set(TOOL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown tool fields: {sorted(unknown)}")
    tool = Tool.objects.select_for_update().get(pk=tool.pk)
    was = tool.status
    wanted = fields.get("status", was)
    if wanted != was:
        # A change of status is one of the listing's steps (``LISTING``: pause, resume, retire).
        step = LISTING.step_between(was, wanted)
        if step is None:
            raise ValidationError({"status": _("Choose one of the listed statuses.")})
        LISTING.check(step, tool, actor)
    for name, value in fields.items():
        setattr(tool, name, value)
    tool.full_clean()
    tool.save()
    if was != Tool.Status.ACTIVE and tool.status == Tool.Status.ACTIVE:
        waitlist_offer_next(tool=tool)  # windows that freed while it was paused
    return tool


def tool_step(*, tool: Tool, actor: User, step: str) -> Tool:
    """The owner pauses, resumes or retires their listing (``LISTING``)."""
    LISTING.check(step, tool, actor)
    return tool_update(tool=tool, actor=actor, status=LISTING.by_name[step].target)


@transaction.atomic
def tool_set_status_by_organizer(*, tool: Tool, actor: User, status: str) -> Tool:
    """An organizer pauses, resumes or retires a tool of their community (e.g. after a
    damage report); resuming offers freed windows to the waitlist."""
    require_organizer(user=actor, community_id=tool.community_id, doing="change a tool's status")
    if status not in Tool.Status.values:
        raise ValidationError({"status": _("Choose one of the listed statuses.")})
    tool = Tool.objects.select_for_update().get(pk=tool.pk)
    was = tool.status
    Tool.objects.filter(pk=tool.pk).update(status=status)
    tool.refresh_from_db()
    from apps.federation.services import listing_changed

    listing_changed(obj=tool)
    if was != Tool.Status.ACTIVE and status == Tool.Status.ACTIVE:
        waitlist_offer_next(tool=tool)
    return tool


@transaction.atomic
def photo_add(*, tool: Tool, actor: User, upload, alt_text: str = "") -> ToolPhoto:
    """Add a photo to the owner's tool: checked, re-encoded, thumbnailed (``images``)."""
    _require(actor, actor.pk == tool.owner_id, "the tool's owner")
    if len(alt_text) > 200:
        raise ValidationError({"alt_text": _("At most 200 characters.")})
    tool = Tool.objects.select_for_update().get(pk=tool.pk)
    count = tool.photos.count()
    if count >= ToolPhoto.MAX_PER_TOOL:
        raise ValidationError(
            {"image": _("A tool can have at most %(count)s photos.") % {"count": ToolPhoto.MAX_PER_TOOL}}
        )
    full, thumb = images.process_upload(upload, field="image")
    photo = ToolPhoto(tool=tool, alt_text=alt_text.strip() or tool.title, position=count)
    photo.image.save("photo.jpg", full, save=False)
    photo.thumbnail.save("thumb.jpg", thumb, save=False)
    photo.save()
    return photo


@transaction.atomic
def photo_remove(*, photo: ToolPhoto, actor: User) -> None:
    _require(actor, actor.pk == photo.tool.owner_id, "the tool's owner")
    image, thumbnail = photo.image.name, photo.thumbnail.name
    storage = photo.image.storage
    photo.delete()
    for position, remaining in enumerate(ToolPhoto.objects.filter(tool_id=photo.tool_id).order_by("position", "id")):
        if remaining.position != position:
            ToolPhoto.objects.filter(pk=remaining.pk).update(position=position)

    def _delete_files():
        for name in (image, thumbnail):
            if name:
                storage.delete(name)

    transaction.on_commit(_delete_files)
