"""REST API for Co-Design Mini Projects: /api/v1/challenges/ and what hangs off a challenge.

By topic: challenges, their phases, ideas, comments, results, my ballot and the build's
tasks here; one proposal, its steps, votes and comments, an idea's +1, a task's join and
a volunteer's steps in ``api_proposals``; the shapes in ``api_serializers``. Views stay
thin: they parse, call one service or selector of ``apps.codesign`` and render; the rules
(who, when, how many dots) are the services' and the machines' in ``transitions``.

A challenge is read by the members of its community only (anyone else gets 404); the
ballot is secret: ``.../ballot/`` is the requester's own, ``.../results/`` answers 409
``wrong_phase`` until ``services.totals_visible``.
"""

from __future__ import annotations

from functools import partial

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.api_transitions import transition_endpoints
from p2pcommons.converters import IdConverter
from p2pcommons.errors import RuleViolation

from . import selectors, services
from .api_proposals import IdeaViewSet, ProposalViewSet, TaskViewSet, VolunteerViewSet, comment_create
from .api_serializers import (
    BallotSerializer,
    ChallengeCreateSerializer,
    ChallengeDetailSerializer,
    ChallengeSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    FollowSerializer,
    IdeaCreateSerializer,
    IdeaSerializer,
    ProposalCreateSerializer,
    ProposalDetailSerializer,
    ProposalSerializer,
    ResultsSerializer,
    SpendSerializer,
    SpentSerializer,
    TaskCreateSerializer,
    TaskSerializer,
    ballot_body,
)
from .models import Challenge, Idea, Project
from .transitions import CHALLENGE

__all__ = ["ChallengeViewSet", "IdeaViewSet", "ProposalViewSet", "TaskViewSet", "VolunteerViewSet"]

TAGS = ["codesign"]
MEMBER_CODES = ("not_member", "suspended")


class ChallengeFilterSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=Challenge.Phase.choices, required=False)
    community = serializers.IntegerField(min_value=1, max_value=10**18 - 1, required=False)


def _step(name: str):
    return partial(services.challenge_step, step=name)


@extend_schema_view(
    list=extend_schema(
        summary="The challenges of my communities, newest first",
        tags=TAGS,
        parameters=[
            OpenApiParameter("phase", str, enum=Challenge.Phase.values, description="Only challenges in this phase."),
            OpenApiParameter("community", int, description="Only the challenges of this community (its id)."),
        ],
        responses={200: ChallengeSerializer(many=True), 400: FIELD_ERRORS},
    ),
    retrieve=extend_schema(tags=TAGS, responses={200: ChallengeDetailSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Post a design challenge (organizers)",
        tags=TAGS,
        request=ChallengeCreateSerializer,
        responses={201: ChallengeDetailSerializer, 400: FIELD_ERRORS, 409: conflicts("not_organizer")},
    ),
)
@transition_endpoints(
    CHALLENGE,
    perform={name: _step(name) for name in CHALLENGE.member_actions},
    obj_kwarg="challenge",
    serializer=ChallengeDetailSerializer,
    tags=TAGS,
    docs={
        "open_proposals": "Close the ideas and take proposals (organizers; early or late, the dates adjust).",
        "open_voting": "Close proposals and open voting on those accepted for voting (organizers).",
        "close_voting": "Close voting: the ballots are counted and the winners become projects (organizers).",
        "finish": "Mark the build as done (organizers).",
    },
)
class ChallengeViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Design challenges of my communities (another community's is not found)."""

    serializer_class = ChallengeDetailSerializer
    queryset = Challenge.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_serializer_class(self):
        return ChallengeSerializer if self.action == "list" else ChallengeDetailSerializer

    def get_queryset(self):
        user = self.request.user
        filters = {}
        if self.action == "list":
            wanted = ChallengeFilterSerializer(data=self.request.query_params)
            wanted.is_valid(raise_exception=True)
            filters = {
                "phase": wanted.validated_data.get("phase"),
                "community_id": wanted.validated_data.get("community"),
            }
        challenges = selectors.with_following(selectors.challenge_list(user=user, **filters), user)
        # The lists under a challenge (its proposals, ideas, comments) show no project: without
        # the projects' prefetch the proposals list fits the API budget of 7 queries.
        if self.action not in ("list", "proposals", "ideas", "comments"):
            challenges = challenges.prefetch_related(
                Prefetch("projects", queryset=Project.objects.select_related("proposal"))
            )
        return challenges

    def _shown(self, challenge: Challenge) -> dict:
        """The challenge as retrieve shows it, fresh from the database. Read by its id, not
        through the member's communities: a site superuser may post in a community they
        do not belong to (peers.guards.require_organizer) and gets their challenge back."""
        self.action = "retrieve"
        fresh = selectors.with_counts(Challenge.objects.filter(pk=challenge.pk))
        fresh = selectors.with_following(fresh, self.request.user)
        fresh = fresh.prefetch_related(Prefetch("projects", queryset=Project.objects.select_related("proposal")))
        return ChallengeDetailSerializer(fresh.get(), context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        payload = ChallengeCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        challenge = services.challenge_create(actor=request.user, **data)
        return Response(self._shown(challenge), status=status.HTTP_201_CREATED)

    # --- following ------------------------------------------------------------------
    @extend_schema(
        methods=["POST"],
        summary="Follow the challenge",
        tags=TAGS,
        request=None,
        responses={200: FollowSerializer, 404: NOT_FOUND, 409: conflicts(*MEMBER_CODES)},
    )
    @extend_schema(
        methods=["DELETE"], summary="Stop following the challenge", tags=TAGS, responses={204: None, 404: NOT_FOUND}
    )
    @action(detail=True, methods=["post", "delete"])
    def follow(self, request, pk=None):
        """POST: be told of its phase changes and new comments (following twice changes
        nothing). DELETE: stop."""
        challenge = self.get_object()
        if request.method == "DELETE":
            services.challenge_unfollow(challenge=challenge, member=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        services.challenge_follow(challenge=challenge, member=request.user)
        return Response({"following": True})

    @extend_schema(summary="Stop following the challenge", tags=TAGS, request=None,
                   responses={200: FollowSerializer, 404: NOT_FOUND})  # fmt: skip
    @action(detail=True, methods=["post"])
    def unfollow(self, request, pk=None):
        """The same as DELETE .../follow/, for clients that only POST."""
        services.challenge_unfollow(challenge=self.get_object(), member=request.user)
        return Response({"following": False})

    # --- ideas ----------------------------------------------------------------------
    @extend_schema(
        methods=["GET"],
        summary="The challenge's ideas, most +1'd first",
        tags=TAGS,
        responses={200: IdeaSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Post an idea (during the ideas phase)",
        tags=TAGS,
        request=IdeaCreateSerializer,
        responses={
            201: IdeaSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("wrong_phase", "limit", *MEMBER_CODES),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def ideas(self, request, pk=None):
        challenge = self.get_object()
        if request.method == "GET":
            ideas = selectors.ideas_of(challenge=challenge, user=request.user)
            page = self.paginate_queryset(ideas)
            return self.get_paginated_response(IdeaSerializer(page, many=True).data)
        payload = IdeaCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        idea = services.idea_post(challenge=challenge, author=request.user, text=payload.validated_data["text"])
        idea = Idea.objects.select_related("author__profile").get(pk=idea.pk)
        return Response(IdeaSerializer(idea).data, status=status.HTTP_201_CREATED)

    # --- proposals ------------------------------------------------------------------
    @extend_schema(
        methods=["GET"],
        summary="The challenge's proposals I may read (the gallery)",
        tags=TAGS,
        responses={200: ProposalSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Propose a design (a draft, or submitted at once)",
        tags=TAGS,
        request=ProposalCreateSerializer,
        responses={
            201: ProposalDetailSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("wrong_phase", "illegal_transition", "forbidden", "limit", *MEMBER_CODES),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def proposals(self, request, pk=None):
        """GET: submitted, accepted and not-feasible proposals, and my own drafts. POST: a
        new proposal, during the proposals phase."""
        challenge = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.proposals_of(challenge=challenge, user=request.user))
            return self.get_paginated_response(
                ProposalSerializer(page, many=True, context=self.get_serializer_context()).data
            )
        payload = ProposalCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        proposal = services.proposal_create(challenge=challenge, author=request.user, **payload.validated_data)
        proposal = selectors.proposal_visible(user=request.user, pk=proposal.pk)
        data = ProposalDetailSerializer(proposal, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    # --- comments -------------------------------------------------------------------
    @extend_schema(
        methods=["GET"],
        summary="Comments on the challenge, each with its replies",
        tags=TAGS,
        responses={200: CommentSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Comment on the challenge, or reply to a comment",
        tags=TAGS,
        request=CommentCreateSerializer,
        responses={201: CommentSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: conflicts(*MEMBER_CODES)},
    )
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, pk=None):
        challenge = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.comments_of(challenge=challenge, user=request.user))
            return self.get_paginated_response(CommentSerializer(page, many=True).data)
        comment = comment_create(request, challenge=challenge)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    # --- the vote -------------------------------------------------------------------
    @extend_schema(
        summary="Pay a member from the challenge's budget (organizers)",
        tags=TAGS,
        request=SpendSerializer,
        responses={
            201: SpentSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("not_organizer", "no_budget", "wrong_phase", "over_budget", "not_member", "suspended",
                           "limit_exceeded", data={"left": OpenApiTypes.STR}),
        },
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def spend(self, request, pk=None):
        """A CREDIT transfer from the community's co-design fund, never beyond the budget;
        the same ``idempotency_key`` again pays nothing more."""
        from apps.peers.selectors import active_member

        challenge = self.get_object()
        body = SpendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        recipient = active_member(community_id=challenge.community_id, user_id=data["recipient"])
        if recipient is None:
            raise DRFValidationError({"recipient": [_("No such member of this community.")]})
        transfer = services.budget_spend(
            challenge=challenge, actor=request.user, amount=data["amount"], recipient=recipient, memo=data["memo"],
            idempotency_key=f"codesign-spend-{challenge.pk}-{data['idempotency_key']}",
        )  # fmt: skip
        challenge.refresh_from_db()
        body = {
            "transfer": transfer.pk,
            "amount": transfer.amount,
            "budget_left": services.budget_left(challenge=challenge),
        }
        return Response(SpentSerializer(body).data, status=201)

    @extend_schema(summary="My ballot in this challenge", tags=TAGS, responses={200: BallotSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["get"])
    def ballot(self, request, pk=None):
        """My own ballot (nobody else's is ever shown): dots per proposal id, and the dots I
        still have. Change it with POST /api/v1/proposals/{id}/vote/ while voting is open."""
        challenge = self.get_object()
        return Response(ballot_body(challenge, request.user))

    @extend_schema(
        summary="The ranking (after voting, or during it with live totals)",
        tags=TAGS,
        responses={200: ResultsSerializer, 404: NOT_FOUND, 409: conflicts("wrong_phase")},
    )
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """Proposals on the ballot by votes, most first, with the winners: with a budget,
        chosen greedily by votes while their cost fits. Refused (409 ``wrong_phase``) while
        the ballot is secret: before voting closes, unless the organizers show live totals."""
        challenge = self.get_object()
        if not services.totals_visible(challenge=challenge):
            raise RuleViolation(
                _("The results are shown once voting closes; until then every ballot is secret."), code="wrong_phase"
            )
        body = {
            "challenge": challenge.pk,
            "method": challenge.method,
            "final": challenge.voting_closed,
            "budget": challenge.budget,
            "ranking": services.results(challenge=challenge),
        }
        return Response(ResultsSerializer(body).data)

    # --- the build ------------------------------------------------------------------
    @extend_schema(
        methods=["GET"],
        summary="The build's tasks, with their volunteers",
        tags=TAGS,
        responses={200: TaskSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a task to a project (organizers, while building)",
        tags=TAGS,
        request=TaskCreateSerializer,
        responses={
            201: TaskSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("not_organizer", "wrong_phase"),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def tasks(self, request, pk=None):
        challenge = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.tasks_of(challenge=challenge))
            return self.get_paginated_response(TaskSerializer(page, many=True).data)
        payload = TaskCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        project = Project.objects.select_related("challenge").filter(challenge=challenge, pk=data["project"]).first()
        if project is None:
            raise DRFValidationError({"project": [_("No such project of this challenge.")]})
        task = services.task_create(
            project=project,
            actor=request.user,
            title=data["title"],
            hours=data["hours"],
            when=data["date"],
            places=data["places"],
            skill=data.get("skill"),
            tool=data.get("tool"),
        )
        task = selectors.tasks_of(challenge=challenge).get(pk=task.pk)
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)
