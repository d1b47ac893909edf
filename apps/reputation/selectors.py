"""Reads for reviews and trust scores, with their query budgets.

Blindness lives here: a hidden review (``revealed_at`` is null) is returned only to its
author, never to its subject or anyone else.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from apps.peers.models import User

from .models import Review, TrustScore

_REVIEW_RELATED = ("author__profile", "subject__profile", "content_type")


def reviews_about(*, user: User) -> QuerySet[Review]:
    """Revealed reviews about ``user``, newest first, authors' profiles joined (one query)."""
    return (
        Review.objects.filter(subject=user, revealed_at__isnull=False)
        .select_related(*_REVIEW_RELATED)
        .order_by("-revealed_at", "-id")
    )


def reviews_visible_to(
    *, viewer: User, subject_id: int | None = None, author_id: int | None = None
) -> QuerySet[Review]:
    """Reviews ``viewer`` may read: every revealed one, plus the hidden ones they wrote.

    Optionally only those about ``subject_id`` and/or by ``author_id``. One query per page.
    """
    reviews = Review.objects.filter(Q(revealed_at__isnull=False) | Q(author_id=viewer.pk))
    if subject_id is not None:
        reviews = reviews.filter(subject_id=subject_id)
    if author_id is not None:
        reviews = reviews.filter(author_id=author_id)
    return reviews.select_related(*_REVIEW_RELATED).order_by("-created_at", "-id")


def exchange_reviews_for(*, exchange: Model, viewer: User) -> tuple[Review | None, Review | None]:
    """(the viewer's own review of ``exchange``, the other party's if it is revealed)."""
    reviews = Review.objects.filter(
        content_type=ContentType.objects.get_for_model(exchange), object_id=exchange.pk
    ).select_related(*_REVIEW_RELATED)
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
