"""REST API for reports: /api/v1/flags/ (report something; list my reports and, for
organizers, those of the communities they organize)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from apps.peers.api import PersonSerializer
from apps.peers.models import Community
from p2pcommons.api.fields import RegistryChoiceField, from_the_project
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND, conflicts
from p2pcommons.converters import IdConverter

from . import registry, selectors, services
from .models import TEXT_MAX_LENGTH, Flag, Reason
from .services import noun_of

MAX_ID = 2**63 - 1


def target_type_choices() -> list[tuple[str, str]]:
    """Every kind of thing that can be reported, "app_label.model" (the enum ``TargetTypeEnum``)."""
    return sorted(
        (kind.key, kind.noun) for kind in registry.registered() if from_the_project(kind.model._meta.app_label)
    )


class TargetTypeField(RegistryChoiceField):
    """What is reported, "app_label.model": a registered ``ModeratableType`` in, its key out."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", 'What you report, "app_label.model", e.g. "reputation.review" or "peers.user".')
        super().__init__(target_type_choices, **kwargs)

    def to_internal_value(self, data) -> registry.ModeratableType:
        try:
            return registry.moderatable_type_for(str(data))
        except registry.UnknownModeratableType as exc:
            raise serializers.ValidationError(str(exc)) from None


class FlagSerializer(serializers.ModelSerializer):
    """A report. ``target_label`` describes what was reported without quoting it."""

    target_type = serializers.SerializerMethodField()
    target_id = serializers.IntegerField(source="object_id", read_only=True)
    reporter = PersonSerializer(read_only=True)

    class Meta:
        model = Flag
        fields = (
            "id",
            "target_type",
            "target_id",
            "target_label",
            "community",
            "reporter",
            "reason",
            "text",
            "status",
            "created_at",
            "handled_at",
        )
        read_only_fields = fields

    @extend_schema_field(TargetTypeField(help_text='What was reported, "app_label.model".'))
    def get_target_type(self, flag: Flag) -> str:
        return f"{flag.content_type.app_label}.{flag.content_type.model}"


class FlagCreateSerializer(serializers.Serializer):
    """Report content or a member. Shape only: the rules live in services."""

    target_type = TargetTypeField()
    target_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    community = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Required when reporting a member: the community (one you share) you report them in.",
    )
    reason = serializers.ChoiceField(choices=Reason.choices)
    text = serializers.CharField(max_length=TEXT_MAX_LENGTH, allow_blank=True, required=False)

    def validate(self, attrs: dict) -> dict:
        kind = attrs["target_type"]
        # What the reporter can't see doesn't exist for them: the same answer as a wrong id.
        target = kind.readable_by(self.context["request"].user).filter(pk=attrs["target_id"]).first()
        if target is None:
            raise serializers.ValidationError({"target_id": _("No such %(noun)s.") % {"noun": noun_of(kind)}})
        attrs["target"] = target
        if "community" in attrs:
            community = Community.objects.filter(pk=attrs["community"]).first()
            if community is None:
                raise serializers.ValidationError({"community": _("No such community.")})
            attrs["community"] = community
        return attrs


@extend_schema_view(
    list=extend_schema(
        summary="List reports",
        description="My own reports and, for organizers, every report in the communities they organize.",
        tags=["moderation"],
    ),
    retrieve=extend_schema(summary="A report", tags=["moderation"], responses={200: FlagSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Report content or a member",
        tags=["moderation"],
        request=FlagCreateSerializer,
        responses={
            201: FlagSerializer,
            400: FIELD_ERRORS,
            409: conflicts(
                "not_member", "suspended", "too_many_reports", "own_content", "not_visible", "already_flagged"
            ),
        },
    ),
)
class FlagViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reports to a community's organizers. Content reported by enough different members in
    good standing (the community's threshold, 3 by default; by default members for at least
    7 days with a completed exchange there) is hidden until an organizer decides. Every
    report reaches the organizers; a member sends at most 20 a day in a community."""

    serializer_class = FlagSerializer
    queryset = Flag.objects.none()
    lookup_value_regex = IdConverter.regex
    filter_backends: list = []

    def get_queryset(self):
        return selectors.flags_visible_to(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = FlagCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        flag = services.flag_create(
            reporter=request.user,
            target=data.validated_data["target"],
            reason=data.validated_data["reason"],
            text=data.validated_data.get("text", ""),
            community=data.validated_data.get("community"),
        )
        flag = selectors.flags_visible_to(user=request.user).get(pk=flag.pk)
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)
