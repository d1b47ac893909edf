"""Identity and communities: the peer core every exchange builds on."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class UserManager(BaseUserManager["User"]):
    """Creates users identified by email (there is no username)."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in with their email address.

    Everything others may see about them lives on ``Profile``; the email is private.
    """

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        # The public name, not the email: a user's str() ends up in admin pages,
        # logs and notifications that other members may see.
        return self.public_name

    @property
    def public_name(self) -> str:
        """The name shown to other members: the profile's display name."""
        profile = getattr(self, "profile", None)
        if profile is not None and profile.display_name:
            return profile.display_name
        return _("Neighbor #%(number)s") % {"number": self.pk}


def default_timezone() -> str:
    """A new community's time zone: the site's (``TIME_ZONE``)."""
    return settings.TIME_ZONE


def validate_timezone(value: str) -> None:
    import zoneinfo

    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Choose a time zone from the list, such as Europe/Amsterdam."), code="timezone")


def avatar_upload_path(instance, filename: str) -> str:
    """A random name: the uploader's file name never reaches storage or the public."""
    return f"avatars/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.jpg"


class Profile(models.Model):
    """What a member shares about themselves.

    Public: display name, bio, avatar, neighborhood and a location rounded to about
    500 m (the exact coordinates are never stored). Private: the exact address and
    phone, shown only to the other party of an approved exchange.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=80)
    bio = models.TextField(blank=True, max_length=2000)
    avatar = models.ImageField(upload_to=avatar_upload_path, blank=True)
    neighborhood = models.CharField(max_length=120, blank=True)
    approx_latitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
        help_text=gettext_lazy("Rounded to about 500 m."),
    )
    approx_longitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
        help_text=gettext_lazy("Rounded to about 500 m."),
    )
    exact_address = models.CharField(max_length=255, blank=True, help_text=gettext_lazy("Private."))
    phone = models.CharField(max_length=40, blank=True, help_text=gettext_lazy("Private."))
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=gettext_lazy("The language of pages, emails and notifications; empty: the browser's."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "id"]
        # The bounding box of a distance search (apps.peers.geo.bounding_box) is a range scan here.
        indexes = [models.Index(fields=["approx_latitude", "approx_longitude"], name="peers_profile_approx_loc_idx")]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("peers:profile", args=[self.user_id])

    @property
    def has_location(self) -> bool:
        return self.approx_latitude is not None and self.approx_longitude is not None


class Community(models.Model):
    """A neighborhood: its members share and trade with each other.

    ``center`` and ``radius_km`` say where it is; the default credit limits are what a
    new member's ledger accounts may go below zero to.
    """

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True, max_length=5000)
    center_latitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    center_longitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    radius_km = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("100"))],
    )
    default_hour_limit = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("-10"),
        validators=[MaxValueValidator(Decimal("0"))],
        help_text=gettext_lazy("How far below zero a member's HOUR balance may go."),
    )
    default_credit_limit = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("-50"),
        validators=[MaxValueValidator(Decimal("0"))],
        help_text=gettext_lazy("How far below zero a member's CREDIT balance may go."),
    )
    flag_threshold = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=gettext_lazy(
            "Content reported by this many different members is hidden until an organizer looks at it."
        ),
    )

    class JoinPolicy(models.TextChoices):
        OPEN = "open", gettext_lazy("Anyone may join")
        APPROVAL = "approval", gettext_lazy("An organizer approves each request to join")

    join_policy = models.CharField(
        max_length=16,
        choices=JoinPolicy.choices,
        default=JoinPolicy.OPEN,
        help_text=gettext_lazy("Whether people join at once, or ask and wait for an organizer's approval."),
    )
    flag_min_member_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MaxValueValidator(365)],
        help_text=gettext_lazy(
            "A report counts toward hiding content only from members who joined at least this many days ago."
        ),
    )
    flag_min_exchanges = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(100)],
        help_text=gettext_lazy("...and who have completed at least this many exchanges."),
    )
    hour_limit_floor = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("-40"),
        validators=[MaxValueValidator(Decimal("0")), MinValueValidator(Decimal("-1000"))],
        help_text=gettext_lazy("No member's HOUR limit may be set below this. Only a site administrator changes it."),
    )
    credit_limit_floor = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("-500"),
        validators=[MaxValueValidator(Decimal("0")), MinValueValidator(Decimal("-100000"))],
        help_text=gettext_lazy("No member's CREDIT limit may be set below this. Only a site administrator changes it."),
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default=default_timezone,
        validators=[validate_timezone],
        help_text=gettext_lazy("Times of this community's loans, sessions, slots and phases are shown in this zone."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "communities"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("peers:community", args=[self.slug])

    def clean(self) -> None:
        """The default limits lie within the floors a site administrator sets; no time
        zone given means the site's."""
        if not self.time_zone:
            self.time_zone = settings.TIME_ZONE
        errors = {}
        for limit, floor in (
            ("default_hour_limit", "hour_limit_floor"),
            ("default_credit_limit", "credit_limit_floor"),
        ):
            value, bound = getattr(self, limit), getattr(self, floor)
            if value is not None and bound is not None and value < bound:
                errors[limit] = _("This can't be below the community's floor of %(floor)s.") % {"floor": bound}
        if errors:
            raise ValidationError(errors)

    @property
    def requires_approval(self) -> bool:
        return self.join_policy == self.JoinPolicy.APPROVAL


class Membership(models.Model):
    """A member's place in a community: their role and whether they may act there.

    A suspended member can't post, book or trade in the community; ``status_reason``
    tells them why. Only ``apps.moderation.services`` suspends and reinstates.
    """

    class Role(models.TextChoices):
        MEMBER = "member", gettext_lazy("Member")
        ORGANIZER = "organizer", gettext_lazy("Organizer")

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Active")
        SUSPENDED = "suspended", gettext_lazy("Suspended")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.TextField(
        blank=True, max_length=1000, help_text=gettext_lazy("Why the membership is suspended; the member sees it.")
    )
    joined_at = models.DateTimeField(default=timezone.now)
    welcomed_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text=gettext_lazy("When the welcome email was sent (once).")
    )

    class Meta:
        ordering = ["community", "-role", "joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "community"], name="peers_membership_unique_user_community"),
        ]
        indexes = [models.Index(fields=["community", "role", "status"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.community} ({self.role})"

    @property
    def is_organizer(self) -> bool:
        return self.role == self.Role.ORGANIZER and self.status == self.Status.ACTIVE


class JoinRequest(models.Model):
    """Someone asking to join a community whose organizers approve each newcomer.

    At most one open ("requested") request per person and community, settled by a partial
    unique constraint. Approving creates the membership through the same service as an
    open join (``services.community_join``).
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", gettext_lazy("Waiting for an organizer")
        APPROVED = "approved", gettext_lazy("Approved")
        DECLINED = "declined", gettext_lazy("Declined")
        WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests")
    message = models.TextField(blank=True, max_length=1000, help_text=gettext_lazy("A few words to the organizers."))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "community"],
                condition=models.Q(status="requested"),
                name="peers_joinrequest_one_open_per_user_community",
            ),
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.community}"


class CommunityExchange(models.Model):
    """An exchange (a blueprint: tools, skills, solar, codesign) a community uses.

    A community uses an exchange while its row has no ``stopped_at``. Its organizers turn
    one on ("Use this blueprint", which also sets the blueprint's defaults) and off again;
    turned off, the exchange leaves the community's menus and pages and takes no new
    listings or requests there, while what was already agreed runs to its end.
    ``rules`` is the text members read on the blueprint's page for this community.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="exchanges")
    key = models.CharField(max_length=20)
    rules = models.TextField(blank=True, max_length=5000)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["community", "key"]
        constraints = [
            models.UniqueConstraint(fields=["community", "key"], name="peers_communityexchange_one_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} in {self.community}"

    @property
    def in_use(self) -> bool:
        return self.stopped_at is None
