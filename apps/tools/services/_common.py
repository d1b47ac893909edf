"""What the tool services share: state shorthands and the plain "only X can" refusal."""

from __future__ import annotations

from p2pcommons.errors import RuleViolation

from ..models import Reservation, WaitlistEntry

S = Reservation.Status
W = WaitlistEntry.Status


def _require(actor, allowed: bool, what: str) -> None:
    if not allowed:
        raise RuleViolation(f"Only {what} can do that.", code="forbidden")
