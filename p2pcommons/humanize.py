"""How amounts and moments are written for people: one place, used by pages, notifications,
emails and the admin.

Amounts (``format_amount``)
    The unit is always written out, never the currency code: ``HOUR`` is "hour(s)",
    ``CREDIT`` is "credit(s)". Whole amounts are written without decimals ("1 hour",
    "3 credits", "-2 hours"); any other amount with two decimals ("1.50 hours",
    "0.25 hours", "-3.75 credits"). The unit is singular only for exactly 1 or -1.
    ``signed=True`` adds a "+" before positive amounts (history: what came in).
    A minus sign is the ASCII "-", so the text copies and searches plainly.
    In the active language: the unit through ``ngettext`` ("1 uur", "2 uur", "3 credits")
    and the number with its decimal separator ("1,50 uur"), never grouped in thousands.

How long ago (``format_ago``)
    "just now" under a minute, then Django's "5 minutes ago", "2 hours, 3 minutes ago"
    (at most two parts), and after a week the moment itself in the short form. Translated
    ("zojuist", "5 minuten geleden").

Places written by one person and read by another (``place_for``)
    "At my place" typed by Max reads "At Max's place" to the other person and "At your
    place" to Max. English only: the place is the member's own words, in whatever language
    they wrote it, so only the English "my"/"mine" are turned; other text is left as typed.

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
from django.utils.formats import number_format
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext, pgettext_lazy

# The units written out (English); ``_with_unit`` says them in the active language.
UNITS: dict[str, tuple[str, str]] = {
    "HOUR": ("hour", "hours"),
    "CREDIT": ("credit", "credits"),
}

CENT = Decimal("0.01")

# Django date formats, so templates can write the same with ``|date:`` and names follow
# the active language. Each language may write its own (Dutch: "di 24 nov, 10:00", the
# month in lower case), so they are looked up in the catalog.
WHEN_FORMAT = pgettext_lazy("date format", "l j F Y, H:i")
WHEN_SHORT_FORMAT = pgettext_lazy("date format", "D j M, H:i")


def _rounded(amount: Decimal | int | float | str) -> Decimal | None:
    try:
        return Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return None


def format_number(amount: Decimal | int | float | str) -> str:
    """The number part of an amount: no decimals when whole, else two, with the active
    language's decimal separator ("1.50", "1,50") and no thousands grouping."""
    value = _rounded(amount)
    if value is None:
        return str(amount)
    if value == value.to_integral_value():
        return f"{value:.0f}" if value else "0"
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=False)


def format_amount(amount: Decimal | int | float | str, currency: str, *, signed: bool = False) -> str:
    """``format_amount(Decimal("1.5"), "HOUR")`` -> "1.50 hours"; see the module docstring."""
    number = format_number(amount)
    value = _rounded(amount)
    count = 1 if value is not None and abs(value) == 1 else 2
    if signed and not number.startswith("-") and number != "0":
        number = f"+{number}"
    return _with_unit(str(currency), number, count)


def _with_unit(currency: str, number: str, count: int) -> str:
    """ "<number> <unit>", the unit singular when ``count`` is 1 ("1 hour", "1 uur")."""
    if currency == "HOUR":
        return ngettext("%(number)s hour", "%(number)s hours", count) % {"number": number}
    if currency == "CREDIT":
        return ngettext("%(number)s credit", "%(number)s credits", count) % {"number": number}
    return f"{number} {currency.lower()}"


def format_when(moment: datetime) -> str:
    """A moment in local time, in full: "Tuesday 24 November 2026, 10:00"."""
    return dateformat.format(timezone.localtime(moment), str(WHEN_FORMAT))


def format_when_short(moment: datetime) -> str:
    """A moment in local time, compact: "Tue 24 Nov, 10:00"."""
    return dateformat.format(timezone.localtime(moment), str(WHEN_SHORT_FORMAT))


def format_ago(moment: datetime, *, now: datetime | None = None) -> str:
    """How long ago ``moment`` was, for lists of recent things; see the module docstring."""
    now = now or timezone.now()
    elapsed = now - moment
    if elapsed < timedelta(minutes=1):
        return gettext("just now")
    if elapsed >= timedelta(days=7):
        return format_when_short(moment)
    return gettext("%(time)s ago") % {"time": timesince(moment, now, depth=2)}


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
