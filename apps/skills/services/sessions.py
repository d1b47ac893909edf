"""Sessions and their places (seats): proposing and agreeing, group sessions, joining,
leaving and cancelling, confirming the hours (which move them learner -> helper in
``HOUR`` through the ledger, once), disputes and the organizers' settlement.

Who may take each step, and when, is declared in ``apps.skills.transitions`` (``SESSION``
and ``SEAT``): these services lock the rows, ask the declaration (``check`` / ``apply``,
which also writes the session's timeline) and do the rest: places, hours, notifications.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify
from apps.peers.guards import require_active_member, require_exchange_in_use
from apps.peers.models import Community, User
from apps.peers.selectors import organizers_of
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_when
from p2pcommons.i18n import Amount, Message

from ..models import MAX_HOURS, MIN_HOURS, Offer, Request, Seat, Session
from ..transitions import ONLY_PARTIES_DISPUTE, SEAT, SESSION, beyond_limit, headroom, record_created, seat_of

# Confirmation: two figures within this many hours agree, and the lower counts.
HOURS_TOLERANCE = Decimal("0.50")


def _hour_account(user: User, community: Community):
    from apps.ledger.services import account_for

    return account_for(user=user, community=community, currency="HOUR")


def _refuse_beyond_limit(*, learner: User, community: Community, hours: Decimal, you: bool) -> None:
    balance, limit = headroom(user=learner, community=community)
    refusal = beyond_limit(learner=learner, hours=hours, balance=balance, limit=limit, you=you)
    if refusal is not None:
        raise refusal


def _clean_session(*, starts_at: datetime, planned_hours: Decimal, place: str, remote: bool) -> None:
    errors = {}
    if timezone.is_naive(starts_at):
        errors["starts_at"] = _("Give the time with its timezone.")
    elif starts_at <= timezone.now():
        errors["starts_at"] = _("Choose a time in the future.")
    elif starts_at > timezone.now() + timedelta(days=365):
        errors["starts_at"] = _("Plan sessions at most a year ahead.")
    if not (MIN_HOURS <= planned_hours <= MAX_HOURS):
        errors["planned_hours"] = _("Between %(low)s and %(high)s hours.") % {"low": MIN_HOURS, "high": MAX_HOURS}
    if not remote and not place.strip():
        errors["place"] = _("Say where you meet, or mark it remote.")
    if len(place) > 200:
        errors["place"] = _("At most 200 characters.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_propose(
    *,
    proposer: User,
    helper: User,
    learner: User,
    community: Community,
    title: str,
    starts_at: datetime,
    planned_hours: Decimal,
    place: str = "",
    remote: bool = False,
    request: Request | None = None,
    offer: Offer | None = None,
) -> Session:
    """One of the two (requester or helper) proposes a session; the other agrees
    (``session_accept``). Refused up front if the planned hours would take the learner
    below their time limit."""
    _clean_session(starts_at=starts_at, planned_hours=planned_hours, place=place, remote=remote)
    if proposer.pk not in (helper.pk, learner.pk):
        raise RuleViolation(_("Only the helper or the learner can propose their session."), code="forbidden")
    if helper.pk == learner.pk:
        raise RuleViolation(_("A session is between two different neighbors."), code="same_person")
    for person, doing in ((helper, "give sessions"), (learner, "book sessions")):
        require_active_member(user=person, community=community, doing=doing)
    require_exchange_in_use(community_id=community.pk, key="skills", doing="arrange sessions")
    if request is not None and (request.member_id != learner.pk or request.community_id != community.pk):
        raise ValidationError({"request": _("That request is not the learner's in this community.")})
    if offer is not None and (offer.member_id != helper.pk or offer.community_id != community.pk):
        raise ValidationError({"offer": _("That offer is not the helper's in this community.")})
    if request is not None and request.is_hidden:
        raise ValidationError({"request": _("That request was hidden by the organizers.")})
    if offer is not None and offer.is_hidden:
        raise ValidationError({"offer": _("That offer was hidden by the organizers.")})
    _refuse_beyond_limit(learner=learner, community=community, hours=planned_hours, you=proposer.pk == learner.pk)
    session = Session.objects.create(
        helper=helper,
        community=community,
        request=request,
        offer=offer,
        title=title[:120] or (request.title if request else "Skill session"),
        starts_at=starts_at,
        planned_hours=planned_hours,
        place=place.strip(),
        remote=remote,
        capacity=1,
        proposed_by=proposer,
    )
    Seat.objects.create(session=session, learner=learner)
    record_created(session, proposer)
    other = learner if proposer.pk == helper.pk else helper
    notify(
        recipients=[other],
        kind="skills.session",
        actor=proposer,
        target=session,
        text=Message(
            "{name} proposes a session \u201c{title}\u201d on {when}",
            name=proposer.public_name,
            title=session.title,
            when=format_when(starts_at),
        ),
    )
    return session


@transaction.atomic
def session_accept(*, session: Session, actor: User) -> Session:
    """The other party agrees to a proposed session (``SESSION`` "accept"); the proposer
    is told. Holds SELECT FOR UPDATE on the session row."""
    session = SESSION.apply("accept", Session.objects.select_for_update().get(pk=session.pk), actor)
    notify(
        recipients=[session.proposed_by],
        kind="skills.session",
        actor=actor,
        target=session,
        text=Message(
            "{name} agreed to \u201c{title}\u201d on {when}",
            name=actor.public_name,
            title=session.title,
            when=format_when(session.starts_at),
        ),
    )
    return session


@transaction.atomic
def group_session_create(
    *,
    helper: User,
    community: Community,
    title: str,
    starts_at: datetime,
    planned_hours: Decimal,
    capacity: int,
    place: str = "",
    remote: bool = False,
    offer: Offer | None = None,
) -> Session:
    """A helper opens a group session (a repair café): learners join up to ``capacity``."""
    _clean_session(starts_at=starts_at, planned_hours=planned_hours, place=place, remote=remote)
    if not 2 <= capacity <= 30:
        raise ValidationError({"capacity": _("A group session has 2 to 30 places.")})
    if not title.strip():
        raise ValidationError({"title": _("Give the session a title.")})
    require_active_member(user=helper, community=community, doing="give sessions")
    require_exchange_in_use(community_id=community.pk, key="skills", doing="give sessions")
    if offer is not None and offer.member_id != helper.pk:
        raise ValidationError({"offer": _("That offer is not yours.")})
    session = Session.objects.create(
        helper=helper,
        community=community,
        offer=offer,
        title=title.strip()[:120],
        starts_at=starts_at,
        planned_hours=planned_hours,
        place=place.strip(),
        remote=remote,
        capacity=capacity,
        status=Session.Status.SCHEDULED,
        proposed_by=helper,
    )
    record_created(session, helper)
    return session


@transaction.atomic
def seat_join(*, session: Session, learner: User) -> Seat:
    """Take a place at a group session (``SESSION`` "join": before it starts, not full,
    within the learner's time limit). Locking: SELECT FOR UPDATE on the session row, so
    the last place goes to one learner."""
    session = Session.objects.select_for_update().select_related("community").get(pk=session.pk)
    require_active_member(user=learner, community=session.community, doing="book sessions")
    require_exchange_in_use(community_id=session.community_id, key="skills", doing="book sessions")
    SESSION.check("join", session, learner)
    seat, created = Seat.objects.get_or_create(session=session, learner=learner)
    if not created:  # a learner who left comes back to their old place
        Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.BOOKED)
        seat.refresh_from_db()
    notify(
        recipients=[session.helper],
        kind="skills.session",
        actor=learner,
        target=session,
        text=Message("{name} joined \u201c{title}\u201d", name=learner.public_name, title=session.title),
    )
    return seat


@transaction.atomic
def session_cancel(*, session: Session, actor: User, reason: str = "") -> Session:
    """Call a session off before it starts (``SESSION`` "cancel": the helper, or the
    learner of a one-to-one session; a learner leaves a group session with
    ``seat_leave``). The booked places are given up; the others are told, with the reason."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    learners = list(session.seats.filter(status=Seat.Status.BOOKED).select_related("learner__profile"))
    session = SESSION.apply("cancel", session, actor, note=reason[:300])
    session.seats.filter(status=Seat.Status.BOOKED).update(status=Seat.Status.LEFT)
    others = [s.learner for s in learners if s.learner_id != actor.pk]
    if actor.pk != session.helper_id:
        others.append(session.helper)
    notify(
        recipients=others,
        kind="skills.session",
        actor=actor,
        target=session,
        text=(
            Message(
                "{name} cancelled \u201c{title}\u201d: {reason}",
                name=actor.public_name,
                title=session.title,
                reason=reason[:200],
            )
            if reason
            else Message("{name} cancelled \u201c{title}\u201d", name=actor.public_name, title=session.title)
        ),
    )
    return session


@transaction.atomic
def seat_leave(*, seat: Seat, actor: User) -> Seat:
    """A learner gives up their place at a group session before it starts (``SEAT`` "leave")."""
    seat = Seat.objects.select_for_update(of=("self",)).select_related("session").get(pk=seat.pk)
    return SEAT.apply("leave", seat, actor)


def session_leave(*, session: Session, actor: User) -> Seat:
    """The learner gives up their place at a group session (``SEAT`` "leave")."""
    seat = Seat.objects.filter(session=session, learner=actor).first()
    if seat is None:
        raise RuleViolation(_("You have no place at this session."), code="forbidden")
    return seat_leave(seat=seat, actor=actor)


def session_withdraw(*, session: Session, actor: User, reason: str = "") -> Session:
    """What "cancel" means to each person of a session: the helper, or the learner of a
    one-to-one session, calls it off (``session_cancel``); a learner of a group session
    gives up their place (``session_leave``). Returns the session as it is now."""
    if session.is_group and Seat.objects.filter(session=session, learner=actor).exists():
        session_leave(session=session, actor=actor)
        return Session.objects.get(pk=session.pk)
    return session_cancel(session=session, actor=actor, reason=reason)


def _clean_hours(hours) -> Decimal:
    try:
        hours = Decimal(str(hours)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ValidationError({"hours": _("Give the hours as a number, e.g. 1.5.")}) from None
    if not (Decimal(0) <= hours <= MAX_HOURS):
        raise ValidationError({"hours": _("Between 0 and %(high)s hours.") % {"high": MAX_HOURS}})
    return hours


def _complete_if_done(session: Session) -> None:
    """The platform completes a booked session once no place waits for its hours
    (``SESSION`` "complete"); its places are read fresh, under the session's lock."""
    if SESSION.refusal("complete", session, None) is None:
        SESSION.apply("complete", session, None, checked=True)


def session_confirm(*, session: Session, actor: User, hours, learner: User | None = None) -> list[Seat]:
    """Confirm the hours a session actually took, after it started (``SESSION`` and
    ``SEAT`` "confirm" say who and when).

    A retry with the same figure returns the seats and changes nothing.
    The learner confirms their own seat; the helper confirms every booked seat (or only
    ``learner``'s). When both figures of a seat are in: if they differ by at most
    ``HOURS_TOLERANCE`` the lower counts and moves learner -> helper in HOUR through the
    ledger (idempotency key ``skills-session:<session>:<learner>``), so a retried or
    concurrent confirmation moves it once; a bigger difference makes the seat disputed
    for the organizers. Refused, changing nothing, if the hours would take the learner
    below their limit. Once no place waits, the session is completed.

    Locking: SELECT FOR UPDATE on the session row, then each seat row (then the ledger's own locks).
    """
    hours = _clean_hours(hours)
    with transaction.atomic():
        # The session row first (as every session service does), so concurrent
        # confirmations of a group session see each other's seats when completing it.
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("community", "helper__profile")
            .get(pk=session.pk)
        )
        is_helper = actor.pk == session.helper_id
        seats = Seat.objects.select_for_update(of=("self",)).filter(session=session)
        if is_helper:
            seats = seats.filter(learner=learner) if learner is not None else seats
        else:
            seats = seats.filter(learner=actor)
        seats = list(seats.select_related("learner__profile").order_by("pk"))
        field = "helper_hours" if is_helper else "learner_hours"
        if seats and all(getattr(seat, field) == hours for seat in seats):
            return seats  # a retry of a confirmation already made: nothing more happens
        SESSION.check("confirm", session, actor)
        if is_helper and learner is not None:
            if not seats:
                raise RuleViolation(
                    _("%(name)s has no place at this session.") % {"name": learner.public_name}, code="forbidden"
                )
            seats[0].session = session
            SEAT.check("confirm", seats[0], actor)
        done = []
        for seat in seats:
            if seat.status != Seat.Status.BOOKED:
                continue  # the helper confirming every place skips the settled ones
            seat.session = session
            setattr(seat, field, hours)
            Seat.objects.filter(pk=seat.pk).update(**{field: hours})
            if seat.learner_hours is not None and seat.helper_hours is not None:
                _settle(seat=seat, session=session)
            done.append(seat)
        _complete_if_done(session)
    for seat in done:
        seat.refresh_from_db()
    return done


def _settle(*, seat: Seat, session: Session) -> None:
    from apps.ledger.services import transfer_create

    difference = abs(seat.learner_hours - seat.helper_hours)
    if difference > HOURS_TOLERANCE:
        reason = Message(
            "The hours differ: {learner} (learner) and {helper} (helper).",
            learner=Amount(seat.learner_hours, "HOUR"),
            helper=Amount(seat.helper_hours, "HOUR"),
        )
        SEAT.apply("hours_differ", seat, None, dispute_reason=reason.english()[:500])
        _tell_of_dispute(seat=seat, session=session, reason=reason, actor=None)
        return
    hours = min(seat.learner_hours, seat.helper_hours)
    transfer = None
    if hours > 0:
        _refuse_beyond_limit(learner=seat.learner, community=session.community, hours=hours, you=False)
        transfer = transfer_create(
            source=_hour_account(seat.learner, session.community),
            target=_hour_account(session.helper, session.community),
            amount=hours,
            memo=f"{session.title[:150]} ({hours} h)",
            idempotency_key=f"skills-session:{session.pk}:{seat.learner_id}",
            kind="exchange",
            related=seat,
            created_by=None,
        )
    SEAT.apply("complete", seat, None, hours=hours, transfer=transfer, completed_at=timezone.now())
    if transfer is None or transfer.was_created:
        notify(
            recipients=[seat.learner, session.helper],
            kind="skills.session",
            target=session,
            text=Message(
                "\u201c{title}\u201d: {hours} moved from {learner} to {helper}.",
                title=session.title,
                hours=Amount(hours, "HOUR"),
                learner=seat.learner.public_name,
                helper=session.helper.public_name,
            ),
        )
        from apps.reputation.services import review_invite

        review_invite(exchange=seat)


def _tell_of_dispute(*, seat: Seat, session: Session, reason: str | Message, actor: User | None) -> None:
    """The organizers, and the person of the place who did not dispute it, are told."""
    notify(
        recipients=organizers_of(community_id=session.community_id),
        kind="moderation.flagged",
        actor=actor,
        target=session,
        text=Message(
            "A skill session is disputed: \u201c{title}\u201d ({helper} helping {learner}). {reason}",
            title=session.title,
            helper=session.helper.public_name,
            learner=seat.learner.public_name,
            reason=reason,
        ),
    )
    notify(
        recipients=[p for p in (seat.learner, session.helper) if actor is None or p.pk != actor.pk],
        kind="skills.session",
        actor=actor,
        target=session,
        text=Message(
            "\u201c{title}\u201d is disputed; the organizers will look at it. {reason}",
            title=session.title,
            reason=reason,
        ),
    )


def _locked_seat(seat: Seat) -> Seat:
    """The session row, then the seat row, under SELECT FOR UPDATE (the order confirming takes)."""
    Session.objects.select_for_update().filter(pk=seat.session_id).first()
    return (
        Seat.objects.select_for_update(of=("self",))
        .select_related("session__community", "session__helper__profile", "learner__profile", "transfer")
        .get(pk=seat.pk)
    )


@transaction.atomic
def seat_dispute(*, seat: Seat, actor: User, reason: str) -> Seat:
    """Either person of a seat disputes it (before or after the hours moved; ``SEAT``
    "dispute" says until when); the organizers settle it (``dispute_settle``), once:
    their decision is final."""
    seat = _locked_seat(seat)
    SEAT.check("dispute", seat, actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Say what went wrong.")})
    seat = SEAT.apply("dispute", seat, actor, checked=True, dispute_reason=reason.strip()[:500])
    _tell_of_dispute(seat=seat, session=seat.session, reason=reason.strip(), actor=actor)
    return seat


def session_dispute(*, session: Session, actor: User, reason: str, learner_id: int | None = None) -> Seat:
    """Dispute the hours of one place of ``session`` (``seat_dispute``): a learner's own
    place; the helper's choice of learner (``learner_id``), or the only place there is."""
    if actor.pk == session.helper_id:
        seats = Seat.objects.filter(session=session)
        if learner_id is not None:
            seats = seats.filter(learner_id=learner_id)
        seats = list(seats[:2])
        if len(seats) != 1:
            raise ValidationError({"learner": _("Say which learner's hours you dispute.")})
        seat = seats[0]
    else:
        seat = seat_of(session, actor)
        if seat is None:
            raise RuleViolation(ONLY_PARTIES_DISPUTE, code="forbidden")
    return seat_dispute(seat=seat, actor=actor, reason=reason)


@transaction.atomic
def dispute_settle(*, seat: Seat, actor: User, hours, reason: str) -> Seat:
    """An organizer settles a disputed seat at ``hours`` (``SEAT`` "settle"): hours that
    already moved are reversed (a reversing transfer), then the settled hours move, once."""
    from apps.ledger.services import transfer_create, transfer_reverse

    hours = _clean_hours(hours)
    seat = _locked_seat(seat)
    session = seat.session
    SEAT.check("settle", seat, actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Say how it was settled.")})
    if seat.transfer is not None:
        transfer_reverse(transfer=seat.transfer, actor=actor, reason=f"Dispute settled: {reason.strip()}"[:200])
    transfer = None
    if hours > 0:
        transfer = transfer_create(
            source=_hour_account(seat.learner, session.community),
            target=_hour_account(session.helper, session.community),
            amount=hours,
            memo=f"{session.title[:120]} (settled: {hours} h)",
            idempotency_key=f"skills-session:{session.pk}:{seat.learner_id}:settled",
            kind="exchange",
            related=seat,
            created_by=actor,
        )
    seat = SEAT.apply(
        "settle",
        seat,
        actor,
        checked=True,
        hours=hours,
        transfer=transfer,
        completed_at=seat.completed_at or timezone.now(),
        settled_at=timezone.now(),
        dispute_reason=f"{seat.dispute_reason} Settled by an organizer: {reason.strip()}"[:500],
    )
    _complete_if_done(Session.objects.get(pk=session.pk))
    notify(
        recipients=[seat.learner, session.helper],
        kind="skills.session",
        actor=actor,
        target=session,
        text=Message(
            "The organizers settled \u201c{title}\u201d at {hours}: {reason}",
            title=session.title,
            hours=Amount(hours, "HOUR"),
            reason=reason.strip(),
        ),
    )
    return seat
