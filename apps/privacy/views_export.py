"""Pages of "Download my data": what is in it, asking for it, watching it being prepared
(htmx polls the status partial every 2 s; a plain Refresh link does without script),
and the download itself, for its owner only while the link lasts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import export
from .models import ExportJob


def _context(request: HttpRequest) -> dict:
    job = export.latest_job(user=request.user)
    return {
        "job": job,
        "step": export.step_label(job.step) if job else "",
        "open": job is not None and job.status in export.OPEN,
        "Status": ExportJob.Status,
        "link_hours": settings.EXPORT_LINK_HOURS,
    }


@login_required
@require_GET
def export_page(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/export.html", _context(request))


@login_required
@require_GET
def export_status(request: HttpRequest) -> HttpResponse:
    """The job's box alone, for htmx to refresh while it is being prepared."""
    return render(request, "privacy/export_status.html", _context(request))


@login_required
@require_POST
def export_prepare(request: HttpRequest) -> HttpResponse:
    before = export.latest_job(user=request.user)
    job = export.export_request(user=request.user)
    if before is not None and before.pk == job.pk:
        messages.info(request, _("Your download is already being prepared."))
    else:
        messages.success(request, _("We are preparing your download. You will be notified when it is ready."))
    return redirect("privacy:page")


@login_required
@require_GET
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    job, ok = export.downloadable_job(user=request.user, token=token)
    if job is None:
        raise Http404(_("No such download."))
    if not ok:
        return render(request, "privacy/export_gone.html", {"job": job}, status=410)
    name = f"p2pcommons-my-data-{timezone.localdate(job.finished_at):%Y-%m-%d}.zip"
    response = FileResponse(
        export.export_path(job).open("rb"), as_attachment=True, filename=name, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response
