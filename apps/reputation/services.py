"""Writes for reviews and trust scores. The only home of their business rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Model, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.guards import membership_refuse_if_suspended
from apps.peers.models import User
from apps.peers.selectors import community_ids_of
from p2pcommons.enqueue import enqueue_on_commit
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

from . import registry, selectors
from .models import MAX_RATING, MIN_RATING, REVIEW_WINDOW, Review, TrustScore

# Bayesian average: (C * m + sum of ratings) / (C + n). C is how many "virtual" ratings
# of the prior m a member starts with, so a single 5-star review moves them only part
# of the way from the community's typical rating.
PRIOR_WEIGHT = 5
# The prior when nobody in the member's communities has a revealed rating yet: the
# middle of the 1-5 scale, claiming neither a good nor a bad reputation.
DEFAULT_PRIOR = Decimal(3)
SCORE_QUANTUM = Decimal("0.01")
COMMENT_MAX_LENGTH = Review._meta.get_field("comment").max_length
# Reviewers' weights change with time (see ``reviewer_weights``): scores older than this
# are recomputed by the hourly ``trust_refresh_stale``.
STALE_AFTER = timedelta(days=1)


def review_check(*, author: User, exchange: Model, now: datetime | None = None) -> registry.ExchangeType:
    """Raise ``RuleViolation`` unless ``author`` may review ``exchange`` now (a suspended
    member of the exchange's community may not, and is told why).

    Used by ``review_create`` under its lock, and by the review form to explain up front
    why there is no form. Takes no lock itself.
    """
    now = now or timezone.now()
    exchange_type = registry.exchange_type_of(exchange)
    first, second = exchange_type.parties_of(exchange)
    # A party may not be known yet (a build volunteer nobody has confirmed): then nobody
    # is a party of a finished exchange, and the answer is the same refusal.
    if first is None or second is None or author.pk not in (first.pk, second.pk):
        raise RuleViolation(_("Only the two parties of an exchange can review it."), code="not_a_party")
    if first.pk == second.pk:
        raise RuleViolation(_("You can't review an exchange with yourself."), code="not_a_party")
    completed_at = exchange_type.completed_at_of(exchange)
    if completed_at is None or completed_at > now:
        raise RuleViolation(_("This exchange isn't completed yet; review it once it is."), code="not_completed")
    if now >= completed_at + REVIEW_WINDOW:
        raise RuleViolation(_("The 14-day review window of this exchange has closed."), code="review_window_closed")
    if Review.objects.filter(**_exchange_filter(exchange), author=author).exists():
        raise RuleViolation(_("You already reviewed this exchange; reviews can't be changed."), code="already_reviewed")
    membership_refuse_if_suspended(
        user=author, community_id=exchange_type.community_of(exchange).pk, doing="write reviews"
    )
    return exchange_type


def review_invite(*, exchange: Model) -> None:
    """Invite both parties of a just-completed exchange to review each other (inside the
    caller's transaction; delivered after commit)."""
    from django.urls import reverse

    from apps.notifications.services import notify

    kind = registry.exchange_type_of(exchange)
    first, second = kind.parties_of(exchange)
    url = reverse("reputation:review-create", args=[kind.key, exchange.pk])
    for author, subject in ((first, second), (second, first)):
        notify(
            recipients=[author],
            kind="reputation.invited",
            target=exchange,
            url=url,
            text=Message(
                "How was your exchange with {name}? Review it within {days} days.",
                name=subject.public_name,
                days=REVIEW_WINDOW.days,
            ),
        )


def review_create(*, author: User, exchange: Model, rating: int, comment: str = "") -> Review:
    """Record ``author``'s review of the other party of ``exchange``; reveal both if it is the second.

    Rules: only the two parties, only after completion, within 14 days of it, once each.
    Locking: holds SELECT FOR UPDATE on the exchange row for the whole transaction, so the
    two parties' reviews of one exchange are written one after the other and the second
    always sees the first (and reveals both); the unique (exchange, author) constraint
    settles a party's double submit. Trust recomputes are enqueued on commit, only when
    reviews are revealed.
    """
    errors = {}
    if not isinstance(rating, int) or isinstance(rating, bool) or not MIN_RATING <= rating <= MAX_RATING:
        errors["rating"] = _("Give a rating from %(min)s to %(max)s stars.") % {"min": MIN_RATING, "max": MAX_RATING}
    if len(comment) > COMMENT_MAX_LENGTH:
        errors["comment"] = _("Keep the comment under %(count)s characters.") % {"count": COMMENT_MAX_LENGTH}
    if errors:
        raise ValidationError(errors)

    exchange_type = registry.exchange_type_of(exchange)
    with transaction.atomic():
        exchange = exchange_type.model._default_manager.select_for_update().get(pk=exchange.pk)
        now = timezone.now()
        review_check(author=author, exchange=exchange, now=now)
        first, second = exchange_type.parties_of(exchange)
        subject = second if author.pk == first.pk else first
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    **_exchange_filter(exchange),
                    community=exchange_type.community_of(exchange),
                    domain=exchange_type.domain,
                    author=author,
                    subject=subject,
                    rating=rating,
                    comment=comment,
                    created_at=now,
                    window_closes_at=exchange_type.completed_at_of(exchange) + REVIEW_WINDOW,
                )
        except IntegrityError:
            raise RuleViolation(
                _("You already reviewed this exchange; reviews can't be changed."), code="already_reviewed"
            ) from None
        both = Review.objects.filter(**_exchange_filter(exchange), revealed_at__isnull=True)
        if both.count() == 2 and both.update(revealed_at=now) == 2:
            review.revealed_at = now
            trust_recompute_on_commit(user_ids=[author.pk, subject.pk])
    return review


def reviews_reveal_expired(*, now: datetime | None = None) -> int:
    """Reveal every hidden review whose window has closed; return how many were revealed.

    Idempotent: the rows are claimed with a conditional UPDATE (``revealed_at IS NULL``),
    so a second or concurrent run reveals nothing twice. On PostgreSQL the candidates are
    locked with SELECT FOR UPDATE SKIP LOCKED, so concurrent runs split the work.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Review.objects.select_for_update(skip_locked=True)
            .filter(revealed_at__isnull=True, window_closes_at__lte=now)
            .values_list("pk", "subject_id")
        )
        if not due:
            return 0
        revealed = Review.objects.filter(pk__in=[pk for pk, _ in due], revealed_at__isnull=True).update(revealed_at=now)
        trust_recompute_on_commit(user_ids={subject_id for _, subject_id in due})
    return revealed


def trust_recompute_on_commit(*, user_ids: Iterable[int]) -> None:
    """Enqueue a trust recompute for each user once the current transaction commits.

    Domain apps may call this when they complete an exchange, so its parties' per-domain
    counts are current; scores themselves change only when reviews are revealed.
    """
    from .tasks import trust_recompute

    for user_id in sorted(set(user_ids)):
        enqueue_on_commit(trust_recompute, user_id, waits_for="the hourly refresh of stale trust scores")


def bayesian_score(
    *, prior: Decimal, rating_sum: Decimal | int, rating_count: Decimal | int, weight: int = PRIOR_WEIGHT
) -> Decimal:
    """(weight * prior + rating_sum) / (weight + rating_count), rounded half-even to 0.01.

    With no ratings the score is the prior; each rating pulls it towards the member's own
    average, and after many ratings it is close to that average. ``trust_recompute``
    passes weighted sums (see ``reviewer_weights``).
    """
    score = (weight * prior + Decimal(rating_sum)) / (weight + Decimal(rating_count))
    return score.quantize(SCORE_QUANTUM, rounding=ROUND_HALF_EVEN)


def counted_reviews() -> QuerySet[Review]:
    """The reviews that count towards trust: revealed, and not hidden by an organizer's
    decision (a review hidden automatically by reports counts until an organizer upholds
    a report about it)."""
    return Review.objects.not_hidden_by_decision().filter(revealed_at__isnull=False)


def community_prior(*, user: User, now: datetime | None = None) -> Decimal:
    """The mean of the counted ratings in the user's communities (those they belong to
    and those they were reviewed in), leaving out the ratings they wrote or received and
    those written by accounts younger than ``ESTABLISHED_ACCOUNT_DAYS``, so a member and
    their fresh accomplices can't set their own prior. ``DEFAULT_PRIOR`` when there are none.
    """
    now = now or timezone.now()
    communities = Q(community_id__in=community_ids_of(user=user)) | Q(
        community_id__in=Review.objects.filter(subject=user).values("community_id")
    )
    totals = (
        counted_reviews()
        .filter(communities, author__date_joined__lte=now - timedelta(days=selectors.ESTABLISHED_ACCOUNT_DAYS))
        .exclude(author=user)
        .exclude(subject=user)
        .aggregate(total=Sum("rating"), count=Count("id"))
    )
    if not totals["count"]:
        return DEFAULT_PRIOR
    return Decimal(totals["total"]) / Decimal(totals["count"])


def reviewer_weights(*, reviewer_ids: Iterable[int], now: datetime | None = None) -> dict[int, Decimal]:
    """How much each reviewer's word counts: 1 for an established member (see
    ``selectors.established_among``), ``NEWCOMER_WEIGHT`` for anyone else."""
    reviewer_ids = set(reviewer_ids)
    established = selectors.established_among(user_ids=reviewer_ids, now=now)
    return {pk: Decimal(1) if pk in established else selectors.NEWCOMER_WEIGHT for pk in reviewer_ids}


@transaction.atomic
def trust_recompute(*, user: User, now: datetime | None = None) -> TrustScore:
    """Recompute a member's trust score and per-domain counts from the database.

    The rule (stated in the README): each reviewer counts once, with the mean of their
    counted ratings of the member and their weight (``reviewer_weights``);
    score = (5·m + Σ wᵢ·r̄ᵢ) / (5 + Σ wᵢ) with m the ``community_prior``.
    ``rating_count`` is the number of distinct reviewers counted.

    Locking: holds SELECT FOR UPDATE on the member's TrustScore row while it reads, so two
    recomputes of one member run one after the other and the later one writes the later
    state. Running it again changes nothing.
    """
    now = now or timezone.now()
    trust, _created = TrustScore.objects.select_for_update().get_or_create(user=user)
    by_reviewer = list(
        counted_reviews()
        .filter(subject=user)
        .order_by()
        .values("author_id")
        .annotate(total=Sum("rating"), count=Count("id"))
        .values_list("author_id", "total", "count")
    )
    weights = reviewer_weights(reviewer_ids=[author_id for author_id, _, _ in by_reviewer], now=now)
    weighted_sum = sum((weights[a] * Decimal(total) / count for a, total, count in by_reviewer), Decimal(0))
    trust.rating_count = len(by_reviewer)
    trust.score = (
        bayesian_score(
            prior=community_prior(user=user, now=now), rating_sum=weighted_sum, rating_count=sum(weights.values())
        )
        if by_reviewer
        else None
    )
    counts = dict.fromkeys(registry.DOMAINS, 0)
    for exchange_type in registry.registered():
        counts[exchange_type.domain] += exchange_type.completed_for(user).count()
    for domain, value in counts.items():
        setattr(trust, f"{domain}_count", value)
    trust.updated_at = now
    trust.save()
    return trust


def trust_refresh_stale(*, now: datetime | None = None, batch: int = 500) -> int:
    """Recompute the trust of up to ``batch`` reviewed members whose score is a day old or
    more, oldest first; return how many. Hourly (celery beat, see migration 0004): a
    reviewer's weight grows as their account ages and they trade with more people, so
    scores are brought up to date even when no new review is revealed.

    Idempotent: a recompute reads the database and writes the same result twice; each
    member is recomputed in their own transaction (``trust_recompute`` locks their row).
    """
    now = now or timezone.now()
    due = list(
        TrustScore.objects.filter(rating_count__gt=0, updated_at__lte=now - STALE_AFTER)
        .order_by("updated_at", "user_id")
        .values_list("user_id", flat=True)[:batch]
    )
    for user in User.objects.filter(pk__in=due):
        trust_recompute(user=user, now=now)
    return len(due)


def _exchange_filter(exchange: Model) -> dict:
    return {"content_type": ContentType.objects.get_for_model(exchange), "object_id": exchange.pk}
