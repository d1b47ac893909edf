"""A skill session's life, a place's at it, and an offer's or request's, declared once
(see ``p2pcommons.transitions``).

Who may do what, in which state and when: the services check it (``SESSION.check`` /
``SESSION.apply`` and the others), the pages show these buttons and no others
(``.buttons``), and the API lists them in each object's ``actions``. Side effects (the
hours through the ledger, notifications, matching) stay in ``apps.skills.services``.
Membership is not restated here: the services ask ``apps.peers.guards``, and the pages
and the API show sessions and listings only to the members who may see them.

Session (``SESSION``; one-to-one sessions are proposed, group sessions open booked)::

    proposed --accept--> scheduled ("Booked") --complete (the platform)--> completed
        \\--------cancel--------> cancelled <----cancel-----/

    join (a group session: a place is made), confirm (the hours of my places: the
    service settles each place, then completes the session once none waits)

Place at a session (``SEAT``)::

    booked --leave (group sessions)--> left
    booked --complete / hours_differ (the platform, once both figures are in)--> completed / disputed
    booked, completed --dispute--> disputed --settle (an organizer; final)--> completed

Offer and request (``OFFER``, ``REQUEST``)::

    open --close--> closed --reopen--> open;  renew (offers, in their last 30 days)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import DecimalField, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.guards import require_organizer
from apps.peers.models import Community, User
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount
from p2pcommons.transitions import Action, Machine, only, refuse_if

from .models import Offer, Request, Seat, Session, SessionEvent

S = Session.Status
P = Seat.Status

DISPUTE_WINDOW = timedelta(days=14)  # a place is disputed up to this long after its hours moved
RENEW_WITHIN = timedelta(days=30)  # an offer is renewed in its last 30 days (or once expired)


# --- who -------------------------------------------------------------------------------
# A session's places come from ``session.seats.all()``: prefetched on pages and lists, so
# a list's buttons cost no query per row; read fresh under the services' row locks.
def seat_of(session: Session, user) -> Seat | None:
    return next((seat for seat in session.seats.all() if seat.learner_id == user.pk), None)


def is_helper(session: Session, user) -> bool:
    return user.pk == session.helper_id


def is_learner(session: Session, user) -> bool:
    """Has (or had) a place at the session."""
    return seat_of(session, user) is not None


def _booked(session: Session) -> list[Seat]:
    return [seat for seat in session.seats.all() if seat.status == P.BOOKED]


def _one_to_one_learner(session: Session, user) -> bool:
    return not session.is_group and any(seat.learner_id == user.pk for seat in _booked(session))


def is_seat_party(seat: Seat, user) -> bool:
    return user.pk in (seat.learner_id, seat.session.helper_id)


# --- when ------------------------------------------------------------------------------
def _started(session: Session, user, now: datetime) -> bool:
    return session.starts_at <= now


def _is_now(session: Session) -> str:
    return _("This session is %(status)s.") % {"status": session.get_status_display().lower()}


# The time limit: a learner's balance may not go below their limit. Read only: an account
# not opened yet is 0 with the community's default limit.
def headroom(*, user: User, community: Community) -> tuple[Decimal, Decimal]:
    """(balance, limit) of the member's time account, what they see before booking."""
    from apps.ledger.models import Account  # ledger's models import nothing of ours; kept local like the services

    account = Account.objects.filter(owner=user, community=community, currency="HOUR").first()
    if account is None:
        return Decimal("0.00"), community.default_hour_limit
    return account.balance, account.limit


def beyond_limit(*, learner: User, hours: Decimal, balance: Decimal, limit: Decimal, you: bool) -> RuleViolation | None:
    """The refusal when ``hours`` more would take ``learner`` below their limit, else None."""
    if balance - hours >= limit:
        return None
    values = {
        "balance": format_amount(balance, "HOUR", signed=True),
        "limit": format_amount(limit, "HOUR"),
        "hours": format_amount(hours, "HOUR"),
    }
    if you:
        text = _(
            "Your time balance is %(balance)s with a limit of %(limit)s: %(hours)s more would take it below the limit."
        )
    else:
        values["name"] = learner.public_name
        text = _(
            "%(name)s's time balance is %(balance)s with a limit of %(limit)s: %(hours)s more would take it below "
            "the limit."
        )
    return RuleViolation(text % values, code="limit")


def with_headroom(sessions: QuerySet[Session], user) -> QuerySet[Session]:
    """``sessions`` with ``user``'s time balance and limit in each one's community, in the
    same query, so a list's "join" checks ask nothing per row."""
    if not getattr(user, "is_authenticated", False):
        return sessions
    from apps.ledger.models import Account

    account = Account.objects.filter(owner=user, community=OuterRef("community"), currency="HOUR")
    money = DecimalField(max_digits=12, decimal_places=2)
    return sessions.annotate(
        headroom_for=Value(user.pk, output_field=IntegerField()),
        headroom_balance=Coalesce(Subquery(account.values("balance")[:1]), Value(Decimal("0.00")), output_field=money),
        headroom_limit=Coalesce(
            Subquery(account.values("limit")[:1]), F("community__default_hour_limit"), output_field=money
        ),
    )


def _headroom_of(session: Session, user) -> tuple[Decimal, Decimal]:
    if getattr(session, "headroom_for", None) == user.pk:
        return session.headroom_balance, session.headroom_limit
    return headroom(user=user, community=session.community)


def _join_beyond_limit(session: Session, user, now: datetime) -> RuleViolation | None:
    balance, limit = _headroom_of(session, user)
    return beyond_limit(learner=user, hours=session.planned_hours, balance=balance, limit=limit, you=True)


def _nothing_to_confirm(session: Session, user, now: datetime) -> RuleViolation | None:
    """The helper confirms while a place is booked; a learner while theirs is."""
    if is_helper(session, user):
        if not _booked(session):
            return RuleViolation(_("Every place of this session is settled already."), code="illegal_transition")
        return None
    seat = seat_of(session, user)
    if seat is not None and seat.status != P.BOOKED:
        return RuleViolation(_place_already(seat), code="illegal_transition")
    return None


def _place_already(seat: Seat) -> str:
    return _("This place is %(status)s already.") % {"status": seat.get_status_display().lower()}


_join_beyond_limit.code = "limit"
_nothing_to_confirm.code = "illegal_transition"


NOT_OPEN_FOR_JOINING = gettext_lazy("This session is not open for joining.")


def _record(*, obj: Session, actor, source: str, target: str, note: str) -> None:
    SessionEvent.objects.create(session=obj, actor=actor, from_status=source, to_status=target, note=note)


def record_created(session: Session, actor: User) -> None:
    """The first line of a session's timeline: proposed, or opened booked (a group)."""
    _record(obj=session, actor=actor, source="", target=session.status, note="")


def _still_waiting(session: Session, user, now: datetime) -> bool:
    return any(seat.status in (P.BOOKED, P.DISPUTED) for seat in session.seats.all())


SESSION = Machine(
    model=Session,
    noun="session",
    record=_record,
    actions=[
        Action(
            "accept",
            gettext_lazy("Agree to the session"),
            source=(S.PROPOSED,),
            target=S.SCHEDULED,
            who=(
                only(
                    lambda s, user: is_helper(s, user) or is_learner(s, user),
                    "the helper or the learner",
                    message=gettext_lazy("Only the helper or the learner can agree to this session."),
                ),
                only(
                    lambda s, user: user.pk != s.proposed_by_id,
                    "the other person",
                    message=gettext_lazy("The other person agrees to what you proposed."),
                ),
            ),
            state_message=_is_now,
            when=(
                refuse_if(
                    _started, gettext_lazy("This session's time has passed; propose a new one."), "illegal_transition"
                ),
            ),
        ),
        Action(
            "join",
            gettext_lazy("Join this session"),
            source=(S.SCHEDULED,),
            who=(
                only(
                    lambda s, user: s.is_group,
                    "a group session",
                    code="not_group",
                    message=gettext_lazy("This is a one-to-one session."),
                ),
                only(
                    lambda s, user: not is_helper(s, user),
                    "a learner",
                    code="same_person",
                    message=gettext_lazy("You are the helper of this session."),
                ),
            ),
            state_message=NOT_OPEN_FOR_JOINING,
            when=(
                refuse_if(
                    lambda s, user, now: _started(s, user, now) or s.is_hidden,
                    NOT_OPEN_FOR_JOINING,
                    "illegal_transition",
                ),
                refuse_if(
                    lambda s, user, now: any(seat.learner_id == user.pk for seat in _booked(s)),
                    gettext_lazy("You already have a place."),
                    "already_joined",
                ),
                refuse_if(
                    lambda s, user, now: len(_booked(s)) >= s.capacity, gettext_lazy("This session is full."), "full"
                ),
                _join_beyond_limit,
            ),
        ),
        Action(
            "cancel",
            gettext_lazy("Cancel the session"),
            source=(S.PROPOSED, S.SCHEDULED),
            target=S.CANCELLED,
            who=(
                only(
                    lambda s, user: is_helper(s, user) or _one_to_one_learner(s, user),
                    "the helper or the learner",
                    message=gettext_lazy("Only the helper or the learner can cancel this session."),
                ),
            ),
            state_message=_is_now,
            when=(refuse_if(_started, gettext_lazy("A session can be cancelled only before it starts."), "started"),),
            takes_note=True,
            style="secondary outline",
        ),
        Action(
            "confirm",
            gettext_lazy("Confirm the hours"),
            source=(S.SCHEDULED,),
            who=(
                only(
                    lambda s, user: is_helper(s, user) or is_learner(s, user),
                    "the helper or a learner",
                    message=gettext_lazy("Only the helper or a learner of this session can confirm it."),
                ),
            ),
            state_message=_is_now,
            when=(
                refuse_if(
                    lambda s, user, now: not _started(s, user, now),
                    gettext_lazy("Confirm the hours after the session has taken place."),
                    "not_started",
                ),
                _nothing_to_confirm,
            ),
        ),
        # The platform's step: once no place waits for its hours (none booked, none
        # disputed), the session is completed.
        Action(
            "complete",
            gettext_lazy("Complete"),
            source=(S.SCHEDULED,),
            target=S.COMPLETED,
            when=(refuse_if(_still_waiting, gettext_lazy("A place still waits for its hours."), "not_done"),),
            system=True,
        ),
    ],
)

# The session page's buttons, in the order it shows them (a learner's "leave" is a place's).
SESSION_STEPS = ("accept", "join", "cancel")


# --- a place at a session ------------------------------------------------------------------
def _seat_session_not(status: str):
    def wrong(seat: Seat, user, now: datetime) -> RuleViolation | None:
        if seat.session.status != status:
            return RuleViolation(_is_now(seat.session), code="illegal_transition")
        return None

    wrong.code = "illegal_transition"
    return wrong


def _seat_started(seat: Seat, user, now: datetime) -> bool:
    return seat.session.starts_at <= now


def _organizer(seat: Seat, user, now: datetime) -> RuleViolation | None:
    """Settling is for an organizer of the session's community (or a site superuser).
    Asked after the state, so a list of places asks it only of the disputed ones."""
    try:
        require_organizer(user=user, community_id=seat.session.community_id, doing="settle disputes")
    except RuleViolation as refusal:
        return refusal
    return None


_organizer.code = "not_organizer"


SEAT_PARTY_WORDS = "the helper or the learner"
ONLY_PARTIES_DISPUTE = gettext_lazy("Only the helper or the learner can dispute this session.")

SEAT = Machine(
    model=Seat,
    noun="place",
    actions=[
        Action(
            "confirm",
            gettext_lazy("Confirm the hours"),
            source=(P.BOOKED,),
            who=(
                only(
                    is_seat_party,
                    SEAT_PARTY_WORDS,
                    message=gettext_lazy("Only the helper or a learner of this session can confirm it."),
                ),
            ),
            state_message=_place_already,
            when=(
                _seat_session_not(S.SCHEDULED),
                refuse_if(
                    lambda seat, user, now: not _seat_started(seat, user, now),
                    gettext_lazy("Confirm the hours after the session has taken place."),
                    "not_started",
                ),
            ),
        ),
        Action(
            "leave",
            gettext_lazy("Give up my place"),
            source=(P.BOOKED,),
            target=P.LEFT,
            who=(
                only(
                    lambda seat, user: user.pk == seat.learner_id,
                    "the learner",
                    message=gettext_lazy("Only the learner can give up their place."),
                ),
            ),
            state_message=gettext_lazy("This place can't be given up now."),
            when=(
                refuse_if(
                    lambda seat, user, now: not seat.session.is_group,
                    gettext_lazy("A one-to-one session is cancelled, not left."),
                    "not_group",
                ),
                refuse_if(_seat_started, gettext_lazy("This place can't be given up now."), "illegal_transition"),
            ),
            style="secondary outline",
        ),
        Action(
            "dispute",
            gettext_lazy("Ask the organizers to settle it"),
            source=(P.BOOKED, P.COMPLETED),
            target=P.DISPUTED,
            who=(only(is_seat_party, SEAT_PARTY_WORDS, message=ONLY_PARTIES_DISPUTE),),
            state_message=gettext_lazy("This session can't be disputed now."),
            when=(
                # Only a session that was on: agreed to (booked or completed), not called off.
                refuse_if(
                    lambda seat, user, now: seat.session.status not in (S.SCHEDULED, S.COMPLETED),
                    gettext_lazy("This session can't be disputed now."),
                    "illegal_transition",
                ),
                # Settled disputes are final: the organizers' decision stands.
                refuse_if(
                    lambda seat, user, now: seat.settled_at is not None,
                    gettext_lazy("The organizers have settled this session; their decision stands."),
                    "settled",
                ),
                refuse_if(
                    lambda seat, user, now: seat.completed_at is not None and seat.completed_at < now - DISPUTE_WINDOW,
                    lambda seat, user, now: (
                        _("Sessions can be disputed up to %(days)s days after the hours moved.")
                        % {"days": DISPUTE_WINDOW.days}
                    ),
                    "too_late",
                ),
                refuse_if(
                    lambda seat, user, now: not _seat_started(seat, user, now),
                    gettext_lazy("Cancel a session that hasn't happened instead of disputing it."),
                    "not_started",
                ),
            ),
            style="secondary",
        ),
        Action(
            "settle",
            gettext_lazy("Settle the dispute"),
            source=(P.DISPUTED,),
            target=P.COMPLETED,
            when=(_organizer,),
        ),
        # The platform's steps once both figures of a place are in: they agree (the hours
        # move) or they differ by more than the tolerance (the organizers settle it).
        Action("complete", gettext_lazy("Move the hours"), source=(P.BOOKED,), target=P.COMPLETED, system=True),
        Action("hours_differ", gettext_lazy("Hours differ"), source=(P.BOOKED,), target=P.DISPUTED, system=True),
    ],
)


# --- offers and requests -------------------------------------------------------------------
def _owns(listing, user) -> bool:
    return user.pk == listing.member_id


def _expired(listing, user, now: datetime) -> bool:
    return listing.expires_at <= now


def _open_until(offer: Offer, user, now: datetime) -> str:
    until = dateformat.format(timezone.localtime(offer.expires_at), "j F Y")  # as the offer's page writes it
    return _("It is open until %(until)s; renew it in its last %(days)s days.") % {
        "until": until,
        "days": RENEW_WITHIN.days,
    }


PAST_DATES = gettext_lazy("Those dates have passed; choose new ones to reopen it.")

OFFER = Machine(
    model=Offer,
    noun="offer",
    actions=[
        Action(
            "close",
            gettext_lazy("Close"),
            source=(Offer.Status.OPEN,),
            target=Offer.Status.CLOSED,
            who=(
                only(
                    _owns,
                    "the member who offered it",
                    message=gettext_lazy("Only the member who offered it can change it."),
                ),
            ),
            style="secondary outline",
        ),
        Action(
            "reopen",
            gettext_lazy("Reopen"),
            source=(Offer.Status.CLOSED,),
            target=Offer.Status.OPEN,
            who=(
                only(
                    _owns,
                    "the member who offered it",
                    message=gettext_lazy("Only the member who offered it can change it."),
                ),
            ),
            # An expired offer is renewed instead (reopening one through an edit renews it).
            when=(refuse_if(_expired, gettext_lazy("It has expired; renew it to open it again."), "expired"),),
            style="secondary outline",
        ),
        Action(
            "renew",
            gettext_lazy("Renew for 6 months"),
            source=(Offer.Status.OPEN, Offer.Status.CLOSED),
            target=Offer.Status.OPEN,
            who=(
                only(
                    _owns,
                    "the member who offered it",
                    message=gettext_lazy("Only the member who offered it can renew it."),
                ),
            ),
            when=(refuse_if(lambda o, user, now: o.expires_at > now + RENEW_WITHIN, _open_until, "too_early"),),
            style="secondary",
        ),
    ],
)

REQUEST = Machine(
    model=Request,
    noun="request",
    actions=[
        Action(
            "close",
            gettext_lazy("Close"),
            source=(Request.Status.OPEN,),
            target=Request.Status.CLOSED,
            who=(
                only(_owns, "the member who asked", message=gettext_lazy("Only the member who asked can change it.")),
            ),
            style="secondary outline",
        ),
        Action(
            "reopen",
            gettext_lazy("Reopen"),
            source=(Request.Status.CLOSED,),
            target=Request.Status.OPEN,
            who=(
                only(_owns, "the member who asked", message=gettext_lazy("Only the member who asked can change it.")),
            ),
            when=(refuse_if(_expired, PAST_DATES, "expired"),),
            style="secondary outline",
        ),
    ],
)

LISTING_MACHINES = {Offer: OFFER, Request: REQUEST}
