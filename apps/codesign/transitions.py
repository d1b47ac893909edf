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

from django.utils.translation import gettext_lazy

from p2pcommons.transitions import Action, Machine, only, refuse_if

from .models import Challenge, PhaseEvent, Proposal, Volunteer

PH = Challenge.Phase
P = Proposal.Status
V = Volunteer.Status


def _organizes(challenge: Challenge, user) -> bool:
    from apps.peers.selectors import is_organizer

    return is_organizer(user=user, community_id=challenge.community_id)


ORGANIZER_ONLY = gettext_lazy("Only an organizer of the community can do that.")
ORGANIZER = only(_organizes, "an organizer of the community", message=ORGANIZER_ONLY)


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
            gettext_lazy("Open proposals"),
            source=(PH.IDEAS,),
            target=PH.PROPOSALS,
            who=(ORGANIZER,),
            help=gettext_lazy("Ideas close; neighbors submit their designs."),
        ),
        Action(
            "open_voting",
            gettext_lazy("Open voting"),
            source=(PH.PROPOSALS,),
            target=PH.VOTING,
            who=(ORGANIZER,),
            help=gettext_lazy("Proposals close; members vote on those accepted for voting."),
        ),
        Action(
            "close_voting",
            gettext_lazy("Close voting"),
            source=(PH.VOTING,),
            target=PH.BUILDING,
            who=(ORGANIZER,),
            help=gettext_lazy("Ballots are counted; the winners become projects to build."),
        ),
        Action(
            "finish",
            gettext_lazy("Mark as done"),
            source=(PH.BUILDING,),
            target=PH.DONE,
            who=(ORGANIZER,),
            help=gettext_lazy("The build is finished: add after-photos to show it."),
        ),
    ],
)
# The step that leaves each phase (the beat takes it when the phase's date passes).
NEXT_STEP = {PH.IDEAS: "open_proposals", PH.PROPOSALS: "open_voting", PH.VOTING: "close_voting"}


AUTHOR_ONLY = gettext_lazy("Only its author can do that.")


def _proposal_author(proposal: Proposal, user) -> bool:
    return user.pk == proposal.author_id


def _proposal_organizer(proposal: Proposal, user) -> bool:
    return _organizes(proposal.challenge, user)


IN_PROPOSALS = refuse_if(
    lambda p, user, now: p.challenge.phase != PH.PROPOSALS,
    gettext_lazy("Proposals are submitted while the challenge takes proposals."),
    "wrong_phase",
)
BEFORE_VOTING = refuse_if(
    lambda p, user, now: p.challenge.phase not in (PH.IDEAS, PH.PROPOSALS),
    gettext_lazy("Voting has started: the proposals on the ballot stay as they are."),
    "wrong_phase",
)

PROPOSAL = Machine(
    model=Proposal,
    noun="proposal",
    actions=[
        Action(
            "submit",
            gettext_lazy("Submit"),
            source=(P.DRAFT,),
            target=P.SUBMITTED,
            who=(only(_proposal_author, "its author", message=AUTHOR_ONLY),),
            when=(IN_PROPOSALS,),
            help=gettext_lazy("The organizers will look at it and answer."),
        ),
        Action(
            "accept",
            gettext_lazy("Accept for voting"),
            source=(P.SUBMITTED,),
            target=P.ACCEPTED,
            who=(only(_proposal_organizer, "an organizer of the community", message=ORGANIZER_ONLY),),
            when=(BEFORE_VOTING,),
        ),
        Action(
            "decline",
            gettext_lazy("Not feasible"),
            source=(P.SUBMITTED, P.ACCEPTED),
            target=P.NOT_FEASIBLE,
            who=(only(_proposal_organizer, "an organizer of the community", message=ORGANIZER_ONLY),),
            when=(BEFORE_VOTING,),
            takes_note=True,
            style="secondary",
            help=gettext_lazy("Say why; the authors read it when you publish the answer."),
        ),
        Action(
            "withdraw",
            gettext_lazy("Withdraw"),
            source=(P.DRAFT, P.SUBMITTED, P.ACCEPTED),
            target=P.WITHDRAWN,
            who=(only(_proposal_author, "its author", message=AUTHOR_ONLY),),
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
    gettext_lazy("The build is over."),
    "wrong_phase",
)
NOT_ONESELF = refuse_if(
    lambda v, user, now: user.pk == v.member_id,
    gettext_lazy("Another organizer confirms your own hours."),
    "self_confirm",
)

VOLUNTEER = Machine(
    model=Volunteer,
    noun="place on the task",
    actions=[
        Action(
            "confirm",
            gettext_lazy("Confirm done"),
            source=(V.JOINED,),
            target=V.CONFIRMED,
            who=(only(_volunteer_organizer, "an organizer of the community", message=ORGANIZER_ONLY),),
            when=(BUILDING, NOT_ONESELF),
            help=gettext_lazy("Their hours are paid from the co-design fund."),
        ),
        Action(
            "leave",
            gettext_lazy("Leave the task"),
            source=(V.JOINED,),
            target=V.LEFT,
            who=(only(_volunteer_self, "the volunteer", message=gettext_lazy("Only the volunteer can do that.")),),
            when=(BUILDING,),
            style="secondary outline",
        ),
    ],
)
