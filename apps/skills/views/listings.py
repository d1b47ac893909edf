"""The directory, and my offers and requests: posting, editing, closing, reopening and
renewing them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.federation.views.browse import remote_section
from apps.peers.models import User
from p2pcommons.i18n import activate_community_zone
from p2pcommons.viewkit import REFUSED, attempt, paginate, safe_next

from .. import selectors, services
from ..forms import (
    DirectoryFilterForm,
    OfferForm,
    RequestForm,
    listing_initial,
    window_formset,
    windows_of,
)
from ..models import Offer, Request
from ..transitions import LISTING_MACHINES

LISTINGS_PER_PAGE = 20
MINE_PER_PAGE = 20


def _location(user: User) -> tuple[float, float] | None:
    profile = getattr(user, "profile", None)
    if profile is not None and profile.has_location:
        return float(profile.approx_latitude), float(profile.approx_longitude)
    return None


# --- the directory ----------------------------------------------------------------------
@login_required
@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    """Offers ("people who can help") or requests ("people who need help") of my
    communities, filtered by words, category, skill, community and distance."""
    location = _location(request.user)
    form = DirectoryFilterForm(request.GET, user=request.user, has_location=location is not None)
    show = request.GET.get("show") if request.GET.get("show") in ("offers", "requests") else "offers"
    page, near = None, False
    if form.is_valid():
        f = form.cleaned_data
        near = f["radius_km"] is not None
        listings = selectors.listings_search(
            model=Offer if show == "offers" else Request,
            user=request.user,
            community_id=f["community"].pk if f["community"] else None,
            skill=f["skill"].slug if f["skill"] else None,
            category=f["category"].slug if f["category"] else None,
            q=f["q"].strip(),
            near=(*location, float(f["radius_km"])) if near else None,
        )
        page = paginate(request, listings, LISTINGS_PER_PAGE)
    filtered = any(value not in ("", None) for name, value in request.GET.items() if name not in ("page", "show"))
    context = {
        "form": form,
        "page": page,
        "near": near,
        "show": show,
        "filtered": filtered,
        "has_community": bool(form.community_ids),
        "remote": None,
    }
    narrowed = form.is_valid() and any(value not in ("", None) for k, value in form.cleaned_data.items() if k != "q")
    if page is not None and page.number == 1 and not narrowed:
        # Neighbouring communities' listings have no place, local skill or category to filter by.
        kind = "skill_offer" if show == "offers" else "skill_request"
        context["remote"] = remote_section(user=request.user, kind=kind, q=form.cleaned_data["q"])
    return render(request, "skills/directory.html", context)


# --- offers and requests -------------------------------------------------------------------
FORMS = {"offer": OfferForm, "request": RequestForm}


def _visible_listing(request: HttpRequest, model, pk: int):
    """My own listing (any state), or an open one of my communities; one hidden by
    moderation only for me (its member) and the organizers."""
    return get_object_or_404(selectors.listing_for_viewer(model=model, user=request.user), pk=pk)


def _my_listing(request: HttpRequest, model, pk: int):
    own = selectors.offers_of if model is Offer else selectors.requests_of
    return get_object_or_404(own(user=request.user), pk=pk)


def _with_buttons(listings, user: User) -> None:
    """Each listing's buttons (close, reopen, renew): what ``OFFER`` / ``REQUEST`` allow
    ``user`` now, the same checks the services run."""
    now = timezone.now()
    for listing in listings:
        listing.buttons = LISTING_MACHINES[type(listing)].buttons(listing, user, now=now)


def _listing_detail(request: HttpRequest, listing, kind: str) -> HttpResponse:
    activate_community_zone(listing.community)
    _with_buttons([listing], request.user)
    return render(request, "skills/listing_detail.html", {"listing": listing, "kind": kind})


@login_required
@require_GET
def offer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _listing_detail(request, _visible_listing(request, Offer, pk), "offer")


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _listing_detail(request, _visible_listing(request, Request, pk), "request")


def _listing_form_page(request: HttpRequest, kind: str, listing=None) -> HttpResponse:
    """Post a new offer or request, or edit mine, through the services."""
    form_class = FORMS[kind]
    is_offer = kind == "offer"
    if request.method == "POST":
        form = form_class(request.POST, user=request.user, listing=listing)
    else:
        form = form_class(initial=_initial(kind, listing), user=request.user, listing=listing)
    windows = window_formset(request.POST if request.method == "POST" else None, listing) if is_offer else None
    valid = request.method == "POST" and all([form.is_valid(), windows is None or windows.is_valid()])
    if valid:
        fields = form.service_fields()
        if is_offer:
            fields["windows"] = windows_of(windows)
        saved = attempt(request, lambda: _save_listing(request, kind, listing, form, fields), form=form)
        if saved is not REFUSED:
            if listing is None:
                if is_offer:
                    text = _("Your offer “%(title)s” is posted. We look for matches now; they appear under Matches.")
                else:
                    text = _("Your request “%(title)s” is posted. We look for matches now; they appear under Matches.")
                messages.success(request, text % {"title": saved.title})
            else:
                messages.success(request, _("Your changes are saved."))
            return redirect(f"skills:{kind}", saved.pk)
    context = {"form": form, "windows": windows, "kind": kind, "listing": listing}
    return render(request, "skills/listing_form.html", context)


def _initial(kind: str, listing) -> dict:
    if listing is None:
        return {}
    initial = listing_initial(listing)
    if kind == "offer":
        initial["travel_km"] = listing.travel_km
    else:
        initial.update(
            wanted_from=listing.wanted_from,
            wanted_until=listing.wanted_until,
            estimated_hours=listing.estimated_hours,
        )
    return initial


def _save_listing(request: HttpRequest, kind: str, listing, form, fields: dict):
    if listing is None:
        create = services.offer_create if kind == "offer" else services.request_create
        return create(member=request.user, community=form.cleaned_data["community"], **fields)
    if kind == "offer":
        return services.offer_update(offer=listing, actor=request.user, **fields)
    # Unchanged dates are not sent again: an old request keeps its (past) dates when
    # only its title or skills change, and new dates renew it.
    for name in ("wanted_from", "wanted_until"):
        if fields[name] == getattr(listing, name):
            del fields[name]
    return services.request_update(request=listing, actor=request.user, **fields)


@login_required
@require_http_methods(["GET", "POST"])
def offer_create(request: HttpRequest) -> HttpResponse:
    return _listing_form_page(request, "offer")


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request: HttpRequest) -> HttpResponse:
    return _listing_form_page(request, "request")


@login_required
@require_http_methods(["GET", "POST"])
def offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _listing_form_page(request, "offer", _my_listing(request, Offer, pk))


@login_required
@require_http_methods(["GET", "POST"])
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _listing_form_page(request, "request", _my_listing(request, Request, pk))


STEPS = {
    ("offer", "close"): services.offer_close,
    ("offer", "reopen"): services.offer_reopen,
    ("request", "close"): services.request_close,
    ("request", "reopen"): services.request_reopen,
}


def _listing_step(request: HttpRequest, kind: str, pk: int, step: str) -> HttpResponse:
    """Close or reopen my offer or request through its service; a refusal is a message."""
    model = Offer if kind == "offer" else Request
    listing = _my_listing(request, model, pk)
    if attempt(request, lambda: STEPS[kind, step](**{kind: listing, "actor": request.user})) is not REFUSED:
        if step == "close":
            messages.success(
                request, _("“%(title)s” is closed: nobody is matched with it now.") % {"title": listing.title}
            )
        else:
            messages.success(request, _("“%(title)s” is open again.") % {"title": listing.title})
    return redirect(safe_next(request, reverse(f"skills:{kind}", args=[pk])))


@login_required
@require_POST
def offer_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _listing_step(request, "offer", pk, "close")


@login_required
@require_POST
def offer_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _listing_step(request, "offer", pk, "reopen")


@login_required
@require_POST
def request_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _listing_step(request, "request", pk, "close")


@login_required
@require_POST
def request_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _listing_step(request, "request", pk, "reopen")


@login_required
@require_POST
def offer_renew(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _my_listing(request, Offer, pk)
    offer = attempt(request, lambda: services.offer_renew(offer=offer, actor=request.user))
    if offer is not REFUSED:
        until = dateformat.format(timezone.localtime(offer.expires_at), "j F Y")  # as the offer's page writes it
        messages.success(request, _("“%(title)s” is open until %(until)s.") % {"title": offer.title, "until": until})
    return redirect(safe_next(request, reverse("skills:offer", args=[pk])))


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My offers and requests, open and closed, with their buttons."""
    offers = paginate(request, selectors.offers_of(user=request.user), MINE_PER_PAGE, "offers_page")
    requests = paginate(request, selectors.requests_of(user=request.user), MINE_PER_PAGE, "requests_page")
    _with_buttons([*offers.object_list, *requests.object_list], request.user)
    return render(request, "skills/mine.html", {"offers": offers, "requests": requests})
