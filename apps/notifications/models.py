"""In-app notifications, with their email delivery state, and members' preferences."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .kinds import DELIVERIES


class Notification(models.Model):
    """Something a member should hear about, shown in-app and maybe emailed.

    Delivery state doubles as the outbox: ``delivered_at`` is set by the one delivery
    run that claims the row (a conditional UPDATE), so a retried or duplicated task
    never emails twice; rows still unclaimed after a while are picked up by a periodic
    task, so a broker that was down when the row was written loses nothing.

    A claim is a lease: while ``email`` is still ``pending`` or ``sending`` the row is in
    flight, held by ``claimed_by`` (the delivering task's id, then a random part) since
    ``delivered_at``. The email is marked ``sent`` only after it went out, so a worker
    that dies mid-send leaves the row in flight, and the redelivery of the same task, or
    the outbox sweep once the lease ran out, takes it over and sends it.
    """

    class Email(models.TextChoices):
        PENDING = "pending", gettext_lazy("Not yet decided")
        SENDING = "sending", gettext_lazy("Being emailed")
        SENT = "sent", gettext_lazy("Emailed")
        DIGEST = "digest", gettext_lazy("Waiting for the daily digest")
        DIGESTED = "digested", gettext_lazy("Sent in a digest")
        SKIPPED = "skipped", gettext_lazy("Not emailed (preference off, or read first)")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    text = models.CharField(max_length=300, help_text="The sentence in English (admin, search).")
    message = models.JSONField(
        null=True,
        blank=True,
        help_text="The sentence to translate and its values (p2pcommons.i18n.Message), shown in the reader's language.",
    )
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="When a delivery run claimed it.")
    claimed_by = models.CharField(max_length=200, blank=True, help_text="The delivery run holding it: task id/random.")
    email = models.CharField(max_length=16, choices=Email.choices, default=Email.PENDING)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notif_unread_idx"),
            models.Index(fields=["created_at"], condition=Q(delivered_at__isnull=True), name="notif_outbox_idx"),
            models.Index(
                fields=["delivered_at"],
                condition=Q(delivered_at__isnull=False, email__in=["pending", "sending"]),
                name="notif_in_flight_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def display(self) -> str:
        """The sentence in the active language (the reader's), from ``message`` when the
        notification was written as a ``Message``; the stored text otherwise."""
        if self.message:
            from p2pcommons.i18n import Message

            try:
                return str(Message.from_json(self.message))[:300]
            except (TypeError, ValueError, AttributeError):
                return self.text
        return self.text

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """A member's choice of email delivery for one kind (absent: the kind's default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=64)
    delivery = models.CharField(max_length=16, choices=[(d, d) for d in DELIVERIES])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} -> {self.delivery}"
