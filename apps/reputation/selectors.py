"""Reads for reviews and trust scores, with their query budgets.

Blindness lives here: a hidden review (``revealed_at`` is null) is returned only to its
author, never to its subject or anyone else. So does moderation: a review hidden by
moderation (``is_hidden``) is returned only to its author and the community's organizers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

from apps.peers.models import User
from apps.peers.selectors import community_ids_of

from . import registry
from .models import Review, TrustScore

# Who counts fully towards someone else's reputation (see ``is_established`` and the
# README's trust paragraph): an account at least this old...
ESTABLISHED_ACCOUNT_DAYS = 30
# ...that has completed exchanges with at least this many different people.
ESTABLISHED_COUNTERPARTS = 3
# Everyone else (brand-new accounts, a sock puppet's circle) counts with this weight:
# four such people together count as one established neighbor.
NEWCOMER_WEIGHT = Decimal("0.25")

_REVIEW_RELATED = ("author__profile", "subject__profile", "content_type")


def readable_reviews(reviews: QuerySet[Review], *, viewer: User | None) -> QuerySet[Review]:
    """Narrow ``reviews`` to what ``viewer`` may read at all: revealed ones and their own
    (blindness), and only in communities they belong to, besides those they wrote or
    received (who traded with whom is the community's business). Site superusers read
    every community's; anonymous visitors none."""
    if viewer is None or not viewer.is_authenticated:
        return reviews.none()
    readable = reviews.filter(Q(revealed_at__isnull=False) | Q(author_id=viewer.pk))
    if viewer.is_superuser:
        return readable
    return readable.filter(
        Q(community_id__in=community_ids_of(user=viewer)) | Q(author_id=viewer.pk) | Q(subject_id=viewer.pk)
    )


def reviews_about(*, user: User, viewer: User | None) -> QuerySet[Review]:
    """Revealed reviews about ``user`` that ``viewer`` may see (in communities the viewer
    belongs to; none hidden by moderation unless they wrote it or moderate it), newest
    first, authors' profiles joined (one query)."""
    return (
        readable_reviews(Review.objects.visible_to(viewer), viewer=viewer)
        .filter(subject=user, revealed_at__isnull=False)
        .select_related(*_REVIEW_RELATED)
        .order_by("-revealed_at", "-id")
    )


def reviews_visible_to(
    *, viewer: User, subject_id: int | None = None, author_id: int | None = None
) -> QuerySet[Review]:
    """Reviews ``viewer`` may read (``readable_reviews``), less those moderation hid from them.

    Optionally only those about ``subject_id`` and/or by ``author_id``. One query per page.
    """
    reviews = readable_reviews(Review.objects.visible_to(viewer), viewer=viewer)
    if subject_id is not None:
        reviews = reviews.filter(subject_id=subject_id)
    if author_id is not None:
        reviews = reviews.filter(author_id=author_id)
    return reviews.select_related(*_REVIEW_RELATED).order_by("-created_at", "-id")


def exchange_reviews_for(*, exchange: Model, viewer: User) -> tuple[Review | None, Review | None]:
    """(the viewer's own review of ``exchange``, the other party's if it is revealed and
    not hidden by moderation)."""
    reviews = (
        Review.objects.visible_to(viewer)
        .filter(content_type=ContentType.objects.get_for_model(exchange), object_id=exchange.pk)
        .select_related(*_REVIEW_RELATED)
    )
    mine = theirs = None
    for review in reviews:
        if review.author_id == viewer.pk:
            mine = review
        elif review.is_revealed:
            theirs = review
    return mine, theirs


def trust_of(user: User) -> TrustScore | None:
    """The member's trust score, or None before their first recompute.

    Free when the caller ``select_related("...user__trust")``; one query otherwise.
    """
    try:
        return user.trust
    except TrustScore.DoesNotExist:
        return None


@dataclass(frozen=True)
class TrustStanding:
    """What an automatic decision about a member may rely on.

    ``score``: their trust score (None before any counted review). ``counterparts``: the
    distinct people they completed exchanges with, each established one counting 1 and
    the others ``NEWCOMER_WEIGHT`` (rounded down); repeating exchanges with the same
    person adds nothing.
    """

    score: Decimal | None
    counterparts: int


def trust_standing(*, user: User, now: datetime | None = None) -> TrustStanding:
    """``user``'s trust standing, computed now from the database (three queries: the
    stored score, their counterparts, and those counterparts' own counterparts)."""
    now = now or timezone.now()
    score = TrustScore.objects.filter(user_id=user.pk, rating_count__gt=0).values_list("score", flat=True).first()
    people = counterparts_of(user_ids=[user.pk]).get(user.pk, set())
    established = established_among(user_ids=people, now=now)
    weighted = len(established) + NEWCOMER_WEIGHT * (len(people) - len(established))
    return TrustStanding(score=score, counterparts=int(weighted))


def counterparts_of(*, user_ids: Collection[int], since: datetime | None = None) -> dict[int, set[int]]:
    """For each of ``user_ids``: the ids of the distinct people they completed an exchange
    with, over every registered exchange type (one query, a UNION over the types).

    ``since`` (optional) keeps only people whose account was created no later than it.
    """
    user_ids = list(user_ids)
    queries = []
    for kind in registry.registered():
        completed = kind.model._default_manager.filter(**{f"{kind.completed_at}__isnull": False}).exclude(
            **{kind.parties[0]: F(kind.parties[1])}
        )
        for me, other in (kind.parties, kind.parties[::-1]):
            pairs = completed.filter(**{f"{me}__in": user_ids})
            if since is not None:
                pairs = pairs.filter(**{f"{me}__date_joined__lte": since})
            queries.append(pairs.values_list(me, other).order_by())
    if not user_ids or not queries:
        return {}
    found: dict[int, set[int]] = {}
    for person, other in queries[0].union(*queries[1:]):
        found.setdefault(person, set()).add(other)
    return found


def established_among(*, user_ids: Collection[int], now: datetime | None = None) -> set[int]:
    """Those of ``user_ids`` whose word counts fully: an account at least
    ``ESTABLISHED_ACCOUNT_DAYS`` old with at least ``ESTABLISHED_COUNTERPARTS`` distinct
    people they completed exchanges with (one query)."""
    now = now or timezone.now()
    since = now - timedelta(days=ESTABLISHED_ACCOUNT_DAYS)
    found = counterparts_of(user_ids=user_ids, since=since)
    return {person for person, others in found.items() if len(others) >= ESTABLISHED_COUNTERPARTS}


def completed_exchange_count(*, user: User, community_id: int) -> int:
    """How many exchanges ``user`` completed in one community, over every registered
    exchange type (one query per type)."""
    return sum(
        kind.completed_for(user).filter(**{kind.community: community_id}).count() for kind in registry.registered()
    )


@dataclass(frozen=True)
class ReviewToWrite:
    """A completed exchange ``user`` may still review: its type key (the review form's
    ``exchange_type``), id, domain, the other party's name, and when the window closes."""

    exchange_type: str
    exchange_id: int
    domain: str
    other_name: str
    completed_at: datetime
    window_closes_at: datetime


def reviews_to_write(*, user: User, now: datetime | None = None, limit: int = 20) -> list[ReviewToWrite]:
    """The completed exchanges ``user`` took part in whose 14-day review window is still
    open and that they have not reviewed yet, in communities where they are an active
    member (a suspended member may not review), the window closing soonest first.

    What ``services.review_check`` would accept, read in one query per registered
    exchange type (the dashboard's "reviews to write")."""
    from apps.peers.selectors import active_community_ids

    from .models import REVIEW_WINDOW

    if not user.is_authenticated:
        return []
    now = now or timezone.now()
    found: list[ReviewToWrite] = []
    for kind in registry.registered():
        first, second = kind.parties
        reviewed = Review.objects.filter(
            content_type__app_label=kind.model._meta.app_label,
            content_type__model=kind.model._meta.model_name,
            author_id=user.pk,
        ).values("object_id")
        rows = (
            kind.model._default_manager.filter(
                Q(**{first: user.pk}) | Q(**{second: user.pk}),
                **{
                    f"{kind.completed_at}__lte": now,
                    f"{kind.completed_at}__gt": now - REVIEW_WINDOW,
                    f"{kind.community}__in": active_community_ids(user=user),
                },
            )
            .exclude(**{first: F(second)})
            .exclude(pk__in=reviewed)
            .order_by(kind.completed_at, "pk")
            .values_list(
                "pk",
                first,
                f"{first}__profile__display_name",
                f"{second}__profile__display_name",
                kind.completed_at,
            )[:limit]
        )
        for pk, first_id, first_name, second_name, completed_at in rows:
            found.append(
                ReviewToWrite(
                    exchange_type=kind.key,
                    exchange_id=pk,
                    domain=kind.domain,
                    other_name=(second_name if first_id == user.pk else first_name) or "your neighbor",
                    completed_at=completed_at,
                    window_closes_at=completed_at + REVIEW_WINDOW,
                )
            )
    found.sort(key=lambda r: (r.window_closes_at, r.exchange_type, r.exchange_id))
    return found[:limit]
