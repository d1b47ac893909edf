"""Who may do what in a co-design challenge, and when: declared once (see
``p2pcommons.transitions``).

    challenge:  ideas --open_proposals--> proposals --open_voting--> voting
                --close_voting--> building --finish--> done
                (an organizer, early or late; the beat moves a phase whose date passed)
    proposal:   draft --submit--> submitted --accept--> accepted (for voting)
                                  submitted --decline--> not_feasible (with a reason)
                draft | submitted | accepted --withdraw--> withdrawn (before voting)
    volunteer:  joined --confirm--> confirmed (an organizer: the hours are paid)
                joined --leave--> left

The current phase decides what members can do: ideas only during ideas; proposals are
submitted during proposals; ballots are cast and changed only during voting; tasks are
joined and confirmed during building.
"""

from __future__ import annotations

from p2pcommons.transitions import Action, Machine, only, refuse_if

from .models import Challenge, PhaseEvent, Proposal, Volunteer

PH = Challenge.Phase
P = Proposal.Status
V = Volunteer.Status


def _organizes(challenge: Challenge, user) -> bool:
    from apps.peers.selectors import is_organizer

    return is_organizer(user=user, community_id=challenge.community_id)


ORGANIZER = only(_organizes, "an organizer of the community")


def _record_phase(*, obj: Challenge, actor, source: str, target: str, note: str) -> None:
    PhaseEvent.objects.create(challenge=obj, actor=actor, source=source, target=target, note=note[:300])


CHALLENGE = Machine(
    model=Challenge,
    field="phase",
    noun="challenge",
    record=_record_phase,
    actions=[
        Action(
            "open_proposals",
            "Open proposals",
            source=(PH.IDEAS,),
            target=PH.PROPOSALS,
            who=(ORGANIZER,),
            help="Ideas close; neighbors submit their designs.",
        ),
        Action(
            "open_voting",
            "Open voting",
            source=(PH.PROPOSALS,),
            target=PH.VOTING,
            who=(ORGANIZER,),
            help="Proposals close; members vote on those accepted for voting.",
        ),
        Action(
            "close_voting",
            "Close voting",
            source=(PH.VOTING,),
            target=PH.BUILDING,
            who=(ORGANIZER,),
            help="Ballots are counted; the winners become projects to build.",
        ),
        Action(
            "finish",
            "Mark as done",
            source=(PH.BUILDING,),
            target=PH.DONE,
            who=(ORGANIZER,),
            help="The build is finished: add after-photos to show it.",
        ),
    ],
)
# The step that leaves each phase (the beat takes it when the phase's date passes).
NEXT_STEP = {PH.IDEAS: "open_proposals", PH.PROPOSALS: "open_voting", PH.VOTING: "close_voting"}


def _proposal_author(proposal: Proposal, user) -> bool:
    return user.pk == proposal.author_id


def _proposal_organizer(proposal: Proposal, user) -> bool:
    return _organizes(proposal.challenge, user)


IN_PROPOSALS = refuse_if(
    lambda p, user, now: p.challenge.phase != PH.PROPOSALS,
    "Proposals are submitted while the challenge takes proposals.",
    "wrong_phase",
)
BEFORE_VOTING = refuse_if(
    lambda p, user, now: p.challenge.phase not in (PH.IDEAS, PH.PROPOSALS),
    "Voting has started: the proposals on the ballot stay as they are.",
    "wrong_phase",
)

PROPOSAL = Machine(
    model=Proposal,
    noun="proposal",
    actions=[
        Action(
            "submit",
            "Submit",
            source=(P.DRAFT,),
            target=P.SUBMITTED,
            who=(only(_proposal_author, "its author"),),
            when=(IN_PROPOSALS,),
            help="The organizers will look at it and answer.",
        ),
        Action(
            "accept",
            "Accept for voting",
            source=(P.SUBMITTED,),
            target=P.ACCEPTED,
            who=(only(_proposal_organizer, "an organizer of the community"),),
            when=(BEFORE_VOTING,),
        ),
        Action(
            "decline",
            "Not feasible",
            source=(P.SUBMITTED, P.ACCEPTED),
            target=P.NOT_FEASIBLE,
            who=(only(_proposal_organizer, "an organizer of the community"),),
            when=(BEFORE_VOTING,),
            takes_note=True,
            style="secondary",
            help="Say why; the authors read it when you publish the answer.",
        ),
        Action(
            "withdraw",
            "Withdraw",
            source=(P.DRAFT, P.SUBMITTED, P.ACCEPTED),
            target=P.WITHDRAWN,
            who=(only(_proposal_author, "its author"),),
            when=(BEFORE_VOTING,),
            style="secondary outline",
        ),
    ],
)


def _volunteer_self(volunteer: Volunteer, user) -> bool:
    return user.pk == volunteer.member_id


def _volunteer_organizer(volunteer: Volunteer, user) -> bool:
    return _organizes(volunteer.task.project.challenge, user)


BUILDING = refuse_if(
    lambda v, user, now: v.task.project.challenge.phase != PH.BUILDING,
    "The build is over.",
    "wrong_phase",
)
NOT_ONESELF = refuse_if(
    lambda v, user, now: user.pk == v.member_id,
    "Another organizer confirms your own hours.",
    "self_confirm",
)

VOLUNTEER = Machine(
    model=Volunteer,
    noun="place on the task",
    actions=[
        Action(
            "confirm",
            "Confirm done",
            source=(V.JOINED,),
            target=V.CONFIRMED,
            who=(only(_volunteer_organizer, "an organizer of the community"),),
            when=(BUILDING, NOT_ONESELF),
            help="Their hours are paid from the co-design fund.",
        ),
        Action(
            "leave",
            "Leave the task",
            source=(V.JOINED,),
            target=V.LEFT,
            who=(only(_volunteer_self, "the volunteer"),),
            when=(BUILDING,),
            style="secondary outline",
        ),
    ],
)
