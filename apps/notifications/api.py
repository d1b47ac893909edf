"""REST API: my notifications, marking them read, and my email preferences."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from p2pcommons.api.fields import RegistryChoiceField, from_the_project
from p2pcommons.api.schema import FIELD_ERRORS, NOT_FOUND
from p2pcommons.converters import IdConverter
from p2pcommons.params import parse_id

from . import selectors, services
from .kinds import DELIVERIES, KINDS
from .models import Notification


def kind_choices() -> list[tuple[str, str]]:
    """Every registered kind of notification (the enum ``NotificationKindEnum``)."""
    return sorted((kind.key, kind.label) for kind in KINDS.values() if from_the_project(kind.group))


@extend_schema_field(RegistryChoiceField(kind_choices))
class KindInputField(serializers.CharField):
    """A kind, as any string: the view answers unknown ones itself, naming them all."""


class NotificationSerializer(serializers.ModelSerializer):
    kind = RegistryChoiceField(kind_choices, read_only=True)
    actor_name = serializers.SerializerMethodField()
    is_read = serializers.BooleanField(read_only=True)
    text = serializers.CharField(
        source="display", read_only=True, help_text="The sentence in the request's language (Accept-Language)."
    )

    class Meta:
        model = Notification
        fields = ("id", "kind", "text", "url", "actor", "actor_name", "created_at", "read_at", "is_read")
        read_only_fields = fields

    def get_actor_name(self, obj: Notification) -> str | None:
        return obj.actor.public_name if obj.actor_id else None


class PreferenceSerializer(serializers.Serializer):
    kind = KindInputField()
    label = serializers.CharField(read_only=True)
    delivery = serializers.ChoiceField(choices=DELIVERIES)
    default = serializers.ChoiceField(choices=DELIVERIES, read_only=True)


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


@extend_schema_view(
    list=extend_schema(
        summary="My notifications, newest first",
        tags=["notifications"],
        parameters=[OpenApiParameter("unread", bool, description="Only unread ones")],
    ),
    retrieve=extend_schema(tags=["notifications"], responses={200: NotificationSerializer, 404: NOT_FOUND}),
)
class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()
    lookup_value_regex = IdConverter.regex

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "").lower() in ("1", "true")
        return selectors.notifications_of(user=self.request.user, unread_only=unread)

    @extend_schema(request=None, responses={200: NotificationSerializer, 404: NOT_FOUND}, tags=["notifications"])
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read."""
        notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
        services.mark_read(notification=notification, user=request.user)
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: MarkedSerializer}, tags=["notifications"])
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark all my notifications read."""
        return Response({"marked": services.mark_all_read(user=request.user)})


def _flatten(errors, prefix: str = "") -> list[str]:
    """DRF's nested list errors as plain messages: "item 2, delivery: ..." (one 400 shape for all)."""
    if isinstance(errors, dict):
        return [m for key, value in errors.items() for m in _flatten(value, f"{prefix}{_label(key)}: ")]
    if isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            return [f"{prefix}{e}" for e in errors]
        return [m for i, e in enumerate(errors, start=1) if e for m in _flatten(e, f"{prefix}item {i}, ")]
    return [f"{prefix}{errors}"]


def _label(key) -> str:
    index = parse_id(str(key))
    return f"item {index + 1}" if index is not None else str(key)


class NotificationPreferenceView(APIView):
    """Email delivery per notification kind: immediate, digest or off."""

    @extend_schema(tags=["notifications"], responses={200: PreferenceSerializer(many=True)})
    def get(self, request):
        return Response(PreferenceSerializer(selectors.preferences_of(user=request.user), many=True).data)

    @extend_schema(
        tags=["notifications"],
        request=PreferenceSerializer(many=True),
        responses={200: PreferenceSerializer(many=True), 400: FIELD_ERRORS},
    )
    def put(self, request):
        """Set one or more kinds: ``[{"kind": "ledger.received", "delivery": "digest"}]``."""
        # Counted before anything else: a body of thousands of rows would otherwise mean
        # thousands of queries (4,000 rows took 6 seconds).
        if isinstance(request.data, list) and len(request.data) > len(KINDS):
            return Response(
                {
                    "preferences": [
                        _("Send at most %(count)s preferences at once, one per kind.") % {"count": len(KINDS)}
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        payload = PreferenceSerializer(data=request.data, many=True)
        if not payload.is_valid():
            return Response({"preferences": _flatten(payload.errors)}, status=status.HTTP_400_BAD_REQUEST)
        known = {row["kind"] for row in selectors.preferences_of(user=request.user)}
        unknown = [item["kind"] for item in payload.validated_data if item["kind"] not in known]
        if unknown:
            return Response(
                {"kind": [_("Unknown kind(s): %(kinds)s.") % {"kinds": ", ".join(unknown)}]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        for item in payload.validated_data:
            services.preference_set(user=request.user, kind=item["kind"], delivery=item["delivery"])
        return Response(PreferenceSerializer(selectors.preferences_of(user=request.user), many=True).data)
