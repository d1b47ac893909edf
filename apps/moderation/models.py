"""Reports (flags) and the append-only audit log of what moderators did about them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from p2pcommons.db import AppendOnlyError, AppendOnlyModel

TEXT_MAX_LENGTH = 1000
LABEL_MAX_LENGTH = 200


class Reason(models.TextChoices):
    SPAM = "spam", gettext_lazy("Spam or advertising")
    HARASSMENT = "harassment", gettext_lazy("Harassment or bullying")
    HATE = "hate", gettext_lazy("Hateful or discriminatory")
    PRIVACY = "privacy", gettext_lazy("Shares someone's private information")
    SCAM = "scam", gettext_lazy("Scam or fraud")
    INAPPROPRIATE = "inappropriate", gettext_lazy("Inappropriate or offensive")
    OTHER = "other", gettext_lazy("Something else")


class Flag(models.Model):
    """A member's report about a piece of content or another member, in one community.

    ``target`` is anything registered in ``apps.moderation.registry``. ``community`` is
    the content's own community, or for a member the community the report is made in
    (one both belong to). ``target_label`` and ``target_author`` are taken when the
    report is made, so moderation lists read them without touching every target.
    A reporter has at most one open report per target (a partial unique constraint);
    once handled they may report it again. ``counts`` says whether the reporter had
    standing in the community when reporting (membership age and completed exchanges,
    see ``selectors.reporter_has_standing``): only such reports count toward the
    automatic hide; the others are kept and shown to organizers all the same.
    """

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")
        UPHELD = "upheld", gettext_lazy("Upheld")
        DISMISSED = "dismissed", gettext_lazy("Dismissed")

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags_made")
    community = models.ForeignKey("peers.Community", on_delete=models.CASCADE, related_name="flags")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    target_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="flags_received",
        help_text=gettext_lazy("Who wrote the reported content (or the reported member)."),
    )
    target_label = models.CharField(max_length=LABEL_MAX_LENGTH)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    text = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    counts = models.BooleanField(
        default=False,
        editable=False,
        help_text=gettext_lazy(
            "Whether the reporter was a member in good standing, so the report counts toward hiding."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "content_type", "object_id"],
                condition=Q(status="open"),
                name="moderation_flag_one_open_per_reporter_target",
            ),
            models.CheckConstraint(
                condition=Q(status="open", handled_at__isnull=True) | ~Q(status="open"),
                name="moderation_flag_open_is_unhandled",
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "status"]),
            models.Index(fields=["community", "status", "created_at"]),
            # The daily cap on a member's reports in a community.
            models.Index(fields=["reporter", "community", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Report of {self.target_label} ({self.get_reason_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ModerationQueueItem(Flag):
    """The admin's moderation queue: one row per reported target (its oldest open flag),
    with the number of open reports, sorted by that number and then by age."""

    class Meta:
        proxy = True
        verbose_name = gettext_lazy("moderation queue item")
        verbose_name_plural = gettext_lazy("moderation queue")


class AuditLogImmutableError(AppendOnlyError):
    """Raised on any attempt to change or delete a recorded moderation action."""


class ModerationAction(AppendOnlyModel):
    """One entry of the moderation audit log: who did what to what, where and why.

    Append-only: the model refuses updates and deletes, and on PostgreSQL a trigger
    refuses them in the database too. ``actor`` is empty for the automatic hide at the
    report threshold. ``subject`` is the member concerned (the author of the content, or
    the member warned or suspended); ``target_label`` is a snapshot taken at the time.
    """

    class Kind(models.TextChoices):
        AUTO_HIDE = "auto_hide", gettext_lazy("Hidden automatically")
        HIDE = "hide", gettext_lazy("Hid content")
        RESTORE = "restore", gettext_lazy("Restored content")
        WARN = "warn", gettext_lazy("Warned member")
        SUSPEND = "suspend", gettext_lazy("Suspended membership")
        REINSTATE = "reinstate", gettext_lazy("Reinstated membership")
        UPHOLD = "uphold", gettext_lazy("Upheld report")
        DISMISS = "dismiss", gettext_lazy("Dismissed report")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Kind.choices)
    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="moderation_actions")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    target_label = models.CharField(max_length=LABEL_MAX_LENGTH)
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    reason = models.TextField(max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    immutable_error = AuditLogImmutableError
    immutable_message = "The moderation log is append-only."

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "created_at"]), models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.target_label}"
