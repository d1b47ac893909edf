"""Browser pages of the skill swap: the directory, my offers and requests, matches,
sessions (proposing, agreeing, joining, confirming the hours, disputing) and my time
balance.

Every write goes through ``services``; what a service refuses is shown on the form (with
what was typed) or as a message, never as an error page. Sessions exist only for their
parties (others get a 404), except open group sessions, which every member of their
community may see and join.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.ledger.models import Account
from apps.peers.models import Community, Membership, User
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount, format_when
from p2pcommons.params import query_id, query_int

from . import selectors, services
from .forms import (
    CancelForm,
    ConfirmForm,
    DirectoryFilterForm,
    DisputeForm,
    GroupSessionForm,
    OfferForm,
    RequestForm,
    SessionForm,
    listing_initial,
    window_formset,
    windows_of,
)
from .models import Match, Offer, Request, Seat, Session

LISTINGS_PER_PAGE = 20
MATCHES_PER_PAGE = 20
SESSIONS_PER_PAGE = 20
MINE_PER_PAGE = 20
OPEN_GROUPS_SHOWN = 20
HOUR = "HOUR"
MAX_PAGE = 10**6  # past the last page shows the last page
RENEW_WITHIN = timedelta(days=30)  # offers this close to expiring show "Renew"


def _page(request: HttpRequest, queryset: QuerySet, per_page: int, param: str = "page") -> Page:
    number = query_int(request.GET, param, default=1, low=1, high=MAX_PAGE)
    page = Paginator(queryset, per_page).get_page(number)
    page.object_list = list(page.object_list)
    return page


def _refusal(exc: ValidationError | RuleViolation) -> str:
    return str(exc) if isinstance(exc, RuleViolation) else " ".join(exc.messages)


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
        page = _page(request, listings, LISTINGS_PER_PAGE)
    filtered = any(value not in ("", None) for name, value in request.GET.items() if name not in ("page", "show"))
    context = {
        "form": form,
        "page": page,
        "near": near,
        "show": show,
        "filtered": filtered,
        "has_community": bool(form.community_ids),
    }
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


def _listing_detail(request: HttpRequest, listing, kind: str) -> HttpResponse:
    now = timezone.now()
    context = {"listing": listing, "kind": kind, "now": now, "renew_soon": now + RENEW_WITHIN}
    return render(request, "skills/listing_detail.html", context)


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
        try:
            saved = _save_listing(request, kind, listing, form, fields)
        except (ValidationError, RuleViolation) as exc:
            form.add_service_error(exc)
        else:
            if listing is None:
                messages.success(
                    request,
                    f"Your {kind} “{saved.title}” is posted. We look for matches now; they appear under Matches.",
                )
            else:
                messages.success(request, "Your changes are saved.")
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


def _back(request: HttpRequest, default: str) -> str:
    """Back to my listings or to the listing, as the form asked (never off-site)."""
    return reverse("skills:mine") if request.POST.get("next") == "mine" else default


def _set_listing_status(request: HttpRequest, kind: str, pk: int, status: str) -> HttpResponse:
    model = Offer if kind == "offer" else Request
    listing = _my_listing(request, model, pk)
    try:
        if kind == "offer":
            services.offer_update(offer=listing, actor=request.user, status=status)
        else:
            services.request_update(request=listing, actor=request.user, status=status)
    except (ValidationError, RuleViolation) as exc:
        messages.error(request, _refusal(exc))
    else:
        if status == model.Status.CLOSED:
            messages.success(request, f"“{listing.title}” is closed: nobody is matched with it now.")
        else:
            messages.success(request, f"“{listing.title}” is open again.")
    return redirect(_back(request, reverse(f"skills:{kind}", args=[pk])))


@login_required
@require_POST
def offer_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_listing_status(request, "offer", pk, Offer.Status.CLOSED)


@login_required
@require_POST
def offer_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_listing_status(request, "offer", pk, Offer.Status.OPEN)


@login_required
@require_POST
def request_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_listing_status(request, "request", pk, Request.Status.CLOSED)


@login_required
@require_POST
def request_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_listing_status(request, "request", pk, Request.Status.OPEN)


@login_required
@require_POST
def offer_renew(request: HttpRequest, pk: int) -> HttpResponse:
    offer = _my_listing(request, Offer, pk)
    try:
        offer = services.offer_renew(offer=offer, actor=request.user)
    except (ValidationError, RuleViolation) as exc:
        messages.error(request, _refusal(exc))
    else:
        until = dateformat.format(timezone.localtime(offer.expires_at), "j F Y")  # as the offer's page writes it
        messages.success(request, f"“{offer.title}” is open until {until}.")
    return redirect(_back(request, reverse("skills:offer", args=[pk])))


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My offers and requests, open and closed, with their buttons."""
    context = {
        "offers": _page(request, selectors.offers_of(user=request.user), MINE_PER_PAGE, "offers_page"),
        "requests": _page(request, selectors.requests_of(user=request.user), MINE_PER_PAGE, "requests_page"),
        "now": timezone.now(),
        "renew_soon": timezone.now() + RENEW_WITHIN,
    }
    return render(request, "skills/mine.html", context)


# --- matches -----------------------------------------------------------------------------
@dataclass
class MatchView:
    match: Match
    side: str  # "requester": I asked; "helper": I offered
    other: User
    percent: int
    mine: Offer | Request
    theirs: Offer | Request


def _match_view(match: Match, user: User) -> MatchView:
    asked = match.request.member_id == user.pk
    return MatchView(
        match=match,
        side="requester" if asked else "helper",
        other=match.offer.member if asked else match.request.member,
        percent=round(float(match.score) * 100),
        mine=match.request if asked else match.offer,
        theirs=match.offer if asked else match.request,
    )


@login_required
@require_GET
def matches(request: HttpRequest) -> HttpResponse:
    """Helpers for my requests and people my offers could help, best first."""
    page = _page(request, selectors.matches_of(user=request.user), MATCHES_PER_PAGE)
    page.object_list = [_match_view(match, request.user) for match in page.object_list]
    return render(request, "skills/matches.html", {"page": page})


# --- proposing sessions ----------------------------------------------------------------
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
        messages.info(request, "Choose whom to propose a session to: from your matches or the directory.")
        return redirect("skills:matches")
    if proposal.helper.pk == proposal.learner.pk:
        messages.error(request, "That is your own listing: propose a session to someone else.")
        return redirect("skills:directory")
    initial = {"title": proposal.title, "planned_hours": proposal.hours, "remote": proposal.remote}
    form = SessionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_propose(
                proposer=request.user,
                helper=proposal.helper,
                learner=proposal.learner,
                community=proposal.community,
                request=proposal.request,
                offer=proposal.offer,
                **form.service_fields(),
            )
        except (ValidationError, RuleViolation) as exc:
            form.add_service_error(exc)
        else:
            other = proposal.other(request.user)
            messages.success(request, f"Session proposed to {other.public_name}. It is on once they agree.")
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
        try:
            session = services.group_session_create(
                helper=request.user,
                community=data["community"],
                capacity=data["capacity"],
                offer=data["offer"],
                **form.service_fields(),
            )
        except (ValidationError, RuleViolation) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"“{session.title}” is open: neighbors can join it now.")
            return redirect("skills:session", session.pk)
    return render(request, "skills/group_session_form.html", {"form": form})


# --- sessions: lists -----------------------------------------------------------------------
@dataclass
class TimeAccount:
    community: Community
    balance: Decimal
    limit: Decimal

    @property
    def room(self) -> Decimal:
        return max(self.balance - self.limit, Decimal(0))


def _time_account(community: Community, account: Account | None) -> TimeAccount:
    """An account not opened yet shows 0 and the limit it will open with."""
    if account is None:
        return TimeAccount(community=community, balance=Decimal("0.00"), limit=community.default_hour_limit)
    return TimeAccount(community=community, balance=account.balance, limit=account.limit)


def time_accounts(user: User) -> list[TimeAccount]:
    """My HOUR balance and limit in each of my communities, in two queries. Read only,
    unlike ``services.headroom``, which opens the account on first use."""
    accounts = {a.community_id: a for a in Account.objects.filter(owner=user, currency=HOUR)}
    memberships = Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).select_related("community")
    return [_time_account(m.community, accounts.get(m.community_id)) for m in memberships.order_by("community__name")]


def time_account(user: User, community: Community) -> TimeAccount:
    """My HOUR balance and limit in one community, read only."""
    return _time_account(community, Account.objects.filter(owner=user, community=community, currency=HOUR).first())


@login_required
@require_GET
def session_list(request: HttpRequest) -> HttpResponse:
    """My sessions (to agree and upcoming, to confirm, past), group sessions I could
    join, and my time balance in each community."""
    now = timezone.now()
    mine = selectors.sessions_of(user=request.user)
    live = (Session.Status.PROPOSED, Session.Status.SCHEDULED)
    upcoming = list(mine.filter(status__in=live, starts_at__gt=now).order_by("starts_at", "id"))
    to_confirm = list(
        mine.filter(status=Session.Status.SCHEDULED, starts_at__lte=now, seats__status=Seat.Status.BOOKED).order_by(
            "starts_at", "id"
        )
    )
    past = mine.exclude(pk__in=[s.pk for s in upcoming + to_confirm])
    open_groups = selectors.group_sessions_open(user=request.user).exclude(seats__learner=request.user)
    open_groups = [_session_row(s, request.user) for s in open_groups[:OPEN_GROUPS_SHOWN]]
    context = {
        "accounts": time_accounts(request.user),
        "upcoming": [_session_row(s, request.user) for s in upcoming],
        "to_confirm": [_session_row(s, request.user) for s in to_confirm],
        "past": _page(request, past, SESSIONS_PER_PAGE),
        "open_groups": open_groups,
        "now": now,
    }
    context["past"].object_list = [_session_row(s, request.user) for s in context["past"].object_list]
    return render(request, "skills/session_list.html", context)


@dataclass
class SessionRow:
    session: Session
    is_helper: bool
    with_whom: list[User]
    booked: int
    needs_me: bool  # a proposal waiting for my answer, or hours waiting for my figure


def _session_row(session: Session, user: User) -> SessionRow:
    seats = list(session.seats.all())
    is_helper = session.helper_id == user.pk
    booked = [s for s in seats if s.status == Seat.Status.BOOKED]
    if is_helper:
        with_whom = [s.learner for s in booked] if session.is_group else [s.learner for s in seats]
    else:
        with_whom = [session.helper]
    needs_me = session.status == Session.Status.PROPOSED and session.proposed_by_id != user.pk
    if session.status == Session.Status.SCHEDULED and session.starts_at <= timezone.now():
        field_name = "helper_hours" if is_helper else "learner_hours"
        mine = booked if is_helper else [s for s in booked if s.learner_id == user.pk]
        needs_me = any(getattr(s, field_name) is None for s in mine)
    return SessionRow(session=session, is_helper=is_helper, with_whom=with_whom, booked=len(booked), needs_me=needs_me)


# --- sessions: the page and its actions ------------------------------------------------------
def _with_trust(sessions: QuerySet[Session]) -> QuerySet[Session]:
    seats = Seat.objects.select_related("learner__profile", "learner__trust").order_by("created_at", "id")
    return sessions.select_related("helper__trust").prefetch_related(None).prefetch_related(Prefetch("seats", seats))


def _party_session(request: HttpRequest, pk: int) -> Session:
    """A session I give or have (had) a place at; a 404 for anyone else."""
    return get_object_or_404(_with_trust(selectors.sessions_of(user=request.user)), pk=pk)


def _viewable_session(request: HttpRequest, pk: int) -> Session:
    """Mine, or an open group session of my communities."""
    session = _with_trust(selectors.sessions_of(user=request.user)).filter(pk=pk).first()
    if session is None:
        session = _with_trust(selectors.group_sessions_viewable(user=request.user)).filter(pk=pk).first()
    if session is None:
        raise Http404("No such session.")
    return session


@dataclass
class SeatView:
    """One place at the session as the viewer sees it, with what they may do to it."""

    seat: Seat
    mine: bool  # the viewer is this seat's learner or the helper
    my_hours: Decimal | None = None
    their_hours: Decimal | None = None
    confirm_form: ConfirmForm | None = None
    dispute_form: DisputeForm | None = None
    review: bool = False


@dataclass
class SessionActions:
    accept: bool = False
    cancel: bool = False
    join: bool = False
    leave: bool = False
    seats: list[SeatView] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return self.accept or self.cancel or self.join or self.leave


def session_actions(
    session: Session, user: User, *, forms: dict[tuple[str, int], object] | None = None
) -> SessionActions:
    """What ``user`` may do now; the same rules the services enforce, for showing buttons.
    ``forms`` holds bound forms with errors to show again, by (kind, seat id)."""
    forms = forms or {}
    now = timezone.now()
    seats = list(session.seats.all())
    is_helper = session.helper_id == user.pk
    my_seat = next((s for s in seats if s.learner_id == user.pk), None)
    booked = [s for s in seats if s.status == Seat.Status.BOOKED]
    upcoming = session.starts_at > now
    live = session.status in (Session.Status.PROPOSED, Session.Status.SCHEDULED)
    actions = SessionActions()
    is_party = is_helper or (my_seat is not None and not session.is_group)
    actions.accept = (
        session.status == Session.Status.PROPOSED and is_party and session.proposed_by_id != user.pk and upcoming
    )
    one_to_one_learner = not session.is_group and my_seat is not None and my_seat.status == Seat.Status.BOOKED
    actions.cancel = live and upcoming and (is_helper or one_to_one_learner)
    if session.is_group and session.status == Session.Status.SCHEDULED and upcoming:
        if my_seat is not None and my_seat.status == Seat.Status.BOOKED:
            actions.leave = True
        elif not is_helper and len(booked) < session.capacity:
            actions.join = True
    started = not upcoming and session.status != Session.Status.CANCELLED
    for seat in seats:
        if not (is_helper or seat.learner_id == user.pk):
            actions.seats.append(SeatView(seat=seat, mine=False))
            continue
        view = SeatView(
            seat=seat,
            mine=True,
            my_hours=seat.helper_hours if is_helper else seat.learner_hours,
            their_hours=seat.learner_hours if is_helper else seat.helper_hours,
        )
        if started and session.status == Session.Status.SCHEDULED and seat.status == Seat.Status.BOOKED:
            view.confirm_form = forms.get(("confirm", seat.pk)) or ConfirmForm(
                initial={"hours": session.planned_hours if view.my_hours is None else view.my_hours},
                auto_id=f"id_confirm_{seat.pk}_%s",
            )
        disputable = seat.settled_at is None and (
            seat.completed_at is None or seat.completed_at >= timezone.now() - services.DISPUTE_WINDOW
        )
        if started and disputable and seat.status in (Seat.Status.BOOKED, Seat.Status.COMPLETED):
            view.dispute_form = forms.get(("dispute", seat.pk)) or DisputeForm(auto_id=f"id_dispute_{seat.pk}_%s")
        view.review = seat.status == Seat.Status.COMPLETED and seat.completed_at is not None
        actions.seats.append(view)
    return actions


def _session_page(request: HttpRequest, session: Session, *, forms=None) -> HttpResponse:
    user = request.user
    actions = session_actions(session, user, forms=forms)
    is_helper = session.helper_id == user.pk
    is_party = is_helper or any(s.learner_id == user.pk for s in session.seats.all())
    settled_or_on = session.status in (Session.Status.SCHEDULED, Session.Status.COMPLETED)
    context = {
        "session": session,
        "is_helper": is_helper,
        "is_party": is_party,
        "show_seats": is_party and (session.is_group or settled_or_on),
        "actions": actions,
        "booked": sum(1 for s in session.seats.all() if s.status == Seat.Status.BOOKED),
        "now": timezone.now(),
    }
    if actions.join:
        context["account"] = time_account(user, session.community)
    return render(request, "skills/session_detail.html", context)


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _session_page(request, _viewable_session(request, pk))


def _done(request: HttpRequest, session: Session, text: str | None, exc: Exception | None = None) -> HttpResponse:
    if exc is not None:
        messages.error(request, _refusal(exc))
    elif text:
        messages.success(request, text)
    return redirect("skills:session", session.pk)


@login_required
@require_POST
def session_accept(request: HttpRequest, pk: int) -> HttpResponse:
    session = _party_session(request, pk)
    try:
        session = services.session_accept(session=session, actor=request.user)
    except (ValidationError, RuleViolation) as exc:
        return _done(request, session, None, exc)
    # "Booked", the one name of an agreed session's state, at the local time every page shows.
    return _done(request, session, f"Booked: “{session.title}” on {format_when(session.starts_at)}.")


@login_required
@require_POST
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    session = _party_session(request, pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.session_cancel(session=session, actor=request.user, reason=reason)
    except (ValidationError, RuleViolation) as exc:
        return _done(request, session, None, exc)
    return _done(request, session, f"“{session.title}” is cancelled; the others are told.")


@login_required
@require_POST
def session_join(request: HttpRequest, pk: int) -> HttpResponse:
    session = _viewable_session(request, pk)
    try:
        services.seat_join(session=session, learner=request.user)
    except (ValidationError, RuleViolation) as exc:
        return _done(request, session, None, exc)
    return _done(request, session, f"You have a place at “{session.title}”.")


@login_required
@require_POST
def session_leave(request: HttpRequest, pk: int) -> HttpResponse:
    session = _party_session(request, pk)
    seat = next((s for s in session.seats.all() if s.learner_id == request.user.pk), None)
    if seat is None:
        return _done(request, session, None, RuleViolation("You have no place at this session."))
    try:
        services.seat_leave(seat=seat, actor=request.user)
    except (ValidationError, RuleViolation) as exc:
        return _done(request, session, None, exc)
    return _done(request, session, f"You gave up your place at “{session.title}”.")


def _party_seat(request: HttpRequest, pk: int, seat_pk: int) -> tuple[Session, Seat]:
    """A place at a session of mine: the helper's (any learner's) or the learner's own."""
    session = _party_session(request, pk)
    seat = next((s for s in session.seats.all() if s.pk == seat_pk), None)
    if seat is None or request.user.pk not in (session.helper_id, seat.learner_id):
        raise Http404("No such place.")
    return session, seat


@login_required
@require_POST
def session_confirm(request: HttpRequest, pk: int, seat_pk: int) -> HttpResponse:
    """Confirm the hours one place took. When both figures are in and agree, they move."""
    session, seat = _party_seat(request, pk, seat_pk)
    form = ConfirmForm(request.POST, auto_id=f"id_confirm_{seat.pk}_%s")
    is_helper = session.helper_id == request.user.pk
    if form.is_valid():
        try:
            [seat] = services.session_confirm(
                session=session,
                actor=request.user,
                hours=form.cleaned_data["hours"],
                learner=seat.learner if is_helper else None,
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except RuleViolation as exc:
            return _done(request, session, None, exc)
        else:
            return _done(request, session, _confirmed(session, seat, form.cleaned_data["hours"], is_helper))
    return _session_page(request, session, forms={("confirm", seat.pk): form})


def _confirmed(session: Session, seat: Seat, hours: Decimal, is_helper: bool) -> str:
    if seat.status == Seat.Status.COMPLETED:
        return (
            f"Confirmed: {format_amount(seat.hours, HOUR)} moved from {seat.learner.public_name} to "
            f"{session.helper.public_name}. You can review each other now."
        )
    if seat.status == Seat.Status.DISPUTED:
        return (
            f"You confirmed {format_amount(hours, HOUR)}, but the two figures differ by more than "
            f"{format_amount(services.HOURS_TOLERANCE, HOUR)}: the organizers will settle it."
        )
    other = seat.learner if is_helper else session.helper
    return f"You confirmed {format_amount(hours, HOUR)}. They move once {other.public_name} confirms too."


@login_required
@require_POST
def session_dispute(request: HttpRequest, pk: int, seat_pk: int) -> HttpResponse:
    """Tell the organizers something is wrong with the hours of one place."""
    session, seat = _party_seat(request, pk, seat_pk)
    form = DisputeForm(request.POST, auto_id=f"id_dispute_{seat.pk}_%s")
    if form.is_valid():
        try:
            services.seat_dispute(seat=seat, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_service_error(exc)
        except RuleViolation as exc:
            return _done(request, session, None, exc)
        else:
            return _done(request, session, "The dispute is sent: the organizers of the community will settle it.")
    return _session_page(request, session, forms={("dispute", seat.pk): form})
