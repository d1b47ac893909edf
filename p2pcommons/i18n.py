"""Languages and time zones, once: which language and zone a member reads in, and
sentences that are translated when they are read rather than when they are written.

Every page, form, refusal and email is written in English in the code and marked for
translation (``gettext``/``gettext_lazy`` in Python, ``{% translate %}`` and
``{% blocktranslate %}`` in templates); ``manage.py messages`` extracts the marked
strings into each catalog and checks that every one is translated (see
``p2pcommons/catalogs.py``).

A notification is saved once and read later, maybe after its reader switched language,
maybe by email: its sentence is stored as a ``Message`` (the English sentence marked
with ``Message(...)`` plus its values) and put together in the reader's language when
shown::

    notify(recipients=[owner], kind="tools.requested", target=reservation,
           text=Message("{name} asked to borrow {tool}", name=borrower_name, tool=tool.title))

Values that read differently per language or zone are wrapped: ``When(moment)`` (a
moment, shown short in the reader's zone and language), ``Amount(value, currency)``
("2 hours" / "2 uur").
"""

from __future__ import annotations

import contextlib
import zoneinfo
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

# Session keys the member's saved language and time zone are kept under: written when
# they sign in or change them (apps/peers/signals.py, the language switcher), read by
# p2pcommons.middleware.MemberLocaleMiddleware on every request without a query.
SESSION_LANGUAGE = "p2p_language"
SESSION_TIMEZONE = "p2p_timezone"

__all__ = [
    "Amount",
    "Message",
    "When",
    "activate_community_zone",
    "language_name",
    "member_language",
    "member_timezone",
    "override_for",
    "timezone_choices",
]


class When:
    """A moment in a ``Message``: shown short ("Tue 24 Nov, 10:00") in the reader's zone."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def to_json(self) -> dict:
        return {"when": self.moment.isoformat()}

    def __str__(self) -> str:
        from p2pcommons.humanize import format_when_short

        return format_when_short(self.moment)


class Amount:
    """An amount in a ``Message``: "1.50 hours" / "1,50 uur" in the reader's language."""

    def __init__(self, value: Decimal | int | str, currency: str) -> None:
        self.value = Decimal(str(value))
        self.currency = str(currency)

    def to_json(self) -> dict:
        return {"amount": str(self.value), "currency": self.currency}

    def __str__(self) -> str:
        from p2pcommons.humanize import format_amount

        return format_amount(self.value, self.currency)


def _param_to_json(value: Any) -> Any:
    if isinstance(value, When | Amount):
        return value.to_json()
    if isinstance(value, datetime):
        return When(value).to_json()
    if isinstance(value, Message):
        return {"message": value.to_json()}
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)


def _param_from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "when" in value:
            return When(datetime.fromisoformat(value["when"]))
        if "amount" in value:
            return Amount(value["amount"], value.get("currency", ""))
        if "message" in value:
            return Message.from_json(value["message"])
    return value


class Message:
    """An English sentence with ``{name}`` placeholders, marked for translation by being
    written as ``Message("...")`` (the extractor knows the name), and its values.

    ``str(message)`` is the sentence in the active language; ``english()`` in English
    (what is stored as the notification's plain text, for the admin and search).
    A translation that is broken (a placeholder the values lack) falls back to English.
    """

    def __init__(self, msgid: str, /, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        values = {key: str(_param_from_json(_param_to_json(value))) for key, value in self.params.items()}
        try:
            return gettext(self.msgid).format(**values)
        except (KeyError, IndexError, ValueError):
            return self.msgid.format(**values)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{self.params!r})"

    def english(self) -> str:
        with translation.override("en"):
            return str(self)

    def to_json(self) -> dict:
        return {"id": self.msgid, "params": {key: _param_to_json(value) for key, value in self.params.items()}}

    @classmethod
    def from_json(cls, data: dict) -> Message:
        params = {key: _param_from_json(value) for key, value in (data.get("params") or {}).items()}
        return cls(data.get("id", ""), **params)


def language_name(code: str) -> str:
    """The language's own name ("Nederlands"), as the switcher lists it."""
    return dict(settings.LANGUAGES).get(code, code)


def member_language(user: Any) -> str:
    """The language a member reads emails and notifications in: the one saved on their
    profile, else the site's default."""
    profile = getattr(user, "profile", None)
    code = getattr(profile, "language", "") or ""
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def member_timezone(user: Any) -> zoneinfo.ZoneInfo:
    """The zone a member's times are shown in when no page says otherwise (emails, the
    dashboard): that of the first community they joined, else the site's."""
    from apps.peers.selectors import home_time_zone

    name = home_time_zone(user_id=getattr(user, "pk", None))
    return zone(name or settings.TIME_ZONE)


@cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def activate_community_zone(community: Any) -> None:
    """For the rest of this request, show times in ``community``'s zone (its page, and
    the pages of its loans, sessions, slots and challenges)."""
    name = getattr(community, "time_zone", "") or settings.TIME_ZONE
    timezone.activate(zone(name))


@contextlib.contextmanager
def override_for(user: Any) -> Iterator[None]:
    """Run the block in ``user``'s language and time zone (an email, a task's text)."""
    with translation.override(member_language(user)), timezone.override(member_timezone(user)):
        yield


@cache
def timezone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, for a community's time zone field."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


# Shown in the switcher and the profile form: each language in its own name.
LANGUAGE_LABEL = gettext_lazy("Language")
