"""A member's pages about neighbouring communities: appearing on other servers, a listing
of a neighbouring community (and asking to borrow its tool), and my exchanges with
other communities."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.peers.models import Community, Membership
from apps.reputation import registry as reputation
from p2pcommons.viewkit import REFUSED, attempt, paginate

from .. import selectors, services
from ..forms import BorrowForm, OptInForm
from ..models import FederatedMember, RemoteExchange, RemoteListing

EXCHANGES_PER_PAGE = 20
# The exchange a review of a cross-community loan is about (apps.reputation's key).
REVIEW_KEY = "federation.remoteexchange"


# --- appearing on other servers ---------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    """Whether my public name may appear on other servers, and exactly what that means."""
    if request.method == "POST":
        form = OptInForm(request.POST)
        if form.is_valid():
            opt_in = form.cleaned_data["opt_in"]
            if attempt(request, lambda: services.member_opt_in(user=request.user, opt_in=opt_in)) is not REFUSED:
                if opt_in:
                    messages.success(request, _("Your public name may now appear on neighbouring servers."))
                else:
                    messages.success(request, _("You no longer appear on other servers."))
            return redirect("federation:me")
        messages.error(request, _("Choose yes or no."))
        return redirect("federation:me")
    opted_in = FederatedMember.objects.filter(user=request.user).first()
    federated = (
        Community.objects.filter(
            memberships__user=request.user,
            memberships__status=Membership.Status.ACTIVE,
            federation__enabled=True,
        )
        .order_by("name")
        .values_list("name", flat=True)
    )
    public_name = request.user.public_name
    context = {"opted_in": opted_in, "federated": list(federated), "public_name": public_name}
    return render(request, "federation/me.html", context)


# --- listings of neighbouring communities ------------------------------------------------
LISTINGS_PER_PAGE = 24
MAX_QUERY_LENGTH = 100


@login_required
@require_GET
def listings(request: HttpRequest) -> HttpResponse:
    """Everything the communities my communities follow share, by kind and words (the
    "more" of the browse pages' "From neighbouring communities")."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in RemoteListing.Kind.values else ""
    q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    found = selectors.remote_listings_for(user=request.user, kind=kind or None, q=q or None).select_related("origin")
    page = paginate(request, found, LISTINGS_PER_PAGE)
    context = {"page": page, "kind": kind, "q": q, "kinds": RemoteListing.Kind.choices}
    return render(request, "federation/listings.html", context)


# --- a listing of a neighbouring community -----------------------------------------------
def _visible_listing(request: HttpRequest, pk: int) -> RemoteListing:
    """A remote listing the member may see (through a community of theirs that follows its
    home community); anything else is a 404."""
    listings = selectors.remote_listings_for(user=request.user).select_related("origin")
    return get_object_or_404(listings, pk=pk)


def _listing_page(request: HttpRequest, listing: RemoteListing, form: BorrowForm | None = None) -> HttpResponse:
    can_borrow = listing.kind == RemoteListing.Kind.TOOL
    context = {
        "listing": listing,
        "origin": listing.origin,
        "home_url": safe_home_url(listing.url),
        "can_borrow": can_borrow,
        "form": (form or BorrowForm()) if can_borrow else None,
    }
    return render(request, "federation/listing_detail.html", context)


def safe_home_url(url: str) -> str:
    """The listing's page on its home server, if it is a web address (never a
    ``javascript:`` or other scheme a remote server might send)."""
    return url if url.lower().startswith(("https://", "http://")) else ""


@login_required
@require_GET
def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What it is, from which community on which server, its fee, its home page, and for a
    tool the form to ask to borrow it."""
    return _listing_page(request, _visible_listing(request, pk))


@login_required
@require_POST
def listing_borrow(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to borrow a neighbouring community's tool; the answer comes from their side."""
    listing = _visible_listing(request, pk)
    if listing.kind != RemoteListing.Kind.TOOL:
        messages.error(request, _("Only tools can be borrowed from neighbouring communities."))
        return redirect("federation:listing", listing.pk)
    form = BorrowForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        exchange = attempt(
            request,
            lambda: services.remote_borrow_request(
                listing=listing,
                borrower=request.user,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                message=data["message"],
            ),
            form=form,
        )
        if exchange is not REFUSED:
            messages.success(
                request,
                _("Your request for %(tool)s was sent to %(community)s. You will see their answer here.")
                % {"tool": listing.name, "community": listing.origin.name or listing.origin.host},
            )
            return redirect("federation:exchanges")
    return _listing_page(request, listing, form)


# --- my exchanges with other communities ---------------------------------------------------
CANCELLABLE = (RemoteExchange.Status.OFFERED, RemoteExchange.Status.ACCEPTED)
ST = RemoteExchange.Status
# Where an exchange stands, as the member who borrows reads it.
STATUS_WORDS = {
    ST.OFFERED: gettext_lazy("Asked: waiting for the owner's answer"),
    ST.ACCEPTED: gettext_lazy("Accepted: pick it up when the loan starts"),
    ST.REJECTED: gettext_lazy("Declined by the owner"),
    ST.PICKED_UP: gettext_lazy("Picked up: bring it back by the end"),
    ST.RETURNED: gettext_lazy("Returned"),
    ST.CANCELLED: gettext_lazy("Cancelled"),
}


def _my_exchanges(request: HttpRequest):
    return selectors.remote_exchanges_for(user=request.user).select_related(
        "local__community", "peer", "listing", "remote_person"
    )


@login_required
@require_GET
def exchanges(request: HttpRequest) -> HttpResponse:
    """Loans with neighbouring communities, most recent first, each in its community's
    time zone, with what can be done next."""
    page = paginate(request, _my_exchanges(request), EXCHANGES_PER_PAGE)
    try:
        reviewable = reputation.exchange_type_for(REVIEW_KEY) is not None
    except reputation.UnknownExchangeType:
        reviewable = False
    for exchange in page.object_list:
        borrowing = exchange.side == RemoteExchange.Side.BORROWER
        exchange.cancellable = borrowing and exchange.status in CANCELLABLE
        exchange.can_pick_up = borrowing and exchange.status == ST.ACCEPTED
        exchange.reviewable = reviewable and borrowing and exchange.status == ST.RETURNED
        exchange.time_zone = exchange.local.community.time_zone or None
        exchange.status_words = STATUS_WORDS.get(exchange.status, exchange.get_status_display())
    return render(request, "federation/exchanges.html", {"page": page, "review_key": REVIEW_KEY})


@login_required
@require_http_methods(["GET", "POST"])
def exchange_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST cancels (their side hears of it)."""
    exchange = get_object_or_404(_my_exchanges(request), pk=pk)
    title = exchange.listing.name if exchange.listing else _("the tool")
    if request.method == "POST":
        done = attempt(request, lambda: services.remote_exchange_cancel(exchange=exchange, actor=request.user))
        if done is not REFUSED:
            messages.success(request, _("Your request for %(tool)s is cancelled.") % {"tool": title})
        return redirect("federation:exchanges")
    if exchange.status not in CANCELLABLE:
        messages.info(request, _("This exchange can no longer be cancelled."))
        return redirect("federation:exchanges")
    return render(request, "federation/confirm_cancel.html", {"exchange": exchange, "title": title})


@login_required
@require_POST
def exchange_pickup(request: HttpRequest, pk: int) -> HttpResponse:
    """I have the tool: the fee (if any) is paid through our community's account with
    theirs, and their side is told."""
    exchange = get_object_or_404(_my_exchanges(request), pk=pk)
    done = attempt(request, lambda: services.remote_exchange_pickup(exchange=exchange, actor=request.user))
    if done is not REFUSED:
        title = exchange.listing.name if exchange.listing else _("the tool")
        messages.success(request, _("Enjoy %(tool)s. Bring it back by the end of the loan.") % {"tool": title})
    return redirect("federation:exchanges")
