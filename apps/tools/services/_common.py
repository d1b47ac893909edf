"""What the tool services share: state shorthands and the plain "only X can" refusal."""

from __future__ import annotations

from django.utils.translation import gettext as _

from p2pcommons.errors import RuleViolation

from ..models import Reservation, WaitlistEntry

S = Reservation.Status
W = WaitlistEntry.Status


def _require(actor, allowed: bool, what: str) -> None:
    """``what`` names who may (only "the tool's owner" is used in this app)."""
    if not allowed:
        if what == "the tool's owner":
            raise RuleViolation(_("Only the tool's owner can do that."), code="forbidden")
        raise RuleViolation(_("Only %(who)s can do that.") % {"who": what}, code="forbidden")
