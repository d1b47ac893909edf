"""Queue the suggestion pairs when their sources change (connected by ``FrontConfig.ready``).

A receiver only queues a task, after the transaction commits, through
``p2pcommons.enqueue``; the pair functions decide everything. Saving a skill request,
a waitlist entry, a co-design task or a volunteer (joining or leaving a task) recomputes
the suggestions of that source. Cleared solar slots have no signal (the clearing writes
them in bulk): the 15-minute sweep picks them up, and anything whose task was lost.
"""

from __future__ import annotations

from django.db.models.signals import post_save

from p2pcommons.enqueue import enqueue_on_commit

SWEEP = "the 15-minute suggestions sweep"


def _request_saved(sender, instance, raw=False, **kwargs) -> None:
    from . import tasks

    if not raw:
        enqueue_on_commit(tasks.suggest_for_skill_request, instance.pk, waits_for=SWEEP)


def _waitlist_saved(sender, instance, raw=False, **kwargs) -> None:
    from . import tasks

    if not raw:
        enqueue_on_commit(tasks.suggest_for_unmet_tool, instance.pk, waits_for=SWEEP)


def _task_saved(sender, instance, raw=False, created=False, **kwargs) -> None:
    from . import tasks

    # A task without a tool needs nothing, unless it had one: then its suggestions go.
    if not raw and (instance.tool_id is not None or not created):
        enqueue_on_commit(tasks.suggest_for_task_tool, instance.pk, waits_for=SWEEP)


def _volunteer_saved(sender, instance, raw=False, **kwargs) -> None:
    from . import tasks

    if not raw:
        enqueue_on_commit(tasks.suggest_for_task_tool, instance.task_id, waits_for=SWEEP)


def connect() -> None:
    """Listen to the sources of the pairs (called once, from ``FrontConfig.ready``)."""
    from apps.codesign.models import Task, Volunteer
    from apps.skills.models import Request
    from apps.tools.models import WaitlistEntry

    post_save.connect(_request_saved, sender=Request, dispatch_uid="front-suggest-skill-request")
    post_save.connect(_waitlist_saved, sender=WaitlistEntry, dispatch_uid="front-suggest-waitlist")
    post_save.connect(_task_saved, sender=Task, dispatch_uid="front-suggest-task")
    post_save.connect(_volunteer_saved, sender=Volunteer, dispatch_uid="front-suggest-volunteer")
