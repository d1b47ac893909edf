"""API: blueprints with their live figures; a community starting or stopping an exchange.

- ``GET blueprints/``: the four blueprints as the home page shows them, public (no sign-in);
- ``GET communities/{id}/exchanges/``: the exchanges a community uses, with its rules, for
  its members (anyone else gets 404, as for the community's member list);
- ``POST communities/{id}/exchanges/`` ``{key, rules?}``: start one (organizers; 403 for the
  other members), with the blueprint's defaults; starting one in use changes only its rules;
- ``DELETE communities/{id}/exchanges/{key}/``: stop one (organizers).

The rules are the services' (``apps.peers.exchanges``); these views parse and render.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.peers import selectors
from apps.peers.blueprints import Blueprint, all_blueprints, blueprint, blueprint_keys, in_use
from apps.peers.exchanges import exchange_start, exchange_stop
from apps.peers.models import Community, CommunityExchange
from p2pcommons.api.schema import FIELD_ERRORS, FORBIDDEN, NOT_FOUND
from p2pcommons.errors import RuleViolation

from .figures import figures
from .forms import RULES_MAX

TAGS = ["blueprints"]


class KeyChoices:
    """``key`` is one of the registered blueprints' keys (read when the serializer is made:
    the exchanges register their blueprints when the apps are ready), so the schema names
    the set (``KeyEnum``) and a wrong key is a field error."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = blueprint_keys()


class FigureSerializer(serializers.Serializer):
    """A blueprint's live number, across all communities."""

    value = serializers.CharField(help_text='Formatted for people ("1,204", "38.5").')
    label = serializers.CharField(help_text='What it counts ("tools to borrow").')


class BlueprintSerializer(KeyChoices, serializers.Serializer):
    """One of the ready-to-use ways of sharing a community can start."""

    key = serializers.ChoiceField(choices=[], help_text="Which exchange it is.")
    category = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2)
    figure = FigureSerializer()
    url = serializers.URLField(help_text="Its page on the website.")


class CommunityExchangeSerializer(KeyChoices, serializers.Serializer):
    """An exchange a community uses, with the rules its members read."""

    key = serializers.ChoiceField(choices=[], help_text="Which exchange it is.")
    title = serializers.CharField()
    rules = serializers.CharField(help_text="The community's rules for it; empty: the blueprint's defaults apply.")
    started_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="The blueprint's page on the website.")


class ExchangeStartSerializer(KeyChoices, serializers.Serializer):
    """Start using an exchange; ``rules`` omitted: the blueprint's sensible defaults (or,
    for one already in use, the rules it has)."""

    key = serializers.ChoiceField(choices=[], help_text="Which exchange to start.")
    rules = serializers.CharField(required=False, allow_blank=True, max_length=RULES_MAX)


def _page_url(request, bp: Blueprint) -> str:
    return request.build_absolute_uri(reverse("front:blueprint", args=[bp.key]))


def _exchange_data(request, row: CommunityExchange, bp: Blueprint) -> dict:
    return {
        "key": bp.key,
        "title": bp.title,
        "rules": row.rules,
        "started_at": row.started_at,
        "url": _page_url(request, bp),
    }


class BlueprintListView(APIView):
    """The blueprints, with their live figures (cached), in their order. Public."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="The blueprints: the ways of sharing a community can use",
        tags=TAGS,
        auth=[],
        responses={200: BlueprintSerializer(many=True)},
    )
    def get(self, request):
        shown = figures()
        data = [
            {
                "key": bp.key,
                "category": bp.category,
                "title": bp.title,
                "description": bp.description,
                "tags": list(bp.tags),
                "figure": shown.get(bp.key) or bp.figure(),
                "url": _page_url(request, bp),
            }
            for bp in all_blueprints()
        ]
        return Response(BlueprintSerializer(data, many=True).data)


def _community_for_member(request, community_pk: int) -> Community:
    """The community, if the requester is one of its active members (or a site superuser);
    for anyone else it does not exist (404), as its member list."""
    community = get_object_or_404(Community, pk=community_pk)
    user = request.user
    if not (user.is_superuser or selectors.is_active_member(user=user, community=community)):
        raise Http404
    return community


def _forbidden(exc: RuleViolation) -> Exception:
    """A member who is not an organizer is refused with 403 and the service's sentence;
    any other refusal stays the rule's 409."""
    return PermissionDenied(str(exc)) if exc.code == "not_organizer" else exc


class CommunityExchangeListView(APIView):
    """The exchanges a community uses; organizers start one here."""

    @extend_schema(
        summary="The exchanges a community uses (its members)",
        tags=TAGS,
        responses={200: CommunityExchangeSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, community_pk: int):
        community = _community_for_member(request, community_pk)
        rows = CommunityExchange.objects.filter(community=community, stopped_at__isnull=True)
        by_key = {row.key: row for row in rows}
        data = [_exchange_data(request, by_key[bp.key], bp) for bp in all_blueprints() if bp.key in by_key]
        return Response(CommunityExchangeSerializer(data, many=True).data)

    @extend_schema(
        summary="Start using an exchange in the community (organizers)",
        tags=TAGS,
        request=ExchangeStartSerializer,
        responses={
            200: CommunityExchangeSerializer,
            201: CommunityExchangeSerializer,
            400: FIELD_ERRORS,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def post(self, request, community_pk: int):
        """201 when the community starts using it; 200 when it already did (its rules change
        when ``rules`` is given)."""
        community = _community_for_member(request, community_pk)
        payload = ExchangeStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        bp = blueprint(payload.validated_data["key"])
        was_in_use = in_use(community_id=community.pk, key=bp.key)
        try:
            row = exchange_start(
                community=community, key=bp.key, actor=request.user, rules=payload.validated_data.get("rules")
            )
        except RuleViolation as exc:
            raise _forbidden(exc) from None
        data = CommunityExchangeSerializer(_exchange_data(request, row, bp)).data
        return Response(data, status=status.HTTP_200_OK if was_in_use else status.HTTP_201_CREATED)


class CommunityExchangeDetailView(APIView):
    """One exchange of a community: organizers stop it here."""

    @extend_schema(
        summary="Stop using an exchange in the community (organizers)",
        tags=TAGS,
        parameters=[
            OpenApiParameter("key", str, OpenApiParameter.PATH, enum=blueprint_keys(), description="Which exchange.")
        ],
        request=None,
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def delete(self, request, community_pk: int, key: str):
        """What was already agreed runs to its end; starting it again picks it up. 404 when
        the community does not use it."""
        community = _community_for_member(request, community_pk)
        if blueprint(key) is None:
            raise Http404
        try:
            stopped = exchange_stop(community=community, key=key, actor=request.user)
        except RuleViolation as exc:
            raise _forbidden(exc) from None
        if stopped is None:
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("blueprints/", BlueprintListView.as_view(), name="blueprint-list"),
    path("communities/<id:community_pk>/exchanges/", CommunityExchangeListView.as_view(), name="community-exchanges"),
    path(
        "communities/<id:community_pk>/exchanges/<slug:key>/",
        CommunityExchangeDetailView.as_view(),
        name="community-exchange",
    ),
]
