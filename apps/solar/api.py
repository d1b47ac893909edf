"""REST API for the Micro Solar Exchange: /api/v1/solar/...

By topic: meters and their device tokens here; readings and P1 telegrams (which
devices post too) in ``api_readings``; orders and standing orders in ``api_orders``;
slots and trades in ``api_market``. Views stay thin: they parse, call one service or
selector of ``apps.solar`` and render; the rules (who, when, how much) are the
services' and the machines' in ``apps.solar.transitions``.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.peers.models import Community
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.api_transitions import ActionsField, transition_endpoints
from p2pcommons.converters import IdConverter

from . import selectors, services
from .api_fields import meter_kind_choice, meter_status_choice
from .api_market import SlotViewSet, TradeViewSet
from .api_orders import OrderViewSet, StandingOrderViewSet
from .api_readings import ReadingViewSet
from .models import MAX_CAPACITY_W, DeviceToken, Meter
from .transitions import METER

__all__ = [
    "MeterViewSet",
    "OrderViewSet",
    "ReadingViewSet",
    "SlotViewSet",
    "StandingOrderViewSet",
    "TradeViewSet",
]

TAGS = ["solar"]


@extend_schema_serializer(component_name="SolarMeter")
class MeterSerializer(serializers.ModelSerializer):
    kind = meter_kind_choice(read_only=True)
    status = meter_status_choice(read_only=True)
    slot_capacity_wh = serializers.IntegerField(
        read_only=True, help_text="The most it can pass in one slot (a quarter hour), in Wh."
    )
    actions = ActionsField(METER, help_text="What you may do with the meter now: retire (POST .../{id}/retire/).")

    class Meta:
        model = Meter
        fields = (
            "id",
            "community",
            "name",
            "kind",
            "peak_capacity_w",
            "slot_capacity_wh",
            "approx_latitude",
            "approx_longitude",
            "status",
            "p1_equipment_id",
            "created_at",
            "actions",
        )
        read_only_fields = fields


@extend_schema_serializer(component_name="SolarMeterCreate")
class MeterCreateSerializer(serializers.Serializer):
    """A new meter. ``latitude``/``longitude`` are rounded to about 500 m before they are
    stored; the rounded values are what ``approx_*`` return."""

    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    name = serializers.CharField(max_length=80, allow_blank=True, help_text="For you, e.g. 'Roof panels'.")
    kind = meter_kind_choice()
    peak_capacity_w = serializers.IntegerField(
        min_value=1, max_value=MAX_CAPACITY_W, help_text="The most power it passes, in watts."
    )
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal("-90"), max_value=Decimal("90"), required=False
    )
    longitude = serializers.DecimalField(
        max_digits=10, decimal_places=6, min_value=Decimal("-180"), max_value=Decimal("180"), required=False
    )


@extend_schema_serializer(component_name="SolarDeviceToken")
class DeviceTokenSerializer(serializers.ModelSerializer):
    """A device token as its meter's owner sees it later: never the token itself."""

    class Meta:
        model = DeviceToken
        fields = ("id", "label", "prefix", "created_at", "last_used_at", "revoked_at")
        read_only_fields = fields


@extend_schema_serializer(component_name="SolarDeviceTokenCreated")
class DeviceTokenCreatedSerializer(DeviceTokenSerializer):
    key = serializers.CharField(
        read_only=True,
        help_text="The token, shown this once: put it in the device (`Authorization: Device <token>`). "
        "Only its hash is kept.",
    )

    class Meta(DeviceTokenSerializer.Meta):
        fields = (*DeviceTokenSerializer.Meta.fields, "key")
        read_only_fields = fields


@extend_schema_serializer(component_name="SolarDeviceTokenCreate")
class DeviceTokenCreateSerializer(serializers.Serializer):
    label = serializers.CharField(
        max_length=80, allow_blank=True, help_text="Which device, e.g. 'Pi in the hall cupboard'."
    )


@extend_schema_view(
    list=extend_schema(summary="My meters", tags=TAGS),
    retrieve=extend_schema(tags=TAGS, responses={200: MeterSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Register a meter",
        tags=TAGS,
        request=MeterCreateSerializer,
        responses={201: MeterSerializer, 400: FIELD_ERRORS, 409: conflicts("not_member", "suspended", "limit")},
    ),
)
@transition_endpoints(
    METER,
    perform={"retire": services.meter_retire},
    obj_kwarg="meter",
    serializer=MeterSerializer,
    tags=TAGS,
    docs={
        "retire": "Stop using the meter: its open orders are cancelled and its device tokens stop working; "
        "its readings and trades stay."
    },
)
class MeterViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """My meters (someone else's is not found), with their device tokens."""

    serializer_class = MeterSerializer
    queryset = Meter.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return selectors.meters_of(user=self.request.user)

    def create(self, request, *args, **kwargs):
        payload = MeterCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        meter = services.meter_register(
            owner=request.user,
            community=data["community"],
            name=data["name"],
            kind=data["kind"],
            peak_capacity_w=data["peak_capacity_w"],
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
        )
        return Response(self.get_serializer(meter).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="The meter's device tokens",
        tags=TAGS,
        responses={200: DeviceTokenSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Make a device token for the meter",
        tags=TAGS,
        request=DeviceTokenCreateSerializer,
        responses={
            201: DeviceTokenCreatedSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts("forbidden", "illegal_transition", "limit", name="SolarMetersTokensCreateConflict"),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def tokens(self, request, pk=None):
        """GET: the meter's device tokens, live ones first (never the tokens themselves).
        POST: a new token for one device, shown in the answer this once."""
        meter = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.tokens_of(meter=meter))
            return self.get_paginated_response(DeviceTokenSerializer(page, many=True).data)
        payload = DeviceTokenCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        token, key = services.device_token_create(
            meter=meter, actor=request.user, label=payload.validated_data["label"]
        )
        token.key = key
        response = Response(DeviceTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # the secret is in this answer only
        return response

    @extend_schema(
        summary="Revoke a device token",
        tags=TAGS,
        request=None,
        parameters=[OpenApiParameter("token_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: DeviceTokenSerializer, 404: NOT_FOUND, 409: conflicts("forbidden")},
    )
    @action(detail=True, methods=["post"], url_path=rf"tokens/(?P<token_id>{IdConverter.regex})/revoke")
    def token_revoke(self, request, pk=None, token_id=None):
        """Stop a device token at once (revoking it again changes nothing)."""
        token = DeviceToken.objects.select_related("meter").filter(meter=self.get_object(), pk=token_id).first()
        if token is None:
            raise NotFound(_("No such device token of this meter."))
        return Response(DeviceTokenSerializer(services.device_token_revoke(token=token, actor=request.user)).data)
