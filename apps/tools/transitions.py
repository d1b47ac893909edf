"""A loan's life, declared once (see ``p2pcommons.transitions``).

Who may do what with a reservation, in which state and when: the services check it
(``LOAN.check`` / ``LOAN.apply``), the loan pages show these buttons and no others
(``LOAN.allowed``), and the API lists them in each reservation's ``actions`` and serves
``POST /api/v1/reservations/{id}/<action>/`` for each. Side effects (the fee through
the ledger, notifications, the waitlist) stay in ``apps.tools.services``.

    requested --approve--> approved --pickup--> picked_up --return--> returned
        |  \\--decline--> declined    |
        \\------cancel------> cancelled <--/     (and expire: requested/approved -> expired)

Condition reports are actions too (``report_pickup``, ``report_return``,
``report_damage``): they change no state, but the same declaration says who may record
one and when, for the page's form and the API's ``actions`` alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount, format_when
from p2pcommons.transitions import Action, Machine, only, refuse_if

from .models import ConditionReport, Reservation, ReservationEvent, Tool, WaitlistEntry

S = Reservation.Status
Stage = ConditionReport.Stage

# The pickup window of an approved loan: from PICKUP_EARLY before its start until
# PICKUP_GRACE after it; a loan not picked up by then expires (``reservations_expire``).
PICKUP_EARLY = timedelta(hours=2)
PICKUP_GRACE = timedelta(hours=12)


def pickup_opens_at(reservation: Reservation) -> datetime:
    return reservation.starts_at - PICKUP_EARLY


def pickup_closes_at(reservation: Reservation) -> datetime:
    return reservation.starts_at + PICKUP_GRACE


def return_opens_at(reservation: Reservation) -> datetime:
    """A return is recorded no earlier than the pickup (a loan without a recorded pickup
    time: no earlier than its pickup window opened)."""
    return reservation.picked_up_at or pickup_opens_at(reservation)


# --- who -------------------------------------------------------------------------------
def is_owner(reservation: Reservation, user) -> bool:
    return user.pk == reservation.tool.owner_id


def is_borrower(reservation: Reservation, user) -> bool:
    return user.pk == reservation.borrower_id


def is_party(reservation: Reservation, user) -> bool:
    return is_owner(reservation, user) or is_borrower(reservation, user)


OWNER = only(is_owner, "the tool's owner", message=gettext_lazy("Only the tool's owner can do that."))
PARTY = only(is_party, "the owner or the borrower", message=gettext_lazy("Only the owner or the borrower can do that."))


def _fee_payer(reservation: Reservation, user, now) -> RuleViolation | None:
    """Recording the pickup of a loan with a fee pays that fee: the borrower's act."""
    if reservation.has_fee and not is_borrower(reservation, user):
        return RuleViolation(
            _("Only the borrower can record the pickup of a loan with a fee: recording it pays the %(fee)s.")
            % {"fee": format_amount(reservation.fee_total, "CREDIT")},
            code="forbidden",
        )
    return None


_fee_payer.code = "forbidden"


# --- when ------------------------------------------------------------------------------
APPROVE_IN_TIME = refuse_if(
    lambda r, user, now: now > pickup_closes_at(r),
    lambda r, user, now: (
        _("This request can no longer be approved: its pickup window closed %(when)s.")
        % {"when": format_when(pickup_closes_at(r))}
    ),
    "too_late",
)
PICKUP_NOT_BEFORE = refuse_if(
    lambda r, user, now: now < pickup_opens_at(r),
    lambda r, user, now: (
        _("The pickup can be recorded from %(when)s, %(hours)s hours before the loan starts.")
        % {"when": format_when(pickup_opens_at(r)), "hours": PICKUP_EARLY.seconds // 3600}
    ),
    "too_early",
)
PICKUP_NOT_AFTER = refuse_if(
    lambda r, user, now: now > pickup_closes_at(r),
    lambda r, user, now: (
        _("The pickup time ended %(when)s; the loan expires.") % {"when": format_when(pickup_closes_at(r))}
    ),
    "too_late",
)
RETURN_NOT_BEFORE = refuse_if(
    lambda r, user, now: now < return_opens_at(r),
    lambda r, user, now: _("The return can be recorded from %(when)s.") % {"when": format_when(return_opens_at(r))},
    "too_early",
)
# An owner's "no" to a request is a decline (the borrower reads "declined"); cancelling
# is for an approved loan, or for the borrower taking their own request back.
OWNER_DECLINES_REQUESTS = refuse_if(
    lambda r, user, now: r.status == S.REQUESTED and not is_borrower(r, user),
    gettext_lazy("Decline the request instead: a request is declined, an approved loan is cancelled."),
    "illegal_transition",
)


def _reported(stage: str):
    """Refused once ``user`` has recorded the condition at ``stage`` (reads the
    reservation's prefetched ``condition_reports`` when a list prefetched them)."""

    def reported(r: Reservation, user, now) -> bool:
        return any(report.stage == stage and report.author_id == user.pk for report in r.condition_reports.all())

    return refuse_if(reported, gettext_lazy("You already recorded the condition at this stage."), "already_reported")


def _report_state(stage: str):
    def message(r: Reservation) -> str:
        return _("A condition report %(stage)s can't be made while the loan is %(status)s.") % {
            "stage": str(Stage(stage).label).lower(),
            "status": str(S(r.status).label).lower(),
        }

    return message


def _record(*, obj: Reservation, actor, source: str, target: str, note: str) -> None:
    ReservationEvent.objects.create(reservation=obj, actor=actor, from_status=source, to_status=target, note=note)


def _told(r: Reservation, user) -> str:
    return (r.borrower if is_owner(r, user) else r.tool.owner).public_name


LOAN = Machine(
    model=Reservation,
    noun=gettext_lazy("reservation"),
    record=_record,
    actions=[
        Action(
            "approve",
            gettext_lazy("Approve"),
            source=(S.REQUESTED,),
            target=S.APPROVED,
            who=(OWNER,),
            when=(APPROVE_IN_TIME,),
            help=lambda r, user: _("Approve: lend it for these dates. %(name)s is told.") % {"name": _told(r, user)},
        ),
        Action(
            "decline",
            gettext_lazy("Decline"),
            source=(S.REQUESTED,),
            target=S.DECLINED,
            who=(OWNER,),
            takes_note=True,
            style="secondary",
            help=lambda r, user: _("Decline: say no to this request. %(name)s is told.") % {"name": _told(r, user)},
        ),
        Action(
            "pickup",
            gettext_lazy("Mark picked up"),
            source=(S.APPROVED,),
            target=S.PICKED_UP,
            who=(PARTY, _fee_payer),
            when=(PICKUP_NOT_BEFORE, PICKUP_NOT_AFTER),
            label_for=lambda r, user: (
                _("Confirm pickup and pay %(fee)s") % {"fee": format_amount(r.fee_total, "CREDIT")}
                if r.has_fee
                else _("Mark picked up")
            ),
        ),
        Action(
            "return",
            gettext_lazy("Mark returned"),
            source=(S.PICKED_UP,),
            target=S.RETURNED,
            who=(OWNER,),
            when=(RETURN_NOT_BEFORE,),
        ),
        Action(
            "cancel",
            gettext_lazy("Cancel"),
            source=(S.REQUESTED, S.APPROVED),
            target=S.CANCELLED,
            who=(PARTY,),
            when=(OWNER_DECLINES_REQUESTS,),
            takes_note=True,
            style="secondary outline",
            label_for=lambda r, user: _("Cancel request") if r.status == S.REQUESTED else _("Cancel loan"),
            help=lambda r, user: (
                _("Cancel request: take your request back. %(name)s is told.") % {"name": _told(r, user)}
                if r.status == S.REQUESTED
                else _("Cancel loan: call off the approved loan. %(name)s is told.") % {"name": _told(r, user)}
            ),
        ),
        Action(
            "report_pickup",
            gettext_lazy("Record the condition at pickup"),
            source=(S.APPROVED, S.PICKED_UP),
            who=(PARTY,),
            when=(_reported(Stage.PICKUP),),
            state_message=_report_state(Stage.PICKUP),
        ),
        Action(
            "report_return",
            gettext_lazy("Record the condition at return"),
            source=(S.PICKED_UP, S.RETURNED),
            who=(PARTY,),
            when=(_reported(Stage.RETURN),),
            state_message=_report_state(Stage.RETURN),
        ),
        Action(
            "report_damage",
            gettext_lazy("Report damage at return"),
            source=(S.PICKED_UP, S.RETURNED),
            who=(only(is_owner, "the owner", message=gettext_lazy("Only the owner reports damage, at return.")),),
            when=(_reported(Stage.RETURN),),
            state_message=_report_state(Stage.RETURN),
        ),
        # The platform's own steps: a request the owner's rules approve at once, and a
        # loan whose pickup time ended.
        Action(
            "auto_approve", gettext_lazy("Approve automatically"), source=(S.REQUESTED,), target=S.APPROVED, system=True
        ),
        Action(
            "expire",
            gettext_lazy("Expire"),
            source=(S.REQUESTED, S.APPROVED),
            target=S.EXPIRED,
            when=(
                refuse_if(
                    lambda r, user, now: now <= pickup_closes_at(r),
                    gettext_lazy("Its pickup time has not ended."),
                    "too_early",
                ),
            ),
            system=True,
        ),
    ],
)

# Actions served as ``POST /api/v1/reservations/{id}/<name>/`` and as the loan page's
# buttons; the condition report actions are recorded through their own form and endpoint.
STEPS = ("approve", "decline", "pickup", "return", "cancel")
REPORT_ACTIONS = {Stage.PICKUP: "report_pickup", Stage.RETURN: "report_return"}


# --- a place on a tool's waitlist ------------------------------------------------------
W = WaitlistEntry.Status


def is_waiting_member(entry: WaitlistEntry, user) -> bool:
    return user.pk == entry.member_id


WAITLIST = Machine(
    model=WaitlistEntry,
    noun=gettext_lazy("waitlist entry"),
    actions=[
        Action(
            "accept",
            gettext_lazy("Book it"),
            source=(W.OFFERED,),
            who=(
                only(
                    is_waiting_member,
                    "the member it was offered to",
                    message=gettext_lazy("Only the member it was offered to can do that."),
                ),
            ),
            when=(
                refuse_if(
                    lambda entry, user, now: entry.offer_expires_at is None or entry.offer_expires_at <= now,
                    gettext_lazy("This offer is no longer open."),
                    "offer_closed",
                ),
            ),
            state_message=gettext_lazy("This offer is no longer open."),
        ),
        Action(
            "withdraw",
            gettext_lazy("Leave the waitlist"),
            source=(W.WAITING, W.OFFERED),
            target=W.WITHDRAWN,
            who=(
                only(
                    is_waiting_member,
                    "the member who is waiting",
                    message=gettext_lazy("Only the member who is waiting can do that."),
                ),
            ),
            style="secondary outline",
            state_message=gettext_lazy("You are no longer waiting for this."),
        ),
    ],
)


# --- a tool's listing, as its owner manages it -----------------------------------------
T = Tool.Status


def is_tool_owner(tool: Tool, user) -> bool:
    return user.pk == tool.owner_id


TOOL_OWNER = only(is_tool_owner, "the tool's owner", message=gettext_lazy("Only the tool's owner can do that."))

LISTING = Machine(
    model=Tool,
    noun=gettext_lazy("tool"),
    actions=[
        Action(
            "pause",
            gettext_lazy("Pause"),
            source=(T.ACTIVE,),
            target=T.PAUSED,
            who=(TOOL_OWNER,),
            style="secondary outline",
        ),
        Action(
            "resume",
            gettext_lazy("Resume"),
            source=(T.PAUSED, T.RETIRED),
            target=T.ACTIVE,
            who=(TOOL_OWNER,),
            style="secondary outline",
            label_for=lambda tool, user: _("List again") if tool.status == T.RETIRED else _("Resume"),
        ),
        Action("retire", gettext_lazy("Retire"), source=(T.ACTIVE, T.PAUSED), target=T.RETIRED, who=(TOOL_OWNER,)),
    ],
)
