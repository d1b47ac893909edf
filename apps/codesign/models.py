"""Co-Design Mini Projects: small design challenges for a shared space.

An organizer posts a **challenge** for a shared space (a courtyard bench, a garden bed).
It moves through phases, in order: ideas -> proposals -> voting -> building -> done
(``apps/codesign/transitions.py`` declares who moves it and what each phase allows).
Neighbors post short **ideas** and +1 them; then submit **proposals** (Markdown, rendered
sanitized; photos through the shared image pipeline; cost in CREDIT, volunteer hours,
tools and skills needed); organizers answer them (accepted for voting, or not feasible,
with a reason). Members cast one **ballot** each (dots to spread, or approvals), secret
until voting closes. The winner becomes a **project** with **tasks**; an hour a
volunteer gives, confirmed by an organizer, is paid from the community's HOUR fund.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.moderation.moderatable import Moderatable, ModeratableQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}
HOURS = {"max_digits": 5, "decimal_places": 2}
MAX_DOTS = 20
FUND_NAME = "Co-design fund"  # the community account that pays budgets and volunteer hours


class Challenge(models.Model):
    """A design challenge for one shared space of a community."""

    class Phase(models.TextChoices):
        IDEAS = "ideas", gettext_lazy("Ideas")
        PROPOSALS = "proposals", gettext_lazy("Proposals")
        VOTING = "voting", gettext_lazy("Voting")
        BUILDING = "building", gettext_lazy("Building")
        DONE = "done", gettext_lazy("Done")

    class Method(models.TextChoices):
        DOTS = "dots", gettext_lazy("Dot voting")
        APPROVAL = "approval", gettext_lazy("Approval voting")

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="challenges")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    brief = models.TextField(
        max_length=5000, help_text=gettext_lazy("What the space needs, in a few paragraphs (Markdown).")
    )
    space = models.CharField(
        max_length=200, help_text=gettext_lazy("Where it is, e.g. 'the courtyard behind number 12'.")
    )
    constraints = models.TextField(max_length=2000, blank=True, help_text=gettext_lazy("What any design must respect."))
    approx_latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    approx_longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    budget = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))],
        help_text=gettext_lazy("Credits the community's co-design fund may spend on the winner(s); empty: no budget."),
    )  # fmt: skip
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.IDEAS)
    # When each phase is planned to end; moving a phase early or late adjusts them.
    ideas_until = models.DateTimeField()
    proposals_until = models.DateTimeField()
    voting_until = models.DateTimeField()
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.DOTS)
    dots = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(MAX_DOTS)],
        help_text=gettext_lazy("Dot voting: how many dots each member spreads."),
    )  # fmt: skip
    max_dots_per_proposal = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(MAX_DOTS)],
        help_text=gettext_lazy("Dot voting: the most dots one member puts on one proposal."),
    )  # fmt: skip
    live_totals = models.BooleanField(default=False, help_text=gettext_lazy("Show vote totals while voting is open."))
    spent = models.DecimalField(**MONEY, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ideas_until__lte=models.F("proposals_until"))
                & Q(proposals_until__lte=models.F("voting_until")),
                name="codesign_phase_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(max_dots_per_proposal__lte=models.F("dots")), name="codesign_dot_cap_within_dots"
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(spent__lte=models.F("budget")),
                name="codesign_spent_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("codesign:challenge", args=[self.pk])

    @property
    def voting_closed(self) -> bool:
        return self.phase in (self.Phase.BUILDING, self.Phase.DONE)


class PhaseEvent(models.Model):
    """A phase change of a challenge: who moved it, from what to what, and when."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Challenge.Phase.choices)
    target = models.CharField(max_length=10, choices=Challenge.Phase.choices)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


def photo_upload_path(instance, filename: str) -> str:
    import uuid

    return f"codesign/{uuid.uuid4().hex}.jpg"


class ChallengePhoto(models.Model):
    """A picture of the space: before the project, or after it ("done")."""

    class Kind(models.TextChoices):
        BEFORE = "before", gettext_lazy("Before")
        AFTER = "after", gettext_lazy("After")

    MAX_PER_KIND = 6

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    image = models.ImageField(upload_to=photo_upload_path)
    alt_text = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "created_at", "id"]

    def __str__(self) -> str:
        return self.alt_text or self.get_kind_display()


class Follow(models.Model):
    """A member following a challenge: told of its phase changes and new comments."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="follows")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["challenge", "member"], name="codesign_follow_once")]

    def __str__(self) -> str:
        return f"follows {self.challenge}"


class Idea(Moderatable):
    """A short idea posted during the ideas phase, to inspire proposals."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="ideas")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=300)
    plus_ones = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ModeratableQuerySet.as_manager()

    class Meta:
        ordering = ["-plus_ones", "created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]

    def get_absolute_url(self) -> str:
        return reverse("codesign:challenge", args=[self.challenge_id]) + f"#idea-{self.pk}"


class PlusOne(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "member"], name="codesign_plus_one_once")]

    def __str__(self) -> str:
        return "+1"


class Proposal(Moderatable):
    """A design proposed for a challenge. Drafts are seen by their authors only; an
    organizer's answer (accepted for voting, or not feasible with a reason) is shown once
    they publish it."""

    class Status(models.TextChoices):
        DRAFT = "draft", gettext_lazy("Draft")
        SUBMITTED = "submitted", gettext_lazy("Submitted")
        WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")
        ACCEPTED = "accepted", gettext_lazy("Accepted for voting")
        NOT_FEASIBLE = "not_feasible", gettext_lazy("Not feasible")

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    coauthors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=10_000, help_text=gettext_lazy("Markdown."))
    cost = models.DecimalField(**MONEY, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    hours = models.DecimalField(**HOURS, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    tools = models.ManyToManyField("tools.Tool", blank=True, related_name="+")
    tools_text = models.CharField(
        max_length=300, blank=True, help_text=gettext_lazy("Tools needed that the catalog lacks.")
    )
    skills = models.ManyToManyField("skills.Skill", blank=True, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    answer_reason = models.CharField(max_length=500, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer_published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ModeratableQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("codesign:proposal", args=[self.pk])


class ProposalVersion(models.Model):
    """The text of a proposal before an edit made after others commented on it: kept
    and shown, so a reply never loses what it replied to."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ProposalPhoto(models.Model):
    """A sketch or photo of a proposal, through the shared image pipeline."""

    MAX_PER_PROPOSAL = 6

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_upload_path)
    alt_text = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.alt_text or "picture"


class Comment(Moderatable):
    """A comment on a challenge or on one of its proposals; replies go one level deep."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="comments")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, null=True, blank=True, related_name="comments")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ModeratableQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]

    def get_absolute_url(self) -> str:
        base = self.proposal.get_absolute_url() if self.proposal_id else self.challenge.get_absolute_url()
        return f"{base}#comment-{self.pk}"


class Ballot(models.Model):
    """One member's vote in one challenge: changeable until voting closes, secret until
    then (only its voter reads it). Its row is the lock that keeps the dot limits."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["challenge", "voter"], name="codesign_one_ballot")]

    def __str__(self) -> str:
        return "ballot"


class BallotEntry(models.Model):
    """Dots (or, in approval voting, 1) one ballot puts on one proposal."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="entries")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    dots = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_DOTS)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "proposal"], name="codesign_entry_once"),
            models.CheckConstraint(condition=Q(dots__gte=1), name="codesign_entry_dots_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.dots} dots"


class Project(models.Model):
    """A winning proposal being built."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="projects")
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="project")
    votes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-votes", "id"]

    def __str__(self) -> str:
        return self.proposal.title


class Task(models.Model):
    """A piece of the build neighbors join: its hours are paid from the HOUR fund once
    an organizer confirms it done."""

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")
        DONE = "done", gettext_lazy("Done")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=120)
    skill = models.ForeignKey("skills.Skill", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    tool = models.ForeignKey("tools.Tool", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    hours = models.DecimalField(**HOURS, validators=[MinValueValidator(Decimal("0.25"))])
    date = models.DateField(null=True, blank=True)
    places = models.PositiveSmallIntegerField(default=2, validators=[MinValueValidator(1), MaxValueValidator(50)])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return self.title


class Volunteer(models.Model):
    """A member on a task. Confirmed by an organizer once done: its hours are paid from
    the community's HOUR fund (once: ``transfer`` and the idempotency key) and it is a
    completed exchange between the organizer and the volunteer."""

    class Status(models.TextChoices):
        JOINED = "joined", gettext_lazy("Joined")
        LEFT = "left", gettext_lazy("Left")
        CONFIRMED = "confirmed", gettext_lazy("Confirmed")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="volunteers")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.JOINED)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    transfer = models.OneToOneField(
        "ledger.Transfer", on_delete=models.PROTECT, null=True, blank=True, related_name="codesign_volunteer"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["task", "member"], name="codesign_volunteer_once")]

    def __str__(self) -> str:
        return f"volunteer on {self.task}"
