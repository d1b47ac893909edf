"""Skill Swap Network: a timebank. An hour of anyone's help is one time credit (HOUR)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.moderation.moderatable import Moderatable, ModeratableQuerySet
from p2pcommons.humanize import format_when

HOURS = {"max_digits": 5, "decimal_places": 2}
# How long the lists of one offer or request may be. Checked before anything is looked
# up (forms, API and services alike), so a payload of 2,000 ids costs nothing.
MAX_SKILLS = 10
MAX_TAGS = 10
MAX_WINDOWS = 21
MIN_HOURS = Decimal("0.25")
MAX_HOURS = Decimal("12.00")


class SkillCategory(models.Model):
    """A branch of the managed taxonomy (repair, garden, cooking, ...); site staff curate it."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = gettext_lazy("skill categories")

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """One skill under a category. Site-wide (``community`` empty) or added by the
    organizers of one community for their neighbors."""

    category = models.ForeignKey(SkillCategory, on_delete=models.PROTECT, related_name="skills")
    community = models.ForeignKey(
        "peers.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="skills",
        help_text=gettext_lazy("Empty: offered in every community."),
    )
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "community"], name="skills_skill_slug_per_community"),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(community__isnull=True), name="skills_skill_slug_site_wide"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A free tag members add to offers and requests ("fixie", "sourdough")."""

    name = models.SlugField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Listing(Moderatable, models.Model):
    """What offers and requests share: a member, skills and tags, where, open until when.

    ``latitude``/``longitude`` copy the member's approximate (rounded) location when the
    listing is saved, so matching can pre-filter candidates with an index. Members can
    report a listing; a hidden one leaves the directory, search and matching, and only
    its member and the community's organizers can still open it (``Moderatable``).
    """

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")
        CLOSED = "closed", gettext_lazy("Closed")

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=3000, blank=True)
    remote_ok = models.BooleanField(default=False, help_text=gettext_lazy("Can happen by video or phone."))
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True, editable=False)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True, editable=False)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN and self.expires_at > timezone.now()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def state_label(self) -> str:
        """What its badge says: open, closed, or (open but past its date) expired."""
        if self.is_open:
            return _("Open")
        return _("Closed") if self.status == self.Status.CLOSED else _("Expired")


class Offer(Listing):
    """An offer of help ("I can help with X"): skills, weekly availability, how far the helper travels."""

    LIFETIME = timedelta(days=180)

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skill_offers")
    skills = models.ManyToManyField(Skill, related_name="offers")
    tags = models.ManyToManyField(Tag, blank=True, related_name="offers")
    travel_km = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("3.0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("50"))],
        help_text=gettext_lazy("How far you go to help (km, up to 50)."),
    )

    objects = ModeratableQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["community", "status", "latitude", "longitude"])]

    def get_absolute_url(self) -> str:
        return reverse("skills:offer", args=[self.pk])


class AvailabilityWindow(models.Model):
    """A weekly time range when the helper is usually free (weekday 0 = Monday)."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="skills_window_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def get_weekday_display(self) -> str:
        return WEEKDAYS[self.weekday]


WEEKDAYS = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]


class Request(Listing):
    """A request for help ("I need help with X"): skills, the dates wanted, the hours it may take."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skill_requests")
    skills = models.ManyToManyField(Skill, related_name="requests")
    tags = models.ManyToManyField(Tag, blank=True, related_name="requests")
    wanted_from = models.DateField()
    wanted_until = models.DateField()
    estimated_hours = models.DecimalField(
        **HOURS, default=Decimal("1.00"), validators=[MinValueValidator(MIN_HOURS), MaxValueValidator(MAX_HOURS)]
    )
    match_notices = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text=gettext_lazy("How many of its matches the requester was told about.")
    )

    objects = ModeratableQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["community", "status", "latitude", "longitude"])]
        constraints = [
            models.CheckConstraint(condition=Q(wanted_until__gte=F("wanted_from")), name="skills_request_dates")
        ]

    def get_absolute_url(self) -> str:
        return reverse("skills:request", args=[self.pk])


class Match(models.Model):
    """A scored pairing of a request with an offer, kept while it is among the request's
    best. ``parts`` holds each part of the score, ``reasons`` the words shown to people;
    ``notified_at`` is claimed once, so nobody hears of one match twice."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="matches")
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="matches")
    score = models.DecimalField(max_digits=5, decimal_places=4)
    parts = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name_plural = gettext_lazy("matches")
        constraints = [models.UniqueConstraint(fields=["request", "offer"], name="skills_match_once")]

    def __str__(self) -> str:
        return f"{self.request} <- {self.offer} ({self.score})"

    def get_absolute_url(self) -> str:
        return reverse("skills:matches")


class MatchNoticeQuota(models.Model):
    """How many match notifications a member received on one day. Claimed with a
    conditional UPDATE (``used < limit``), so concurrent matching runs never tell one
    helper more than the daily limit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    used = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="skills_match_notice_quota_once")]

    def __str__(self) -> str:
        return f"{self.user} on {self.day}: {self.used}"


class Session(Moderatable, models.Model):
    """A time a helper gives: to one requester (agreed by both), or to a group of
    learners (a repair café) who join up to ``capacity``. Hours move per seat.
    Members can report one; a hidden group session takes no new learners and is shown
    only to its people and the community's organizers."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", gettext_lazy("Proposed")
        SCHEDULED = "scheduled", gettext_lazy("Booked")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")
        COMPLETED = "completed", gettext_lazy("Completed")

    helper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions_given")
    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(Request, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions")
    offer = models.ForeignKey(Offer, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions")
    title = models.CharField(max_length=120)
    starts_at = models.DateTimeField()
    planned_hours = models.DecimalField(
        **HOURS, validators=[MinValueValidator(MIN_HOURS), MaxValueValidator(MAX_HOURS)]
    )
    place = models.CharField(
        max_length=200, blank=True, help_text=gettext_lazy("Where you meet (leave empty if remote).")
    )
    remote = models.BooleanField(default=False)
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=gettext_lazy("More than 1: a group session."),
    )
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ModeratableQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["community", "status", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({format_when(self.starts_at)})"

    def get_absolute_url(self) -> str:
        return reverse("skills:session", args=[self.pk])

    @property
    def is_group(self) -> bool:
        return self.capacity > 1


class SessionEvent(models.Model):
    """Each change of a session's state: when, by whom (empty: the platform), from which
    state to which, with the note given (a reason for cancelling). The session page's
    timeline; written by ``apps.skills.transitions.SESSION``."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    from_status = models.CharField(max_length=9, blank=True)
    to_status = models.CharField(max_length=9)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


class Seat(models.Model):
    """One learner at a session. Both the learner and the helper confirm the hours it
    actually took; when both have, the settled hours move learner -> helper in HOUR,
    once (idempotency key ``skills-session:<session>:<learner>``). A seat is the
    completed exchange its two people review."""

    class Status(models.TextChoices):
        BOOKED = "booked", gettext_lazy("Booked")
        LEFT = "left", gettext_lazy("Cancelled")
        COMPLETED = "completed", gettext_lazy("Hours moved")
        DISPUTED = "disputed", gettext_lazy("Disputed")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="seats")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="session_seats")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.BOOKED)
    learner_hours = models.DecimalField(**HOURS, null=True, blank=True)
    helper_hours = models.DecimalField(**HOURS, null=True, blank=True)
    hours = models.DecimalField(**HOURS, null=True, blank=True, help_text=gettext_lazy("The hours that moved."))
    transfer = models.ForeignKey(
        "ledger.Transfer", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    dispute_reason = models.CharField(max_length=500, blank=True)
    settled_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text=gettext_lazy("When an organizer settled a dispute (final).")
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "learner"], name="skills_seat_once")]

    def __str__(self) -> str:
        return f"{self.learner} at {self.session}"

    def get_absolute_url(self) -> str:
        return reverse("skills:session", args=[self.session_id])
