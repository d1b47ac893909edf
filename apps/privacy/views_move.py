"""The "Move house" page (under /me/data/move/): upload a data download from another
server and list its tools and skills in one of your communities here. Thin: the form
checks the input, ``move_house`` does the rest."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from p2pcommons.errors import RuleViolation

from .forms import MoveHouseForm
from .move_house import MAX_UPLOAD, MoveReport, move_house

SHOWN_LEFT_OUT = 10


def _tell(request: HttpRequest, report: MoveReport) -> None:
    """What the import did, as messages on the page it redirects to."""
    words = {
        "tool": lambda n: ngettext("%(n)s tool", "%(n)s tools", n),
        "skill_offer": lambda n: ngettext("%(n)s offer of help", "%(n)s offers of help", n),
        "skill_request": lambda n: ngettext("%(n)s request for help", "%(n)s requests for help", n),
    }
    counts = [words[kind](n) % {"n": n} for kind in words if (n := report.created.get(kind, 0))]
    if counts:
        messages.success(request, _("Moved in: %(what)s.") % {"what": ", ".join(counts)})
    elif not report.already and not report.left_out_count:
        messages.info(request, _("There were no tools or skills to move in this file."))
    if report.profile_updated:
        messages.success(request, _("Your profile now has the name and details from the file."))
    if report.already:
        messages.info(
            request,
            ngettext(
                "%(n)s listing from this file was already moved here before; it was left as it is.",
                "%(n)s listings from this file were already moved here before; they were left as they are.",
                report.already,
            )
            % {"n": report.already},
        )
    for name, why in report.left_out[:SHOWN_LEFT_OUT]:
        messages.warning(request, _("Not moved: “%(name)s”. %(why)s") % {"name": name, "why": why})
    hidden = report.left_out_count - min(len(report.left_out), SHOWN_LEFT_OUT)
    if hidden > 0:
        messages.warning(
            request,
            ngettext("And %(n)s more listing was not moved.", "And %(n)s more listings were not moved.", hidden)
            % {"n": hidden},
        )


@login_required
@require_http_methods(["GET", "POST"])
def move_house_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = MoveHouseForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = move_house(
                    user=request.user,
                    community=data["community"],
                    upload=data["file"],
                    paused=data["tools"] == MoveHouseForm.TOOLS_PAUSED,
                    profile=data["profile"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except RuleViolation as exc:
                form.add_error("community", str(exc))
            else:
                _tell(request, report)
                return redirect("privacy:move")
        status = 400
    else:
        form = MoveHouseForm(user=request.user)
        status = 200
    context = {
        "form": form,
        "max_mb": MAX_UPLOAD // (1024 * 1024),
        "has_community": form.fields["community"].queryset.exists(),
    }
    return render(request, "privacy/move_house.html", context, status=status)
