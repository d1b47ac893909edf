"""Reads of co-design challenges, each in a fixed number of queries.

Visibility: the challenges of one's communities. A draft proposal is read by its authors
only; an organizer's answer is shown to the authors and everyone once published.
Ballots are secret: nobody reads another member's ballot, ever, and totals only after
voting closes (or during it with live totals on); see ``services.voting``.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from apps.peers.models import User
from apps.peers.selectors import active_community_ids, community_ids_of, is_organizer

from .models import Challenge, Comment, Follow, Idea, Proposal, Task, Volunteer


def challenges_visible(*, user: User) -> QuerySet[Challenge]:
    if not user.is_authenticated:
        return Challenge.objects.none()
    return Challenge.objects.filter(community_id__in=community_ids_of(user=user)).select_related("community")


def challenge_list(*, user: User, phase: str | None = None, community_id: int | None = None) -> QuerySet[Challenge]:
    """The challenges of my communities, open ones first, with their counts."""
    challenges = challenges_visible(user=user).annotate(
        proposal_count=Count("proposals", filter=Q(proposals__status__in=_PUBLIC_STATUSES), distinct=True),
        idea_count=Count("ideas", distinct=True),
    )
    if phase:
        challenges = challenges.filter(phase=phase)
    if community_id:
        challenges = challenges.filter(community_id=community_id)
    return challenges.order_by("-created_at", "-pk")


def with_following(challenges: QuerySet[Challenge], user: User) -> QuerySet[Challenge]:
    """``following``: whether ``user`` follows each challenge (a subquery, no query)."""
    return challenges.annotate(following=Exists(Follow.objects.filter(challenge=OuterRef("pk"), member=user.pk)))


def challenge_visible(*, user: User, pk: int) -> Challenge | None:
    return challenges_visible(user=user).filter(pk=pk).first()


_PUBLIC_STATUSES = (Proposal.Status.SUBMITTED, Proposal.Status.ACCEPTED, Proposal.Status.NOT_FEASIBLE)


def proposals_readable(queryset: QuerySet, user: User) -> QuerySet:
    """Of ``queryset``, the proposals ``user`` may open: their own and co-authored ones in
    any state, and the submitted, accepted or not-feasible ones of their communities."""
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(
        Q(author=user)
        | Q(coauthors=user)
        | Q(challenge__community_id__in=community_ids_of(user=user), status__in=_PUBLIC_STATUSES)
    ).distinct()


def proposals_of(*, challenge: Challenge, user: User) -> QuerySet[Proposal]:
    """The proposals of a challenge ``user`` may see (the gallery), with their first picture."""
    proposals = proposals_readable(Proposal.objects.filter(challenge=challenge), user)
    return (
        proposals.visible_to(user)
        .select_related("challenge", "author__profile")
        .prefetch_related("photos", "coauthors__profile")
        .order_by("submitted_at", "created_at", "pk")
    )


def proposal_visible(*, user: User, pk: int) -> Proposal | None:
    proposals = proposals_readable(Proposal.objects.filter(pk=pk), user)
    return proposals.visible_to(user).select_related("challenge", "challenge__community", "author__profile").first()


def answer_visible(*, proposal: Proposal, user: User) -> bool:
    """The organizers' answer is read by organizers at once, by everyone once published."""
    return proposal.answer_published_at is not None or is_organizer(
        user=user, community_id=proposal.challenge.community_id
    )


def shown_status(*, proposal: Proposal, answer_shown: bool) -> str:
    """The status a reader may see: an answer not shown to them (unpublished, and they
    are not an organizer) leaves the proposal "submitted" (pages and API alike)."""
    answered = proposal.status in (Proposal.Status.ACCEPTED, Proposal.Status.NOT_FEASIBLE)
    return Proposal.Status.SUBMITTED.value if answered and not answer_shown else proposal.status


def ideas_of(*, challenge: Challenge, user: User) -> QuerySet[Idea]:
    return Idea.objects.filter(challenge=challenge).visible_to(user).select_related("author__profile")


def comments_of(*, challenge: Challenge, user: User, proposal: Proposal | None = None) -> list[Comment]:
    """Top-level comments of the challenge (or one proposal), each with its replies."""
    comments = Comment.objects.filter(challenge=challenge, proposal=proposal).visible_to(user)
    replies = Comment.objects.visible_to(user).select_related("author__profile").order_by("created_at", "pk")
    return list(
        comments.filter(parent__isnull=True)
        .select_related("author__profile")
        .prefetch_related(Prefetch("replies", queryset=replies))
        .order_by("created_at", "pk")
    )


def tasks_of(*, challenge: Challenge) -> QuerySet[Task]:
    """The build's tasks with their volunteers (the project board)."""
    return (
        Task.objects.filter(project__challenge=challenge)
        .select_related("project__proposal", "skill", "tool")
        .prefetch_related(
            Prefetch(
                "volunteers",
                queryset=Volunteer.objects.exclude(status=Volunteer.Status.LEFT).select_related("member__profile"),
            )
        )
        .order_by("date", "pk")
    )


def can_vote(*, user: User, challenge: Challenge) -> bool:
    return user.is_authenticated and challenge.community_id in set(active_community_ids(user=user))
