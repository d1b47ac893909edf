"""How well an offer of help fits a request: one documented, tested function.

``score(request, offer)`` returns a ``Score`` of five parts, each from 0 to 1, and the
words shown to people for each ("same skill", "0.8 km", "can help Saturday morning").

    total = 0.45 skill + 0.20 distance + 0.15 availability + 0.10 reputation + 0.10 reciprocity

- **skill** (must be above 0, or there is no match): 1.0 when the offer names one of
  the requested skills exactly; 0.6 when it names another skill of the same category;
  0.3 when they only share a free tag.
- **distance**: a helper travels at most ``offer.travel_km`` (the approximate, rounded
  locations of both members). Within it: ``1 - distance / travel_km`` (but at least
  0.1, so the radius's edge still counts). Beyond it, or with a location missing, there
  is no match, unless both sides allow remote help: then the part is 1.0 ("remote").
- **availability**: 1.0 when one of the helper's weekly windows falls on a day in the
  requester's wanted date range (the first such day is named), otherwise 0.
- **reputation**: the helper's trust score mapped from 1..5 to 0..1; 0.5 for someone
  without reviews yet (neither a bonus nor a penalty).
- **reciprocity** (the timebank's balance): half from the helper wanting to earn (a
  negative HOUR balance, full at -5 hours or below), half from the requester having
  helped others (a positive balance, full at +5 hours).

Inputs are plain values (``Candidate``), so the function needs no database and the
matcher can load a bounded candidate set with a handful of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from apps.peers.geo import distance_km
from p2pcommons.i18n import Message

WEIGHTS = {"skill": 0.45, "distance": 0.20, "availability": 0.15, "reputation": 0.10, "reciprocity": 0.10}
EXACT, SAME_CATEGORY, TAG_ONLY = 1.0, 0.6, 0.3
NEAR_FLOOR = 0.1
RECIPROCITY_FULL_HOURS = 5.0
DAY_PARTS = ((time(12), "morning"), (time(17), "afternoon"), (time(23, 59, 59), "evening"))
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Side:
    """What matching needs to know about a request or an offer and its member."""

    skills: frozenset[int]
    categories: frozenset[int]
    tags: frozenset[int]
    latitude: float | None
    longitude: float | None
    remote_ok: bool
    balance: Decimal = Decimal(0)  # the member's HOUR balance in the community
    trust: Decimal | None = None  # the member's trust score (1..5), None without reviews
    travel_km: float = 0.0  # offers only
    windows: tuple[tuple[int, time, time], ...] = ()  # offers only: (weekday, start, end)
    wanted_from: date | None = None  # requests only
    wanted_until: date | None = None


@dataclass
class Score:
    total: float
    parts: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def is_match(self) -> bool:
        return self.total > 0


NO_MATCH = Score(total=0.0)


def _day_part(start: time) -> str:
    return next(label for limit, label in DAY_PARTS if start < limit)


def skill_part(request: Side, offer: Side) -> tuple[float, str]:
    if request.skills & offer.skills:
        return EXACT, "same skill"
    if request.categories & offer.categories:
        return SAME_CATEGORY, "related skill"
    if request.tags & offer.tags:
        return TAG_ONLY, "shared tag"
    return 0.0, ""


def distance_part(request: Side, offer: Side) -> tuple[float, str] | None:
    """The part and its reason, or None when the helper can't come and remote is out."""
    remote = request.remote_ok and offer.remote_ok
    located = None not in (request.latitude, request.longitude, offer.latitude, offer.longitude)
    if located:
        km = distance_km(request.latitude, request.longitude, offer.latitude, offer.longitude)
        if km <= offer.travel_km:
            near = 1.0 - km / offer.travel_km if offer.travel_km else 1.0
            return max(NEAR_FLOOR, near), f"{km:.1f} km"
    if remote:
        return 1.0, "remote"
    return None


def availability_part(request: Side, offer: Side) -> tuple[float, str]:
    if request.wanted_from is None or request.wanted_until is None or not offer.windows:
        return 0.0, ""
    by_day: dict[int, time] = {}
    for weekday, start, _end in sorted(offer.windows, key=lambda w: (w[0], w[1])):
        by_day.setdefault(weekday, start)
    days = min((request.wanted_until - request.wanted_from).days + 1, 7)
    for offset in range(days):
        day = request.wanted_from + timedelta(days=offset)
        if day.weekday() in by_day:
            return 1.0, f"can help {WEEKDAYS[day.weekday()]} {_day_part(by_day[day.weekday()])}"
    return 0.0, ""


def reputation_part(offer: Side) -> tuple[float, str]:
    if offer.trust is None:
        return 0.5, ""
    value = min(1.0, max(0.0, (float(offer.trust) - 1.0) / 4.0))
    return value, (f"trusted ({offer.trust:.1f})" if value >= 0.75 else "")


def reciprocity_part(request: Side, offer: Side) -> tuple[float, list[str]]:
    wants_to_earn = min(1.0, max(0.0, -float(offer.balance) / RECIPROCITY_FULL_HOURS))
    has_helped = min(1.0, max(0.0, float(request.balance) / RECIPROCITY_FULL_HOURS))
    reasons = []
    if wants_to_earn > 0:
        reasons.append("helper wants to earn hours")
    if has_helped > 0:
        reasons.append("requester has helped others")
    return 0.5 * wants_to_earn + 0.5 * has_helped, reasons


def score(request: Side, offer: Side) -> Score:
    """Score one request against one offer (see the module docstring for the rule)."""
    skill, skill_reason = skill_part(request, offer)
    if skill == 0:
        return NO_MATCH
    distance = distance_part(request, offer)
    if distance is None:
        return NO_MATCH
    availability, availability_reason = availability_part(request, offer)
    reputation, reputation_reason = reputation_part(offer)
    reciprocity, reciprocity_reason = reciprocity_part(request, offer)
    parts = {
        "skill": skill,
        "distance": distance[0],
        "availability": availability,
        "reputation": reputation,
        "reciprocity": reciprocity,
    }
    total = sum(WEIGHTS[name] * value for name, value in parts.items())
    reasons = [r for r in (skill_reason, distance[1], availability_reason, reputation_reason) if r]
    reasons += reciprocity_reason
    return Score(total=round(total, 4), parts={k: round(v, 4) for k, v in parts.items()}, reasons=reasons)


# --- the reasons, read in the reader's language --------------------------------------------
# A match's reasons are stored in English (they are data); these turn them into messages
# put together in the reader's language when shown (the Matches page, notifications).
_FIXED_REASONS = {
    "same skill": Message("same skill"),
    "related skill": Message("related skill"),
    "shared tag": Message("shared tag"),
    "remote": Message("remote"),
    "helper wants to earn hours": Message("helper wants to earn hours"),
    "requester has helped others": Message("requester has helped others"),
}
_DAY_NAMES = {
    "Monday": Message("Monday"),
    "Tuesday": Message("Tuesday"),
    "Wednesday": Message("Wednesday"),
    "Thursday": Message("Thursday"),
    "Friday": Message("Friday"),
    "Saturday": Message("Saturday"),
    "Sunday": Message("Sunday"),
}
_PART_NAMES = {"morning": Message("morning"), "afternoon": Message("afternoon"), "evening": Message("evening")}


def reason_message(reason: str) -> Message | str:
    """One stored reason as a message ("can help Saturday morning"), or the text as it is."""
    if reason in _FIXED_REASONS:
        return _FIXED_REASONS[reason]
    if reason.startswith("can help "):
        day, _sep, part = reason[len("can help ") :].partition(" ")
        if day in _DAY_NAMES and part in _PART_NAMES:
            return Message("can help {day} {part}", day=_DAY_NAMES[day], part=_PART_NAMES[part])
    if reason.startswith("trusted (") and reason.endswith(")"):
        return Message("trusted ({score})", score=reason[len("trusted (") : -1])
    return reason


def reasons_message(reasons: list[str]) -> Message | str:
    """The reasons, joined by commas as they always were, each in the reader's language."""
    parts = [reason_message(reason) for reason in reasons]
    if not parts:
        return ""
    joined = parts[-1]
    for part in reversed(parts[:-1]):
        joined = Message("{first}, {rest}", first=part, rest=joined)
    return joined
