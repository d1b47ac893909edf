"""API: "Move house" (members only, like the rest of the API).

- ``POST /api/v1/me/import/`` (multipart): ``file`` (the data download, a zip from any
  p2pcommons server), ``community`` (id of a community where I am an active member),
  ``tools`` (``paused``, the default, or ``active``), ``profile`` (default true). 201 with
  what moved; 400 with field errors for a file that cannot be read (nothing written);
  409 when I am not an active member there. Sending the same file again creates nothing
  new. Calls ``apps.privacy.move_house``, like the page.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.peers.models import Community
from p2pcommons.api.schema import FIELD_ERRORS, conflicts

from .move_house import MAX_UPLOAD, TOO_BIG, MoveReport, move_house

TAGS = ["privacy"]


# How moved tools are listed (named in the schema as MovedToolsEnum).
MOVED_TOOLS = [("paused", "paused"), ("active", "active")]


class MoveHouseSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=f"The .zip of a data download, at most {MAX_UPLOAD // (1024 * 1024)} MB.")
    community = serializers.IntegerField(min_value=1, help_text="A community where I am an active member.")
    tools = serializers.ChoiceField(
        choices=MOVED_TOOLS, default="paused", help_text="List the tools paused (default) or available."
    )
    profile = serializers.BooleanField(
        default=True, help_text="Also take the name, about me and neighborhood from the file."
    )

    def validate_file(self, upload):
        if upload.size > MAX_UPLOAD:
            raise serializers.ValidationError(str(TOO_BIG % {"mb": MAX_UPLOAD // (1024 * 1024)}))
        return upload

    def validate_community(self, pk: int) -> Community:
        community = Community.objects.filter(pk=pk).first()
        if community is None:
            raise serializers.ValidationError(_("No such community."))
        return community


class LeftOutSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The listing's title.")
    reason = serializers.CharField(help_text="Why this community could not take it.")


class MoveReportSerializer(serializers.Serializer):
    """What moved: listings created per kind, listings of this file already moved here
    before (left as they are), and those the community's rules left out, with why (at
    most 50 named; ``left_out_count`` counts all)."""

    tools = serializers.IntegerField()
    skill_offers = serializers.IntegerField()
    skill_requests = serializers.IntegerField()
    already_moved = serializers.IntegerField()
    left_out = LeftOutSerializer(many=True)
    left_out_count = serializers.IntegerField()
    profile_updated = serializers.BooleanField()


def report_data(report: MoveReport) -> dict:
    return {
        "tools": report.created.get("tool", 0),
        "skill_offers": report.created.get("skill_offer", 0),
        "skill_requests": report.created.get("skill_request", 0),
        "already_moved": report.already,
        "left_out": [{"name": name, "reason": why} for name, why in report.left_out],
        "left_out_count": report.left_out_count,
        "profile_updated": report.profile_updated,
    }


class MoveHouseView(APIView):
    """Bring my tools and skills from a data download made on another server."""

    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        summary="Move house: list my tools and skills from a data download",
        description="Balances and reviews do not move: they belong to the community where they were earned.",
        tags=TAGS,
        request={"multipart/form-data": MoveHouseSerializer},
        responses={
            201: MoveReportSerializer,
            400: FIELD_ERRORS,
            409: conflicts("not_member", "suspended"),
        },
    )
    def post(self, request):
        payload = MoveHouseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        report = move_house(
            user=request.user,
            community=data["community"],
            upload=data["file"],
            paused=data["tools"] == "paused",
            profile=data["profile"],
        )
        return Response(MoveReportSerializer(report_data(report)).data, status=status.HTTP_201_CREATED)
