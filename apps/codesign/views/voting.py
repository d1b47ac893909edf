"""Voting and results. My ballot is read for me only (``services.ballot_of``); nobody
else's ever reaches a page. Totals appear only when ``services.totals_visible`` says
so: after voting closes, or during it when the organizer turned live totals on."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from p2pcommons.humanize import format_amount
from p2pcommons.i18n import activate_community_zone
from p2pcommons.viewkit import REFUSED, attempt

from .. import selectors, services
from ..forms import VoteForm
from ..models import Challenge, Proposal
from .charts import results_svg
from .common import challenge_or_404

PH = Challenge.Phase


def _ballot_proposals(challenge: Challenge, user) -> list[Proposal]:
    return list(selectors.proposals_of(challenge=challenge, user=user).filter(status=Proposal.Status.ACCEPTED))


@login_required
@require_http_methods(["GET", "POST"])
def ballot(request: HttpRequest, pk: int) -> HttpResponse:
    """The designs on the ballot with my dots (or approvals) on each; POST sets them on one."""
    challenge = challenge_or_404(request, pk)
    activate_community_zone(challenge.community)
    approval = challenge.method == Challenge.Method.APPROVAL
    if request.method == "POST":
        readable = selectors.proposals_readable(Proposal.objects.filter(challenge=challenge), request.user)
        proposal = get_object_or_404(readable, pk=request.POST.get("proposal") or 0)
        form = VoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give a whole number of dots, 0 or more."))
        else:
            dots = form.cleaned_data["dots"]
            done = attempt(request, lambda: services.vote_set(proposal=proposal, voter=request.user, dots=dots))
            if done is not REFUSED:
                if approval:
                    text = _("You approve “%(title)s”.") if dots else _("You no longer approve “%(title)s”.")
                    text = text % {"title": proposal.title}
                else:
                    text = ngettext("%(dots)s dot on “%(title)s”.", "%(dots)s dots on “%(title)s”.", dots) % {
                        "dots": dots,
                        "title": proposal.title,
                    }
                messages.success(request, text)
        return redirect(f"{request.path}#proposal-{proposal.pk}")
    mine = services.ballot_of(challenge=challenge, voter=request.user)
    used = sum(mine.values())
    proposals = _ballot_proposals(challenge, request.user)
    totals = {}
    if services.totals_visible(challenge=challenge):
        totals = {r.proposal.pk: r.votes for r in services.results(challenge=challenge)}
    rows = [
        {
            "proposal": p,
            "photo": next(iter(p.photos.all()), None),
            "dots": mine.get(p.pk, 0),
            "choices": range((1 if approval else challenge.max_dots_per_proposal) + 1),
            "total": totals.get(p.pk),
        }
        for p in proposals
    ]
    context = {
        "challenge": challenge,
        "rows": rows,
        "approval": approval,
        "used": used,
        "left": max(challenge.dots - used, 0),
        "open": challenge.phase == PH.VOTING,
        "can_vote": selectors.can_vote(user=request.user, challenge=challenge),
        "show_totals": bool(totals) or services.totals_visible(challenge=challenge),
    }
    return render(request, "codesign/ballot.html", context)


def budget_rule(challenge: Challenge) -> str:
    if challenge.budget is None:
        return _("There is no budget: the design with the most votes wins.")
    return _(
        "With a budget of %(budget)s, designs win in order of votes while their "
        "cost fits in what is left; one that does not fit is passed over and the next may still fit."
    ) % {"budget": format_amount(challenge.budget, "CREDIT")}


@login_required
@require_GET
def results(request: HttpRequest, pk: int) -> HttpResponse:
    challenge = challenge_or_404(request, pk)
    activate_community_zone(challenge.community)
    visible = services.totals_visible(challenge=challenge)
    ranking = services.results(challenge=challenge) if visible else []
    unit = "approval" if challenge.method == Challenge.Method.APPROVAL else "dot"
    chart = (
        results_svg(
            rows=[(r.proposal.title, r.votes, r.won and challenge.voting_closed) for r in ranking],
            title=_("Votes for each design of “%(title)s”") % {"title": challenge.title},
            unit=unit,
        )
        if visible
        else ""
    )
    context = {
        "challenge": challenge,
        "visible": visible,
        "final": challenge.voting_closed,
        "ranking": ranking,
        "chart": chart,
        "unit": unit,
        "rule": budget_rule(challenge),
    }
    return render(request, "codesign/results.html", context)
