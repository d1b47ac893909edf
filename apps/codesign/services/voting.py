"""Ballots and results.

One ballot per member and challenge, changed as often as they like while voting is
open. Dot voting: N dots to spread, at most M on one proposal; approval voting: yes or
nothing on each. The limits hold under concurrent changes because every change locks
the member's ballot row first (created once, by a unique constraint) and checks the
whole ballot under that lock. Ballots are secret until voting closes: only the voter
reads theirs; totals are shown after the close, or during it if the organizer turned
live totals on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.guards import require_active_member
from apps.peers.models import User
from p2pcommons.errors import RuleViolation

from ..models import Ballot, BallotEntry, Challenge, Project, Proposal

PH = Challenge.Phase


def _ballot_for_update(challenge: Challenge, voter: User) -> Ballot:
    try:
        with transaction.atomic():
            Ballot.objects.get_or_create(challenge=challenge, voter=voter)
    except IntegrityError:  # made at the same moment by the voter's other request
        pass
    return Ballot.objects.select_for_update().get(challenge=challenge, voter=voter)


def vote_set(*, proposal: Proposal, voter: User, dots: int, now: datetime | None = None) -> Ballot:
    """Put ``dots`` on ``proposal`` in the voter's ballot (0 takes them off; approval
    voting: 1 approves). Only active members, only while voting is open, only on
    proposals accepted for voting. Locks the ballot row (see the module docstring)."""
    now = now or timezone.now()
    if isinstance(dots, bool) or not isinstance(dots, int) or dots < 0:
        raise ValidationError({"dots": _("Give a whole number of dots, 0 or more.")})
    proposal = Proposal.objects.select_related("challenge").get(pk=proposal.pk)
    challenge = proposal.challenge
    require_active_member(user=voter, community_id=challenge.community_id, doing="vote")
    with transaction.atomic():
        # The challenge row first: a vote and the close take turns, so no ballot changes
        # once the close has begun counting (votes on one challenge queue briefly).
        challenge = Challenge.objects.select_for_update(no_key=True).get(pk=challenge.pk)
        ballot = _ballot_for_update(challenge, voter)
        if challenge.phase != PH.VOTING:
            raise RuleViolation(
                _("Voting is closed.") if challenge.voting_closed else _("Voting has not started yet."),
                code="wrong_phase",
            )
        if dots and (proposal.status != Proposal.Status.ACCEPTED or proposal.is_hidden):
            raise RuleViolation(_("This proposal is not on the ballot."), code="not_on_ballot")
        entries = {e.proposal_id: e for e in BallotEntry.objects.filter(ballot=ballot)}
        others = sum(e.dots for pid, e in entries.items() if pid != proposal.pk)
        if challenge.method == Challenge.Method.APPROVAL:
            if dots > 1:
                raise ValidationError({"dots": _("In approval voting you approve a proposal (1) or not (0).")})
        else:
            if dots > challenge.max_dots_per_proposal:
                raise RuleViolation(
                    _("At most %(most)s dots on one proposal.") % {"most": challenge.max_dots_per_proposal},
                    code="too_many_dots",
                    data={"dots_left": challenge.dots - others},
                )
            if others + dots > challenge.dots:
                left = challenge.dots - others
                raise RuleViolation(
                    _(
                        "You have %(dots)s dots in all and %(left)s left to place here; take some off another "
                        "proposal first."
                    )
                    % {"dots": challenge.dots, "left": left},
                    code="too_many_dots",
                    data={"dots_left": left},
                )
        current = entries.get(proposal.pk)
        if dots == 0 and current is not None:
            current.delete()
        elif dots and current is None:
            BallotEntry.objects.create(ballot=ballot, proposal=proposal, dots=dots)
        elif dots and current.dots != dots:
            BallotEntry.objects.filter(pk=current.pk).update(dots=dots)
        Ballot.objects.filter(pk=ballot.pk).update(updated_at=now)
        return ballot


def ballot_of(*, challenge: Challenge, voter: User) -> dict[int, int]:
    """The voter's own ballot: dots per proposal id (only ever read for its voter)."""
    return dict(
        BallotEntry.objects.filter(ballot__challenge=challenge, ballot__voter=voter).values_list("proposal_id", "dots")
    )


def totals_visible(*, challenge: Challenge) -> bool:
    """Whether anyone but a voter may see totals now: after the close, or with live totals."""
    return challenge.voting_closed or (challenge.phase == PH.VOTING and challenge.live_totals)


@dataclass(frozen=True)
class Result:
    proposal: Proposal
    votes: int
    voters: int
    won: bool
    fits: bool  # with a budget: whether it fit in what was left when its turn came


def results(*, challenge: Challenge) -> list[Result]:
    """The ranking: proposals on the ballot by votes (dots or approvals), most first,
    ties by the order they were submitted. Winners: without a budget, the first (if it
    has any votes); with one, greedily by votes while their cost fits in what is left
    (CONSUL's rule: one that does not fit is passed over, and the next may still fit).
    Secret until ``totals_visible``: a RuleViolation before."""
    challenge = Challenge.objects.get(pk=challenge.pk)
    if not totals_visible(challenge=challenge):
        raise RuleViolation(_("The totals are secret until voting closes."), code="wrong_phase")
    proposals = list(
        Proposal.objects.filter(challenge=challenge, status=Proposal.Status.ACCEPTED, is_hidden=False).order_by(
            "submitted_at", "pk"
        )
    )
    counts = {
        row["proposal_id"]: row
        for row in BallotEntry.objects.filter(ballot__challenge=challenge)
        .values("proposal_id")
        .annotate(votes=Sum("dots"), voters=Count("pk"))
    }
    ranked = sorted(proposals, key=lambda p: -(counts.get(p.pk, {}).get("votes") or 0))
    left = challenge.budget
    out = []
    for index, proposal in enumerate(ranked):
        votes = counts.get(proposal.pk, {}).get("votes") or 0
        voters = counts.get(proposal.pk, {}).get("voters") or 0
        if left is None:
            won = fits = index == 0 and votes > 0
        else:
            fits = proposal.cost <= left
            won = fits and votes > 0
            if won:
                left -= proposal.cost
        out.append(Result(proposal=proposal, votes=votes, voters=voters, won=won, fits=fits or left is None))
    return out


def results_publish(*, challenge: Challenge) -> list[Project]:
    """At the close: the winners become projects (once each)."""
    projects = []
    for result in results(challenge=challenge):
        if result.won:
            project, _created = Project.objects.get_or_create(
                proposal=result.proposal, defaults={"challenge": challenge, "votes": result.votes}
            )
            projects.append(project)
    return projects


def budget_left(*, challenge: Challenge) -> Decimal | None:
    return None if challenge.budget is None else challenge.budget - challenge.spent
