"""Browser pages for reviews: the review form, reached from an exchange's page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import activate_community_zone

from . import registry, selectors, services
from .forms import ReviewForm


@login_required
@require_http_methods(["GET", "POST"])
def review_create(request: HttpRequest, exchange_type: str, exchange_id: int) -> HttpResponse:
    """Show my review of an exchange, or the form to write it, or why I can't (yet)."""
    try:
        kind = registry.exchange_type_for(exchange_type)
    except registry.UnknownExchangeType:
        raise Http404(_("No such exchange.")) from None
    exchange = kind.model._default_manager.filter(pk=exchange_id).first()
    if exchange is None:
        raise Http404(_("No such exchange."))
    parties = kind.parties_of(exchange)
    if None in parties or request.user.pk not in (parties[0].pk, parties[1].pk):
        raise Http404(_("No such exchange."))  # outsiders don't learn who traded with whom
    other = parties[1] if request.user.pk == parties[0].pk else parties[0]
    activate_community_zone(kind.community_of(exchange))
    mine, theirs = selectors.exchange_reviews_for(exchange=exchange, viewer=request.user)

    form = reason = None
    if mine is None:
        try:
            services.review_check(author=request.user, exchange=exchange)
        except RuleViolation as exc:
            reason = str(exc)
        else:
            form = ReviewForm(request.POST or None)
            if request.method == "POST" and form.is_valid():
                try:
                    services.review_create(
                        author=request.user,
                        exchange=exchange,
                        rating=form.cleaned_data["rating"],
                        comment=form.cleaned_data["comment"],
                    )
                except RuleViolation as exc:
                    form.add_error(None, str(exc))
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, _("Thank you: your review is saved."))
                    return redirect(request.path)
    context = {
        "exchange": exchange,
        "domain_label": registry.DOMAINS[kind.domain],
        "other": other,
        "mine": mine,
        "theirs": theirs,
        "form": form,
        "reason": reason,
    }
    return render(request, "reputation/review_form.html", context)
