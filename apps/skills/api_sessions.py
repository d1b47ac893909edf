"""The skills API's session serializers (split from ``apps.skills.api`` by topic): a
session and its places, each with the ``actions`` the requesting member may take now
(``apps.skills.transitions``), and the bodies of creating and confirming one."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.peers.api import PersonSerializer
from apps.peers.models import Community, User
from p2pcommons.api_transitions import ActionsField

from .models import MAX_HOURS, MIN_HOURS, Offer, Request, Seat, Session
from .transitions import SEAT, SESSION


class SeatSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    learner = PersonSerializer()
    status = serializers.ChoiceField(choices=Seat.Status.choices)
    learner_hours = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    helper_hours = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    hours = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    actions = ActionsField(
        SEAT,
        help_text="What you may do with this place now: confirm (POST .../sessions/{id}/confirm/), leave "
        "(.../leave/), dispute (.../dispute/); settle is the organizers', in the admin.",
    )


@extend_schema_serializer(component_name="SkillSession")
class SessionSerializer(serializers.ModelSerializer):
    helper = PersonSerializer(read_only=True)
    proposed_by = PersonSerializer(read_only=True)
    seats = SeatSerializer(many=True, read_only=True)
    actions = ActionsField(SESSION)

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
            "actions",
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
            raise serializers.ValidationError({"learner": _("A one-to-one session names its learner.")})
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
