"""Cross-exchange suggestions: one exchange's need pointed at another exchange's answer.

A ``Suggestion`` is written by a Celery task (``apps.front.tasks``) running one of the
pair functions of ``apps.front.suggestions`` and read through ``apps.front.selectors``,
which drops the ones whose source or target is gone or no longer visible. It names its
source and target by key (``"skills.request:12"``, ``"tools.tool:5"``) instead of by
foreign key, because they live in four apps the front door only reads; the unique
constraint makes recomputing a pair idempotent (``bulk_create(ignore_conflicts=True)``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy


class Suggestion(models.Model):
    """ "You asked for X; Y could help", shown to one member with the sentence saying why."""

    class Pair(models.TextChoices):
        SKILL_REQUEST_TOOLS = "skill_request_tools", gettext_lazy("A tool for a skill request")
        SKILL_REQUEST_HELPERS = "skill_request_helpers", gettext_lazy("A helper for a skill request")
        TOOL_WAIT_HELPERS = "tool_wait_helpers", gettext_lazy("A helper when no tool is free")
        TASK_TOOL_BOOKING = "task_tool_booking", gettext_lazy("Booking the tool a task needs")
        UNFILLED_BUYS_PRODUCER = "unfilled_buys_producer", gettext_lazy("Unfilled buy orders for a producer")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suggestions")
    pair = models.CharField(max_length=24, choices=Pair.choices)
    title = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, help_text=gettext_lazy("The plain sentence saying why."))
    url = models.CharField(max_length=300)
    source_key = models.CharField(max_length=60, help_text=gettext_lazy("What it answers, e.g. skills.request:12."))
    target_key = models.CharField(max_length=60, help_text=gettext_lazy("What it points to, e.g. tools.tool:5."))
    created_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "pair", "source_key", "target_key"], name="front_suggestion_once_per_pair"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "dismissed_at"], name="front_suggestion_user_open"),
            models.Index(fields=["source_key"], name="front_suggestion_source"),
        ]

    def __str__(self) -> str:
        return self.title
