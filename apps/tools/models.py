"""Community Tool Sharing: tools that stay at their owners' homes, and reservations."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.moderation.moderatable import Moderatable, ModeratableQuerySet
from p2pcommons.humanize import format_when


class Category(models.Model):
    """A managed list of tool categories (organizers curate it in the admin)."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = gettext_lazy("categories")

    def __str__(self) -> str:
        return self.name


# The rows every browse list starts from: active listings moderation has not hidden.
BROWSABLE = Q(status="active", is_hidden=False)


class Tool(Moderatable, models.Model):
    """A tool a member lends from home. Pickup is near the owner's approximate location.

    Members can report a listing; moderation hides it (``Moderatable``), and every read
    goes through ``Tool.objects.visible_to(viewer)``.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Available to borrow")
        PAUSED = "paused", gettext_lazy("Paused")
        RETIRED = "retired", gettext_lazy("Retired")

    class Condition(models.TextChoices):
        NEW = "new", gettext_lazy("Like new")
        GOOD = "good", gettext_lazy("Good")
        WORN = "worn", gettext_lazy("Worn but works")

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
        help_text=gettext_lazy("Optional fee in community credits per day, paid at pickup."),
    )
    max_loan_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    min_notice_hours = models.PositiveSmallIntegerField(default=2, validators=[MaxValueValidator(24 * 14)])
    buffer_hours = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(72)],
        help_text=gettext_lazy("Kept free after each loan, e.g. to clean it."),
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    auto_approve = models.BooleanField(
        default=False,
        help_text=gettext_lazy(
            "Approve requests at once from neighbors whose trust score and number of different neighbors they "
            "completed exchanges with reach the thresholds below."
        ),
    )
    auto_approve_min_score = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("4.00"),
        validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(Decimal("5.00"))],
        help_text=gettext_lazy("Lowest trust score (1 to 5) to approve automatically."),
    )
    auto_approve_min_exchanges = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(1000)],
        help_text=gettext_lazy(
            "Fewest different neighbors the borrower completed exchanges with (any kind; repeats with one "
            "person count once, brand-new accounts count little) to approve automatically."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ModeratableQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        # The browse list's order and filters (apps/tools/selectors.py says what each bought).
        indexes = [
            models.Index(fields=["community", "status", "category"]),
            models.Index(fields=["title", "id"], condition=BROWSABLE, name="tools_tool_browse_idx"),
            models.Index(fields=["community", "title", "id"], condition=BROWSABLE, name="tools_tool_comm_browse_idx"),
            models.Index(fields=["category", "title", "id"], condition=BROWSABLE, name="tools_tool_cat_browse_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tools:detail", args=[self.pk])


def _random_name(folder: str) -> str:
    # Never the uploader's file name: a random one, so names can't collide or leak.
    return f"tools/{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.jpg"


def photo_upload_path(instance, filename: str) -> str:
    return _random_name("photos")


def thumbnail_upload_path(instance, filename: str) -> str:
    return _random_name("thumbs")


def report_upload_path(instance, filename: str) -> str:
    return _random_name("reports")


class ToolPhoto(models.Model):
    """A photo of a tool, re-encoded on upload (EXIF and its location stripped), with a
    thumbnail for cards. Written only by ``services.photo_add``."""

    MAX_PER_TOOL = 8

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_upload_path, width_field="width", height_field="height")
    thumbnail = models.ImageField(upload_to=thumbnail_upload_path)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    alt_text = models.CharField(
        max_length=200, blank=True, help_text=gettext_lazy("Describe the photo for screen readers.")
    )
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"Photo {self.position + 1} of {self.tool}"


def loan_days(starts_at, ends_at) -> int:
    """Days a fee is charged for: every day begun counts as a whole one, at least one."""
    return max(1, -(-(ends_at - starts_at) // timedelta(days=1)))


class Reservation(models.Model):
    """A borrower's request for a window of a tool, and its way through pickup and return.

    ``blocked_until`` is ``ends_at`` plus the tool's buffer: the live reservations of
    one tool never overlap on [starts_at, blocked_until) (a PostgreSQL exclusion
    constraint, added by a migration that runs only there; on SQLite the service runs in
    an IMMEDIATE transaction).
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", gettext_lazy("Requested")
        APPROVED = "approved", gettext_lazy("Approved")
        DECLINED = "declined", gettext_lazy("Declined")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")
        EXPIRED = "expired", gettext_lazy("Expired (not picked up)")
        PICKED_UP = "picked_up", gettext_lazy("Picked up")
        RETURNED = "returned", gettext_lazy("Returned")

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
    fee_per_day = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        help_text=gettext_lazy(
            "The tool's fee per day when the loan was requested (none: free); later changes don't touch it."
        ),
    )
    fee_total = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        editable=False,
        help_text=gettext_lazy(
            "What the borrower pays at pickup, fixed when the loan was requested; nothing else is ever charged."
        ),
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="tools_reservation_ends_after_start"),
            models.CheckConstraint(condition=Q(blocked_until__gte=F("ends_at")), name="tools_reservation_buffer"),
            models.CheckConstraint(condition=Q(fee_total__gte=0), name="tools_reservation_fee_not_negative"),
        ]
        indexes = [
            models.Index(fields=["tool", "status", "starts_at"]),
            # Availability search: NOT EXISTS a live booking of the tool overlapping the window.
            models.Index(
                fields=["tool", "starts_at"],
                include=["blocked_until"],
                condition=Q(status__in=["requested", "approved", "picked_up"]),
                name="tools_res_live_window_idx",
            ),
            # My loans, newest first (the borrower's side; the owner's goes through tools_tool_owner).
            models.Index(fields=["borrower", "-starts_at", "-id"], name="tools_res_borrower_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tool} for {self.borrower} from {format_when(self.starts_at)}"

    def get_absolute_url(self) -> str:
        return reverse("tools:loan", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.PICKED_UP and self.ends_at < timezone.now()

    @property
    def fee_days(self) -> int:
        return loan_days(self.starts_at, self.ends_at)

    @property
    def has_fee(self) -> bool:
        return self.fee_total > 0


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
        PICKUP_TOMORROW = "pickup_tomorrow", gettext_lazy("Pickup tomorrow")
        RETURN_TOMORROW = "return_tomorrow", gettext_lazy("Return due tomorrow")
        OVERDUE = "overdue", gettext_lazy("Overdue (to the borrower)")
        OVERDUE_ESCALATED = "overdue_escalated", gettext_lazy("Overdue (to the owner and organizers)")

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reservation", "kind"], name="tools_reminder_once")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.reservation_id}"


class ConditionReport(models.Model):
    """The state of a tool at pickup or return, recorded by either party. A damage report
    (the owner, at return) also opens a moderation report about the borrower."""

    class Stage(models.TextChoices):
        PICKUP = "pickup", gettext_lazy("At pickup")
        RETURN = "return", gettext_lazy("At return")

    class Condition(models.TextChoices):
        NEW = "new", gettext_lazy("Like new")
        GOOD = "good", gettext_lazy("Good")
        WORN = "worn", gettext_lazy("Worn but works")
        DAMAGED = "damaged", gettext_lazy("Damaged")

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="condition_reports")
    stage = models.CharField(max_length=6, choices=Stage.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    condition = models.CharField(max_length=8, choices=Condition.choices)
    note = models.TextField(max_length=1000, blank=True)
    photo = models.ImageField(upload_to=report_upload_path, blank=True)
    damage = models.BooleanField(default=False, help_text=gettext_lazy("The owner reports damage to the organizers."))
    flag = models.ForeignKey(
        "moderation.Flag", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reservation", "stage", "author"], name="tools_condition_once_per_stage")
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.get_condition_display()}"


class WaitlistEntry(models.Model):
    """A member waiting for a window of a tool that was taken.

    When a live reservation ends early (declined, cancelled, expired) the first entry in
    line whose window is now free is offered it: the slot is held for that member until
    ``offer_expires_at``; if they don't book it by then, the next in line gets the offer.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", gettext_lazy("Waiting")
        OFFERED = "offered", gettext_lazy("Offered")
        BOOKED = "booked", gettext_lazy("Booked")
        LAPSED = "lapsed", gettext_lazy("Offer lapsed")
        WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")
        PASSED = "passed", gettext_lazy("Window passed")

    ACTIVE = (Status.WAITING, Status.OFFERED)

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, related_name="waitlist")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    reservation = models.OneToOneField(
        Reservation, on_delete=models.SET_NULL, null=True, blank=True, related_name="waitlist_entry"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = gettext_lazy("waitlist entries")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="tools_waitlist_ends_after_start"),
            models.UniqueConstraint(
                fields=["tool", "member"],
                condition=Q(status__in=["waiting", "offered"]),
                name="tools_waitlist_one_active_per_member",
            ),
        ]
        indexes = [models.Index(fields=["tool", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.member} waiting for {self.tool}"

    def get_absolute_url(self) -> str:
        return reverse("tools:waitlist")
