"""The co-design API's objects under their own ids: /api/v1/proposals/{id}/ (its steps,
answer, votes and comments), /api/v1/ideas/{id}/plus-one/, /api/v1/tasks/{id}/ (join)
and /api/v1/volunteers/{id}/ (confirm, leave). Each is found only by members of its
challenge's community (and a draft only by its authors); anyone else gets 404.
"""

from __future__ import annotations

from functools import partial

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.peers.selectors import community_ids_of
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.api_transitions import transition_endpoints
from p2pcommons.converters import IdConverter

from . import selectors, services
from .api_serializers import (
    BallotSerializer,
    CoauthorSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    IdeaSerializer,
    ProposalDetailSerializer,
    ProposalEditSerializer,
    TaskSerializer,
    VolunteerDetailSerializer,
    VoteSerializer,
    ballot_body,
)
from .models import Challenge, Comment, Idea, Proposal, Task, Volunteer
from .transitions import PROPOSAL, VOLUNTEER

TAGS = ["codesign"]
MEMBER_CODES = ("not_member", "suspended")


def comment_create(request, *, challenge: Challenge, proposal: Proposal | None = None) -> Comment:
    """Post the comment in ``request``'s body on the challenge (or one of its proposals),
    as a reply when it names a ``parent`` of the same page."""
    payload = CommentCreateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    parent = None
    if payload.validated_data.get("parent") is not None:
        parent = (
            Comment.objects.filter(pk=payload.validated_data["parent"], challenge=challenge, proposal=proposal)
            .visible_to(request.user)
            .first()
        )
        if parent is None:
            raise DRFValidationError({"parent": [_("No such comment on this page.")]})
    comment = services.comment_post(
        challenge=challenge, author=request.user, text=payload.validated_data["text"], proposal=proposal, parent=parent
    )
    return Comment.objects.select_related("author__profile").prefetch_related("replies").get(pk=comment.pk)


def _decline(*, proposal: Proposal, actor, note: str = "") -> Proposal:
    """Not feasible, with the reason the authors read once the answer is published."""
    if not note.strip():
        raise ValidationError({"note": _("Say why it is not feasible; the authors read it.")})
    return services.proposal_answer(proposal=proposal, actor=actor, accept=False, reason=note)


@extend_schema_view(
    retrieve=extend_schema(tags=TAGS, responses={200: ProposalDetailSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary="Edit my proposal (its authors, during the proposals phase)",
        tags=TAGS,
        request=ProposalEditSerializer,
        responses={
            200: ProposalDetailSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("forbidden", "illegal_transition", "wrong_phase"),
        },
    ),
)
@transition_endpoints(
    PROPOSAL,
    perform={
        "submit": services.proposal_submit,
        "accept": partial(services.proposal_answer, accept=True),
        "decline": _decline,
        "withdraw": services.proposal_withdraw,
    },
    obj_kwarg="proposal",
    serializer=ProposalDetailSerializer,
    tags=TAGS,
    docs={
        "submit": "Submit my draft to the organizers (during the proposals phase).",
        "accept": "Accept it for voting (organizers, before voting); publish the answer to tell the authors.",
        "decline": "Not feasible (organizers, before voting): `note` is the reason the authors read.",
        "withdraw": "Withdraw my proposal (its author, before voting).",
    },
)
class ProposalViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A proposal I may read: its authors' in any state, the submitted, accepted or
    not-feasible ones of my communities."""

    serializer_class = ProposalDetailSerializer
    queryset = Proposal.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        user = self.request.user
        readable = (
            selectors.proposals_readable(Proposal.objects.all(), user)
            .visible_to(user)
            .select_related("challenge__community", "author__profile")
        )
        if self.action == "comments":
            # The comments need only their proposal and its challenge: without the photos,
            # coauthors, tools and skills the list costs 5 queries instead of 9.
            return readable
        return readable.prefetch_related("photos", "coauthors__profile", "tools", "skills")

    def _shown(self, proposal: Proposal) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data

    def partial_update(self, request, *args, **kwargs):
        """Leave out what stays the same. After others commented, the text before the edit
        is kept as a version."""
        proposal = self.get_object()
        payload = ProposalEditSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        proposal = services.proposal_edit(
            proposal=proposal,
            actor=request.user,
            title=data.get("title", proposal.title),
            description=data.get("description", proposal.description),
            cost=data.get("cost"),
            hours=data.get("hours"),
        )
        return Response(self._shown(proposal))

    @extend_schema(
        summary="Publish the organizers' answer to the authors",
        tags=TAGS,
        request=None,
        responses={
            200: ProposalDetailSerializer,
            404: NOT_FOUND,
            409: conflicts("not_organizer", "illegal_transition"),
        },
    )
    @action(detail=True, methods=["post"], url_path="publish-answer", url_name="publish-answer")
    def publish_answer(self, request, pk=None):
        """The authors read the answer (and its reason) and are told, once."""
        proposal = services.proposal_publish_answer(proposal=self.get_object(), actor=request.user)
        return Response(self._shown(proposal))

    @extend_schema(
        summary="Name a co-author (the author only)",
        tags=TAGS,
        request=CoauthorSerializer,
        responses={
            200: ProposalDetailSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("forbidden", "not_member", "suspended"),
        },
    )
    @action(detail=True, methods=["post"])
    def coauthors(self, request, pk=None):
        """A co-author is a member of the community who may edit the proposal with its author."""
        from apps.peers.selectors import active_member

        proposal = self.get_object()
        body = CoauthorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        coauthor = active_member(community_id=proposal.challenge.community_id, user_id=body.validated_data["coauthor"])
        if coauthor is None:
            raise DRFValidationError({"coauthor": [_("No such member of this community.")]})
        services.proposal_add_coauthor(proposal=proposal, actor=request.user, coauthor=coauthor)
        return Response(self._shown(self.get_object()))

    @extend_schema(
        summary="Put dots on the proposal (or approve it) in my ballot",
        tags=TAGS,
        request=VoteSerializer,
        responses={
            200: BallotSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts(
                "wrong_phase", "too_many_dots", "not_on_ballot", *MEMBER_CODES, data={"dots_left": OpenApiTypes.INT}
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def vote(self, request, pk=None):
        """Set my dots on this proposal (0 takes them off; approval voting: 1 or 0), while
        voting is open. Answers with my whole ballot in the challenge; ``too_many_dots``
        says how many dots are left to place here (``dots_left``)."""
        proposal = self.get_object()
        payload = VoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.vote_set(proposal=proposal, voter=request.user, dots=payload.validated_data["dots"])
        return Response(ballot_body(proposal.challenge, request.user))

    @extend_schema(
        methods=["GET"],
        summary="Comments on the proposal, each with its replies",
        tags=TAGS,
        responses={200: CommentSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Comment on the proposal, or reply to a comment",
        tags=TAGS,
        request=CommentCreateSerializer,
        responses={
            201: CommentSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("illegal_transition", *MEMBER_CODES),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, pk=None):
        proposal = self.get_object()
        if request.method == "GET":
            comments = selectors.comments_of(challenge=proposal.challenge, user=request.user, proposal=proposal)
            page = self.paginate_queryset(comments)
            return self.get_paginated_response(CommentSerializer(page, many=True).data)
        comment = comment_create(request, challenge=proposal.challenge, proposal=proposal)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class IdeaViewSet(viewsets.GenericViewSet):
    """An idea of a challenge of my communities (listed at /api/v1/challenges/{id}/ideas/)."""

    serializer_class = IdeaSerializer
    queryset = Idea.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        user = self.request.user
        return (
            Idea.objects.filter(challenge__community_id__in=community_ids_of(user=user))
            .visible_to(user)
            .select_related("challenge", "author__profile")
        )

    @extend_schema(
        summary="+1 an idea (during the ideas phase; not my own)",
        tags=TAGS,
        request=None,
        responses={200: IdeaSerializer, 404: NOT_FOUND, 409: conflicts("wrong_phase", "own_idea", *MEMBER_CODES)},
    )
    @action(detail=True, methods=["post"], url_path="plus-one", url_name="plus-one")
    def plus_one(self, request, pk=None):
        """Once per member: a second +1 changes nothing."""
        idea = services.idea_plus_one(idea=self.get_object(), member=request.user)
        return Response(IdeaSerializer(idea).data)


class TaskViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A task of a project being built (listed at /api/v1/challenges/{id}/tasks/)."""

    serializer_class = TaskSerializer
    queryset = Task.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return Task.objects.filter(
            project__challenge__community_id__in=community_ids_of(user=self.request.user)
        ).select_related("project__challenge")

    @extend_schema(tags=TAGS, responses={200: TaskSerializer, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        task = self.get_object()
        task = selectors.tasks_of(challenge=task.project.challenge).get(pk=task.pk)
        return Response(TaskSerializer(task).data)

    @extend_schema(
        summary="Join the task (while building, while it has room)",
        tags=TAGS,
        request=None,
        responses={
            201: VolunteerDetailSerializer,
            404: NOT_FOUND,
            409: conflicts("wrong_phase", "illegal_transition", "already_joined", "full", *MEMBER_CODES),
        },
    )
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        """My place on the task; an organizer confirms it once done and my hours are paid."""
        volunteer = services.task_join(task=self.get_object(), member=request.user)
        volunteer = _volunteers(request.user).get(pk=volunteer.pk)
        return Response(
            VolunteerDetailSerializer(volunteer, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


def _volunteers(user):
    return Volunteer.objects.filter(
        task__project__challenge__community_id__in=community_ids_of(user=user)
    ).select_related("task__project__challenge", "member__profile")


@extend_schema_view(retrieve=extend_schema(tags=TAGS, responses={200: VolunteerDetailSerializer, 404: NOT_FOUND}))
@transition_endpoints(
    VOLUNTEER,
    perform={"confirm": services.volunteer_confirm, "leave": services.volunteer_leave},
    obj_kwarg="volunteer",
    serializer=VolunteerDetailSerializer,
    tags=TAGS,
    docs={
        "confirm": "Confirm the volunteer did the task (an organizer, not for oneself): the task's hours are paid "
        "from the community's co-design fund, once.",
        "leave": "Leave the task (the volunteer, while building).",
    },
    also_refused={"confirm": ("limit_exceeded",)},
)
class VolunteerViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A member's place on a task."""

    serializer_class = VolunteerDetailSerializer
    queryset = Volunteer.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return _volunteers(self.request.user)
