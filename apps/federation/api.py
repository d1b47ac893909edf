"""The member API of neighbouring communities (under /api/v1/federation/): the listings of
communities on other servers that my communities follow, asking to borrow one of their
tools, and my exchanges with them.

The server-to-server protocol (ActivityPub) is elsewhere (``urls_ap``); this is for a
member's app, signed in like every other endpoint. Writes go through
``apps.federation.services``: bad input is a 400 with field errors, a rule that says no
a 409 with ``detail`` and ``code``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.converters import IdConverter
from p2pcommons.errors import RuleViolation
from p2pcommons.forms import within_search_span

from . import selectors, services
from .models import RemoteActor, RemoteExchange, RemoteListing
from .views.member import CANCELLABLE, safe_home_url

TAGS = ["federation"]
MAX_QUERY_LENGTH = 200
# What refuses a request to borrow (apps.federation.services.remote_borrow_request; the
# lender's own rules answer later, as a rejected exchange).
BORROW_REFUSALS = ("not_a_tool", "not_available", "not_following")
CANCEL_REFUSALS = ("forbidden", "illegal_transition")
PICKUP_REFUSALS = ("forbidden", "illegal_transition", "limit_exceeded", "not_member")


class RemoteCommunitySerializer(serializers.ModelSerializer):
    """A community on another server: its name, its address for neighbours, its server."""

    host = serializers.CharField(read_only=True, help_text="The server it lives on.")

    class Meta:
        model = RemoteActor
        fields = ("name", "handle", "host")
        read_only_fields = fields


class RemoteListingSerializer(serializers.ModelSerializer):
    """A listing of a neighbouring community, as its home server published it."""

    kind = serializers.ChoiceField(choices=RemoteListing.Kind.choices, read_only=True)
    community = RemoteCommunitySerializer(source="origin", read_only=True)
    url = serializers.SerializerMethodField(help_text="Its page on its home server (empty when unknown).")
    can_borrow = serializers.SerializerMethodField(help_text="Whether I can ask to borrow it from here (tools).")

    class Meta:
        model = RemoteListing
        fields = (
            "id",
            "kind",
            "name",
            "summary",
            "category",
            "community",
            "fee_amount",
            "fee_unit",
            "url",
            "published_at",
            "updated_at",
            "can_borrow",
        )
        read_only_fields = fields

    def get_url(self, listing: RemoteListing) -> str:
        return safe_home_url(listing.url)

    def get_can_borrow(self, listing: RemoteListing) -> bool:
        return listing.kind == RemoteListing.Kind.TOOL


class RemoteListingFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RemoteListing.Kind.choices, required=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=MAX_QUERY_LENGTH)


class BorrowSerializer(serializers.Serializer):
    """The window to borrow a neighbouring community's tool for, and a word to its owner."""

    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    message = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    def validate_starts_at(self, value):
        if not within_search_span(value):
            raise serializers.ValidationError(_("Choose a date within five years from now."))
        return value

    def validate_ends_at(self, value):
        if not within_search_span(value):
            raise serializers.ValidationError(_("Choose a date within five years from now."))
        return value

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": [_("The end must be after the start.")]})
        return attrs


class RemoteExchangeSerializer(serializers.ModelSerializer):
    """A loan with a neighbouring community, as this side knows it."""

    side = serializers.ChoiceField(
        choices=RemoteExchange.Side.choices,
        read_only=True,
        help_text="borrower: I borrow their member's tool; lender: their member borrows mine.",
    )
    status = serializers.ChoiceField(choices=RemoteExchange.Status.choices, read_only=True)
    community = RemoteCommunitySerializer(source="peer", read_only=True)
    listing_name = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField(help_text="Whether I may cancel it now.")
    can_pick_up = serializers.SerializerMethodField(help_text="Whether I may record the pickup now (pays the fee).")

    class Meta:
        model = RemoteExchange
        fields = (
            "id",
            "side",
            "status",
            "listing",
            "listing_name",
            "community",
            "starts_at",
            "ends_at",
            "message",
            "fee_total",
            "currency",
            "status_changed_at",
            "created_at",
            "can_cancel",
            "can_pick_up",
        )
        read_only_fields = fields

    def get_listing_name(self, exchange: RemoteExchange) -> str:
        return exchange.listing.name if exchange.listing_id else ""

    def get_can_cancel(self, exchange: RemoteExchange) -> bool:
        return exchange.side == RemoteExchange.Side.BORROWER and exchange.status in CANCELLABLE

    def get_can_pick_up(self, exchange: RemoteExchange) -> bool:
        return exchange.side == RemoteExchange.Side.BORROWER and exchange.status == RemoteExchange.Status.ACCEPTED


@extend_schema_view(
    list=extend_schema(
        summary="Listings of neighbouring communities",
        tags=TAGS,
        parameters=[
            OpenApiParameter("kind", str, enum=RemoteListing.Kind.values, description="Only this kind."),
            OpenApiParameter("q", str, description="Words to look for in the name, summary and category."),
        ],
        responses={200: RemoteListingSerializer(many=True), 400: FIELD_ERRORS},
    ),
    retrieve=extend_schema(
        summary="A listing of a neighbouring community",
        tags=TAGS,
        responses={
            200: RemoteListingSerializer,
            404: NOT_FOUND,
        },
    ),
)
class RemoteListingViewSet(viewsets.ReadOnlyModelViewSet):
    """Tools and skills of communities on other servers that my communities follow."""

    serializer_class = RemoteListingSerializer
    queryset = RemoteListing.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        if self.action != "list":
            return selectors.remote_listings_for(user=self.request.user).select_related("origin")
        params = RemoteListingFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        return selectors.remote_listings_for(
            user=self.request.user, kind=f.get("kind") or None, q=(f.get("q") or "").strip() or None
        ).select_related("origin")

    @extend_schema(
        summary="Ask to borrow a neighbouring community's tool",
        tags=TAGS,
        request=BorrowSerializer,
        responses={201: RemoteExchangeSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: conflicts(*BORROW_REFUSALS)},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def borrow(self, request, pk=None):
        """The request goes to the tool's home community, whose owner answers by its rules;
        the exchange starts as ``offered`` and follows their answer."""
        listing = self.get_object()
        payload = BorrowSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if listing.kind != RemoteListing.Kind.TOOL:
            raise RuleViolation(_("Only tools can be borrowed from neighbouring communities."), code="not_a_tool")
        data = payload.validated_data
        exchange = services.remote_borrow_request(
            listing=listing,
            borrower=request.user,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            message=data["message"],
        )
        body = RemoteExchangeSerializer(exchange, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="My exchanges with neighbouring communities", tags=TAGS),
    retrieve=extend_schema(
        summary="One of my exchanges with a neighbouring community",
        tags=TAGS,
        responses={
            200: RemoteExchangeSerializer,
            404: NOT_FOUND,
        },
    ),
)
class RemoteExchangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Loans between me and members of communities on other servers, most recent first."""

    serializer_class = RemoteExchangeSerializer
    queryset = RemoteExchange.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return selectors.remote_exchanges_for(user=self.request.user).select_related("peer", "listing")

    @extend_schema(
        summary="Cancel my request to borrow from a neighbouring community",
        tags=TAGS,
        request=None,
        responses={200: RemoteExchangeSerializer, 404: NOT_FOUND, 409: conflicts(*CANCEL_REFUSALS)},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def cancel(self, request, pk=None):
        """Before pickup only; their side is told at once."""
        exchange = services.remote_exchange_cancel(exchange=self.get_object(), actor=request.user)
        return Response(RemoteExchangeSerializer(exchange, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Record that I picked up a neighbouring community's tool",
        tags=TAGS,
        request=None,
        responses={200: RemoteExchangeSerializer, 404: NOT_FOUND, 409: conflicts(*PICKUP_REFUSALS)},
    )
    @action(detail=True, methods=["post"], url_path="pickup", pagination_class=None)
    def pickup(self, request, pk=None):
        """Once accepted: the fee (if any) is paid from my balance into my community's account
        with theirs, and their side is told."""
        exchange = services.remote_exchange_pickup(exchange=self.get_object(), actor=request.user)
        return Response(RemoteExchangeSerializer(exchange, context=self.get_serializer_context()).data)
