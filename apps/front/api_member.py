"""API: unified search and the member's dashboard (members only, like the rest of the API).

- ``GET /api/v1/search/?q=&kind=&within_km=&page=``: typed results, best first, paginated.
  ``q`` must hold at least one word (an empty or wordless ``q`` is a 400 on ``q``, not an
  empty list, so a client's bug shows); ``kind`` is repeatable or comma separated;
  ``within_km`` needs a location on the member's profile (a 400 on it otherwise).
- ``GET /api/v1/me/dashboard/``: what needs the member's action, what is coming up, their
  balances and trust, and what is new in their communities.

Both render the same selectors as the pages (``unified_search.search``,
``dashboard.dashboard_for``).
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.ledger.models import Currency
from apps.peers.models import Profile
from apps.peers.search import words_of
from p2pcommons.api.schema import FIELD_ERRORS

from .dashboard import dashboard_for
from .unified_search import MAX_QUERY_LENGTH, all_kinds, location_of, search

TAGS = ["front door"]
MAX_DISTANCE_KM = 100


# --- Search ------------------------------------------------------------------------------
class SearchQuerySerializer(serializers.Serializer):
    """The query string of a search, checked: every problem is a 400 on its parameter."""

    q = serializers.CharField(max_length=MAX_QUERY_LENGTH, allow_blank=True, trim_whitespace=True)
    kind = serializers.ListField(child=serializers.CharField(), required=False)
    within_km = serializers.FloatField(min_value=0.1, max_value=MAX_DISTANCE_KM, required=False)
    page = serializers.IntegerField(min_value=1, max_value=10**6, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False)

    def validate_q(self, value: str) -> str:
        if not words_of(value):
            raise serializers.ValidationError(_("Type at least one word to search for."))
        return value

    def validate_kind(self, value: list[str]) -> list[str]:
        known = {key for key, _label in all_kinds()}
        wanted = [part.strip() for item in value for part in item.split(",") if part.strip()]
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise serializers.ValidationError(
                _("Unknown kind: %(unknown)s. Choose from %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(sorted(known))}
            )
        return wanted

    def validate_within_km(self, value: float) -> float:
        if location_of(self.context["user"]) is None:
            raise serializers.ValidationError(_("Set your location on your profile to search by distance."))
        return value


class SearchHitSerializer(serializers.Serializer):
    """One result: what it is (``kind``, one of the kinds in the ``kind`` filter, and its
    label), its title and a snippet, where to open it (a page of the site), how well it
    matches (higher is better), its community and its distance from the member's place
    (null when either place is unknown)."""

    kind = serializers.CharField()
    kind_label = serializers.CharField()
    title = serializers.CharField()
    snippet = serializers.CharField()
    url = serializers.CharField(help_text="The page of the site where it is, as a path.")
    rank = serializers.FloatField()
    community = serializers.CharField()
    distance_km = serializers.FloatField(allow_null=True)


def _raw_query(request) -> dict:
    """The query string as the serializer reads it (``kind`` a list, repeated or not)."""
    data = {key: request.query_params.get(key) for key in ("q", "within_km", "page", "page_size")}
    data = {key: value for key, value in data.items() if value is not None}
    data.setdefault("q", "")
    kinds = request.query_params.getlist("kind")
    if kinds:
        data["kind"] = kinds
    return data


class SearchViewSet(viewsets.GenericViewSet):
    """Unified search across the exchanges of my communities and my neighbors."""

    serializer_class = SearchHitSerializer
    # Results come from several models (``unified_search``); drf-spectacular asks a list
    # view for one, and a neighbor's profile is the one search owns.
    queryset = Profile.objects.none()

    @extend_schema(
        summary="Search tools, skills, challenges, proposals and neighbors in my communities",
        tags=TAGS,
        parameters=[
            OpenApiParameter("q", str, required=True, description="What to look for: at least one word."),
            OpenApiParameter(
                "kind",
                str,
                many=True,
                explode=True,
                enum=[key for key, _label in all_kinds()],
                description="Only these kinds (repeat the parameter, or separate kinds with commas).",
            ),
            OpenApiParameter(
                "within_km",
                float,
                description=f"Only what lies this close to my profile's place (0.1 to {MAX_DISTANCE_KM} km; "
                "needs a location on my profile).",
            ),
        ],
        responses={200: SearchHitSerializer(many=True), 400: FIELD_ERRORS},
    )
    def list(self, request):
        wanted = SearchQuerySerializer(data=_raw_query(request), context={"user": request.user})
        wanted.is_valid(raise_exception=True)
        data = wanted.validated_data
        hits = search(
            user=request.user, query=data["q"], kinds=data.get("kind") or None, within_km=data.get("within_km")
        )
        page = self.paginate_queryset(hits)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- Dashboard ---------------------------------------------------------------------------
class DashboardItemSerializer(serializers.Serializer):
    """One line of the dashboard: the sentence, the exchange it comes from (``kind``, a
    blueprint key, e.g. "tools"), its time (a deadline, a start, or when it happened;
    may be null), the page where it is done or seen, and the call to action."""

    kind = serializers.CharField()
    text = serializers.CharField()
    when = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="The page of the site where it is done or seen, as a path.")
    verb = serializers.CharField(help_text='The call to action ("Approve or decline"); empty for news.')


class DashboardCommunitySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    slug = serializers.CharField()
    name = serializers.CharField()


class DashboardBalanceSerializer(serializers.Serializer):
    """My balance in one currency of one of my communities (0 before any movement).
    ``available`` is how much I can still send (null before my account exists)."""

    community = DashboardCommunitySerializer()
    currency = serializers.ChoiceField(choices=Currency.choices)
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    available = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class DashboardTrustSerializer(serializers.Serializer):
    """My trust score (null before any counted review), from how many reviewers, how many
    exchanges I completed and with how many different neighbors."""

    score = serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True)
    rating_count = serializers.IntegerField()
    completed = serializers.IntegerField()
    counterparts = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    communities = DashboardCommunitySerializer(many=True)
    actions = DashboardItemSerializer(many=True, help_text="What waits for me, soonest first.")
    upcoming = DashboardItemSerializer(many=True, help_text="My coming loans, sessions, slots and tasks.")
    balances = DashboardBalanceSerializer(many=True)
    trust = DashboardTrustSerializer()
    activity = DashboardItemSerializer(many=True, help_text="What is new in my communities, newest first.")


class DashboardView(APIView):
    """My dashboard across every exchange of my communities."""

    @extend_schema(summary="My dashboard", tags=TAGS, responses={200: DashboardSerializer})
    def get(self, request):
        return Response(DashboardSerializer(dashboard_for(request.user)).data)


urlpatterns = [
    path("search/", SearchViewSet.as_view({"get": "list"}), name="search"),
    path("me/dashboard/", DashboardView.as_view(), name="me-dashboard"),
]
