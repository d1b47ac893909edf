"""Reads for reviews and trust scores, with their query budgets.

Blindness lives here: a hidden review (``revealed_at`` is null) is returned only to its
author, never to its subject or anyone else. So does moderation: a review hidden by
moderation (``is_hidden``) is returned only to its author and the community's organizers.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from apps.peers.models import User

from .models import Review, TrustScore

_REVIEW_RELATED = ("author__profile", "subject__profile", "content_type")


def readable_reviews(reviews: QuerySet[Review], *, viewer: User) -> QuerySet[Review]:
    """Narrow ``reviews`` to what blindness lets ``viewer`` read: revealed ones and their own."""
    return reviews.filter(Q(revealed_at__isnull=False) | Q(author_id=viewer.pk))


def reviews_about(*, user: User, viewer: User | None = None) -> QuerySet[Review]:
    """Revealed reviews about ``user`` that ``viewer`` may see (none hidden by moderation
    unless they wrote it or moderate it), newest first, authors' profiles joined (one query)."""
    return (
        Review.objects.visible_to(viewer)
        .filter(subject=user, revealed_at__isnull=False)
        .select_related(*_REVIEW_RELATED)
        .order_by("-revealed_at", "-id")
    )


def reviews_visible_to(
    *, viewer: User, subject_id: int | None = None, author_id: int | None = None
) -> QuerySet[Review]:
    """Reviews ``viewer`` may read: every revealed one, plus the hidden ones they wrote,
    less those moderation hid from them.

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
