"""Pages for suggestions: dismissing one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..models import Suggestion
from ..suggestions import suggestion_dismiss


@login_required
@require_POST
def dismiss(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """Set one of my suggestions aside for good, then go back to the page it was on
    (``next``, when it is a page of this site; else the dashboard). Another member's
    suggestion answers 404, as a missing one does. With htmx the empty answer replaces
    the suggestion, so it disappears in place."""
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id, user=request.user)
    suggestion_dismiss(suggestion=suggestion, actor=request.user)
    if getattr(request, "htmx", False):
        return HttpResponse("")
    messages.success(request, _("Dismissed. We will not suggest it again."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect("front:home")
    return redirect(back)
