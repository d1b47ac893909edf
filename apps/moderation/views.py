"""Browser pages for moderation: the "Report" form's target."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.peers.models import Community
from p2pcommons.errors import RuleViolation

from . import registry, services
from .forms import ReportForm


@login_required
@require_POST
def report(request: HttpRequest) -> HttpResponse:
    """Report content or a member, then go back to the page the report was made on."""
    form = ReportForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in ("reason", "text") else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect(back)
    data = form.cleaned_data
    try:
        kind = registry.moderatable_type_for(data["target_type"])
        target = kind.readable_by(request.user).filter(pk=data["target_id"]).first()
        community = Community.objects.filter(pk=data["community"]).first() if data.get("community") else None
        if target is None:
            raise RuleViolation(_("There is nothing to report there any more."))
        if data.get("community") and community is None:
            raise RuleViolation(_("No such community."))
        services.flag_create(
            reporter=request.user, target=target, reason=data["reason"], text=data["text"], community=community
        )
    except (registry.UnknownModeratableType, RuleViolation) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Thank you: your report was sent to the organizers."))
    return redirect(back)
