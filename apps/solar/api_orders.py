"""The solar API's orders: /api/v1/solar/orders/ and /api/v1/solar/standing-orders/.

An order is placed, changed and cancelled until gate closure (5 minutes before its slot
starts); ``actions`` says which of change and cancel the member may take now, and the
services refuse the rest with a 409 whose ``code`` names the rule.
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.api_transitions import ActionsField, transition_endpoints
from p2pcommons.converters import IdConverter
from p2pcommons.forms import within_search_span

from . import selectors, services
from .api_fields import LocalTimeField, order_status_choice, side_choice, standing_status_choice
from .models import MAX_ORDER_WH, PRICE, Meter, Order, StandingOrder
from .transitions import ORDER, STANDING

TAGS = ["solar"]
# What refuses an order (apps.solar.services.orders and the membership guards).
PLACE_REFUSALS = (
    "gate_closed",
    "over_capacity",
    "insufficient_credit",
    "own_order",
    "suspended",
    "not_member",
    "forbidden",
    "illegal_transition",
)
# Beyond the machine's own checks (who, state, gate): the slot being cleared, the meter's
# capacity, the buyer's credit, a suspension.
CHANGE_REFUSALS = ("gate_closed", "over_capacity", "insufficient_credit", "suspended", "not_member")
AVAILABLE = {"available_wh": OpenApiTypes.INT}
STANDING_REFUSALS = ("over_capacity", "suspended", "not_member", "forbidden", "illegal_transition", "limit")
_METER = serializers.IntegerField(min_value=1, max_value=10**18 - 1, help_text="One of your meters (its id).")
_QUANTITY = {"min_value": 1, "max_value": MAX_ORDER_WH, "help_text": "Energy in Wh (a whole number)."}
_PRICE_HELP = "Credits per kWh, at most 4 decimal places: a buyer's highest price, a seller's lowest."


def _price(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**PRICE, help_text=_PRICE_HELP, **kwargs)


def _own_meter(user, pk: int) -> Meter:
    meter = selectors.meter_of(user=user, pk=pk)
    if meter is None:
        raise DRFValidationError({"meter": [_("No such meter of yours.")]})
    return meter


@extend_schema_serializer(component_name="SolarOrder")
class OrderSerializer(serializers.ModelSerializer):
    slot_start = serializers.DateTimeField(source="slot.start", read_only=True)
    gate_closes_at = serializers.DateTimeField(
        source="slot.gate_closes_at", read_only=True, help_text="Until then it can be changed or cancelled."
    )
    community = serializers.IntegerField(source="slot.community_id", read_only=True)
    meter_name = serializers.CharField(source="meter.name", read_only=True)
    side = side_choice(read_only=True)
    status = order_status_choice(read_only=True)
    actions = ActionsField(ORDER, help_text="What you may do with it now: change (POST .../{id}/change/), cancel.")

    class Meta:
        model = Order
        fields = (
            "id",
            "slot",
            "slot_start",
            "gate_closes_at",
            "community",
            "meter",
            "meter_name",
            "side",
            "quantity_wh",
            "limit_price",
            "status",
            "filled_wh",
            "standing",
            "created_at",
            "cancelled_at",
            "actions",
        )
        read_only_fields = fields


@extend_schema_serializer(component_name="SolarOrderCreate")
class OrderCreateSerializer(serializers.Serializer):
    meter = _METER
    slot_start = serializers.DateTimeField(
        help_text="The slot's start, on the quarter hour, ISO 8601 with its offset; up to 7 days ahead."
    )
    side = side_choice()
    quantity_wh = serializers.IntegerField(**_QUANTITY)
    limit_price = _price()

    def validate_slot_start(self, value):
        if not within_search_span(value):
            raise serializers.ValidationError(_("Orders are taken up to 7 days ahead."))
        return value


@extend_schema_serializer(component_name="SolarOrderChange")
class OrderChangeSerializer(serializers.Serializer):
    quantity_wh = serializers.IntegerField(required=False, **_QUANTITY)
    limit_price = _price(required=False)


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    side = serializers.ChoiceField(choices=Order.Side.choices, required=False)


@extend_schema_view(
    list=extend_schema(
        summary="My orders, newest slot first",
        tags=TAGS,
        parameters=[
            OpenApiParameter("status", str, enum=Order.Status.values, description="Only orders in this state."),
            OpenApiParameter("side", str, enum=Order.Side.values, description="Only buys, or only sells."),
        ],
        responses={200: OrderSerializer(many=True), 400: FIELD_ERRORS},
    ),
    retrieve=extend_schema(tags=TAGS, responses={200: OrderSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Place an order for a slot",
        tags=TAGS,
        request=OrderCreateSerializer,
        responses={201: OrderSerializer, 400: FIELD_ERRORS, 409: conflicts(*PLACE_REFUSALS, data=AVAILABLE)},
    ),
)
@transition_endpoints(
    ORDER,
    perform={"cancel": services.order_cancel},
    obj_kwarg="order",
    serializer=OrderSerializer,
    tags=TAGS,
    docs={"cancel": "Cancel my open order, until gate closure (5 minutes before the slot starts)."},
)
class OrderViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """My buy and sell orders (someone else's is not found)."""

    serializer_class = OrderSerializer
    queryset = Order.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        orders = selectors.orders_of(user=self.request.user)
        if self.action == "list":
            filters = OrderFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            wanted = filters.validated_data
            if "status" in wanted:
                orders = orders.filter(status=wanted["status"])
            if "side" in wanted:
                orders = orders.filter(side=wanted["side"])
        return orders

    def _shown(self, order: Order) -> dict:
        """The order as the list shows it (with its slot and meter), fresh from the database."""
        return self.get_serializer(selectors.orders_of(user=self.request.user).get(pk=order.pk)).data

    def create(self, request, *args, **kwargs):
        payload = OrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        order = services.order_place(
            member=request.user,
            meter=_own_meter(request.user, data["meter"]),
            slot_start=data["slot_start"],
            side=data["side"],
            quantity_wh=data["quantity_wh"],
            limit_price=data["limit_price"],
        )
        return Response(self._shown(order), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change my order's quantity or price",
        tags=TAGS,
        request=OrderChangeSerializer,
        responses={
            200: OrderSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts(*ORDER.codes("change"), *CHANGE_REFUSALS, data=AVAILABLE),
        },
    )
    @action(detail=True, methods=["post"])
    def change(self, request, pk=None):
        """Change an open order until gate closure; a changed order goes behind others at
        the same price. Leave out what stays the same."""
        order = self.get_object()
        payload = OrderChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = services.order_change(order=order, actor=request.user, **payload.validated_data)
        return Response(self._shown(order))


@extend_schema_serializer(component_name="SolarStandingOrder")
class StandingOrderSerializer(serializers.ModelSerializer):
    meter_name = serializers.CharField(source="meter.name", read_only=True)
    side = side_choice(read_only=True)
    from_time = LocalTimeField(read_only=True, help_text="The first slot of the day it orders for (local time).")
    until_time = LocalTimeField(read_only=True, help_text="It orders for slots starting before this time.")
    status = standing_status_choice(read_only=True)
    actions = ActionsField(STANDING, help_text="What you may do with it now: pause, resume, end (POST .../{id}/<x>/).")

    class Meta:
        model = StandingOrder
        fields = (
            "id",
            "meter",
            "meter_name",
            "side",
            "quantity_wh",
            "limit_price",
            "from_time",
            "until_time",
            "status",
            "created_at",
            "actions",
        )
        read_only_fields = fields


@extend_schema_serializer(component_name="SolarStandingOrderCreate")
class StandingOrderCreateSerializer(serializers.Serializer):
    meter = _METER
    side = side_choice()
    quantity_wh = serializers.IntegerField(**_QUANTITY)
    limit_price = _price()
    from_time = LocalTimeField(help_text="The first slot of the day it orders for (local time, e.g. 10:00).")
    until_time = LocalTimeField(help_text="It orders for slots starting before this time (e.g. 16:00).")


def _step(name: str):
    return partial(services.standing_step, action=name)


@extend_schema_view(
    list=extend_schema(summary="My standing orders", tags=TAGS),
    retrieve=extend_schema(tags=TAGS, responses={200: StandingOrderSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Order every slot between two times of day",
        tags=TAGS,
        request=StandingOrderCreateSerializer,
        responses={
            201: StandingOrderSerializer,
            400: FIELD_ERRORS,
            409: conflicts(*STANDING_REFUSALS, data=AVAILABLE),
        },
    ),
)
@transition_endpoints(
    STANDING,
    perform={"pause": _step("pause"), "resume": _step("resume"), "end": _step("end")},
    obj_kwarg="standing",
    serializer=StandingOrderSerializer,
    tags=TAGS,
    docs={
        "pause": "Stop placing orders for now.",
        "resume": "Place its orders again.",
        "end": "End it for good; orders it already placed stay until you cancel them.",
    },
)
class StandingOrderViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """'Sell up to X Wh every slot between 10:00 and 16:00 at p or more': an order is
    placed for each upcoming slot in those hours."""

    serializer_class = StandingOrderSerializer
    queryset = StandingOrder.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return selectors.standing_of(user=self.request.user)

    def create(self, request, *args, **kwargs):
        payload = StandingOrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        standing = services.standing_create(
            member=request.user,
            meter=_own_meter(request.user, data["meter"]),
            side=data["side"],
            quantity_wh=data["quantity_wh"],
            limit_price=data["limit_price"],
            from_time=data["from_time"],
            until_time=data["until_time"],
        )
        return Response(self.get_serializer(standing).data, status=status.HTTP_201_CREATED)
