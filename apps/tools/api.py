"""REST API for tool sharing: /api/v1/tools/ and /api/v1/reservations/."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.peers.api import PersonSerializer
from apps.peers.models import Community
from apps.peers.selectors import is_active_member
from apps.reputation.api import TrustSerializer
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.api_transitions import ActionsField, transition_endpoints
from p2pcommons.converters import IdConverter
from p2pcommons.forms import within_search_span

from . import selectors, services
from .models import Category, ConditionReport, Reservation, Tool, ToolPhoto, WaitlistEntry
from .transitions import LISTING, LOAN, WAITLIST

# What refuses a loan request (apps.tools.services.booking and the membership guards).
REQUEST_REFUSALS = (
    "conflict",
    "fee_changed",
    "held",
    "not_active",
    "own_tool",
    "too_many_open_requests",
    "too_many_requests_for_tool",
    "not_member",
    "suspended",
)
WAITLIST_REFUSALS = ("already_waiting", "window_free", "not_active", "held", "own_tool", "not_member", "suspended")


@extend_schema_serializer(component_name="ToolCategory")
class ToolCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ("slug", "name")
        read_only_fields = fields


@extend_schema_view(list=extend_schema(summary="Tool categories", tags=["tools"]))
class ToolCategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The categories a tool can be listed under (``category`` in tools and filters)."""

    serializer_class = ToolCategorySerializer
    queryset = Category.objects.order_by("name")
    pagination_class = None


class ToolPhotoSerializer(serializers.ModelSerializer):
    class Meta:
        model = ToolPhoto
        fields = ("id", "image", "thumbnail", "width", "height", "alt_text", "position")
        read_only_fields = fields


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP, at most 8 MB.")
    alt_text = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ListingActionsField(ActionsField):
    """The listing's actions; every one is its owner's alone (``TOOL_OWNER``), so a
    neighbor's tool answers none without asking the machine (three refusals built per
    tool, about half a millisecond each on a page of 25)."""

    def to_representation(self, tool):
        user = getattr(self.context.get("request"), "user", None)
        if user is None or tool.owner_id != user.pk:
            return []
        return super().to_representation(tool)


class ToolSerializer(serializers.ModelSerializer):
    owner = PersonSerializer(read_only=True)
    owner_trust = TrustSerializer(source="owner", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    distance_km = serializers.FloatField(read_only=True, required=False, allow_null=True)
    photos = ToolPhotoSerializer(many=True, read_only=True)
    actions = ListingActionsField(
        LISTING, help_text="What you may do with the listing now (its owner): pause, resume, retire."
    )

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
            "auto_approve",
            "auto_approve_min_score",
            "auto_approve_min_exchanges",
            "photos",
            "distance_km",
            "created_at",
            "actions",
        )
        read_only_fields = ("id", "owner", "owner_trust", "created_at", "distance_km", "photos", "actions")

    def validate_community(self, community: Community) -> Community:
        user = self.context["request"].user
        if self.instance is not None and community.pk != self.instance.community_id:
            raise serializers.ValidationError(_("A listed tool stays in its community; list it anew elsewhere."))
        if not is_active_member(user=user, community=community):
            raise serializers.ValidationError(_("You can only list tools in a community you are an active member of."))
        return community

    def create(self, validated_data):
        return services.tool_create(owner=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("community", None)
        return services.tool_update(tool=instance, actor=self.context["request"].user, **validated_data)


class BusyWindowSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    blocked_until = serializers.DateTimeField()


class HandoffSerializer(serializers.Serializer):
    address = serializers.CharField()
    phone = serializers.CharField()


class ConditionReportSerializer(serializers.ModelSerializer):
    author = PersonSerializer(read_only=True)

    class Meta:
        model = ConditionReport
        fields = ("id", "stage", "author", "condition", "note", "photo", "damage", "created_at")
        read_only_fields = fields


class ConditionReportCreateSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=ConditionReport.Stage.choices)
    condition = serializers.ChoiceField(choices=ConditionReport.Condition.choices)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    photo = serializers.FileField(required=False, allow_null=True, help_text="Optional; an image, at most 8 MB.")
    damage = serializers.BooleanField(
        required=False, default=False, help_text="The owner, at return: report damage to the organizers."
    )


class ReservationSerializer(serializers.ModelSerializer):
    tool_title = serializers.CharField(source="tool.title", read_only=True)
    borrower = PersonSerializer(read_only=True)
    lender = PersonSerializer(source="tool.owner", read_only=True)
    handoff = serializers.SerializerMethodField()
    handoff_from = serializers.SerializerMethodField()
    pickup_from = serializers.SerializerMethodField()
    pickup_until = serializers.SerializerMethodField()
    fee_days = serializers.IntegerField(read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    condition_reports = ConditionReportSerializer(many=True, read_only=True)
    actions = ActionsField(LOAN)

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
            "overdue",
            "message",
            "fee_per_day",
            "fee_days",
            "fee_total",
            "pickup_from",
            "pickup_until",
            "handoff",
            "handoff_from",
            "condition_reports",
            "created_at",
            "picked_up_at",
            "returned_at",
            "actions",
        )
        read_only_fields = fields

    @extend_schema_field(HandoffSerializer(allow_null=True))
    def get_handoff(self, obj: Reservation) -> dict | None:
        """The owner's exact address and phone: for the borrower of an approved loan from 24 hours before its
        start, and while picked up."""
        profile = selectors.handoff_for(reservation=obj, user=self.context["request"].user)
        return None if profile is None else {"address": profile.exact_address, "phone": profile.phone}

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_handoff_from(self, obj: Reservation) -> str | None:
        """For the borrower while ``handoff`` is still hidden: when it will show (if the loan is approved by then)."""
        when = selectors.handoff_pending_until(reservation=obj, user=self.context["request"].user)
        return None if when is None else serializers.DateTimeField().to_representation(when)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_pickup_from(self, obj: Reservation) -> str | None:
        """While requested or approved: the earliest moment the pickup can be recorded."""
        if obj.status not in (Reservation.Status.REQUESTED, Reservation.Status.APPROVED):
            return None
        return serializers.DateTimeField().to_representation(services.pickup_opens_at(obj))

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_pickup_until(self, obj: Reservation) -> str | None:
        """While requested or approved: the last moment the pickup can be recorded (then the loan expires)."""
        if obj.status not in (Reservation.Status.REQUESTED, Reservation.Status.APPROVED):
            return None
        return serializers.DateTimeField().to_representation(services.pickup_closes_at(obj))


class ReservationCreateSerializer(serializers.Serializer):
    tool = serializers.PrimaryKeyRelatedField(queryset=Tool.objects.all())
    starts_at = serializers.DateTimeField(help_text="ISO 8601 with a timezone offset.")
    ends_at = serializers.DateTimeField(help_text="ISO 8601 with a timezone offset.")
    message = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    fee_per_day = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        required=False,
        allow_null=True,
        min_value=Decimal("0"),
        help_text="The tool's fee per day as shown to the borrower (null or 0: free). If given and the tool's fee "
        "changed since, the request is refused (409, fee_changed). The fee is fixed on the reservation when it is "
        "requested and is the only amount charged, at pickup.",
    )


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
        for name in ("available_from", "available_to"):
            if not within_search_span(attrs.get(name)):
                raise serializers.ValidationError({name: _("Choose a date within five years from now.")})
        if ("available_from" in attrs) != ("available_to" in attrs):
            raise serializers.ValidationError({"available_to": _("Give both available_from and available_to.")})
        if "available_from" in attrs and attrs["available_to"] <= attrs["available_from"]:
            raise serializers.ValidationError({"available_to": _("Must be after available_from.")})
        near = [k for k in ("lat", "lng", "radius_km") if k in attrs]
        if near and len(near) != 3:
            raise serializers.ValidationError({"radius_km": _("Give lat, lng and radius_km together.")})
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
        if self.action in ("update", "partial_update", "photos", "photo_remove"):
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

    @extend_schema(
        tags=["tools"],
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: ToolPhotoSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: conflicts("forbidden")},
    )
    @action(detail=True, methods=["post"], parser_classes=[parsers.MultiPartParser], pagination_class=None)
    def photos(self, request, pk=None):
        """The owner adds a photo (re-encoded as JPEG, EXIF dropped, thumbnailed; at most 8)."""
        tool = self.get_object()
        payload = PhotoUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        photo = services.photo_add(
            tool=tool,
            actor=request.user,
            upload=payload.validated_data["image"],
            alt_text=payload.validated_data["alt_text"],
        )
        return Response(ToolPhotoSerializer(photo, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["tools"],
        request=None,
        parameters=[OpenApiParameter("photo_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: None, 404: NOT_FOUND, 409: conflicts("forbidden")},
    )
    @action(detail=True, methods=["delete"], url_path=rf"photos/(?P<photo_id>{IdConverter.regex})")
    def photo_remove(self, request, pk=None, photo_id=None):
        """The owner removes a photo."""
        photo = ToolPhoto.objects.filter(tool=self.get_object(), pk=photo_id).select_related("tool").first()
        if photo is None:
            raise NotFound(_("No such photo of this tool."))
        services.photo_remove(photo=photo, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReservationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Reservation.Status.choices, required=False)
    role = serializers.ChoiceField(
        choices=[("borrower", "Loans I borrow"), ("lender", "Loans of my tools")], required=False
    )


@extend_schema_view(
    list=extend_schema(
        summary="Loans I borrow or lend",
        tags=["reservations"],
        parameters=[
            OpenApiParameter("status", str, enum=Reservation.Status.values, description="Only loans in this state."),
            OpenApiParameter(
                "role",
                str,
                enum=["borrower", "lender"],
                description="Only loans I borrow (borrower) or of my tools (lender).",
            ),
        ],
        responses={200: ReservationSerializer(many=True), 400: FIELD_ERRORS},
    ),
    retrieve=extend_schema(tags=["reservations"], responses={200: ReservationSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Ask to borrow a tool for a window",
        tags=["reservations"],
        request=ReservationCreateSerializer,
        responses={
            201: ReservationSerializer,
            400: FIELD_ERRORS,
            409: conflicts(*REQUEST_REFUSALS, data={"next_free_start": OpenApiTypes.DATETIME}),
        },
    ),
)
@transition_endpoints(
    LOAN,
    perform={
        "approve": services.reservation_approve,
        "decline": services.reservation_decline,
        "cancel": services.reservation_cancel,
        "pickup": services.reservation_pickup,
        "return": services.reservation_return,
    },
    obj_kwarg="reservation",
    serializer=ReservationSerializer,
    tags=["reservations"],
    # Recording the pickup pays a fee through the ledger, which may refuse it.
    also_refused={"pickup": ("limit_exceeded",)},
    docs={
        "approve": "The owner approves a request, until its pickup window closes.",
        "decline": "The owner declines a request, with an optional note.",
        "cancel": "The borrower takes a request back, or either party calls off an approved loan before pickup.",
        "pickup": "Record the handoff, from 2 hours before the start until 12 hours after it. A loan with a fee: "
        "the borrower only, which pays the fee fixed at request (``fee_total``); a free loan: either party.",
        "return": "The owner confirms the tool is back (not before the pickup).",
    },
)
class ReservationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ReservationSerializer
    queryset = Reservation.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        loans = selectors.reservations_of(user=self.request.user).prefetch_related(
            Prefetch("condition_reports", queryset=ConditionReport.objects.select_related("author__profile"))
        )
        if self.action == "list":
            filters = ReservationFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            wanted = filters.validated_data
            if "status" in wanted:
                loans = loans.filter(status=wanted["status"])
            if wanted.get("role") == "borrower":
                loans = loans.filter(borrower=self.request.user)
            elif wanted.get("role") == "lender":
                loans = loans.filter(tool__owner=self.request.user)
        return loans

    def create(self, request, *args, **kwargs):
        payload = ReservationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not selectors.tools_search(user=request.user).filter(pk=data["tool"].pk).exists():
            raise DRFValidationError({"tool": [_("No such tool in your communities.")]})
        reservation = services.reservation_request(
            tool=data["tool"],
            borrower=request.user,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            message=data["message"],
            expected_fee_per_day=data.get("fee_per_day", services.NOT_GIVEN),
        )
        return Response(self.get_serializer(reservation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["reservations"],
        request={"multipart/form-data": ConditionReportCreateSerializer},
        responses={
            201: ConditionReportSerializer,
            400: FIELD_ERRORS,
            404: NOT_FOUND,
            409: conflicts(*LOAN.codes("report_pickup"), *LOAN.codes("report_damage")),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[parsers.MultiPartParser])
    def condition(self, request, pk=None):
        """Either party records the tool's condition at pickup or return (once per stage);
        the owner may report damage at return, which opens a report for the organizers."""
        reservation = self.get_object()
        payload = ConditionReportCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = services.condition_report_create(
            reservation=reservation, author=request.user, **payload.validated_data
        )
        return Response(ConditionReportSerializer(report, context={"request": request}).data, status=201)


class WaitlistEntrySerializer(serializers.ModelSerializer):
    tool_title = serializers.CharField(source="tool.title", read_only=True)
    actions = ActionsField(WAITLIST)

    class Meta:
        model = WaitlistEntry
        fields = (
            "id",
            "tool",
            "tool_title",
            "starts_at",
            "ends_at",
            "status",
            "created_at",
            "offered_at",
            "offer_expires_at",
            "reservation",
            "actions",
        )
        read_only_fields = fields


class WaitlistJoinSerializer(serializers.Serializer):
    tool = serializers.PrimaryKeyRelatedField(queryset=Tool.objects.all())
    starts_at = serializers.DateTimeField(help_text="ISO 8601 with a timezone offset.")
    ends_at = serializers.DateTimeField(help_text="ISO 8601 with a timezone offset.")


@extend_schema_view(
    list=extend_schema(summary="My waitlist entries", tags=["waitlist"]),
    retrieve=extend_schema(tags=["waitlist"], responses={200: WaitlistEntrySerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Wait for a taken window of a tool",
        tags=["waitlist"],
        request=WaitlistJoinSerializer,
        responses={201: WaitlistEntrySerializer, 400: FIELD_ERRORS, 409: conflicts(*WAITLIST_REFUSALS)},
    ),
)
class WaitlistViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """When a taken window frees up, the first in line is offered it for a few hours."""

    serializer_class = WaitlistEntrySerializer
    queryset = WaitlistEntry.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return selectors.waitlist_of(user=self.request.user)

    def create(self, request, *args, **kwargs):
        payload = WaitlistJoinSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if not selectors.tools_search(user=request.user).filter(pk=data["tool"].pk).exists():
            raise DRFValidationError({"tool": [_("No such tool in your communities.")]})
        entry = services.waitlist_join(
            tool=data["tool"], member=request.user, starts_at=data["starts_at"], ends_at=data["ends_at"]
        )
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["waitlist"],
        request=None,
        responses={
            201: ReservationSerializer,
            404: NOT_FOUND,
            409: conflicts(*REQUEST_REFUSALS, *WAITLIST.codes("accept")),
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Book the window offered to me (a request, approved by the owner as usual)."""
        reservation = services.waitlist_accept(entry=self.get_object(), actor=request.user)
        return Response(ReservationSerializer(reservation, context=self.get_serializer_context()).data, status=201)

    @extend_schema(
        tags=["waitlist"],
        request=None,
        responses={200: WaitlistEntrySerializer, 404: NOT_FOUND, 409: conflicts(*WAITLIST.codes("withdraw"))},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Leave the line (an open offer passes to the next in line)."""
        return Response(
            self.get_serializer(services.waitlist_withdraw(entry=self.get_object(), actor=request.user)).data
        )
