"""Browser pages of the ledger: my balance and history, sending, the public chain."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.peers.models import Community
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount
from p2pcommons.i18n import activate_community_zone

from . import selectors, services
from .chain import verify_community_cached
from .forms import SendForm
from .models import Currency

PER_PAGE = 25


@login_required
@require_http_methods(["GET", "POST"])
def my_balance(request: HttpRequest) -> HttpResponse:
    """Balances, the send form and the history, on one page."""
    form = SendForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = services.gift_send(
                sender=request.user,
                recipient=data["recipient"],
                community=data["community"],
                currency=data["currency"],
                amount=data["amount"],
                memo=data["memo"],
                idempotency_key=data["key"],
            )
        except (RuleViolation, ValidationError) as exc:
            form.add_service_error(exc)
        else:
            amount = format_amount(transfer.amount, transfer.currency)
            messages.success(
                request, _("Sent %(amount)s to %(name)s.") % {"amount": amount, "name": data["recipient"].public_name}
            )
            return redirect("ledger:mine")
    context = {"accounts": selectors.accounts_of(user=request.user), "form": form, "histories": _histories(request)}
    return render(request, "ledger/my_balance.html", context)


def _histories(request: HttpRequest) -> list[dict]:
    """The user's history, one section per currency (hours and credits never share a
    "balance after" column), each paged on its own (``hour_page``, ``credit_page``).
    Currencies without any entry are left out."""
    histories = []
    for currency in Currency:
        param = f"{currency.value.lower()}_page"
        entries = selectors.entries_of(user=request.user).filter(account__currency=currency.value)
        page = Paginator(entries, PER_PAGE).get_page(request.GET.get(param))
        if page.object_list:
            histories.append({"currency": currency.value, "label": currency.label, "param": param, "page": page})
    return histories


@login_required
def community_ledger(request: HttpRequest, slug: str) -> HttpResponse:
    """The community's public chain: every entry, amounts and display names only."""
    community = get_object_or_404(Community, slug=slug)
    activate_community_zone(community)
    if not selectors.may_audit(user=request.user, community=community):
        messages.info(request, _("Join the community to see and audit its ledger."))
        return redirect(community)
    page = Paginator(selectors.community_chain(community=community), PER_PAGE).get_page(request.GET.get("page"))
    report = verify_community_cached(community=community) if request.GET.get("verify") else None
    return render(request, "ledger/community_ledger.html", {"community": community, "page": page, "report": report})
