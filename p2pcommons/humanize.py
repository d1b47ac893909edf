"""How amounts and moments are written for people: one place, used by pages, notifications,
emails and the admin.

Amounts (``format_amount``)
    The unit is always written out, never the currency code: ``HOUR`` is "hour(s)",
    ``CREDIT`` is "credit(s)". Whole amounts are written without decimals ("1 hour",
    "3 credits", "-2 hours"); any other amount with two decimals ("1.50 hours",
    "0.25 hours", "-3.75 credits"). The unit is singular only for exactly 1 or -1.
    ``signed=True`` adds a "+" before positive amounts (history: what came in).
    A minus sign is the ASCII "-", so the text copies and searches plainly.

How long ago (``format_ago``)
    "just now" under a minute, then Django's "5 minutes ago", "2 hours, 3 minutes ago"
    (at most two parts), and after a week the moment itself in the short form.

Places written by one person and read by another (``place_for``)
    "At my place" typed by Max reads "At Max's place" to the other person and "At your
    place" to Max.

Moments (``format_when``)
    Always in the site's local time (settings.TIME_ZONE), as the loan and session pages
    show it: "Tuesday 24 November 2026, 10:00". ``format_when_short`` is the compact form
    for lists and one-line texts: "Tue 24 Nov, 10:00".
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import dateformat, timezone
from django.utils.timesince import timesince

UNITS: dict[str, tuple[str, str]] = {
    "HOUR": ("hour", "hours"),
    "CREDIT": ("credit", "credits"),
}

CENT = Decimal("0.01")

# Django date formats, so templates can write the same with ``|date:`` and names follow
# the active language.
WHEN_FORMAT = "l j F Y, H:i"
WHEN_SHORT_FORMAT = "D j M, H:i"


def format_number(amount: Decimal | int | float | str) -> str:
    """The number part of an amount: no decimals when whole, else two."""
    try:
        value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(amount)
    if value == value.to_integral_value():
        return f"{value:.0f}" if value else "0"
    return f"{value:.2f}"


def format_amount(amount: Decimal | int | float | str, currency: str, *, signed: bool = False) -> str:
    """``format_amount(Decimal("1.5"), "HOUR")`` -> "1.50 hours"; see the module docstring."""
    number = format_number(amount)
    singular, plural = UNITS.get(str(currency), (str(currency).lower(), str(currency).lower()))
    unit = singular if number in ("1", "-1") else plural
    if signed and not number.startswith("-") and number != "0":
        number = f"+{number}"
    return f"{number} {unit}"


def format_when(moment: datetime) -> str:
    """A moment in local time, in full: "Tuesday 24 November 2026, 10:00"."""
    return dateformat.format(timezone.localtime(moment), WHEN_FORMAT)


def format_when_short(moment: datetime) -> str:
    """A moment in local time, compact: "Tue 24 Nov, 10:00"."""
    return dateformat.format(timezone.localtime(moment), WHEN_SHORT_FORMAT)


def format_ago(moment: datetime, *, now: datetime | None = None) -> str:
    """How long ago ``moment`` was, for lists of recent things; see the module docstring."""
    now = now or timezone.now()
    elapsed = now - moment
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed >= timedelta(days=7):
        return format_when_short(moment)
    return f"{timesince(moment, now, depth=2)} ago"


_MY = re.compile(r"\b(my|mine)\b", re.IGNORECASE)


def place_for(place: str, *, author_name: str, viewer_is_author: bool) -> str:
    """Free text written by ``author_name`` ("At my place", "my garage"), with its "my"
    and "mine" turned to whose it is for the reader ("your"/"yours" or "Max's")."""

    def whose(match: re.Match) -> str:
        word = match.group(0)
        mine = "yours" if word.lower() == "mine" else "your"
        shown = mine if viewer_is_author else f"{author_name}'s"
        return shown[0].upper() + shown[1:] if word[0].isupper() else shown

    return _MY.sub(whose, place)
