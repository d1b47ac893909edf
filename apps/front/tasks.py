"""Thin Celery tasks computing cross-exchange suggestions (``apps.front.suggestions``).

Each takes an id, loads the thing and runs its pair function. Running one twice, or
retrying it, writes nothing new: suggestions are unique per (user, pair, source,
target). ``sweep_suggestions`` runs every 15 minutes: it is the only trigger for cleared
solar slots (the clearing claims slots with a bulk UPDATE, no signal fires) and for
older requests answered by a tool or an offer listed since; and it catches up on the
sources changed in the last hour whose own task was lost (a broker that was down when
``apps.front.signals`` queued it).
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from p2pcommons.resilience import DATABASE_LOST

from . import suggestions

RETRY = {"acks_late": True, "autoretry_for": DATABASE_LOST, "retry_backoff": True, "max_retries": 5}
# How far back the sweep looks: four runs' worth, so a slow or skipped run loses nothing.
SWEEP_WINDOW = timedelta(hours=1)


@shared_task(**RETRY)
def suggest_for_skill_request(request_id: int) -> int:
    from apps.skills.models import Request

    found = Request.objects.select_related("member__profile", "community").filter(pk=request_id).first()
    return suggestions.suggest_for_skill_request(found) if found else 0


@shared_task(**RETRY)
def suggest_for_unmet_tool(entry_id: int) -> int:
    from apps.tools.models import WaitlistEntry

    found = (
        WaitlistEntry.objects.select_related("tool__category", "tool__owner__profile", "member")
        .filter(pk=entry_id)
        .first()
    )
    return suggestions.suggest_for_unmet_tool(found) if found else 0


@shared_task(**RETRY)
def suggest_for_task_tool(task_id: int) -> int:
    from apps.codesign.models import Task

    found = Task.objects.select_related("project__challenge", "tool__owner__profile").filter(pk=task_id).first()
    return suggestions.suggest_for_task_tool(found) if found else 0


@shared_task(**RETRY)
def suggest_for_unfilled_buys(slot_id: int) -> int:
    from apps.solar.models import Slot

    found = Slot.objects.filter(pk=slot_id).first()
    return suggestions.suggest_for_unfilled_buys(found) if found else 0


@shared_task(**RETRY)
def sweep_suggestions() -> int:
    """Every 15 minutes, idempotently: the slots cleared in the last hour; the skill
    requests, waitlist entries and co-design tasks (or their volunteers) changed in it;
    and the open requests and waiting entries of communities where a tool or an offer
    of help was listed or changed in it (a new pipe wrench answers an older request)."""
    from apps.codesign.models import Task, Volunteer
    from apps.skills.models import Offer, Request
    from apps.solar.models import Slot
    from apps.tools.models import Tool, WaitlistEntry

    now = timezone.now()
    since = now - SWEEP_WINDOW
    runs = 0
    for slot_id in Slot.objects.filter(
        cleared_at__gte=since, status__in=(Slot.Status.CLEARED, Slot.Status.SETTLED)
    ).values_list("pk", flat=True):
        suggest_for_unfilled_buys(slot_id)
        runs += 1
    new_tools = set(Tool.objects.filter(created_at__gte=since).values_list("community_id", flat=True))
    new_offers = set(Offer.objects.filter(updated_at__gte=since).values_list("community_id", flat=True))
    open_requests = Request.objects.filter(status=Request.Status.OPEN, expires_at__gt=now)
    request_ids = set(open_requests.filter(updated_at__gte=since).values_list("pk", flat=True))
    request_ids |= set(open_requests.filter(community_id__in=new_tools | new_offers).values_list("pk", flat=True))
    for request_id in sorted(request_ids):
        suggest_for_skill_request(request_id)
        runs += 1
    waiting = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING, ends_at__gt=now)
    entry_ids = set(WaitlistEntry.objects.filter(created_at__gte=since).values_list("pk", flat=True))
    entry_ids |= set(waiting.filter(tool__community_id__in=new_offers).values_list("pk", flat=True))
    for entry_id in sorted(entry_ids):
        suggest_for_unmet_tool(entry_id)
        runs += 1
    task_ids = set(Task.objects.filter(created_at__gte=since, tool__isnull=False).values_list("pk", flat=True))
    task_ids |= set(
        Volunteer.objects.filter(created_at__gte=since, task__tool__isnull=False).values_list("task_id", flat=True)
    )
    for task_id in sorted(task_ids):
        suggest_for_task_tool(task_id)
        runs += 1
    return runs
