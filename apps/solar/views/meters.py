"""My meters: the list, registering one, a meter's page (its production, readings, the
forms to add readings by hand or from a CSV file, device tokens) and retiring it.

Only the owner sees a meter (anyone else's is "not found"). Readings are written all or
nothing by ``services.readings_record``: a batch with a bad row writes nothing, and the
page lists every bad row. A new device token is shown once, on the page that answers
the form, never again."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from p2pcommons.errors import RuleViolation
from p2pcommons.forms import active_communities
from p2pcommons.humanize import format_when_short
from p2pcommons.i18n import activate_community_zone
from p2pcommons.viewkit import REFUSED, attempt, paginate

from .. import charts, selectors, services
from ..forms import MeterForm, ReadingForm, TokenForm, UploadForm
from ..models import DeviceToken, Meter, MeterReading
from ..services.readings import CSV_MAX_BYTES
from ..transitions import METER
from .common import PER_PAGE


def _first_row() -> re.Pattern:
    """The "Row 1 (...): " a one-reading batch's problems start with, in the active language."""
    return re.compile("^" + re.escape(_("Row %(number)s") % {"number": 1}) + r"(?: \([^)]*\))?: ")


def _my_meter(request: HttpRequest, pk: int) -> Meter:
    meter = selectors.meter_of(user=request.user, pk=pk)
    if meter is None:
        raise Http404(_("No such meter."))
    activate_community_zone(meter.community)
    return meter


@login_required
@require_GET
def meter_list(request: HttpRequest) -> HttpResponse:
    """My meters, each with when its last reading was for."""
    meters = list(selectors.meters_of(user=request.user).annotate(last_reading=Max("readings__interval_start")))
    return render(request, "solar/meter_list.html", {"meters": meters, "current": "meters"})


@login_required
@require_http_methods(["GET", "POST"])
def meter_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = MeterForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        meter = attempt(
            request,
            lambda: services.meter_register(
                owner=user,
                community=data["community"],
                name=data["name"],
                kind=data["kind"],
                peak_capacity_w=data["peak_capacity_w"],
                latitude=data["latitude"],
                longitude=data["longitude"],
            ),
            form=form,
        )
        if meter is not REFUSED:
            messages.success(
                request,
                _(
                    "%(meter)s is registered. Next: add its readings below, or make a device token "
                    "so a small computer at the meter sends them."
                )
                % {"meter": meter.name},
            )
            return redirect(meter)
    has_community = active_communities(user).exists()
    return render(request, "solar/meter_form.html", {"form": form, "has_community": has_community, "current": "meters"})


def _meter_page(
    request: HttpRequest,
    meter: Meter,
    *,
    reading_form: ReadingForm | None = None,
    upload_form: UploadForm | None = None,
    upload_report: list[str] | None = None,
    token_form: TokenForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    production = selectors.production(meter=meter, now=now)
    chart = charts.production_svg(
        points=[(r.interval_start, r.exported_wh, r.imported_wh) for r in production],
        title=_("What %(meter)s sent out and took in, last 24 hours") % {"meter": meter.name},
        tz=timezone.get_current_timezone(),
    )
    readings = paginate(request, selectors.readings_of(meter=meter), PER_PAGE)
    context = {
        "meter": meter,
        "chart": chart,
        "readings": readings,
        "tokens": list(selectors.tokens_of(meter=meter)),
        "buttons": METER.buttons(meter, request.user, now=now),
        "active": meter.status == Meter.Status.ACTIVE,
        "reading_form": reading_form or ReadingForm(),
        "upload_form": upload_form or UploadForm(),
        "upload_report": upload_report or [],
        "token_form": token_form or TokenForm(),
        "current": "meters",
    }
    return render(request, "solar/meter_detail.html", context)


@login_required
@require_GET
def meter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _meter_page(request, _my_meter(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def meter_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST stops using the meter (its open orders are cancelled,
    its device tokens stop)."""
    meter = _my_meter(request, pk)
    if request.method == "POST":
        done = attempt(request, lambda: services.meter_retire(meter=meter, actor=request.user))
        if done is not REFUSED:
            messages.success(
                request, _("%(meter)s is no longer used. Its readings and trades stay.") % {"meter": meter.name}
            )
        return redirect(meter)
    refusal = METER.refusal("retire", meter, request.user)
    if refusal is not None:
        messages.error(request, str(refusal))
        return redirect(meter)
    return render(request, "solar/meter_retire.html", {"meter": meter, "current": "meters"})


def _recorded_words(recorded: services.Recorded) -> str:
    parts = []
    if recorded.created:
        parts.append(_("%(count)s new") % {"count": recorded.created})
    if recorded.corrected:
        parts.append(_("%(count)s corrected") % {"count": recorded.corrected})
    if recorded.unchanged:
        parts.append(_("%(count)s already recorded with the same values") % {"count": recorded.unchanged})
    return ", ".join(parts) or _("nothing new")


@login_required
@require_POST
def reading_create(request: HttpRequest, pk: int) -> HttpResponse:
    """One quarter hour's reading, typed in (local time)."""
    meter = _my_meter(request, pk)
    form = ReadingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        start = data["interval_start"]
        try:
            recorded = services.readings_record(
                meter=meter,
                rows=[services.Row(start, data["imported_wh"], data["exported_wh"])],
                source=MeterReading.Source.FORM,
                actor=request.user,
                correct=data["correct"],
            )
        except ValidationError as exc:
            # One reading: its problem without the "Row 1 (...)" of a batch.
            problems = exc.message_dict.get("readings", exc.messages)
            for problem in problems:
                text = _first_row().sub("", problem)
                form.add_error(None, text[:1].upper() + text[1:])
        except RuleViolation as exc:
            form.add_error(None, str(exc))
        else:
            when = format_when_short(start)
            if recorded.corrected:
                messages.success(request, _("The reading for %(when)s is corrected.") % {"when": when})
            elif recorded.created:
                messages.success(request, _("The reading for %(when)s is recorded.") % {"when": when})
            else:
                messages.info(
                    request, _("The reading for %(when)s was already recorded with these values.") % {"when": when}
                )
            return redirect(meter)
    return _meter_page(request, meter, reading_form=form)


@login_required
@require_POST
def reading_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """A CSV file of readings: all recorded, or none and every bad line named."""
    meter = _my_meter(request, pk)
    form = UploadForm(request.POST, request.FILES)
    report: list[str] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(CSV_MAX_BYTES + 1)
        try:
            recorded = services.readings_upload_csv(
                meter=meter, actor=request.user, data=data, correct=form.cleaned_data["correct"]
            )
        except ValidationError as exc:
            report = exc.message_dict.get("readings", exc.messages)
        except RuleViolation as exc:
            report = [str(exc)]
        else:
            messages.success(
                request,
                _("Readings from %(file)s: %(result)s.") % {"file": upload.name, "result": _recorded_words(recorded)},
            )
            return redirect(meter)
    return _meter_page(request, meter, upload_form=form, upload_report=report)


@login_required
@require_POST
def token_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a device token and show it this once, with how a device uses it. The answer
    is never cached, and no other page shows the token again."""
    meter = _my_meter(request, pk)
    form = TokenForm(request.POST)
    if form.is_valid():
        made = attempt(
            request,
            lambda: services.device_token_create(meter=meter, actor=request.user, label=form.cleaned_data["label"]),
            form=form,
        )
        if made is not REFUSED:
            token, key = made
            context = {
                "meter": meter,
                "token": token,
                "key": key,
                # The API's own routes (p2pcommons/api/urls.py), so the instructions never drift from it.
                "readings_url": request.build_absolute_uri(reverse("solar-reading-list")),
                "p1_url": request.build_absolute_uri(reverse("solar-reading-p1")),
                "current": "meters",
            }
            response = render(request, "solar/token_created.html", context)
            add_never_cache_headers(response)
            return response
    return _meter_page(request, meter, token_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    """GET asks to confirm; POST stops the token at once."""
    meter = _my_meter(request, pk)
    token = get_object_or_404(DeviceToken, meter=meter, pk=token_pk)
    if request.method == "POST":
        done = attempt(request, lambda: services.device_token_revoke(token=token, actor=request.user))
        if done is not REFUSED:
            messages.success(
                request, _("The token for “%(label)s” is revoked: it no longer works.") % {"label": token.label}
            )
        return redirect(meter)
    if not token.is_active:
        messages.info(request, _("The token for “%(label)s” is already revoked.") % {"label": token.label})
        return redirect(meter)
    return render(request, "solar/token_revoke.html", {"meter": meter, "token": token, "current": "meters"})
