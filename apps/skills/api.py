"""REST API for the skill swap: /api/v1/skills/{categories,offers,requests,matches,sessions}/."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.peers.models import Community, Membership, User
from apps.reputation.api import PersonSerializer, TrustSerializer
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, RULE_VIOLATION
from p2pcommons.converters import IdConverter
from p2pcommons.params import parse_id

from . import selectors, services
from .models import (
    MAX_HOURS,
    MAX_SKILLS,
    MAX_TAGS,
    MAX_WINDOWS,
    MIN_HOURS,
    Match,
    Offer,
    Request,
    Session,
    Skill,
    SkillCategory,
)


class SkillSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Skill
        fields = ("id", "slug", "name", "category", "community")


class CategorySerializer(serializers.ModelSerializer):
    skills = SkillSerializer(many=True, read_only=True)

    class Meta:
        model = SkillCategory
        fields = ("id", "slug", "name", "skills")


class WindowSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday ... 6 = Sunday")
    start = serializers.TimeField()
    end = serializers.TimeField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "Must be after the start."})
        return attrs


def _refuse_long(data, max_length: int) -> None:
    """A list longer than ``max_length`` is a field error before any item is read."""
    if not isinstance(data, (str, dict)) and hasattr(data, "__len__") and len(data) > max_length:
        raise serializers.ValidationError(f"At most {max_length}.", code="max_length")


class SkillIdsField(serializers.ManyRelatedField):
    """Skill ids: at most ``MAX_SKILLS``, counted before any id is looked up (DRF's own
    many-related field reads every id first, one query each)."""

    def __init__(self, **kwargs):
        self.max_length = MAX_SKILLS
        child = serializers.PrimaryKeyRelatedField(queryset=Skill.objects.filter(is_active=True))
        super().__init__(child_relation=child, **kwargs)

    def to_internal_value(self, data):
        _refuse_long(data, self.max_length)
        return super().to_internal_value(data)


class TagListField(serializers.ListField):
    """Tag names in, tag names out (from the prefetched relation)."""

    child = serializers.CharField(max_length=40)

    def to_internal_value(self, data):
        _refuse_long(data, self.max_length)
        return super().to_internal_value(data)

    def to_representation(self, data):
        return [tag.name for tag in data.all()] if hasattr(data, "all") else super().to_representation(data)


class ListingSerializer(serializers.ModelSerializer):
    member = PersonSerializer(read_only=True)
    member_trust = TrustSerializer(source="member", read_only=True)
    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    skills = SkillIdsField(help_text="Skill ids (see /skills/categories/).")
    skill_details = SkillSerializer(source="skills", many=True, read_only=True)
    tags = TagListField(max_length=MAX_TAGS, required=False, help_text="Free tags.")
    distance_km = serializers.FloatField(read_only=True, required=False, allow_null=True)

    common_fields = (
        "id",
        "member",
        "member_trust",
        "community",
        "title",
        "description",
        "skills",
        "skill_details",
        "tags",
        "remote_ok",
        "status",
        "expires_at",
        "distance_km",
        "created_at",
        "updated_at",
    )
    common_read_only = ("id", "member", "member_trust", "expires_at", "distance_km", "created_at", "updated_at")

    def validate_community(self, community: Community) -> Community:
        if self.instance is not None and community.pk != self.instance.community_id:
            raise serializers.ValidationError("A listing stays in its community.")
        user = self.context["request"].user
        if not Membership.objects.filter(user=user, community=community, status=Membership.Status.ACTIVE).exists():
            raise serializers.ValidationError("You can only post in a community you are an active member of.")
        return community


class OfferSerializer(ListingSerializer):
    windows = WindowSerializer(
        many=True, required=False, max_length=MAX_WINDOWS, help_text="When you are usually free, weekly."
    )

    class Meta:
        model = Offer
        fields = (*ListingSerializer.common_fields, "travel_km", "windows")
        read_only_fields = ListingSerializer.common_read_only

    def _windows(self, data):
        windows = data.pop("windows", None)
        return None if windows is None else [(w["weekday"], w["start"], w["end"]) for w in windows]

    def create(self, validated_data):
        windows = self._windows(validated_data) or []
        validated_data.pop("status", None)  # a new offer is open
        return services.offer_create(member=self.context["request"].user, windows=windows, **validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("community", None)
        return services.offer_update(
            offer=instance, actor=self.context["request"].user, windows=self._windows(validated_data), **validated_data
        )


class RequestSerializer(ListingSerializer):
    class Meta:
        model = Request
        fields = (*ListingSerializer.common_fields, "wanted_from", "wanted_until", "estimated_hours")
        read_only_fields = ListingSerializer.common_read_only

    def create(self, validated_data):
        validated_data.pop("status", None)  # a new request is open
        return services.request_create(member=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("community", None)
        return services.request_update(request=instance, actor=self.context["request"].user, **validated_data)


class ListingFilterSerializer(serializers.Serializer):
    # Read with the one query-string id parser, so "²" or "٣" is a field error like "abc".
    community = serializers.CharField(required=False)
    skill = serializers.SlugField(required=False)
    category = serializers.SlugField(required=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
    radius_km = serializers.FloatField(required=False, min_value=0.1, max_value=100)

    def validate_community(self, value: str) -> int:
        pk = parse_id(value)
        if pk is None:
            raise serializers.ValidationError("Give a community by its number.")
        return pk

    def validate(self, attrs):
        near = [k for k in ("lat", "lng", "radius_km") if k in attrs]
        if near and len(near) != 3:
            raise serializers.ValidationError({"radius_km": "Give lat, lng and radius_km together."})
        return attrs


LISTING_FILTERS = [
    OpenApiParameter("community", OpenApiTypes.INT),
    OpenApiParameter("skill", OpenApiTypes.STR, description="Skill slug"),
    OpenApiParameter("category", OpenApiTypes.STR, description="Category slug"),
    OpenApiParameter("q", OpenApiTypes.STR, description="Words in the title, description, skills or a tag"),
    OpenApiParameter("lat", OpenApiTypes.DOUBLE),
    OpenApiParameter("lng", OpenApiTypes.DOUBLE),
    OpenApiParameter("radius_km", OpenApiTypes.DOUBLE),
    OpenApiParameter("mine", OpenApiTypes.BOOL, description="Only my own (open or closed)"),
]


class ListingViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Open offers or requests of my communities; members edit their own (close with ``status``)."""

    model: type[Offer] | type[Request]
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        user = self.request.user
        own = selectors.offers_of if self.model is Offer else selectors.requests_of
        if self.action in ("update", "partial_update", "renew"):
            return own(user=user).select_related("member__profile", "member__trust")
        if self.action == "list" and self.request.query_params.get("mine") in ("true", "1"):
            return own(user=user).select_related("member__profile", "member__trust")
        if self.action != "list":
            return selectors.listing_for_viewer(model=self.model, user=user)
        params = ListingFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        return selectors.listings_search(
            model=self.model,
            user=user,
            community_id=f.get("community"),
            skill=f.get("skill"),
            category=f.get("category"),
            q=f.get("q", ""),
            near=(f["lat"], f["lng"], f["radius_km"]) if "lat" in f else None,
        )


def _listing_schema(serializer, tag: str):
    return extend_schema_view(
        list=extend_schema(
            tags=[tag], parameters=LISTING_FILTERS, responses={200: serializer(many=True), 400: FIELD_ERRORS}
        ),
        retrieve=extend_schema(tags=[tag], responses={200: serializer, 404: NOT_FOUND}),
        create=extend_schema(tags=[tag], responses={201: serializer, 400: FIELD_ERRORS, 409: RULE_VIOLATION}),
        update=extend_schema(
            tags=[tag], responses={200: serializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: RULE_VIOLATION}
        ),
        partial_update=extend_schema(
            tags=[tag], responses={200: serializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: RULE_VIOLATION}
        ),
    )


@_listing_schema(OfferSerializer, "skills")
class OfferViewSet(ListingViewSet):
    """Offers of help ("I can help with ..."): matching runs in a worker after each change."""

    model = Offer
    serializer_class = OfferSerializer
    queryset = Offer.objects.none()

    @extend_schema(tags=["skills"], request=None, responses={200: OfferSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        """Keep my offer open for another half year."""
        offer = services.offer_renew(offer=self.get_object(), actor=request.user)
        return Response(self.get_serializer(offer).data)


@_listing_schema(RequestSerializer, "skills")
class RequestViewSet(ListingViewSet):
    """Requests for help ("I need help with ..."): open until the day after the last wanted day."""

    model = Request
    serializer_class = RequestSerializer
    queryset = Request.objects.none()


@extend_schema_view(list=extend_schema(tags=["skills"], summary="The skill taxonomy, by category"))
class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CategorySerializer
    queryset = SkillCategory.objects.none()
    pagination_class = None

    def get_queryset(self):
        return selectors.categories()


class ListingRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class MatchSerializer(serializers.ModelSerializer):
    request = ListingRefSerializer(read_only=True)
    offer = ListingRefSerializer(read_only=True)
    requester = PersonSerializer(source="request.member", read_only=True)
    helper = PersonSerializer(source="offer.member", read_only=True)
    helper_trust = TrustSerializer(source="offer.member", read_only=True)
    parts = serializers.DictField(child=serializers.FloatField(), read_only=True, help_text="Each part, 0 to 1.")
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    my_side = serializers.SerializerMethodField(help_text='"requester" or "helper": which side I am on.')

    class Meta:
        model = Match
        fields = (
            "id",
            "score",
            "parts",
            "reasons",
            "request",
            "offer",
            "requester",
            "helper",
            "helper_trust",
            "my_side",
            "created_at",
        )
        read_only_fields = fields

    def get_my_side(self, obj: Match) -> str:
        return "requester" if obj.request.member_id == self.context["request"].user.pk else "helper"


@extend_schema_view(
    list=extend_schema(tags=["skills"], summary="My matches, best first"),
    retrieve=extend_schema(tags=["skills"], responses={200: MatchSerializer, 404: NOT_FOUND}),
)
class MatchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MatchSerializer
    queryset = Match.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        return selectors.matches_of(user=self.request.user)


class SeatSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    learner = PersonSerializer()
    status = serializers.CharField()
    learner_hours = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    helper_hours = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    hours = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)


class SessionSerializer(serializers.ModelSerializer):
    helper = PersonSerializer(read_only=True)
    proposed_by = PersonSerializer(read_only=True)
    seats = SeatSerializer(many=True, read_only=True)

    class Meta:
        model = Session
        fields = (
            "id",
            "title",
            "community",
            "helper",
            "proposed_by",
            "request",
            "offer",
            "starts_at",
            "planned_hours",
            "place",
            "remote",
            "capacity",
            "status",
            "seats",
            "created_at",
        )
        read_only_fields = fields


class SessionCreateSerializer(serializers.Serializer):
    """One-to-one: name the ``helper`` and the ``learner`` (you are one of them; the other
    agrees). Group: ``capacity`` above 1 and you are the helper; learners join."""

    community = serializers.PrimaryKeyRelatedField(queryset=Community.objects.all())
    title = serializers.CharField(max_length=120)
    helper = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    learner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)
    starts_at = serializers.DateTimeField(help_text="ISO 8601 with a timezone offset.")
    planned_hours = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=MIN_HOURS, max_value=MAX_HOURS)
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    remote = serializers.BooleanField(required=False, default=False)
    capacity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=30)
    request = serializers.PrimaryKeyRelatedField(queryset=Request.objects.all(), required=False, allow_null=True)
    offer = serializers.PrimaryKeyRelatedField(queryset=Offer.objects.all(), required=False, allow_null=True)

    def validate(self, attrs):
        if attrs["capacity"] == 1 and "learner" not in attrs:
            raise serializers.ValidationError({"learner": "A one-to-one session names its learner."})
        return attrs


class ConfirmSerializer(serializers.Serializer):
    hours = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=MAX_HOURS)
    learner = serializers.IntegerField(
        required=False, min_value=1, max_value=2**62, help_text="Helper of a group session: only this learner's seat."
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    learner = serializers.IntegerField(
        required=False, min_value=1, max_value=2**62, help_text="Helper of a group session: which learner's seat."
    )


ACTION = {
    "tags": ["skills"],
    "responses": {200: SessionSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: RULE_VIOLATION},
}


@extend_schema_view(
    list=extend_schema(
        tags=["skills"],
        summary="My sessions (or, with open=true, group sessions I could join)",
        parameters=[OpenApiParameter("open", OpenApiTypes.BOOL)],
    ),
    retrieve=extend_schema(tags=["skills"], responses={200: SessionSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        tags=["skills"],
        request=SessionCreateSerializer,
        responses={201: SessionSerializer, 400: FIELD_ERRORS, 409: RULE_VIOLATION},
    ),
)
class SessionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SessionSerializer
    queryset = Session.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        user = self.request.user
        if self.action == "join" or (self.action == "list" and self.request.query_params.get("open") in ("true", "1")):
            return selectors.group_sessions_open(user=user)
        return selectors.sessions_of(user=user)

    def create(self, request, *args, **kwargs):
        payload = SessionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["capacity"] > 1:
            if data["helper"].pk != request.user.pk:
                raise DRFValidationError({"helper": ["You give the group sessions you open."]})
            session = services.group_session_create(
                helper=request.user,
                community=data["community"],
                title=data["title"],
                starts_at=data["starts_at"],
                planned_hours=data["planned_hours"],
                capacity=data["capacity"],
                place=data["place"],
                remote=data["remote"],
                offer=data.get("offer"),
            )
        else:
            session = services.session_propose(
                proposer=request.user,
                helper=data["helper"],
                learner=data["learner"],
                community=data["community"],
                title=data["title"],
                starts_at=data["starts_at"],
                planned_hours=data["planned_hours"],
                place=data["place"],
                remote=data["remote"],
                request=data.get("request"),
                offer=data.get("offer"),
            )
        return Response(self.get_serializer(session).data, status=status.HTTP_201_CREATED)

    def _fresh(self, session: Session) -> Response:
        return Response(self.get_serializer(selectors.sessions_of(user=self.request.user).get(pk=session.pk)).data)

    @extend_schema(request=None, **ACTION)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The other person agrees to a proposed one-to-one session."""
        return self._fresh(services.session_accept(session=self.get_object(), actor=request.user))

    @extend_schema(request=ConfirmSerializer, **ACTION)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm the hours it actually took (after it started). When the learner and the
        helper have both confirmed, the hours move in the ledger, once."""
        session = self.get_object()
        payload = ConfirmSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        learner = None
        if "learner" in payload.validated_data:
            learner = session.seats.filter(learner_id=payload.validated_data["learner"]).first()
            if learner is None:
                raise DRFValidationError({"learner": ["No such learner at this session."]})
            learner = learner.learner
        services.session_confirm(
            session=session, actor=request.user, hours=payload.validated_data["hours"], learner=learner
        )
        return self._fresh(session)

    @extend_schema(request=ReasonSerializer, **ACTION)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call it off before it starts (helper, or the learner of a one-to-one session);
        a learner of a group session gives up their place."""
        session = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        seat = session.seats.filter(learner=request.user).first()
        if session.is_group and seat is not None:
            services.seat_leave(seat=seat, actor=request.user)
        else:
            services.session_cancel(session=session, actor=request.user, reason=payload.validated_data["reason"])
        return self._fresh(session)

    @extend_schema(request=None, **ACTION)
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        """Take a place at an open group session."""
        session = self.get_object()
        services.seat_join(session=session, learner=request.user)
        return self._fresh(session)

    @extend_schema(request=ReasonSerializer, **ACTION)
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        """Tell the organizers something is wrong with the hours (they settle it)."""
        session = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if session.helper_id == request.user.pk:
            learner_id = payload.validated_data.get("learner")
            seats = session.seats.all() if learner_id is None else session.seats.filter(learner_id=learner_id)
            seat = seats.first() if seats.count() == 1 else None
            if seat is None:
                raise DRFValidationError({"learner": ["Say which learner's hours you dispute."]})
        else:
            seat = session.seats.filter(learner=request.user).first()
        services.seat_dispute(seat=seat, actor=request.user, reason=payload.validated_data["reason"])
        return self._fresh(session)
