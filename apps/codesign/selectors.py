"""Reads of co-design challenges, each in a fixed number of queries.

Visibility: the challenges of one's communities. A draft proposal is read by its authors
only; an organizer's answer is shown to the authors and everyone once published.
Ballots are secret: nobody reads another member's ballot, ever, and totals only after
voting closes (or during it with live totals on); see ``services.voting``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum

from apps.peers.models import User
from apps.peers.selectors import active_community_ids, community_ids_of, is_organizer

from .models import BallotEntry, Challenge, Comment, Follow, Idea, Proposal, Task, Volunteer


def challenges_visible(*, user: User) -> QuerySet[Challenge]:
    if not user.is_authenticated:
        return Challenge.objects.none()
    return Challenge.objects.filter(community_id__in=community_ids_of(user=user)).select_related("community")


def challenge_list(*, user: User, phase: str | None = None, community_id: int | None = None) -> QuerySet[Challenge]:
    """The challenges of my communities, open ones first, with their counts."""
    challenges = with_counts(challenges_visible(user=user))
    if phase:
        challenges = challenges.filter(phase=phase)
    if community_id:
        challenges = challenges.filter(community_id=community_id)
    return challenges.order_by("-created_at", "-pk")


def with_counts(challenges: QuerySet[Challenge]) -> QuerySet[Challenge]:
    """``proposal_count`` (the public ones) and ``idea_count`` of each challenge."""
    return challenges.annotate(
        proposal_count=Count("proposals", filter=Q(proposals__status__in=_PUBLIC_STATUSES), distinct=True),
        idea_count=Count("ideas", distinct=True),
    )


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


# --- the front door: the blueprint's figure, the member's dashboard, search, the profile ----
OPEN_PHASES = (Challenge.Phase.IDEAS, Challenge.Phase.PROPOSALS, Challenge.Phase.VOTING, Challenge.Phase.BUILDING)


def open_challenge_count(*, community_ids) -> int:
    """Challenges of these communities (a subquery or ids) still taking part: collecting
    ideas or proposals, voting or being built (not done). One query."""
    return Challenge.objects.filter(community_id__in=community_ids, phase__in=OPEN_PHASES).count()


def votes_waiting(*, user: User, limit: int = 10) -> list[Challenge]:
    """Challenges voting now in the member's active communities where they have put no
    dot or approval on any proposal yet, closing soonest first. One query."""
    if not user.is_authenticated:
        return []
    voted = BallotEntry.objects.filter(ballot__challenge=OuterRef("pk"), ballot__voter=user.pk)
    return list(
        Challenge.objects.filter(community_id__in=active_community_ids(user=user), phase=Challenge.Phase.VOTING)
        .exclude(Exists(voted))
        .order_by("voting_until", "pk")[:limit]
    )


def tasks_joined(*, user: User, since: date, until: date | None = None, limit: int = 10) -> list[Volunteer]:
    """The member's places on open tasks dated from ``since`` (to ``until``), soonest
    first, with the task and its challenge. One query."""
    if not user.is_authenticated:
        return []
    places = Volunteer.objects.filter(
        member=user,
        status=Volunteer.Status.JOINED,
        task__status=Task.Status.OPEN,
        task__date__gte=since,
        task__project__challenge__phase=Challenge.Phase.BUILDING,
    )
    if until is not None:
        places = places.filter(task__date__lte=until)
    return list(places.select_related("task__project__challenge").order_by("task__date", "task_id", "pk")[:limit])


def hours_to_confirm(*, user: User, today: date, limit: int = 30) -> list[Volunteer]:
    """Volunteers (not the member) still to be confirmed on tasks dated ``today`` or
    before, in challenges being built in communities the member organizes: once
    confirmed, their hours are paid. Oldest task first. One query."""
    if not user.is_authenticated:
        return []
    return list(
        Volunteer.objects.filter(
            status=Volunteer.Status.JOINED,
            task__date__lte=today,
            task__project__challenge__phase=Challenge.Phase.BUILDING,
            task__project__challenge__community_id__in=active_community_ids(user=user, as_organizer=True),
        )
        .exclude(member=user)
        .select_related("task__project__challenge")
        .order_by("task__date", "task_id", "pk")[:limit]
    )


def proposals_to_answer(*, user: User, limit: int = 10) -> list[Proposal]:
    """Submitted proposals, not hidden, waiting for an answer (accepted for voting or not
    feasible) in challenges still before voting, in communities the member organizes;
    oldest first. One query."""
    if not user.is_authenticated:
        return []
    return list(
        Proposal.objects.filter(
            status=Proposal.Status.SUBMITTED,
            is_hidden=False,
            challenge__phase__in=(Challenge.Phase.IDEAS, Challenge.Phase.PROPOSALS),
            challenge__community_id__in=active_community_ids(user=user, as_organizer=True),
        )
        .select_related("challenge")
        .order_by("submitted_at", "pk")[:limit]
    )


def new_challenges(*, user: User, community_ids, limit: int) -> list[Challenge]:
    """The latest challenges of those of ``community_ids`` the member belongs to. One query."""
    challenges = challenges_visible(user=user).filter(community_id__in=community_ids)
    return list(challenges.order_by("-created_at", "-pk")[:limit])


def new_proposals(*, user: User, community_ids, limit: int) -> list[Proposal]:
    """The latest proposals submitted to challenges of ``community_ids`` that the member
    may read (not drafts or withdrawn ones, hidden ones only for whom moderation shows
    them), newest first. One query."""
    proposals = proposals_readable(
        Proposal.objects.filter(challenge__community_id__in=community_ids, status__in=_PUBLIC_STATUSES), user
    ).visible_to(user)
    return list(
        proposals.filter(submitted_at__isnull=False)
        .select_related("challenge__community", "author__profile")
        .order_by("-submitted_at", "-pk")[:limit]
    )


def proposals_searchable(*, user: User) -> QuerySet[Proposal]:
    """The proposals ``user`` may read (their own drafts included), moderation applied."""
    return proposals_readable(Proposal.objects.all(), user).visible_to(user)


def contributions(*, subject: User, viewer: User) -> dict:
    """The subject's co-design record as the viewer may see it: how many challenges
    (of the viewer's communities) the subject took part in with an idea, a proposal or a
    place on a task that the viewer may read (hidden ideas and proposals, drafts and
    withdrawn proposals and places left do not count), and the build hours organizers
    confirmed for them (paid through the ledger; counted everywhere). Two queries."""
    ideas = Idea.objects.filter(author=subject.pk).visible_to(viewer).values("challenge_id")
    proposals = proposals_readable(
        Proposal.objects.filter(Q(author=subject.pk) | Q(coauthors=subject.pk)).exclude(
            status__in=(Proposal.Status.DRAFT, Proposal.Status.WITHDRAWN)
        ),
        viewer,
    ).visible_to(viewer)
    places = Volunteer.objects.filter(member=subject.pk).exclude(status=Volunteer.Status.LEFT)
    challenges = (
        challenges_visible(user=viewer)
        .filter(
            Q(pk__in=ideas)
            | Q(pk__in=proposals.values("challenge_id"))
            | Q(pk__in=places.values("task__project__challenge_id"))
        )
        .count()
    )
    hours = Volunteer.objects.filter(member=subject.pk, status=Volunteer.Status.CONFIRMED).aggregate(
        hours=Sum("task__hours")
    )["hours"]
    return {"challenges": challenges, "hours": hours or Decimal(0)}
