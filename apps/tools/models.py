"""Community Tool Sharing: tools that stay at their owners' homes, and reservations."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Category(models.Model):
    """A managed list of tool categories (organizers curate it in the admin)."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tool(models.Model):
    """A tool a member lends from home. Pickup is near the owner's approximate location."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Available to borrow"
        PAUSED = "paused", "Paused"
        RETIRED = "retired", "Retired"

    class Condition(models.TextChoices):
        NEW = "new", "Like new"
        GOOD = "good", "Good"
        WORN = "worn", "Worn but works"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tools")
    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="tools")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tools")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=5000, blank=True)
    condition = models.CharField(max_length=8, choices=Condition.choices, default=Condition.GOOD)
    usage_rules = models.TextField(max_length=2000, blank=True)
    deposit_note = models.CharField(max_length=200, blank=True)
    fee_per_day = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Optional fee in community credits per day, paid at pickup.",
    )
    max_loan_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    min_notice_hours = models.PositiveSmallIntegerField(default=2, validators=[MaxValueValidator(24 * 14)])
    buffer_hours = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(72)], help_text="Kept free after each loan, e.g. to clean it."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["community", "status", "category"])]

    def __str__(self) -> str:
        return self.title


class Reservation(models.Model):
    """A borrower's request for a window of a tool, and its way through pickup and return.

    ``blocked_until`` is ``ends_at`` plus the tool's buffer: the live reservations of
    one tool never overlap on [starts_at, blocked_until) (a PostgreSQL exclusion
    constraint, added by a migration that runs only there; on SQLite the service runs in
    an IMMEDIATE transaction).
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired (not picked up)"
        PICKED_UP = "picked_up", "Picked up"
        RETURNED = "returned", "Returned"

    LIVE = (Status.REQUESTED, Status.APPROVED, Status.PICKED_UP)

    tool = models.ForeignKey(Tool, on_delete=models.PROTECT, related_name="reservations")
    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="borrowings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField(editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="tools_reservation_ends_after_start"),
            models.CheckConstraint(condition=Q(blocked_until__gte=F("ends_at")), name="tools_reservation_buffer"),
        ]
        indexes = [models.Index(fields=["tool", "status", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.tool} for {self.borrower} from {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.PICKED_UP and self.ends_at < timezone.now()


class ReservationEvent(models.Model):
    """Each transition of a reservation: when, by whom, from which state to which."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


class Reminder(models.Model):
    """A reminder sent about a loan: one row per loan and kind, so it goes out once."""

    class Kind(models.TextChoices):
        PICKUP_TOMORROW = "pickup_tomorrow", "Pickup tomorrow"
        RETURN_TOMORROW = "return_tomorrow", "Return due tomorrow"
        OVERDUE = "overdue", "Overdue (to the borrower)"
        OVERDUE_ESCALATED = "overdue_escalated", "Overdue (to the owner and organizers)"

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reservation", "kind"], name="tools_reminder_once")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.reservation_id}"
