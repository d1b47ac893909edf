"""The co-design API's shapes: what a member reads of a challenge, its ideas, proposals,
comments, ballot, results and build, and the bodies that write them.

Two rules hold here and nowhere else in the API: a proposal's answer (the organizers'
reason) is shown only when ``selectors.answer_visible``; and no shape ever carries
another member's ballot (``Ballot`` is only the requester's own, ``Results`` only when
``services.totals_visible``).
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from apps.peers.api import PersonSerializer
from apps.peers.models import Community
from apps.skills.models import Skill
from apps.tools.models import Tool
from p2pcommons.api_transitions import ActionsField

from . import selectors, services
from .api_fields import (
    method_choice,
    phase_choice,
    proposal_status_choice,
    task_status_choice,
    volunteer_status_choice,
)
from .markdown import render
from .models import MAX_DOTS, Challenge, Comment, Idea, Project, Proposal, ProposalPhoto, Task, Volunteer
from .transitions import CHALLENGE, PROPOSAL, VOLUNTEER

_CREDITS = {"max_digits": 12, "decimal_places": 2}


def dots_left(challenge: Challenge, ballot: dict[int, int]) -> int | None:
    """Dots still to place (dot voting); None in approval voting, which has no total."""
    if challenge.method != Challenge.Method.DOTS:
        return None
    return challenge.dots - sum(ballot.values())


def ballot_body(challenge: Challenge, user) -> dict:
    """``user``'s own ballot in ``challenge`` (only ever asked for the requester)."""
    mine = services.ballot_of(challenge=challenge, voter=user)
    return {
        "challenge": challenge.pk,
        "method": challenge.method,
        "ballot": {str(pk): dots for pk, dots in sorted(mine.items())},
        "dots_left": dots_left(challenge, mine),
    }


# --- challenges -------------------------------------------------------------------------
@extend_schema_serializer(component_name="CodesignChallenge")
class ChallengeSerializer(serializers.ModelSerializer):
    """A challenge as the list shows it."""

    phase = phase_choice(read_only=True)
    method = method_choice(read_only=True)
    proposal_count = serializers.IntegerField(read_only=True, help_text="Proposals submitted (drafts not counted).")
    idea_count = serializers.IntegerField(read_only=True)
    following = serializers.BooleanField(read_only=True, help_text="Whether I follow it (told of its news).")

    class Meta:
        model = Challenge
        fields = (
            "id",
            "community",
            "title",
            "space",
            "phase",
            "ideas_until",
            "proposals_until",
            "voting_until",
            "method",
            "budget",
            "proposal_count",
            "idea_count",
            "following",
            "created_at",
        )
        read_only_fields = fields


@extend_schema_serializer(component_name="CodesignProject")
class ProjectSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="proposal.title", read_only=True)

    class Meta:
        model = Project
        fields = ("id", "proposal", "title", "votes", "created_at")
        read_only_fields = fields


@extend_schema_serializer(component_name="CodesignChallengeDetail")
class ChallengeDetailSerializer(ChallengeSerializer):
    """A challenge with its phase information and what I may do with it now."""

    brief_html = serializers.SerializerMethodField(help_text="The brief rendered from Markdown, sanitized.")
    budget_left = serializers.SerializerMethodField(help_text="Budget not yet spent; null without a budget.")
    totals_visible = serializers.SerializerMethodField(
        help_text="Whether vote totals can be read now (GET .../results/): after voting, or with live totals."
    )
    my_dots_left = serializers.SerializerMethodField(
        help_text="While voting (dot voting): the dots I still have to place. Null otherwise."
    )
    can_vote = serializers.SerializerMethodField(help_text="Whether I may cast a ballot (an active member).")
    projects = ProjectSerializer(many=True, read_only=True, help_text="The winning proposals being built.")
    actions = ActionsField(
        CHALLENGE, help_text="Phase steps I may take now (organizers): each is POST .../{id}/<step>/."
    )

    def to_representation(self, challenge: Challenge) -> dict:
        """A challenge just moved by a service comes without the list's counts: read it
        again as the list reads it (the step endpoints answer with it)."""
        if not hasattr(challenge, "following"):
            user = self.context["request"].user
            challenge = selectors.with_following(selectors.challenge_list(user=user), user).get(pk=challenge.pk)
        return super().to_representation(challenge)

    class Meta(ChallengeSerializer.Meta):
        fields = (
            *ChallengeSerializer.Meta.fields,
            "brief",
            "brief_html",
            "constraints",
            "approx_latitude",
            "approx_longitude",
            "dots",
            "max_dots_per_proposal",
            "live_totals",
            "spent",
            "budget_left",
            "totals_visible",
            "can_vote",
            "my_dots_left",
            "projects",
            "actions",
        )
        read_only_fields = fields

    def get_brief_html(self, challenge: Challenge) -> str:
        return str(render(challenge.brief))

    @extend_schema_field(serializers.DecimalField(**_CREDITS, allow_null=True))
    def get_budget_left(self, challenge: Challenge):
        left = services.budget_left(challenge=challenge)
        return None if left is None else f"{left:.2f}"

    def get_totals_visible(self, challenge: Challenge) -> bool:
        return services.totals_visible(challenge=challenge)

    def get_can_vote(self, challenge: Challenge) -> bool:
        return challenge.phase == Challenge.Phase.VOTING and selectors.can_vote(
            user=self.context["request"].user, challenge=challenge
        )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_my_dots_left(self, challenge: Challenge):
        if challenge.phase != Challenge.Phase.VOTING:
            return None
        mine = services.ballot_of(challenge=challenge, voter=self.context["request"].user)
        return dots_left(challenge, mine)


@extend_schema_serializer(component_name="CodesignChallengeCreate")
class ChallengeCreateSerializer(serializers.Serializer):
    """A new challenge (organizers). It opens in the ideas phase; the three dates are when
    each phase is planned to end, in order, after now."""

    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    title = serializers.CharField(max_length=120)
    brief = serializers.CharField(max_length=5000, help_text="What the space needs (Markdown).")
    space = serializers.CharField(max_length=200, help_text="Where it is, e.g. 'the courtyard behind number 12'.")
    constraints = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    ideas_until = serializers.DateTimeField()
    proposals_until = serializers.DateTimeField()
    voting_until = serializers.DateTimeField()
    budget = serializers.DecimalField(
        **_CREDITS, min_value=Decimal("0"), required=False, allow_null=True, default=None,
        help_text="Credits the co-design fund may spend on the winners; null: no budget.",
    )  # fmt: skip
    method = method_choice(required=False, default=Challenge.Method.DOTS)
    dots = serializers.IntegerField(min_value=1, max_value=MAX_DOTS, required=False, default=5)
    max_dots_per_proposal = serializers.IntegerField(min_value=1, max_value=MAX_DOTS, required=False, default=3)
    live_totals = serializers.BooleanField(required=False, default=False)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal("-90"), max_value=Decimal("90"), required=False
    )
    longitude = serializers.DecimalField(
        max_digits=10, decimal_places=6, min_value=Decimal("-180"), max_value=Decimal("180"), required=False
    )


class FollowSerializer(serializers.Serializer):
    following = serializers.BooleanField(read_only=True)


# --- ideas ------------------------------------------------------------------------------
@extend_schema_serializer(component_name="CodesignIdea")
class IdeaSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)

    class Meta:
        model = Idea
        fields = ("id", "challenge", "author", "text", "plus_ones", "created_at")
        read_only_fields = fields


@extend_schema_serializer(component_name="CodesignIdeaCreate")
class IdeaCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=300, help_text="A sentence or two.")


# --- proposals --------------------------------------------------------------------------
@extend_schema_serializer(component_name="CodesignProposalPhoto")
class ProposalPhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProposalPhoto
        fields = ("id", "image", "alt_text")
        read_only_fields = fields


@extend_schema_serializer(component_name="CodesignProposal")
class ProposalSerializer(serializers.ModelSerializer):
    """A proposal as the gallery shows it."""

    status = proposal_status_choice(read_only=True)
    author = PersonSerializer(read_only=True)
    coauthors = PersonSerializer(many=True, read_only=True)
    photos = ProposalPhotoSerializer(many=True, read_only=True)

    class Meta:
        model = Proposal
        fields = (
            "id",
            "challenge",
            "title",
            "status",
            "cost",
            "hours",
            "author",
            "coauthors",
            "photos",
            "created_at",
            "submitted_at",
        )
        read_only_fields = fields

    def to_representation(self, proposal: Proposal) -> dict:
        """An answer not yet published is the organizers' own: until then the proposal
        reads as submitted to everyone else (one organizer check per community and
        request, not per row)."""
        data = super().to_representation(proposal)
        shown = proposal.answer_published_at is not None
        if not shown and proposal.status in (Proposal.Status.ACCEPTED, Proposal.Status.NOT_FEASIBLE):
            cache = self.context.setdefault("_organizes", {})
            community_id = proposal.challenge.community_id
            if community_id not in cache:
                from apps.peers.selectors import is_organizer

                user = getattr(self.context.get("request"), "user", None)
                cache[community_id] = user is not None and is_organizer(user=user, community_id=community_id)
            shown = cache[community_id]
        data["status"] = selectors.shown_status(proposal=proposal, answer_shown=shown)
        return data


@extend_schema_serializer(component_name="CodesignProposalDetail")
class ProposalDetailSerializer(ProposalSerializer):
    """A proposal with its text, its answer (when I may read it) and what I may do now."""

    description_html = serializers.SerializerMethodField(help_text="The description rendered from Markdown, sanitized.")
    answer_reason = serializers.SerializerMethodField(
        help_text="The organizers' reason; null until the answer is published (organizers read it at once)."
    )
    answer_published_at = serializers.SerializerMethodField()
    actions = ActionsField(
        PROPOSAL, help_text="What I may do now: submit, accept, decline (with a note), withdraw; POST .../{id}/<x>/."
    )

    class Meta(ProposalSerializer.Meta):
        fields = (
            *ProposalSerializer.Meta.fields,
            "description",
            "description_html",
            "tools",
            "tools_text",
            "skills",
            "updated_at",
            "answer_reason",
            "answer_published_at",
            "actions",
        )
        read_only_fields = fields

    def _answer_shown(self, proposal: Proposal) -> bool:
        return selectors.answer_visible(proposal=proposal, user=self.context["request"].user)

    def get_description_html(self, proposal: Proposal) -> str:
        return str(render(proposal.description))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_answer_reason(self, proposal: Proposal):
        return proposal.answer_reason if self._answer_shown(proposal) else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_answer_published_at(self, proposal: Proposal):
        if proposal.answer_published_at is None:
            return None
        return serializers.DateTimeField().to_representation(proposal.answer_published_at)


@extend_schema_serializer(component_name="CodesignProposalCreate")
class ProposalCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=10_000, help_text="Markdown.")
    cost = serializers.DecimalField(**_CREDITS, min_value=Decimal("0"), required=False, default=Decimal("0"))
    hours = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), required=False, default=Decimal("0"),
        help_text="Volunteer hours it needs, in quarters (under 1,000).",
    )  # fmt: skip
    tools_text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    submit = serializers.BooleanField(
        required=False, default=False, help_text="Submit it to the organizers now; otherwise it is a draft."
    )


@extend_schema_serializer(component_name="CodesignProposalEdit")
class ProposalEditSerializer(serializers.Serializer):
    """Leave out what stays the same."""

    title = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(max_length=10_000, required=False)
    cost = serializers.DecimalField(**_CREDITS, min_value=Decimal("0"), required=False)
    hours = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0"), required=False)


# --- ballots and results ----------------------------------------------------------------
class VoteSerializer(serializers.Serializer):
    dots = serializers.IntegerField(
        min_value=0, max_value=MAX_DOTS,
        help_text="Dots on this proposal (0 takes them off). Approval voting: 1 approves, 0 does not.",
    )  # fmt: skip


@extend_schema_serializer(component_name="CodesignBallot")
class BallotSerializer(serializers.Serializer):
    """My own ballot in a challenge (nobody else's is ever shown)."""

    challenge = serializers.IntegerField()
    method = method_choice()
    ballot = serializers.DictField(
        child=serializers.IntegerField(), help_text="Dots (approval: 1) I put on each proposal, by proposal id."
    )
    dots_left = serializers.IntegerField(allow_null=True, help_text="Dots still to place; null in approval voting.")


@extend_schema_serializer(component_name="CodesignResult")
class ResultSerializer(serializers.Serializer):
    proposal = serializers.IntegerField(source="proposal.pk")
    title = serializers.CharField(source="proposal.title")
    cost = serializers.DecimalField(**_CREDITS, source="proposal.cost")
    votes = serializers.IntegerField(help_text="Dots, or approvals.")
    voters = serializers.IntegerField()
    won = serializers.BooleanField(help_text="Chosen (while voting is open with live totals: if it closed now).")
    fits = serializers.BooleanField(help_text="With a budget: whether it fit in what was left when its turn came.")


@extend_schema_serializer(component_name="CodesignResults")
class ResultsSerializer(serializers.Serializer):
    challenge = serializers.IntegerField()
    method = method_choice()
    final = serializers.BooleanField(help_text="False while voting is still open (live totals).")
    budget = serializers.DecimalField(**_CREDITS, allow_null=True)
    ranking = ResultSerializer(many=True)


# --- comments ---------------------------------------------------------------------------
@extend_schema_serializer(component_name="CodesignReply")
class ReplySerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ("id", "parent", "author", "text", "created_at")
        read_only_fields = fields


@extend_schema_serializer(component_name="CodesignComment")
class CommentSerializer(ReplySerializer):
    replies = ReplySerializer(many=True, read_only=True)

    class Meta(ReplySerializer.Meta):
        fields = ("id", "challenge", "proposal", "parent", "author", "text", "created_at", "replies")
        read_only_fields = fields


@extend_schema_serializer(component_name="CodesignCommentCreate")
class CommentCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    parent = serializers.IntegerField(
        min_value=1, max_value=10**18 - 1, required=False, allow_null=True, help_text="The comment this replies to."
    )


# --- the build --------------------------------------------------------------------------
@extend_schema_serializer(component_name="CodesignVolunteer")
class VolunteerSerializer(serializers.ModelSerializer):
    member = PersonSerializer(read_only=True)
    status = volunteer_status_choice(read_only=True)

    class Meta:
        model = Volunteer
        fields = ("id", "task", "member", "status", "confirmed_at", "created_at")
        read_only_fields = fields


@extend_schema_serializer(component_name="CodesignVolunteerDetail")
class VolunteerDetailSerializer(VolunteerSerializer):
    actions = ActionsField(VOLUNTEER, help_text="confirm (an organizer: the hours are paid) or leave (the volunteer).")

    class Meta(VolunteerSerializer.Meta):
        fields = (*VolunteerSerializer.Meta.fields, "actions")
        read_only_fields = fields


@extend_schema_serializer(component_name="CodesignTask")
class TaskSerializer(serializers.ModelSerializer):
    status = task_status_choice(read_only=True)
    proposal_title = serializers.CharField(source="project.proposal.title", read_only=True)
    skill_name = serializers.CharField(source="skill.name", read_only=True, allow_null=True, default=None)
    tool_title = serializers.CharField(source="tool.title", read_only=True, allow_null=True, default=None)
    volunteers = VolunteerSerializer(many=True, read_only=True, help_text="Who joined (those who left not shown).")
    places_left = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = (
            "id",
            "project",
            "proposal_title",
            "title",
            "skill",
            "skill_name",
            "tool",
            "tool_title",
            "hours",
            "date",
            "places",
            "places_left",
            "status",
            "volunteers",
            "created_at",
        )
        read_only_fields = fields

    def get_places_left(self, task: Task) -> int:
        return max(0, task.places - len(task.volunteers.all()))


@extend_schema_serializer(component_name="CodesignTaskCreate")
class TaskCreateSerializer(serializers.Serializer):
    project = serializers.IntegerField(min_value=1, max_value=10**18 - 1, help_text="One of the challenge's projects.")
    title = serializers.CharField(max_length=120)
    hours = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="From 0.25 to 12, in quarters.")
    date = serializers.DateField(required=False, allow_null=True, default=None)
    places = serializers.IntegerField(min_value=1, max_value=50, required=False, default=2)
    skill = serializers.PrimaryKeyRelatedField(queryset=Skill.objects.all(), required=False, allow_null=True)
    tool = serializers.PrimaryKeyRelatedField(queryset=Tool.objects.all(), required=False, allow_null=True)


@extend_schema_serializer(component_name="CodesignCoauthorInput")
class CoauthorSerializer(serializers.Serializer):
    coauthor = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="A member of the community (their id)."
    )


@extend_schema_serializer(component_name="CodesignSpendInput")
class SpendSerializer(serializers.Serializer):
    recipient = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The member paid (their id).")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    memo = serializers.CharField(max_length=200)
    idempotency_key = serializers.CharField(
        max_length=60, help_text="Your own key for this payment: sending it again pays nothing more."
    )


@extend_schema_serializer(component_name="CodesignSpent")
class SpentSerializer(serializers.Serializer):
    transfer = serializers.IntegerField(help_text="The ledger transfer.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    budget_left = serializers.DecimalField(max_digits=12, decimal_places=2)
