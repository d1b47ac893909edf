"""API: "Download my data" (members only, like the rest of the API).

- ``POST /api/v1/me/export/``: prepare a download. 202 with the job; while one is being
  prepared, the same job (202 again).
- ``GET /api/v1/me/export/``: my latest job (404 before the first).
- ``GET /api/v1/me/export/{id}/download/``: the zip (its owner only; 404 otherwise, 410
  once the link expired or if the job is not ready).

``download_url`` is that download link, null until the job is ready. All call
``apps.privacy.export``, like the pages.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from p2pcommons.api.schema import NOT_FOUND

from . import export
from .models import ExportJob

TAGS = ["privacy"]
GONE = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string", "enum": ["export_gone"]}},
    "required": ["detail", "code"],
}


class ExportJobSerializer(serializers.ModelSerializer):
    """One data download: ``status`` (queued, running, ready, failed, expired), how far
    along it is (``progress`` in percent, ``step`` in words), when it was asked for, when
    its link stops working (``expires_at``, null until ready), the link itself (null
    until ready) and, if it failed, why."""

    status = serializers.ChoiceField(choices=ExportJob.Status.choices, read_only=True)
    step = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = ["id", "status", "progress", "step", "created_at", "expires_at", "download_url", "error"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_step(self, job: ExportJob) -> str:
        return export.step_label(job.step)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportJob.Status.READY:
            return None
        request = self.context.get("request")
        url = reverse("me-export-download", args=[job.pk])
        return request.build_absolute_uri(url) if request is not None else url


class ExportView(APIView):
    """My data download: ask for one, or see how the latest is doing."""

    @extend_schema(
        summary="My latest data download",
        tags=TAGS,
        responses={200: ExportJobSerializer, 404: NOT_FOUND},
    )
    def get(self, request):
        job = export.latest_job(user=request.user)
        if job is None:
            raise Http404(_("You have not asked for a download of your data yet."))
        return Response(ExportJobSerializer(job, context={"request": request}).data)

    @extend_schema(
        summary="Prepare a download of all my data",
        description="Starts preparing a zip of everything about me (202). While one is being prepared, "
        "answers that same job. Poll GET until status is ready; I am also notified.",
        tags=TAGS,
        request=None,
        responses={202: ExportJobSerializer},
    )
    def post(self, request):
        job = export.export_request(user=request.user)
        job.refresh_from_db()
        return Response(ExportJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class ExportDownloadView(APIView):
    """The zip of one of my data downloads, while its link lasts."""

    def perform_content_negotiation(self, request, force=False):
        # Whatever the client accepts, it gets the file; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download the zip of my data",
        tags=TAGS,
        responses={
            # Declared as octet-stream, the binary type app generators turn into bytes;
            # the file name in Content-Disposition ends in .zip.
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip file."),
            404: NOT_FOUND,
            410: OpenApiResponse(GONE, description="The link expired (ask for a new download), or it is not ready."),
        },
    )
    def get(self, request, pk: int):
        job = ExportJob.objects.filter(pk=pk, user=request.user).first()
        if job is None:
            raise Http404(_("No such download."))
        job, ok = export.downloadable_job(user=request.user, token=job.token)
        if not ok:
            return Response(
                {"detail": _("This download is no longer available: ask for a new one."), "code": "export_gone"},
                status=status.HTTP_410_GONE,
            )
        return FileResponse(
            export.export_path(job).open("rb"),
            as_attachment=True,
            filename=f"p2pcommons-my-data-{job.finished_at:%Y-%m-%d}.zip",
            content_type="application/octet-stream",
        )
