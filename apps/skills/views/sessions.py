"""Sessions: my lists and time balances, a session's page with what I may do there, and
its actions (agreeing, cancelling, joining, leaving, confirming the hours, disputing).

The buttons and forms a page shows are those ``apps.skills.transitions`` allows now
(``SESSION``, ``SEAT``): the same checks the services run, so no rule is restated here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.ledger.models import Account
from apps.peers.models import Community, User
from apps.peers.selectors import active_community_ids
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount, format_when
from p2pcommons.i18n import activate_community_zone
from p2pcommons.transitions import Button
from p2pcommons.viewkit import REFUSED, attempt, paginate, refusal_text

from .. import selectors, services
from ..forms import (
    CancelForm,
    ConfirmForm,
    DisputeForm,
)
from ..models import Seat, Session, SessionEvent
from ..transitions import SEAT, SESSION, SESSION_STEPS, seat_of

SESSIONS_PER_PAGE = 20
OPEN_GROUPS_SHOWN = 20
HOUR = "HOUR"


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
    communities = Community.objects.filter(pk__in=active_community_ids(user=user)).order_by("name")
    return [_time_account(community, accounts.get(community.pk)) for community in communities]


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
        "past": paginate(request, past, SESSIONS_PER_PAGE),
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
    attention: str  # what waits for me: my answer to a proposal, or my figure of the hours


def _session_row(session: Session, user: User) -> SessionRow:
    seats = list(session.seats.all())
    is_helper = session.helper_id == user.pk
    booked = [s for s in seats if s.status == Seat.Status.BOOKED]
    if is_helper:
        with_whom = [s.learner for s in booked] if session.is_group else [s.learner for s in seats]
    else:
        with_whom = [session.helper]
    attention = ""
    if SESSION.allowed(session, user, names=("accept",)):
        attention = _("Waiting for your answer")
    else:
        field_name = "helper_hours" if is_helper else "learner_hours"
        mine = [s for s in seats if is_helper or s.learner_id == user.pk]
        if any(getattr(s, field_name) is None and SEAT.allowed(s, user, names=("confirm",)) for s in mine):
            attention = _("Confirm your hours")
    return SessionRow(
        session=session, is_helper=is_helper, with_whom=with_whom, booked=len(booked), attention=attention
    )


# --- sessions: the page and its actions ------------------------------------------------------
def _with_trust(sessions: QuerySet[Session]) -> QuerySet[Session]:
    seats = Seat.objects.select_related("learner__profile", "learner__trust").order_by("created_at", "id")
    events = SessionEvent.objects.select_related("actor__profile").order_by("created_at", "id")
    return (
        sessions.select_related("helper__trust")
        .prefetch_related(None)
        .prefetch_related(Prefetch("seats", seats), Prefetch("events", events))
    )


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
    """One place at the session as the viewer sees it, with what they may do to it
    (``SEAT``'s buttons: a form to confirm the hours, one to dispute them)."""

    seat: Seat
    mine: bool  # the viewer is this seat's learner or the helper
    my_hours: Decimal | None = None
    their_hours: Decimal | None = None
    progress: str = ""  # where the hours stand, in a sentence
    disputed: bool = False  # the sentence is news: the organizers settle it
    confirm_form: ConfirmForm | None = None
    dispute_form: DisputeForm | None = None
    review: bool = False


# The words of a session's timeline, by the state it moved to (and from).
TIMELINE_WORDS = {
    ("", Session.Status.PROPOSED): gettext_lazy("Proposed"),
    ("", Session.Status.SCHEDULED): gettext_lazy("Opened for learners"),
    (Session.Status.PROPOSED, Session.Status.SCHEDULED): gettext_lazy("Booked"),
    Session.Status.CANCELLED: gettext_lazy("Cancelled"),
    Session.Status.COMPLETED: gettext_lazy("Completed: every place is settled"),
}


@dataclass
class TimelineLine:
    event: SessionEvent
    words: str


def _timeline(session: Session) -> list[TimelineLine]:
    lines = []
    for event in session.events.all():
        words = TIMELINE_WORDS.get((event.from_status, event.to_status)) or TIMELINE_WORDS.get(
            event.to_status, Session.Status(event.to_status).label
        )
        if event.actor is not None:
            words = _("%(what)s by %(name)s") % {"what": words, "name": event.actor.public_name}
        lines.append(TimelineLine(event=event, words=str(words)))
    return lines


def _seat_progress(seat: Seat, session: Session, is_helper: bool, mine: Decimal | None, theirs: Decimal | None) -> str:
    other = seat.learner.public_name if is_helper else session.helper.public_name
    if seat.status == Seat.Status.DISPUTED:
        return _("Disputed: %(reason)s The organizers settle it.") % {"reason": seat.dispute_reason}
    if seat.status != Seat.Status.BOOKED:
        return ""
    if mine is not None:
        return _("You confirmed %(hours)s; waiting for %(name)s.") % {"hours": format_amount(mine, HOUR), "name": other}
    if theirs is not None:
        return _("%(name)s confirmed %(hours)s; now you.") % {"hours": format_amount(theirs, HOUR), "name": other}
    return ""


def _seat_views(session: Session, user: User, forms: dict, now) -> list[SeatView]:
    """Every place, and for the viewer's own (or, for the helper, each) the forms its
    buttons allow now; ``forms`` holds bound forms with errors to show again, by (kind, seat id)."""
    is_helper = session.helper_id == user.pk
    views = []
    for seat in session.seats.all():
        if not (is_helper or seat.learner_id == user.pk):
            views.append(SeatView(seat=seat, mine=False))
            continue
        mine = seat.helper_hours if is_helper else seat.learner_hours
        theirs = seat.learner_hours if is_helper else seat.helper_hours
        view = SeatView(
            seat=seat,
            mine=True,
            my_hours=mine,
            their_hours=theirs,
            progress=_seat_progress(seat, session, is_helper, mine, theirs),
            disputed=seat.status == Seat.Status.DISPUTED,
        )
        allowed = {action.name for action in SEAT.allowed(seat, user, now=now, names=("confirm", "dispute"))}
        if "confirm" in allowed:
            view.confirm_form = forms.get(("confirm", seat.pk)) or ConfirmForm(
                initial={"hours": session.planned_hours if mine is None else mine},
                auto_id=f"id_confirm_{seat.pk}_%s",
            )
        if "dispute" in allowed:
            view.dispute_form = forms.get(("dispute", seat.pk)) or DisputeForm(auto_id=f"id_dispute_{seat.pk}_%s")
        # Reviews: a place whose hours moved is the exchange its two people review.
        view.review = seat.status == Seat.Status.COMPLETED and seat.completed_at is not None
        views.append(view)
    return views


def session_buttons(session: Session, user: User, *, now=None) -> list[Button]:
    """The buttons at the top of a session's page, in the order shown: the session's steps
    (``SESSION``) and, for a learner of a group session, giving up their place (``SEAT``)."""
    buttons = SESSION.buttons(session, user, names=SESSION_STEPS, now=now)
    seat = seat_of(session, user)
    if seat is not None:
        leave = SEAT.buttons(seat, user, names=("leave",), now=now)
        at = next((i for i, button in enumerate(buttons) if button.name == "cancel"), len(buttons))
        buttons[at:at] = leave
    return buttons


def _session_page(request: HttpRequest, session: Session, *, forms=None) -> HttpResponse:
    activate_community_zone(session.community)
    user = request.user
    now = timezone.now()
    buttons = session_buttons(session, user, now=now)
    names = {button.name for button in buttons}
    is_helper = session.helper_id == user.pk
    is_party = is_helper or any(s.learner_id == user.pk for s in session.seats.all())
    settled_or_on = session.status in (Session.Status.SCHEDULED, Session.Status.COMPLETED)
    confirm_refusal = SESSION.refusal("confirm", session, user, now=now)
    context = {
        "session": session,
        "is_helper": is_helper,
        "is_party": is_party,
        "show_seats": is_party and (session.is_group or settled_or_on),
        "buttons": buttons,
        "can_accept": "accept" in names,
        "waiting_for_other": session.status == Session.Status.PROPOSED and session.proposed_by_id == user.pk,
        # The hours are confirmed here once the session has taken place (``SESSION`` "confirm").
        "confirm_later": confirm_refusal is not None and confirm_refusal.code == "not_started",
        "seats": _seat_views(session, user, forms or {}, now),
        "timeline": _timeline(session),
        "booked": sum(1 for s in session.seats.all() if s.status == Seat.Status.BOOKED),
        "now": now,
    }
    if "join" in names:
        context["account"] = time_account(user, session.community)
    else:
        # Why not, when it is the time limit: the neighbor sees their balance and limit.
        refusal = SESSION.refusal("join", session, user, now=now)
        context["join_refusal"] = str(refusal) if refusal is not None and refusal.code == "limit" else ""
    return render(request, "skills/session_detail.html", context)


@login_required
@require_GET
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _session_page(request, _viewable_session(request, pk))


def _step(request: HttpRequest, session: Session, call, done) -> HttpResponse:
    """One step on a session through its service, back to the session's page: ``done``
    (a text, or a function of the result giving one) as a message, or the refusal."""
    result = attempt(request, call)
    if result is not REFUSED:
        messages.success(request, done(result) if callable(done) else done)
    return redirect("skills:session", session.pk)


@login_required
@require_POST
def session_accept(request: HttpRequest, pk: int) -> HttpResponse:
    session = _party_session(request, pk)
    # "Booked", the one name of an agreed session's state, at the local time every page shows.
    return _step(
        request,
        session,
        lambda: services.session_accept(session=session, actor=request.user),
        lambda booked: (
            _("Booked: “%(title)s” on %(when)s.") % {"title": booked.title, "when": format_when(booked.starts_at)}
        ),
    )


@login_required
@require_POST
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    session = _party_session(request, pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _step(
        request,
        session,
        lambda: services.session_cancel(session=session, actor=request.user, reason=reason),
        _("“%(title)s” is cancelled; the others are told.") % {"title": session.title},
    )


@login_required
@require_POST
def session_join(request: HttpRequest, pk: int) -> HttpResponse:
    session = _viewable_session(request, pk)
    return _step(
        request,
        session,
        lambda: services.seat_join(session=session, learner=request.user),
        _("You have a place at “%(title)s”.") % {"title": session.title},
    )


@login_required
@require_POST
def session_leave(request: HttpRequest, pk: int) -> HttpResponse:
    session = _party_session(request, pk)
    return _step(
        request,
        session,
        lambda: services.session_leave(session=session, actor=request.user),
        _("You gave up your place at “%(title)s”.") % {"title": session.title},
    )


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
            messages.error(request, refusal_text(exc))
            return redirect("skills:session", session.pk)
        else:
            messages.success(request, _confirmed(session, seat, form.cleaned_data["hours"], is_helper))
            return redirect("skills:session", session.pk)
    return _session_page(request, session, forms={("confirm", seat.pk): form})


def _confirmed(session: Session, seat: Seat, hours: Decimal, is_helper: bool) -> str:
    if seat.status == Seat.Status.COMPLETED:
        return _("Confirmed: %(hours)s moved from %(learner)s to %(helper)s. You can review each other now.") % {
            "hours": format_amount(seat.hours, HOUR),
            "learner": seat.learner.public_name,
            "helper": session.helper.public_name,
        }
    if seat.status == Seat.Status.DISPUTED:
        return _(
            "You confirmed %(hours)s, but the two figures differ by more than %(tolerance)s: "
            "the organizers will settle it."
        ) % {"hours": format_amount(hours, HOUR), "tolerance": format_amount(services.HOURS_TOLERANCE, HOUR)}
    other = seat.learner if is_helper else session.helper
    return _("You confirmed %(hours)s. They move once %(name)s confirms too.") % {
        "hours": format_amount(hours, HOUR),
        "name": other.public_name,
    }


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
            messages.error(request, refusal_text(exc))
            return redirect("skills:session", session.pk)
        else:
            messages.success(request, _("The dispute is sent: the organizers of the community will settle it."))
            return redirect("skills:session", session.pk)
    return _session_page(request, session, forms={("dispute", seat.pk): form})
