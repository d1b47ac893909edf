"""The solar API's readings: /api/v1/solar/readings/ (and .../p1/), for a meter's owner
and for the meter's device (``Authorization: Device <token>``, see
``apps.solar.authentication``), which may post and nothing else.

Every batch is recorded all or nothing by the services (``readings_record``,
``p1_ingest``): a bad row or a damaged telegram is a 400 naming each one, in the
services' own words, and nothing is written.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from p2pcommons.api.authentication import SessionTokenAuthentication
from p2pcommons.api.schema import FIELD_ERRORS, FORBIDDEN, conflicts
from p2pcommons.forms import within_search_span
from p2pcommons.params import parse_id

from . import selectors, services
from .api_fields import reading_source_choice
from .authentication import (
    KEYWORD,
    DeviceRateThrottle,
    DeviceTokenAuthentication,
    MemberOrOwnDevice,
    device_key,
    device_of,
)
from .models import MAX_INTERVAL_WH, Meter, MeterReading
from .services import Recorded, Row

TAGS = ["solar"]
# Reading the list is for members only (a device token is refused there, 403).
MEMBER_AUTH = [{"sessionToken": []}, {"cookieAuth": []}]
_METER_HELP = (
    "The meter's id. Required when the owner posts; a device posts for its own meter and may leave it out "
    "(naming another meter is refused, 403)."
)


@extend_schema_serializer(component_name="SolarReading")
class ReadingSerializer(serializers.ModelSerializer):
    source = reading_source_choice(read_only=True)

    class Meta:
        model = MeterReading
        fields = ("id", "meter", "interval_start", "imported_wh", "exported_wh", "source", "created_at", "corrected_at")
        read_only_fields = fields


@extend_schema_serializer(component_name="SolarReadingRow")
class ReadingRowSerializer(serializers.Serializer):
    """One quarter hour of one meter (what the schema documents; ``ReadingRowsField``
    reads it and leaves the checks to the service)."""

    interval_start = serializers.DateTimeField(
        help_text="The quarter hour's start, ISO 8601 with its offset (e.g. 2026-06-21T12:00:00+02:00)."
    )
    imported_wh = serializers.IntegerField(min_value=0, max_value=MAX_INTERVAL_WH, help_text="Wh in from the grid.")
    exported_wh = serializers.IntegerField(min_value=0, max_value=MAX_INTERVAL_WH, help_text="Wh out to the grid.")


def _when(value) -> datetime | None:
    """An ISO 8601 string as a datetime (naive if it has no offset: the service asks for
    one), or None if it is not a date and time."""
    if not isinstance(value, str):
        return None
    with contextlib.suppress(ValueError):
        return parse_datetime(value.strip())
    return None


@extend_schema_field(ReadingRowSerializer(many=True))
class ReadingRowsField(serializers.Field):
    """The rows as the service's ``Row``s, as sent: it checks each one (the quarter hour,
    the Wh, the meter's capacity) and names every bad row in one answer. Only what it
    can't be given is refused here: an item that is not an object, a far-off date."""

    def to_internal_value(self, data) -> list[Row]:
        if not isinstance(data, list):
            raise serializers.ValidationError(_("Send a list of readings."))
        rows, errors = [], []
        for index, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                errors.append(
                    _("Row %(number)s: a reading has interval_start, imported_wh and exported_wh.") % {"number": index}
                )
                continue
            start = _when(item.get("interval_start"))
            if start is not None and not within_search_span(start if start.tzinfo else None):
                errors.append(
                    _("Row %(number)s: that date is years away; check the interval's start.") % {"number": index}
                )
                continue
            rows.append(Row(start, item.get("imported_wh"), item.get("exported_wh")))
        if errors:
            raise serializers.ValidationError(errors)
        return rows

    def to_representation(self, value):  # pragma: no cover - a request body only
        return value


@extend_schema_serializer(component_name="SolarReadings")
class ReadingsInputSerializer(serializers.Serializer):
    meter = serializers.IntegerField(required=False, min_value=1, max_value=10**18 - 1, help_text=_METER_HELP)
    readings = ReadingRowsField(help_text="At most 3,000 quarter hours; all are recorded, or none.")
    correct = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The owner replaces readings that differ from those recorded, until their slot is settled "
        "(a device never corrects).",
    )


@extend_schema_serializer(component_name="SolarTelegrams")
class TelegramsInputSerializer(serializers.Serializer):
    meter = serializers.IntegerField(required=False, min_value=1, max_value=10**18 - 1, help_text=_METER_HELP)
    telegrams = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False),
        help_text="Raw DSMR telegrams as the meter sent them (from '/' to the CRC after '!'), at most 500; "
        "a damaged one refuses the whole post.",
    )


@extend_schema_serializer(component_name="SolarRecorded")
class RecordedSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="New readings.")
    corrected = serializers.IntegerField(help_text="Readings replaced by other values (the owner, with correct).")
    unchanged = serializers.IntegerField(help_text="Readings sent again with the same values.")


class ReadingFilterSerializer(serializers.Serializer):
    meter = serializers.CharField(required=False)

    def validate_meter(self, value: str) -> int:
        pk = parse_id(value)
        if pk is None:
            raise serializers.ValidationError(_("Give a meter by its number."))
        return pk


_RECORDED = {
    201: OpenApiResponse(RecordedSerializer, description="Recorded; at least one reading is new."),
    200: OpenApiResponse(RecordedSerializer, description="Recorded; nothing new (sent before, or corrections)."),
    400: FIELD_ERRORS,
    403: FORBIDDEN,
}


@extend_schema_view(
    list=extend_schema(
        summary="My meters' readings, newest first",
        tags=TAGS,
        auth=MEMBER_AUTH,
        parameters=[OpenApiParameter("meter", OpenApiTypes.INT, description="Only this meter's.")],
        responses={200: ReadingSerializer(many=True), 400: FIELD_ERRORS, 403: FORBIDDEN},
    ),
    create=extend_schema(
        summary="Post a meter's readings (the owner, or the meter's device)",
        tags=TAGS,
        request=ReadingsInputSerializer,
        responses={**_RECORDED, 409: conflicts("illegal_transition", "conflict")},
    ),
)
class ReadingViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Readings: a member reads their own meters' and posts them; a device posts its
    meter's (readings or P1 telegrams) and reads nothing."""

    serializer_class = ReadingSerializer
    queryset = MeterReading.objects.none()
    # The settings' classes (the app's session token first, for its 401 challenge, and
    # the browser's session) with the device token between them.
    authentication_classes = [SessionTokenAuthentication, DeviceTokenAuthentication, SessionAuthentication]
    permission_classes = [MemberOrOwnDevice]
    device_actions = ("create", "p1")

    def get_authenticate_header(self, request):
        """A device is asked for its token; anyone else for the session token, as everywhere."""
        if device_key(request) is not None:
            return KEYWORD
        return super().get_authenticate_header(request)

    def get_throttles(self):
        if device_of(self.request) is not None:
            return [DeviceRateThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        readings = MeterReading.objects.filter(meter__owner=self.request.user).order_by("-interval_start", "meter_id")
        filters = ReadingFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if "meter" in filters.validated_data:
            readings = readings.filter(meter_id=filters.validated_data["meter"])
        return readings

    def _meter(self, named: int | None) -> Meter:
        """The device's own meter, or the member's meter named in the body."""
        device = device_of(self.request)
        if device is not None:
            if named is not None and named != device.meter.pk:
                raise PermissionDenied(_("This device's token posts readings for its own meter only."))
            return device.meter
        if named is None:
            raise DRFValidationError({"meter": [_("Say which of your meters these are for.")]})
        meter = selectors.meter_of(user=self.request.user, pk=named)
        if meter is None:
            raise DRFValidationError({"meter": [_("No such meter of yours.")]})
        return meter

    @staticmethod
    def _answer(recorded: Recorded) -> Response:
        return Response(
            RecordedSerializer(recorded).data,
            status=status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK,
        )

    def create(self, request, *args, **kwargs):
        payload = ReadingsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        meter = self._meter(data.get("meter"))
        device = device_of(request) is not None
        recorded = services.readings_record(
            meter=meter,
            rows=data["readings"],
            source=MeterReading.Source.DEVICE if device else MeterReading.Source.FORM,
            actor=None if device else request.user,
            correct=data["correct"] and not device,
        )
        return self._answer(recorded)

    @extend_schema(
        summary="Post a smart meter's P1 telegrams (the meter's device, or its owner)",
        tags=TAGS,
        request=TelegramsInputSerializer,
        responses={**_RECORDED, 409: conflicts("wrong_meter", "registers_backwards", "illegal_transition", "conflict")},
    )
    @action(detail=False, methods=["post"])
    def p1(self, request):
        """Raw DSMR telegrams: the registers at each quarter-hour boundary are kept, and two
        consecutive boundaries make one reading. The first telegram teaches the meter its
        smart meter's id; another smart meter's telegrams are refused."""
        payload = TelegramsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        meter = self._meter(payload.validated_data.get("meter"))
        return self._answer(services.p1_ingest(meter=meter, telegrams=payload.validated_data["telegrams"]))
