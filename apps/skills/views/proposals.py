"""Proposing sessions: a one-to-one session from a match or a listing, and a group session
(a repair café) that I give."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.peers.models import Community, User
from p2pcommons.i18n import activate_community_zone
from p2pcommons.params import query_id
from p2pcommons.viewkit import REFUSED, attempt

from .. import selectors, services
from ..forms import (
    GroupSessionForm,
    SessionForm,
)
from ..models import Offer, Request


@dataclass
class Proposal:
    """Who helps whom, in which community, for which listings: from a match or a listing."""

    helper: User
    learner: User
    community: Community
    request: Request | None = None
    offer: Offer | None = None
    title: str = ""
    hours: Decimal = Decimal("1.00")
    remote: bool = False
    source: str = ""  # the query string the form posts back to

    def other(self, user: User) -> User:
        return self.learner if user.pk == self.helper.pk else self.helper


def _id(request: HttpRequest, name: str) -> int | None:
    """``?name=`` as an id; None when absent; a 404 when it is there but no id ("²", "-1", text)."""
    if not request.GET.get(name):
        return None
    pk = query_id(request.GET, name)
    if pk is None:
        raise Http404("No such listing.")
    return pk


def _proposal(request: HttpRequest) -> Proposal | None:
    """What ``?match=``, ``?offer=`` or ``?request=`` point at, if I may propose for it."""
    user = request.user
    if (pk := _id(request, "match")) is not None:
        match = get_object_or_404(selectors.matches_of(user=user), pk=pk)
        wanted = match.request
        return Proposal(
            helper=match.offer.member,
            learner=wanted.member,
            community=wanted.community,
            request=wanted,
            offer=match.offer,
            title=wanted.title,
            hours=wanted.estimated_hours,
            remote=wanted.remote_ok and match.offer.remote_ok,
            source=f"match={pk}",
        )
    if (pk := _id(request, "offer")) is not None:
        offer = get_object_or_404(selectors.listings_search(model=Offer, user=user), pk=pk)
        return Proposal(
            helper=offer.member,
            learner=user,
            community=offer.community,
            offer=offer,
            title=offer.title,
            remote=offer.remote_ok,
            source=f"offer={pk}",
        )
    if (pk := _id(request, "request")) is not None:
        wanted = get_object_or_404(selectors.listings_search(model=Request, user=user), pk=pk)
        return Proposal(
            helper=user,
            learner=wanted.member,
            community=wanted.community,
            request=wanted,
            title=wanted.title,
            hours=wanted.estimated_hours,
            remote=wanted.remote_ok,
            source=f"request={pk}",
        )
    return None


@login_required
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest) -> HttpResponse:
    """Propose a one-to-one session from a match or a listing. The learner's time balance
    and limit are shown before booking; the service refuses hours beyond the limit."""
    proposal = _proposal(request)
    if proposal is None:
        messages.info(request, _("Choose whom to propose a session to: from your matches or the directory."))
        return redirect("skills:matches")
    if proposal.helper.pk == proposal.learner.pk:
        messages.error(request, _("That is your own listing: propose a session to someone else."))
        return redirect("skills:directory")
    activate_community_zone(proposal.community)
    initial = {"title": proposal.title, "planned_hours": proposal.hours, "remote": proposal.remote}
    form = SessionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        session = attempt(
            request,
            lambda: services.session_propose(
                proposer=request.user,
                helper=proposal.helper,
                learner=proposal.learner,
                community=proposal.community,
                request=proposal.request,
                offer=proposal.offer,
                **form.service_fields(),
            ),
            form=form,
        )
        if session is not REFUSED:
            other = proposal.other(request.user)
            messages.success(
                request, _("Session proposed to %(name)s. It is on once they agree.") % {"name": other.public_name}
            )
            return redirect("skills:session", session.pk)
    balance, limit = services.headroom(user=proposal.learner, community=proposal.community)
    context = {
        "form": form,
        "proposal": proposal,
        "other": proposal.other(request.user),
        "i_learn": proposal.learner.pk == request.user.pk,
        "balance": balance,
        "limit": limit,
        "room": max(balance - limit, Decimal(0)),
    }
    return render(request, "skills/session_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def group_session_create(request: HttpRequest) -> HttpResponse:
    """Open a group session that I give (a repair café); neighbors join up to its places."""
    form = GroupSessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        session = attempt(
            request,
            lambda: services.group_session_create(
                helper=request.user,
                community=data["community"],
                capacity=data["capacity"],
                offer=data["offer"],
                **form.service_fields(),
            ),
            form=form,
        )
        if session is not REFUSED:
            messages.success(request, _("“%(title)s” is open: neighbors can join it now.") % {"title": session.title})
            return redirect("skills:session", session.pk)
    return render(request, "skills/group_session_form.html", {"form": form})
