"""The organizers' page "Neighbouring communities": federation on or off, the community's
address to give to neighbours, following, requests to follow, and clearing with each
neighbour. Only the community's organizers (and the site's superusers) see it; anyone
else gets a 404, as for every organizer page.

Every write goes through ``apps.federation.services`` (or ``apps.ledger.clearing`` for a
neighbour's limit); what a service refuses is shown on the form or as a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.ledger.clearing import clearing_accounts_of, clearing_set_limit
from apps.peers.models import Community
from apps.peers.selectors import is_organizer
from p2pcommons.humanize import format_amount
from p2pcommons.i18n import activate_community_zone
from p2pcommons.viewkit import REFUSED, attempt

from .. import selectors, services
from ..forms import FollowForm, LimitForm
from ..http import RemoteError
from ..models import Follow
from .clearing import clearing_rows, neighbours_to_clear_with


def _organized(request: HttpRequest, slug: str) -> Community:
    """The community, if the viewer organizes it; a 404 otherwise (nobody else learns
    whether it federates)."""
    community = get_object_or_404(Community, slug=slug)
    if not is_organizer(user=request.user, community_id=community.pk):
        raise Http404(_("No such page."))
    activate_community_zone(community)
    return community


def _follows(community: Community) -> list[Follow]:
    return list(selectors.follows_of(community=community).select_related("remote"))


def _page(
    request: HttpRequest,
    community: Community,
    *,
    follow_form: FollowForm | None = None,
    limit_form: LimitForm | None = None,
) -> HttpResponse:
    actor = selectors.local_actor_of(community=community)
    follows = _follows(community)
    P, A = Follow.State.PENDING, Follow.State.ACCEPTED
    context = {
        "community": community,
        "actor": actor,
        "enabled": actor is not None and actor.enabled,
        "follow_form": follow_form or FollowForm(),
        "incoming": [f for f in follows if f.direction == Follow.Direction.IN and f.state == P],
        "following": [f for f in follows if f.direction == Follow.Direction.OUT and f.state in (P, A)],
        "followers": [f for f in follows if f.direction == Follow.Direction.IN and f.state == A],
        "clearing": clearing_rows(community=community, follows=follows, bound=limit_form),
    }
    return render(request, "federation/community.html", context)


@login_required
@require_GET
def community_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Everything about the community's neighbours on other servers, on one page."""
    return _page(request, _organized(request, slug))


@login_required
@require_POST
def federation_on(request: HttpRequest, slug: str) -> HttpResponse:
    community = _organized(request, slug)
    actor = attempt(request, lambda: services.federation_enable(community=community, actor=request.user))
    if actor is not REFUSED:
        messages.success(
            request,
            _("%(community)s is now open to neighbouring communities. Give them this address: %(handle)s")
            % {"community": community.name, "handle": actor.handle},
        )
    return redirect("federation:community", community.slug)


@login_required
@require_http_methods(["GET", "POST"])
def federation_off(request: HttpRequest, slug: str) -> HttpResponse:
    """GET asks for confirmation; POST turns federation off."""
    community = _organized(request, slug)
    if request.method == "POST":
        done = attempt(request, lambda: services.federation_disable(community=community, actor=request.user))
        if done is not REFUSED:
            messages.success(
                request,
                _("%(community)s is closed to neighbouring communities. Loans already agreed run to their end.")
                % {"community": community.name},
            )
        return redirect("federation:community", community.slug)
    actor = selectors.local_actor_of(community=community)
    if actor is None or not actor.enabled:
        text = _("%(community)s is not open to neighbouring communities.") % {"community": community.name}
        messages.info(request, text)
        return redirect("federation:community", community.slug)
    return render(request, "federation/confirm_off.html", {"community": community})


@login_required
@require_POST
def follow(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask to follow a community on another server; errors come back on the form."""
    community = _organized(request, slug)
    form = FollowForm(request.POST)
    if form.is_valid():
        handle = form.cleaned_data["handle"]
        try:
            made = attempt(
                request,
                lambda: services.follow_request(community=community, handle=handle, actor=request.user),
                form=form,
            )
        except RemoteError:
            form.add_error("handle", _("Their server could not be reached. Check the address, or try again later."))
            made = REFUSED
        if made is not REFUSED:
            name = made.remote.name or made.remote.handle or handle
            if made.state == Follow.State.ACCEPTED:
                text = _("You follow %(name)s: their tools and skills will appear here.") % {"name": name}
            else:
                text = _("Asked to follow %(name)s. Their organizers will answer.") % {"name": name}
            messages.success(request, text)
            return redirect("federation:community", community.slug)
    return _page(request, community, follow_form=form)


def _community_follow(community: Community, pk: int) -> Follow:
    return get_object_or_404(Follow.objects.select_related("remote", "local"), pk=pk, local__community=community)


def _decide(request: HttpRequest, slug: str, pk: int, *, accept: bool) -> HttpResponse:
    community = _organized(request, slug)
    follow_row = _community_follow(community, pk)
    done = attempt(request, lambda: services.follow_decide(follow=follow_row, actor=request.user, accept=accept))
    if done is not REFUSED:
        name = follow_row.remote.name or follow_row.remote.handle
        if accept:
            text = _("%(name)s now follows %(community)s and sees its tools and skills.")
        else:
            text = _("You declined %(name)s's request to follow %(community)s.")
        messages.success(request, text % {"name": name, "community": community.name})
    return redirect("federation:community", community.slug)


@login_required
@require_POST
def follow_accept(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _decide(request, slug, pk, accept=True)


@login_required
@require_POST
def follow_reject(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _decide(request, slug, pk, accept=False)


@login_required
@require_http_methods(["GET", "POST"])
def follow_end(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST ends the follow (either direction)."""
    community = _organized(request, slug)
    follow_row = _community_follow(community, pk)
    name = follow_row.remote.name or follow_row.remote.handle
    if request.method == "POST":
        if attempt(request, lambda: services.follow_end(follow=follow_row, actor=request.user)) is not REFUSED:
            messages.success(
                request,
                _("%(community)s and %(name)s no longer follow each other this way.")
                % {
                    "community": community.name,
                    "name": name,
                },
            )
        return redirect("federation:community", community.slug)
    if follow_row.state not in (Follow.State.PENDING, Follow.State.ACCEPTED):
        messages.info(request, _("This has already ended."))
        return redirect("federation:community", community.slug)
    context = {"community": community, "follow": follow_row, "name": name}
    return render(request, "federation/confirm_end.html", context)


@login_required
@require_POST
def set_limit(request: HttpRequest, slug: str) -> HttpResponse:
    """Change how much one neighbour may owe us in one currency."""
    community = _organized(request, slug)
    peers = neighbours_to_clear_with(community=community, follows=_follows(community))
    # Neighbours with a clearing account but no follow any more keep their limit settable.
    peers.update({account.peer: account.peer_name or account.peer for account in _clearing_accounts(community)})
    form = LimitForm(request.POST, peers=peers)
    if form.is_valid():
        data = form.cleaned_data
        saved = attempt(
            request,
            lambda: clearing_set_limit(
                community=community,
                peer_uri=data["peer"],
                currency=data["currency"],
                limit=form.limit,
                actor=request.user,
                peer_name=peers[data["peer"]],
            ),
            form=form,
        )
        if saved is not REFUSED:
            messages.success(
                request,
                _("%(peer)s may now owe %(community)s up to %(amount)s.")
                % {
                    "peer": peers[data["peer"]],
                    "community": community.name,
                    "amount": format_amount(data["amount"], data["currency"]),
                },
            )
            return redirect("federation:community", community.slug)
    return _page(request, community, limit_form=form)


def _clearing_accounts(community: Community):
    return clearing_accounts_of(community=community).only("peer", "peer_name")
