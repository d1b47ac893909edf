"""REST API for reviews (/api/v1/reviews/) and the trust field other apps' serializers show."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from apps.peers.api import PersonSerializer
from p2pcommons.api.fields import RegistryChoiceField, from_the_project
from p2pcommons.api.schema import FIELD_ERRORS, conflicts

from . import registry, selectors, services
from .models import MAX_RATING, MIN_RATING, Review

MAX_ID = 2**63 - 1
AUTHOR_PATTERN = r"^(me|[0-9]{1,18})$"


def exchange_type_choices() -> list[tuple[str, str]]:
    """Every registered kind of exchange, "app_label.model" (the enum ``ExchangeTypeEnum``)."""
    return sorted(
        (kind.key, registry.DOMAINS[kind.domain])
        for kind in registry.registered()
        if from_the_project(kind.model._meta.app_label)
    )


class ExchangeTypeField(RegistryChoiceField):
    """The kind of exchange, "app_label.model": a registered ``ExchangeType`` in, its key out."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", 'The kind of exchange, "app_label.model".')
        super().__init__(exchange_type_choices, **kwargs)

    def to_internal_value(self, data) -> registry.ExchangeType:
        try:
            return registry.exchange_type_for(str(data))
        except registry.UnknownExchangeType as exc:
            raise serializers.ValidationError(str(exc)) from None


class TrustSerializer(serializers.Serializer):
    """A member's reputation: stars (null before any revealed review), how many, exchanges done.

    Serializes a *user*: ``TrustSerializer(source="user", read_only=True)`` on a profile.
    Free when the queryset did select_related("...user__trust"); one query otherwise.
    """

    score = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True, read_only=True)
    rating_count = serializers.IntegerField(read_only=True)
    completed = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text=f"Completed exchanges per domain: {', '.join(registry.DOMAINS)}.",
    )

    def to_representation(self, user) -> dict:
        trust = selectors.trust_of(user)
        if trust is None:
            data = {"score": None, "rating_count": 0, "completed": dict.fromkeys(registry.DOMAINS, 0)}
        else:
            score = trust.score if trust.has_ratings else None
            data = {"score": score, "rating_count": trust.rating_count, "completed": trust.completed_counts}
        return super().to_representation(data)


class ReviewSerializer(serializers.ModelSerializer):
    """A review. ``revealed_at`` is null while it is hidden (only its author sees it then).
    ``is_hidden`` is true when moderation hid it (only its author and organizers see it then)."""

    exchange_type = serializers.SerializerMethodField()
    exchange_id = serializers.IntegerField(source="object_id", read_only=True)
    author = PersonSerializer(read_only=True)
    subject = PersonSerializer(read_only=True)

    class Meta:
        model = Review
        fields = (
            "id",
            "exchange_type",
            "exchange_id",
            "domain",
            "community",
            "author",
            "subject",
            "rating",
            "comment",
            "created_at",
            "revealed_at",
            "is_hidden",
        )
        read_only_fields = fields

    @extend_schema_field(ExchangeTypeField())
    def get_exchange_type(self, review: Review) -> str:
        return f"{review.content_type.app_label}.{review.content_type.model}"


class ReviewCreateSerializer(serializers.Serializer):
    """Review the other party of an exchange you took part in. Shape only: rules live in services."""

    exchange_type = ExchangeTypeField()
    exchange_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    rating = serializers.IntegerField(min_value=MIN_RATING, max_value=MAX_RATING)
    comment = serializers.CharField(max_length=services.COMMENT_MAX_LENGTH, allow_blank=True, required=False)

    def validate(self, attrs: dict) -> dict:
        exchange_type = attrs["exchange_type"]
        exchange = exchange_type.model._default_manager.filter(pk=attrs["exchange_id"]).first()
        if exchange is None:
            raise serializers.ValidationError({"exchange_id": "No such exchange."})
        attrs["exchange"] = exchange
        return attrs


class ReviewFilterSerializer(serializers.Serializer):
    subject = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    author = serializers.RegexField(AUTHOR_PATTERN, required=False)


@extend_schema_view(
    list=extend_schema(
        summary="List reviews",
        tags=["reviews"],
        parameters=[
            OpenApiParameter(
                "subject",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="Only reviews about this member (user id).",
            ),
            OpenApiParameter(
                "author",
                {"type": "string", "pattern": AUTHOR_PATTERN},
                description='Only reviews by this member: a user id, or "me" (includes my hidden reviews).',
            ),
        ],
        responses={200: ReviewSerializer(many=True), 400: FIELD_ERRORS},
    ),
    create=extend_schema(
        summary="Review an exchange",
        tags=["reviews"],
        request=ReviewCreateSerializer,
        responses={
            201: ReviewSerializer,
            400: FIELD_ERRORS,
            409: conflicts("not_a_party", "not_completed", "review_window_closed", "already_reviewed", "suspended"),
        },
    ),
)
class ReviewViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Reviews of completed exchanges in the communities you belong to, and those you wrote
    or received. Blind: a review is visible only to its author until both parties have
    reviewed or the 14-day window has closed; then to the community's members.
    Reviews can't be changed or deleted."""

    serializer_class = ReviewSerializer
    queryset = Review.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        filters = ReviewFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        author = filters.validated_data.get("author")
        return selectors.reviews_visible_to(
            viewer=self.request.user,
            subject_id=filters.validated_data.get("subject"),
            author_id=self.request.user.pk if author == "me" else (int(author) if author else None),
        )

    def create(self, request, *args, **kwargs):
        """Review the other party of an exchange you took part in (once, within 14 days of completion)."""
        data = ReviewCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(
            author=request.user,
            exchange=data.validated_data["exchange"],
            rating=data.validated_data["rating"],
            comment=data.validated_data.get("comment", ""),
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)
