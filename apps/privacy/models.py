"""A member's data export jobs, and the record that an account was deleted."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _token() -> str:
    return secrets.token_urlsafe(32)


class ExportJob(models.Model):
    """One "download my data" request: built by a Celery task, downloadable through
    ``token`` by its owner until ``expires_at``. At most one queued or running job per
    member (a second request while one runs gets the same job).

    A running job is held by one build: ``claimed_by`` names it (the Celery task id, then
    a random part) and ``lease_until`` says until when the claim holds unless renewed. A
    redelivery of the same task (its worker died) or any build once the lease ran out
    takes the job over; a build that lost its claim changes nothing."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being prepared"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=120, blank=True, help_text="What the task is doing now.")
    token = models.CharField(max_length=64, unique=True, default=_token)
    file = models.CharField(max_length=255, blank=True, help_text="Path of the zip under EXPORT_ROOT.")
    size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True, help_text="The build holding the job: task id/random.")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="The build's claim holds until then.")
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["queued", "running"]),
                name="privacy_one_open_export_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.status})"


class Erasure(models.Model):
    """An account that was deleted: the stable pseudonym it appears under in records that
    stay (the ledger, completed exchanges, reviews), and when. Who it was is not kept."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure")
    pseudonym = models.CharField(max_length=40, unique=True)
    erased_at = models.DateTimeField(default=timezone.now)
    cancelled = models.PositiveIntegerField(default=0, help_text="Open commitments cancelled.")
    # The communities the member belonged to when the account was deleted: what lets an
    # organizer see, in the admin, that one of their members left this way (never who).
    communities = models.ManyToManyField("peers.Community", blank=True, related_name="+")

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return self.pseudonym


class MovedItem(models.Model):
    """One thing "Move house" brought in from a data download made on another server:
    where it came from (its address there), into which community, and what it became
    here. Importing the same file again finds these rows and creates nothing new; the
    constraint settles two imports of one file at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("peers.Community", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=2048)
    source_hash = models.CharField(max_length=64, help_text="sha256 of source (the unique key).")
    kind = models.CharField(max_length=20)
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "community", "source_hash"], name="privacy_moved_item_once_per_community"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} from {self.source[:80]}"
