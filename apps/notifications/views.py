"""Browser pages: the notification list, the bell, preferences, one-click unsubscribe."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from p2pcommons.errors import RuleViolation

from . import selectors, services
from .kinds import DELIVERIES
from .models import Notification

PER_PAGE = 25
DELIVERY_LABELS = {
    "immediate": gettext_lazy("Email me at once"),
    "digest": gettext_lazy("Daily digest"),
    "off": gettext_lazy("No email"),
}


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(selectors.notifications_of(user=request.user, unread_only=unread_only), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/list.html", {"page": page, "unread_only": unread_only})


@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The nav bell alone, for htmx to refresh every minute."""
    return render(request, "notifications/_bell.html", {"unread": selectors.unread_count(user=request.user)})


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.mark_read(notification=notification, user=request.user)
    if request.POST.get("go") and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(user=request.user)
    messages.success(request, _("Marked %(count)s notification(s) as read.") % {"count": count})
    return redirect("notifications:list")


class PreferencesForm(forms.Form):
    """One choice per registered kind, built from the registry."""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        for row in rows:
            self.fields[row["kind"]] = forms.ChoiceField(
                label=row["label"],
                choices=[(d, DELIVERY_LABELS[d]) for d in DELIVERIES],
                initial=row["delivery"],
                required=False,
                help_text=_("Default: %(delivery)s.") % {"delivery": str(DELIVERY_LABELS[row["default"]]).lower()},
            )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    rows = selectors.preferences_of(user=request.user)
    form = PreferencesForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        for kind, delivery in form.cleaned_data.items():
            if delivery:  # a kind left out of the post keeps its setting
                services.preference_set(user=request.user, kind=kind, delivery=delivery)
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notifications:preferences")
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(str(row["group"]), []).append(form[row["kind"]])
    return render(request, "notifications/preferences.html", {"form": form, "groups": groups.items()})


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (mail scanners follow links); POST turns the email off."""
    if request.method == "POST":
        try:
            pref = services.unsubscribe(token=token)
        except RuleViolation as exc:
            return render(request, "notifications/unsubscribe.html", {"error": str(exc)}, status=400)
        return render(request, "notifications/unsubscribe.html", {"done": pref})
    return render(request, "notifications/unsubscribe.html", {})
