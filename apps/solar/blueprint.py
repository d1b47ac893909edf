"""The Micro Solar Exchange blueprint: how the front door, the dashboard, unified search and
the profile see this exchange (``apps.peers.blueprints``). Registered from ``apps.py``.

Each loader reads through ``apps.solar.selectors`` in a fixed number of queries and shows
a member only their own orders and meters, and the market of communities they are an
active member of (the order book never names who ordered). Nothing here is searchable:
energy is not a listing one looks for by name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.blueprints import Blueprint, Figure, HistoryRow, Item, communities_using
from apps.peers.models import Community, CommunityExchange, User

from . import selectors
from .models import Order, Slot, SlotEvent, Trade
from .services.market import kwh, price_words

KEY = "solar"
CLOSING_WINDOW = timedelta(hours=2)  # "orders closing soon": gates closing within this
READING_GRACE = timedelta(minutes=30)  # devices post a quarter hour late; ask after this
UPCOMING = 10

DEFAULT_RULES = gettext_lazy(
    "Sell only energy your own meter measures: an offer never exceeds what your panels can pass in a quarter hour. "
    "Orders close 5 minutes before their quarter hour starts, and each quarter hour clears at one price for everyone. "
    "What you pay or earn is settled from the meter readings, never from the orders: energy not delivered is not paid. "
    "Prices are in community credits per kWh, and the exchange takes no fees."
)


def _hm(moment: datetime) -> str:
    return dateformat.format(timezone.localtime(moment), "H:i")


def _kwh_figure(wh: int) -> str:
    """'412.5', '1,204' (kWh, one decimal at most, thousands grouped)."""
    value = (Decimal(wh) / 1000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{value:,.1f}"
    return text.removesuffix(".0")


def month_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The current calendar month in local time (settings.TIME_ZONE), as aware datetimes."""
    local = timezone.localtime(now or timezone.now())
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def figure() -> Figure:
    """kWh traded in slots starting this calendar month (local time), in the communities
    using the exchange. One query."""
    since, until = month_bounds()
    wh = selectors.traded_wh(community_ids=communities_using(KEY).values("pk"), since=since, until=until)
    return Figure(value=_kwh_figure(wh), label=_("kWh traded this month"))


# The figure changes when trades are made or settled, slots cleared or cancelled, and when
# a community starts or stops using the exchange. The clearing writes its trades in bulk
# (no signal), but it records a ``SlotEvent`` with ``create`` in the same transaction, so
# that save invalidates the figure; the front door's cache also expires every 5 minutes
# (``apps.front.figures.FIGURE_TTL``), which covers the month turning over.
FIGURE_MODELS = (Trade, Slot, SlotEvent, CommunityExchange)


def actions(*, user: User, now: datetime | None = None) -> list[Item]:
    """What waits for the member: their hand-placed open orders whose gate closes in the
    next two hours (the last chance to change or cancel them; standing orders place
    theirs by themselves), and each of their meters that traded in a quarter hour now
    over but has sent no reading for it (without one, the trade settles as nothing
    delivered when its deadline passes). Two queries."""
    if not user.is_authenticated:
        return []
    now = now or timezone.now()
    items = []
    for order in selectors.orders_closing(user=user, now=now, within=CLOSING_WINDOW):
        values = {
            "quantity": kwh(order.quantity_wh),
            "start": _hm(order.slot.start),
            "closes": _hm(order.slot.gate_closes_at),
        }
        items.append(
            Item(
                text=(
                    _("Your buy order of %(quantity)s for %(start)s closes at %(closes)s")
                    if order.side == Order.Side.BUY
                    else _("Your sell order of %(quantity)s for %(start)s closes at %(closes)s")
                )
                % values,
                url=reverse("solar:order-change", args=[order.pk]),
                kind=KEY,
                when=order.slot.gate_closes_at,
                verb=_("Change or cancel"),
            )
        )
    for order in selectors.readings_awaited(user=user, now=now, grace=READING_GRACE):
        slot = order.slot
        items.append(
            Item(
                text=_(
                    "%(meter)s has no reading for %(start)s-%(end)s yet: send it by %(deadline)s so your trade settles"
                )
                % {
                    "meter": order.meter.name,
                    "start": _hm(slot.start),
                    "end": _hm(slot.end),
                    "deadline": _hm(slot.settle_deadline),
                },
                url=order.meter.get_absolute_url() + "#reading-heading",
                kind=KEY,
                when=slot.settle_deadline,
                verb=_("Add the reading"),
            )
        )
    return items


def upcoming(*, user: User, now: datetime | None = None) -> list[Item]:
    """The next quarter hours (at most 10) the member has open orders in, soonest first,
    one line per quarter hour. One query."""
    if not user.is_authenticated:
        return []
    now = now or timezone.now()
    by_slot: dict[int, list[Order]] = {}
    for order in selectors.open_orders_ahead(user=user, now=now, limit=UPCOMING * 3):
        by_slot.setdefault(order.slot_id, []).append(order)
    items = []
    for orders in list(by_slot.values())[:UPCOMING]:
        slot = orders[0].slot
        selling = sum(o.quantity_wh for o in orders if o.side == Order.Side.SELL)
        buying = sum(o.quantity_wh for o in orders if o.side == Order.Side.BUY)
        if selling and buying:
            doing = _("Selling %(sold)s and buying %(bought)s") % {"sold": kwh(selling), "bought": kwh(buying)}
        elif selling:
            doing = _("Selling %(sold)s") % {"sold": kwh(selling)}
        else:
            doing = _("Buying %(bought)s") % {"bought": kwh(buying)}
        day = dateformat.format(timezone.localtime(slot.start), "D j M")
        items.append(
            Item(
                text=_("%(day)s, %(start)s-%(end)s in %(community)s: %(doing)s")
                % {
                    "day": day,
                    "start": _hm(slot.start),
                    "end": _hm(slot.end),
                    "community": slot.community.name,
                    "doing": doing,
                },
                url=slot.get_absolute_url(),
                kind=KEY,
                when=slot.start,
            )
        )
    return items


def activity(*, user: User, community_ids, limit: int = 10) -> list[Item]:
    """Quarter hours recently cleared with energy traded in those of ``community_ids``
    the member is an active member of, latest first. One query."""
    items = []
    for slot in selectors.cleared_slots(user=user, community_ids=community_ids, limit=limit):
        values = {
            "start": _hm(slot.start),
            "end": _hm(slot.end),
            "community": slot.community.name,
            "quantity": kwh(slot.volume_wh),
        }
        if slot.clearing_price is not None:
            values["price"] = price_words(slot.clearing_price)
            text = _("%(start)s-%(end)s cleared in %(community)s: %(quantity)s at %(price)s") % values
        else:
            text = _("%(start)s-%(end)s cleared in %(community)s: %(quantity)s") % values
        items.append(
            Item(
                text=text,
                url=slot.get_absolute_url(),
                kind=KEY,
                when=slot.cleared_at,
            )
        )
    return items


def search(*, user: User, query: str, kinds=None, near=None, within_km=None, limit: int = 20) -> list:
    """Nothing to find: energy is traded by the quarter hour, not listed by name."""
    return []


def history(*, subject: User, viewer: User) -> list[HistoryRow]:
    """The subject's record in the energy market: energy their meters delivered to
    buyers and energy they bought and received (all time), and their delivery
    reliability, the share of what they sold in settled trades over the last 30 days that
    they delivered ("—" when none). Totals only, never
    a trade or its counterpart; the trades page is linked for the subject alone. One query."""
    record = selectors.energy_record(member=subject)
    reliability = "—"
    if record["promised_recent"]:
        share = Decimal(record["delivered_recent"]) * 100 / Decimal(record["promised_recent"])
        reliability = f"{share.quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"
    own = viewer.is_authenticated and viewer.pk == subject.pk
    url = reverse("solar:trades") if own else None
    return [
        HistoryRow(label=_("Energy delivered"), value=kwh(record["delivered"]), url=url),
        HistoryRow(label=_("Delivery reliability (30 days)"), value=reliability),
        HistoryRow(label=_("Energy bought"), value=kwh(record["bought"]), url=url),
    ]


def start(*, community: Community, actor: User | None) -> None:
    """Nothing to set up: trading needs only what every community has, its members'
    CREDIT accounts and their credit limits (what a buyer can commit is checked against
    them), and the exchange charges no fees. Meters are registered by their owners.
    Idempotent by having no effect."""


BLUEPRINT = Blueprint(
    key=KEY,
    category=gettext_lazy("Sustainability"),
    title=gettext_lazy("Micro Solar Exchange"),
    description=gettext_lazy("A simple peer model for sharing extra solar power locally."),
    tags=(gettext_lazy("Energy"), gettext_lazy("Green")),
    nav_label=gettext_lazy("Energy"),
    nav_url="solar:market",
    order=20,
    default_rules=DEFAULT_RULES,
    figure=figure,
    figure_models=FIGURE_MODELS,
    search_kinds=(),
    actions=actions,
    upcoming=upcoming,
    activity=activity,
    search=search,
    history=history,
    start=start,
)
