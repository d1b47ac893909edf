"""Reviews of completed exchanges and the trust score they add up to."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.moderation.moderatable import Moderatable, ModeratableQuerySet

from .registry import DOMAINS

REVIEW_WINDOW = timedelta(days=14)
MIN_RATING, MAX_RATING = 1, 5


DOMAIN_CHOICES = list(DOMAINS.items())


class Review(Moderatable, models.Model):
    """One party's rating of the other after a completed exchange: blind, then public.

    ``exchange`` is any model registered in ``apps.reputation.registry``. A review is
    hidden (``revealed_at`` is null) from everyone, the other party included, until both
    parties have reviewed or ``window_closes_at`` (completion + 14 days) has passed.
    Reviews are never edited: ``apps.reputation.services.review_create`` is the only
    writer, and the admin is read-only. Members can report a review; moderation may
    hide it (``Moderatable``): read reviews through ``.visible_to(viewer)``.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    exchange = GenericForeignKey("content_type", "object_id")
    community = models.ForeignKey("peers.Community", on_delete=models.CASCADE, related_name="reviews")
    domain = models.CharField(max_length=16, choices=DOMAIN_CHOICES)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_written")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews_received")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(MIN_RATING), MaxValueValidator(MAX_RATING)])
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    window_closes_at = models.DateTimeField(help_text="When the exchange's 14-day review window closes.")
    revealed_at = models.DateTimeField(null=True, blank=True, help_text="Empty while the review is still hidden.")

    objects = ModeratableQuerySet.as_manager()

    class Meta:
        ordering = ["-revealed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "author"], name="reputation_review_once_per_party"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING), name="reputation_review_rating_1_to_5"
            ),
            models.CheckConstraint(condition=~Q(author=F("subject")), name="reputation_review_not_about_oneself"),
        ]
        indexes = [
            models.Index(fields=["subject", "revealed_at"]),
            models.Index(fields=["content_type", "object_id"]),
            # The beat task's scan: hidden reviews whose window has closed.
            models.Index(
                fields=["window_closes_at"], condition=Q(revealed_at__isnull=True), name="reputation_review_hidden"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author} on {self.subject}: {self.rating}/5"

    @property
    def is_revealed(self) -> bool:
        return self.revealed_at is not None


class TrustScore(models.Model):
    """A member's reputation, stored denormalized so every page can show it with a join.

    ``score`` is a Bayesian average of the counted ratings about them, each reviewer
    counted once and weighted by their standing (see ``services.trust_recompute`` and the
    README); ``rating_count`` is how many distinct reviewers count, and the ``*_count``
    fields count completed exchanges per domain. Recomputed by a task when one of their
    reviews is revealed, hidden or restored, never written elsewhere. Automatic decisions
    read ``selectors.trust_standing``, which adds the distinct people they traded with.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="trust"
    )
    score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    tools_count = models.PositiveIntegerField(default=0)
    skills_count = models.PositiveIntegerField(default=0)
    solar_count = models.PositiveIntegerField(default=0)
    codesign_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "trust score"

    def __str__(self) -> str:
        return f"{self.user}: {self.score or '-'} from {self.rating_count}"

    @property
    def has_ratings(self) -> bool:
        return self.rating_count > 0 and self.score is not None

    @property
    def completed_counts(self) -> dict[str, int]:
        """Completed exchanges per domain, in the order of ``registry.DOMAINS``."""
        return {domain: getattr(self, f"{domain}_count") for domain in DOMAINS}

    @property
    def completed_total(self) -> int:
        return sum(self.completed_counts.values())

    @property
    def rounded_score(self) -> Decimal | None:
        return None if self.score is None else self.score.quantize(Decimal("0.1"))
