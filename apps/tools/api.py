"""REST API for tool sharing: /api/v1/tools/ and /api/v1/reservations/."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.peers.models import Community, Membership
from apps.reputation.api import PersonSerializer, TrustSerializer
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, RULE_VIOLATION
from p2pcommons.converters import IdConverter

from . import selectors, services
from .models import Category, Reservation, Tool


class ToolSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True)
    owner_trust = TrustSerializer(source="owner", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    distance_km = serializers.FloatField(read_only=True, required=False, allow_null=True)

    class Meta:
        model = Tool
        fields = (
            "id",
            "title",
            "description",
            "category",
            "community",
            "owner",
            "owner_trust",
            "condition",
            "usage_rules",
            "deposit_note",
            "fee_per_day",
            "max_loan_days",
            "min_notice_hours",
            "buffer_hours",
            "status",
            "distance_km",
            "created_at",
        )
        read_only_fields = ("id", "owner", "owner_trust", "created_at", "distance_km")

    def validate_community(self, community: Community) -> Community:
        user = self.context["request"].user
        if not Membership.objects.filter(user=user, community=community, status=Membership.Status.ACTIVE).exists():
            raise serializers.ValidationError("You can only list tools in a community you are an active member of.")
        return community

    def create(self, validated_data):
        return Tool.objects.create(owner=self.context["request"].user, **validated_data)


class BusyWindowSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    blocked_until = serializers.DateTimeField()


class HandoffSerializer(serializers.Serializer):
    address = serializers.CharField()
    phone = serializers.CharField()


class ReservationSerializer(serializers.ModelSerializer):
    tool_title = serializers.CharField(source="tool.title", read_only=True)
    borrower = PersonSerializer(read_only=True)
    lender = PersonSerializer(source="tool.owner", read_only=True)
    handoff = serializers.SerializerMethodField()

    class Meta:
        model = Reservation
        fields = (
            "id",
            "tool",
            "tool_title",
            "borrower",
            "lender",
            "starts_at",
            "ends_at",
            "status",
            "message",
            "handoff",
            "created_at",
            "picked_up_at",
            "returned_at",
        )
        read_only_fields = fields

    @extend_schema_field(HandoffSerializer(allow_null=True))
    def get_handoff(self, obj: Reservation) -> dict | None:
        """The owner's exact address and phone: for the borrower, once approved, until returned."""
        user = self.context["request"].user
        if obj.borrower_id != user.pk or obj.status not in (Reservation.Status.APPROVED, Reservation.Status.PICKED_UP):
            return None
        profile = obj.tool.owner.profile
        return {"address": profile.exact_address, "phone": profile.phone}


class ReservationCreateSerializer(serializers.Serializer):
    tool = serializers.PrimaryKeyRelatedField(queryset=Tool.objects.all())
    starts_at = serializers.DateTimeField(help_text="ISO 8601 with a timezone offset.")
    ends_at = serializers.DateTimeField(help_text="ISO 8601 with a timezone offset.")
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


TOOL_FILTERS = [
    OpenApiParameter("community", OpenApiTypes.INT),
    OpenApiParameter("category", OpenApiTypes.STR, description="Category slug"),
    OpenApiParameter("q", OpenApiTypes.STR, description="Words in the title, description or category"),
    OpenApiParameter("available_from", OpenApiTypes.DATETIME),
    OpenApiParameter("available_to", OpenApiTypes.DATETIME),
    OpenApiParameter("lat", OpenApiTypes.DOUBLE),
    OpenApiParameter("lng", OpenApiTypes.DOUBLE),
    OpenApiParameter("radius_km", OpenApiTypes.DOUBLE),
]


class ToolFilterSerializer(serializers.Serializer):
    community = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    category = serializers.SlugField(required=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    available_from = serializers.DateTimeField(required=False)
    available_to = serializers.DateTimeField(required=False)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
    radius_km = serializers.FloatField(required=False, min_value=0.1, max_value=100)

    def validate(self, attrs):
        if ("available_from" in attrs) != ("available_to" in attrs):
            raise serializers.ValidationError({"available_to": "Give both available_from and available_to."})
        if "available_from" in attrs and attrs["available_to"] <= attrs["available_from"]:
            raise serializers.ValidationError({"available_to": "Must be after available_from."})
        near = [k for k in ("lat", "lng", "radius_km") if k in attrs]
        if near and len(near) != 3:
            raise serializers.ValidationError({"radius_km": "Give lat, lng and radius_km together."})
        return attrs


@extend_schema_view(
    list=extend_schema(
        summary="Search tools in my communities",
        tags=["tools"],
        parameters=TOOL_FILTERS,
        responses={200: ToolSerializer(many=True), 400: FIELD_ERRORS},
    ),
    retrieve=extend_schema(tags=["tools"], responses={200: ToolSerializer, 404: NOT_FOUND}),
    create=extend_schema(tags=["tools"], responses={201: ToolSerializer, 400: FIELD_ERRORS}),
    update=extend_schema(tags=["tools"], responses={200: ToolSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND}),
    partial_update=extend_schema(tags=["tools"], responses={200: ToolSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND}),
)
class ToolViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Tools of my communities. Owners edit their own (pause with ``status``)."""

    serializer_class = ToolSerializer
    queryset = Tool.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        if self.action in ("update", "partial_update"):
            return Tool.objects.filter(owner=self.request.user).select_related("owner__profile", "owner__trust")
        if self.action != "list":
            return selectors.tools_visible_to(user=self.request.user)
        params = ToolFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        near = (f["lat"], f["lng"], f["radius_km"]) if "lat" in f else None
        return selectors.tools_search(
            user=self.request.user,
            community_id=f.get("community"),
            category=f.get("category"),
            q=f.get("q", ""),
            available_from=f.get("available_from"),
            available_to=f.get("available_to"),
            near=near,
        )

    @extend_schema(tags=["tools"], responses={200: BusyWindowSerializer(many=True), 404: NOT_FOUND})
    @action(detail=True, methods=["get"], pagination_class=None)
    def availability(self, request, pk=None):
        """Busy windows (bookings plus the owner's buffer) from now on; no borrower data."""
        windows = selectors.busy_windows(tool=self.get_object(), after=timezone.now())
        return Response(BusyWindowSerializer(windows, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="Loans I borrow or lend", tags=["reservations"]),
    retrieve=extend_schema(tags=["reservations"], responses={200: ReservationSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Ask to borrow a tool for a window",
        tags=["reservations"],
        request=ReservationCreateSerializer,
        responses={201: ReservationSerializer, 400: FIELD_ERRORS, 409: RULE_VIOLATION},
    ),
)
class ReservationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ReservationSerializer
    queryset = Reservation.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return selectors.reservations_of(user=self.request.user)

    def create(self, request, *args, **kwargs):
        payload = ReservationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not selectors.tools_search(user=request.user).filter(pk=data["tool"].pk).exists():
            raise DRFValidationError({"tool": ["No such tool in your communities."]})
        reservation = services.reservation_request(
            tool=data["tool"],
            borrower=request.user,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            message=data["message"],
        )
        return Response(self.get_serializer(reservation).data, status=status.HTTP_201_CREATED)

    def _transition(self, service, **extra):
        reservation = self.get_object()
        reservation = service(reservation=reservation, actor=self.request.user, **extra)
        return Response(self.get_serializer(reservation).data)

    TRANSITION_SCHEMA = extend_schema(
        request=None,
        responses={200: ReservationSerializer, 404: NOT_FOUND, 409: RULE_VIOLATION},
        tags=["reservations"],
    )

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The owner approves a request."""
        return self._transition(services.reservation_approve)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """The owner declines a request."""
        return self._transition(services.reservation_decline)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The borrower or the owner calls it off before pickup."""
        return self._transition(services.reservation_cancel)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"])
    def pickup(self, request, pk=None):
        """Either party records the handoff (a fee, if any, is paid now)."""
        return self._transition(services.reservation_pickup)

    @TRANSITION_SCHEMA
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        """The owner confirms the tool is back."""
        return self._transition(services.reservation_return)
