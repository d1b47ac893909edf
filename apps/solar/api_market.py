"""The solar API's market: /api/v1/solar/slots/ (the quarter hours of my communities,
with their anonymous order books) and /api/v1/solar/trades/ (mine)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, viewsets

from apps.peers.api import PersonSerializer
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND
from p2pcommons.api_transitions import ActionsField, transition_endpoints
from p2pcommons.converters import IdConverter
from p2pcommons.forms import within_search_span
from p2pcommons.params import parse_id

from . import selectors, services
from .api_fields import TRADE_ROLES, side_choice, slot_status_choice, trade_status_choice
from .models import PRICE, Order, Slot, Trade
from .transitions import SLOT

TAGS = ["solar"]


@extend_schema_serializer(component_name="SolarSlot")
class SlotSerializer(serializers.ModelSerializer):
    """A quarter hour of a community's market: open for orders until gate_closes_at,
    then cleared at one price, then settled from the meters' readings."""

    end = serializers.DateTimeField(read_only=True)
    gate_closes_at = serializers.DateTimeField(read_only=True)
    status = slot_status_choice(read_only=True)

    class Meta:
        model = Slot
        fields = (
            "id",
            "community",
            "start",
            "end",
            "gate_closes_at",
            "status",
            "clearing_price",
            "volume_wh",
            "buy_orders",
            "sell_orders",
            "cleared_at",
            "settled_at",
            "cancelled_at",
        )
        read_only_fields = fields


@extend_schema_serializer(component_name="SolarBookEntry")
class BookEntrySerializer(serializers.Serializer):
    quantity_wh = serializers.IntegerField()
    limit_price = serializers.DecimalField(**PRICE)


@extend_schema_serializer(component_name="SolarDepth")
class DepthSerializer(serializers.Serializer):
    """The slot's orders without who placed them: open ones before clearing, those that
    took part after. Buys highest price first, sells lowest first."""

    buys = BookEntrySerializer(many=True)
    sells = BookEntrySerializer(many=True)


def _book(entries: list[tuple[int, Decimal]], *, highest_first: bool) -> list[dict]:
    # Sorted by price (then size), never in the order they were placed: that would hint at who.
    ordered = sorted(entries, key=lambda e: (-e[1] if highest_first else e[1], -e[0]))
    return [{"quantity_wh": quantity, "limit_price": price} for quantity, price in ordered]


@extend_schema_serializer(component_name="SolarSlotDetail")
class SlotDetailSerializer(SlotSerializer):
    depth = serializers.SerializerMethodField()
    actions = ActionsField(SLOT, help_text="What you may do with the slot now: cancel (organizers, with a note).")

    class Meta(SlotSerializer.Meta):
        fields = (*SlotSerializer.Meta.fields, "depth", "actions")
        read_only_fields = fields

    @extend_schema_field(DepthSerializer)
    def get_depth(self, slot: Slot) -> dict:
        buys, sells = selectors.order_book(slot=slot)
        return DepthSerializer(
            {"buys": _book(buys, highest_first=True), "sells": _book(sells, highest_first=False)}
        ).data


class SlotFilterSerializer(serializers.Serializer):
    community = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=Slot.Status.choices, required=False)
    start_from = serializers.DateTimeField(required=False)
    start_to = serializers.DateTimeField(required=False)

    def validate_community(self, value: str) -> int:
        pk = parse_id(value)
        if pk is None:
            raise serializers.ValidationError(_("Give a community by its number."))
        return pk

    def validate(self, attrs):
        for name in ("start_from", "start_to"):
            if not within_search_span(attrs.get(name)):
                raise serializers.ValidationError({name: _("Choose a time within five years from now.")})
        return attrs


def _cancel(*, slot: Slot, actor, note: str) -> Slot:
    return services.slot_cancel(slot=slot, actor=actor, reason=note)


@extend_schema_view(
    list=extend_schema(
        summary="Slots of my communities, latest first",
        tags=TAGS,
        parameters=[
            OpenApiParameter("community", OpenApiTypes.INT, description="Only this community's."),
            OpenApiParameter("status", str, enum=Slot.Status.values, description="Only slots in this state."),
            OpenApiParameter("start_from", OpenApiTypes.DATETIME, description="Only slots starting at or after."),
            OpenApiParameter("start_to", OpenApiTypes.DATETIME, description="Only slots starting before."),
        ],
        responses={200: SlotSerializer(many=True), 400: FIELD_ERRORS},
    ),
    retrieve=extend_schema(tags=TAGS, responses={200: SlotDetailSerializer, 404: NOT_FOUND}),
)
@transition_endpoints(
    SLOT,
    perform={"cancel": _cancel},
    obj_kwarg="slot",
    serializer=SlotDetailSerializer,
    tags=TAGS,
    docs={
        "cancel": "An organizer cancels a slot that is not settled, saying why in the note: its orders and trades "
        "are void, nothing is paid, everyone with an order is told."
    },
)
class SlotViewSet(viewsets.ReadOnlyModelViewSet):
    """The market's quarter hours in my communities; one slot with its anonymous book."""

    serializer_class = SlotDetailSerializer
    queryset = Slot.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_serializer_class(self):
        return SlotSerializer if self.action == "list" else SlotDetailSerializer

    def get_queryset(self):
        slots = selectors.slots_visible(user=self.request.user)
        if self.action != "list":
            return slots
        filters = SlotFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        if "community" in wanted:
            slots = slots.filter(community_id=wanted["community"])
        if "status" in wanted:
            slots = slots.filter(status=wanted["status"])
        if "start_from" in wanted:
            slots = slots.filter(start__gte=wanted["start_from"])
        if "start_to" in wanted:
            slots = slots.filter(start__lt=wanted["start_to"])
        return slots.order_by("-start", "community_id")


@extend_schema_serializer(component_name="SolarTrade")
class TradeSerializer(serializers.ModelSerializer):
    """Energy one member sold another in one slot, at the slot's clearing price, as I see it."""

    slot_start = serializers.DateTimeField(source="slot.start", read_only=True)
    community = serializers.IntegerField(source="slot.community_id", read_only=True)
    side = serializers.SerializerMethodField()
    counterpart = serializers.SerializerMethodField()
    status = trade_status_choice(read_only=True)

    class Meta:
        model = Trade
        fields = (
            "id",
            "slot",
            "slot_start",
            "community",
            "side",
            "counterpart",
            "quantity_wh",
            "delivered_wh",
            "price",
            "amount",
            "status",
            "settled_at",
        )
        read_only_fields = fields
        extra_kwargs = {
            "delivered_wh": {"help_text": "What the meters measured for it, once settled."},
            "amount": {"help_text": "Credits the buyer paid for what was delivered, once settled."},
            "price": {"help_text": "The slot's clearing price, in credits per kWh."},
        }

    def _mine(self, trade: Trade) -> bool:
        """Whether I bought (else I sold); someone trading with themselves sees the buy."""
        return trade.buyer_id == self.context["request"].user.pk

    @extend_schema_field(side_choice(help_text="buy if I bought, sell if I sold."))
    def get_side(self, trade: Trade) -> str:
        return Order.Side.BUY if self._mine(trade) else Order.Side.SELL

    @extend_schema_field(PersonSerializer)
    def get_counterpart(self, trade: Trade) -> dict:
        other = trade.seller if self._mine(trade) else trade.buyer
        return PersonSerializer(other).data


class TradeFilterSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=TRADE_ROLES, required=False)


@extend_schema_view(
    list=extend_schema(
        summary="My trades, newest slot first",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "role",
                str,
                enum=[value for value, _ in TRADE_ROLES],
                description="Only trades I bought in (buyer) or sold in (seller).",
            )
        ],
        responses={200: TradeSerializer(many=True), 400: FIELD_ERRORS},
    ),
    retrieve=extend_schema(tags=TAGS, responses={200: TradeSerializer, 404: NOT_FOUND}),
)
class TradeViewSet(viewsets.ReadOnlyModelViewSet):
    """My trades, bought or sold (someone else's is not found)."""

    serializer_class = TradeSerializer
    queryset = Trade.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        trades = selectors.trades_of(user=self.request.user)
        if self.action == "list":
            filters = TradeFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            role = filters.validated_data.get("role")
            if role == "buyer":
                trades = trades.filter(buyer=self.request.user)
            elif role == "seller":
                trades = trades.filter(seller=self.request.user)
        return trades
