"""What the co-design pages share: finding a challenge or proposal the member may see
(anything else is "not found"), the phase timeline, and the words for states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy

from apps.peers.selectors import is_organizer

from .. import selectors
from ..models import Challenge, Proposal

PH = Challenge.Phase
PER_PAGE = 20
# When each phase is planned to end (building and done have no planned end).
PHASE_END = {PH.IDEAS: "ideas_until", PH.PROPOSALS: "proposals_until", PH.VOTING: "voting_until"}
PHASE_WORDS = {
    PH.IDEAS: gettext_lazy("Neighbors post short ideas and +1 the ones they like."),
    PH.PROPOSALS: gettext_lazy("Neighbors submit designs; the organizers accept them for voting."),
    PH.VOTING: gettext_lazy("Members vote on the designs accepted for voting."),
    PH.BUILDING: gettext_lazy("The winning design is built: join a task."),
    PH.DONE: gettext_lazy("The build is done."),
}


def challenge_or_404(request: HttpRequest, pk: int) -> Challenge:
    challenge = selectors.challenge_visible(user=request.user, pk=pk)
    if challenge is None:
        raise Http404("No such challenge.")
    return challenge


def proposal_or_404(request: HttpRequest, pk: int) -> Proposal:
    proposal = selectors.proposal_visible(user=request.user, pk=pk)
    if proposal is None:
        raise Http404("No such proposal.")
    return proposal


def organizes(request: HttpRequest, challenge: Challenge) -> bool:
    return is_organizer(user=request.user, community_id=challenge.community_id)


@dataclass(frozen=True)
class Step:
    """One phase on the timeline: its name, planned end, and where it stands."""

    phase: str
    label: str
    until: datetime | None
    state: str  # "past", "current" or "next"
    words: str


def timeline(challenge: Challenge) -> list[Step]:
    phases = list(PH.values)
    current = phases.index(challenge.phase)
    steps = []
    for index, phase in enumerate(phases):
        field = PHASE_END.get(phase)
        state = "past" if index < current else "current" if index == current else "next"
        steps.append(
            Step(
                phase=phase,
                label=PH(phase).label,
                until=getattr(challenge, field) if field else None,
                state=state,
                words=PHASE_WORDS[phase],
            )
        )
    return steps


def proposal_state(proposal: Proposal, answer_shown: bool) -> str:
    """The status a reader may see, in words (``selectors.shown_status``)."""
    return Proposal.Status(selectors.shown_status(proposal=proposal, answer_shown=answer_shown)).label
