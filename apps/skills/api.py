"""REST API for the skill swap: /api/v1/skills/{categories,offers,requests,matches,sessions}/."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from apps.peers import selectors as peers
from apps.peers.api import PersonSerializer
from apps.peers.models import Community, User
from apps.reputation.api import TrustSerializer
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.api_transitions import ActionsField, transition_endpoints
from p2pcommons.converters import IdConverter
from p2pcommons.params import parse_id

from . import selectors, services
from .api_sessions import ConfirmSerializer, ReasonSerializer, SessionCreateSerializer, SessionSerializer
from .models import (
    MAX_SKILLS,
    MAX_TAGS,
    MAX_WINDOWS,
    Match,
    Offer,
    Request,
    Session,
    Skill,
    SkillCategory,
)
from .transitions import OFFER, REQUEST, SEAT, SESSION, with_headroom


class SkillSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Skill
        fields = ("id", "slug", "name", "category", "community")


@extend_schema_serializer(component_name="SkillCategory")
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
            raise serializers.ValidationError({"end": _("Must be after the start.")})
        return attrs


def _refuse_long(data, max_length: int) -> None:
    """A list longer than ``max_length`` is a field error before any item is read."""
    if not isinstance(data, (str, dict)) and hasattr(data, "__len__") and len(data) > max_length:
        raise serializers.ValidationError(_("At most %(n)s.") % {"n": max_length}, code="max_length")


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
            raise serializers.ValidationError(_("A listing stays in its community."))
        if not peers.is_active_member(user=self.context["request"].user, community=community):
            raise serializers.ValidationError(_("You can only post in a community you are an active member of."))
        return community


@extend_schema_serializer(component_name="SkillOffer")
class OfferSerializer(ListingSerializer):
    windows = WindowSerializer(
        many=True, required=False, max_length=MAX_WINDOWS, help_text="When you are usually free, weekly."
    )
    actions = ActionsField(OFFER)

    class Meta:
        model = Offer
        fields = (*ListingSerializer.common_fields, "travel_km", "windows", "actions")
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


@extend_schema_serializer(component_name="SkillRequest")
class RequestSerializer(ListingSerializer):
    actions = ActionsField(REQUEST)

    class Meta:
        model = Request
        fields = (*ListingSerializer.common_fields, "wanted_from", "wanted_until", "estimated_hours", "actions")
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
            raise serializers.ValidationError(_("Give a community by its number."))
        return pk

    def validate(self, attrs):
        near = [k for k in ("lat", "lng", "radius_km") if k in attrs]
        if near and len(near) != 3:
            raise serializers.ValidationError({"radius_km": _("Give lat, lng and radius_km together.")})
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


# The steps a member takes on their own listing (``POST .../{id}/<step>/``).
LISTING_STEPS = ("close", "reopen", "renew")


class ListingViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Open offers or requests of my communities; members edit their own (close with ``status``)."""

    model: type[Offer] | type[Request]
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        user = self.request.user
        own = selectors.offers_of if self.model is Offer else selectors.requests_of
        if self.action in ("update", "partial_update", *LISTING_STEPS):
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


MEMBER_CODES = ("not_member", "suspended")


def _listing_schema(serializer, tag: str, *codes: str, update_conflict: str):
    """The schema of a listing viewset; ``codes``: the refusals of its create and update
    besides not being an active member (update and partial update share ``update_conflict``)."""
    return extend_schema_view(
        list=extend_schema(
            tags=[tag], parameters=LISTING_FILTERS, responses={200: serializer(many=True), 400: FIELD_ERRORS}
        ),
        retrieve=extend_schema(tags=[tag], responses={200: serializer, 404: NOT_FOUND}),
        create=extend_schema(
            tags=[tag], responses={201: serializer, 400: FIELD_ERRORS, 409: conflicts(*MEMBER_CODES, *codes)}
        ),
        update=extend_schema(
            tags=[tag],
            responses={
                200: serializer,
                400: FIELD_ERRORS,
                404: NOT_FOUND,
                409: conflicts("forbidden", "expired", *MEMBER_CODES, *codes, name=update_conflict),
            },
        ),
        partial_update=extend_schema(
            tags=[tag],
            responses={
                200: serializer,
                400: FIELD_ERRORS,
                404: NOT_FOUND,
                409: conflicts("forbidden", "expired", *MEMBER_CODES, *codes, name=update_conflict),
            },
        ),
    )


@transition_endpoints(
    OFFER,
    perform={"close": services.offer_close, "reopen": services.offer_reopen, "renew": services.offer_renew},
    obj_kwarg="offer",
    serializer=OfferSerializer,
    tags=["skills"],
    docs={
        "close": "Close my offer: nobody is matched with it any more.",
        "reopen": "Open my closed offer again (one past its date is renewed instead).",
        "renew": "Keep my offer open for another half year (in its last 30 days, or once expired).",
    },
    also_refused={"reopen": MEMBER_CODES, "renew": MEMBER_CODES},
)
@_listing_schema(OfferSerializer, "skills", update_conflict="SkillOfferUpdateConflict")
class OfferViewSet(ListingViewSet):
    """Offers of help ("I can help with ..."): matching runs in a worker after each change."""

    model = Offer
    serializer_class = OfferSerializer
    queryset = Offer.objects.none()


@transition_endpoints(
    REQUEST,
    perform={"close": services.request_close, "reopen": services.request_reopen},
    obj_kwarg="request",
    serializer=RequestSerializer,
    tags=["skills"],
    docs={
        "close": "Close my request: nobody is matched with it any more.",
        "reopen": "Open my closed request again, while its dates are ahead (at most 5 open at a time).",
    },
    also_refused={"reopen": ("too_many_requests", *MEMBER_CODES)},
)
@_listing_schema(RequestSerializer, "skills", "too_many_requests", update_conflict="SkillRequestUpdateConflict")
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


MY_SIDE_CHOICES = (("requester", "I asked for help"), ("helper", "I offered help"))


class MatchSerializer(serializers.ModelSerializer):
    request = ListingRefSerializer(read_only=True)
    offer = ListingRefSerializer(read_only=True)
    requester = PersonSerializer(source="request.member", read_only=True)
    helper = PersonSerializer(source="offer.member", read_only=True)
    helper_trust = TrustSerializer(source="offer.member", read_only=True)
    parts = serializers.DictField(child=serializers.FloatField(), read_only=True, help_text="Each part, 0 to 1.")
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    my_side = serializers.SerializerMethodField()

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

    @extend_schema_field(serializers.ChoiceField(choices=MY_SIDE_CHOICES, help_text="Which side I am on."))
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


def _action(*codes: str, body: bool = False) -> dict:
    """The schema of a session action: its refusals' codes, and a 400 only if it reads a body."""
    responses = {200: SessionSerializer, 404: NOT_FOUND, 409: conflicts(*codes)}
    if body:
        responses[400] = FIELD_ERRORS
    return {"tags": ["skills"], "responses": responses}


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
        responses={
            201: SessionSerializer,
            400: FIELD_ERRORS,
            409: conflicts("forbidden", "same_person", "limit", *MEMBER_CODES),
        },
    ),
)
class SessionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Sessions: ``actions`` lists the steps the requesting member may take now, each a
    ``POST .../{id}/<step>/``; a place's own steps are in its ``actions``."""

    serializer_class = SessionSerializer
    queryset = Session.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        user = self.request.user
        if self.action == "join" or (self.action == "list" and self.request.query_params.get("open") in ("true", "1")):
            sessions = selectors.group_sessions_open(user=user)
        else:
            sessions = selectors.sessions_of(user=user)
        return with_headroom(sessions, user)  # "join" in each row's actions asks no query of its own

    def create(self, request, *args, **kwargs):
        payload = SessionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["capacity"] > 1:
            if data["helper"].pk != request.user.pk:
                raise DRFValidationError({"helper": [_("You give the group sessions you open.")]})
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

    @extend_schema(
        request=ConfirmSerializer,
        # The hours move in the ledger: its refusals (a limit, a member who left) too.
        **_action(
            *SESSION.codes("confirm"), *SEAT.codes("confirm"), "limit", "limit_exceeded", *MEMBER_CODES, body=True
        ),
    )
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
                raise DRFValidationError({"learner": [_("No such learner at this session.")]})
            learner = learner.learner
        services.session_confirm(
            session=session, actor=request.user, hours=payload.validated_data["hours"], learner=learner
        )
        return self._fresh(session)

    @extend_schema(request=ReasonSerializer, **_action(*SESSION.codes("cancel"), *SEAT.codes("leave"), body=True))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call it off before it starts (helper, or the learner of a one-to-one session);
        a learner of a group session gives up their place."""
        session = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.session_withdraw(session=session, actor=request.user, reason=payload.validated_data["reason"])
        return self._fresh(session)

    @extend_schema(request=ReasonSerializer, **_action(*SEAT.codes("dispute"), body=True))
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        """Tell the organizers something is wrong with the hours (they settle it); the
        helper of a group session names the learner."""
        session = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.session_dispute(
            session=session, actor=request.user, reason=data["reason"], learner_id=data.get("learner")
        )
        return self._fresh(session)


def _join(*, session: Session, actor: User) -> Session:
    return services.seat_join(session=session, learner=actor).session


def _leave(*, session: Session, actor: User) -> Session:
    return services.session_leave(session=session, actor=actor).session


transition_endpoints(
    SESSION,
    perform={"accept": services.session_accept, "join": _join},
    obj_kwarg="session",
    serializer=SessionSerializer,
    tags=["skills"],
    docs={
        "accept": "The other person agrees to a proposed one-to-one session.",
        "join": "Take a place at an open group session.",
    },
    also_refused={"join": MEMBER_CODES},
)(SessionViewSet)
# Giving up one's place at a group session is a place's step (``SEAT``), taken at the session's URL.
transition_endpoints(
    SEAT,
    perform={"leave": _leave},
    obj_kwarg="session",
    serializer=SessionSerializer,
    tags=["skills"],
    docs={"leave": "Give up my place at a group session before it starts."},
)(SessionViewSet)
