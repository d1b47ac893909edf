"""The market: the overview of my communities' energy market, one quarter hour's page
(with the organizers' cancel), and my trades.

A member sees the slots of the communities they are an active member of (others are
"not found"), the order books without names, and only their own orders and trades."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.peers.models import Community, User
from p2pcommons.forms import active_communities
from p2pcommons.i18n import activate_community_zone
from p2pcommons.viewkit import REFUSED, attempt, paginate

from .. import charts, selectors, services
from ..forms import SlotCancelForm, my_active_meters, slot_label, slot_value
from ..models import Order, Slot, SlotEvent, Trade
from ..transitions import SLOT
from .common import PER_PAGE, open_slots, order_rows, slot_state, trade_rows

UPCOMING_SHOWN = 8
ENERGY_DAYS = 14


@dataclass
class RecentMarket:
    """One community's last 24 hours: the chart and the same numbers as a table."""

    community: Community
    chart: str
    slots: list[Slot]


def _recent(communities: list[Community], now: datetime) -> list[RecentMarket]:
    by_community: dict[int, list[Slot]] = defaultdict(list)
    for slot in selectors.recent_slots(community_ids=[c.pk for c in communities], now=now):
        by_community[slot.community_id].append(slot)
    tz = timezone.get_current_timezone()
    recent = []
    for community in communities:
        slots = by_community.get(community.pk)
        if not slots:
            continue
        points = [(s.start, s.clearing_price if s.volume_wh else None, s.volume_wh) for s in slots]
        title = _("Prices and energy traded in %(community)s, last 24 hours") % {"community": community.name}
        recent.append(
            RecentMarket(community=community, chart=charts.slots_svg(points=points, title=title, tz=tz), slots=slots)
        )
    return recent


@dataclass
class EnergyDay:
    day: date
    sold_wh: int
    bought_wh: int
    earned: Decimal
    spent: Decimal


def _my_energy(user: User, now: datetime) -> dict:
    """My last 14 days, every day shown (a day without trades is a day of zeros)."""
    totals = dict(selectors.daily_energy(user=user, days=ENERGY_DAYS, now=now))
    today = timezone.localdate(now)
    days = []
    for back in range(ENERGY_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        t = totals.get(day, {})
        days.append(
            EnergyDay(
                day=day,
                sold_wh=t.get("sold_wh", 0),
                bought_wh=t.get("bought_wh", 0),
                earned=t.get("earned", Decimal(0)),
                spent=t.get("spent", Decimal(0)),
            )
        )
    return {
        "days": days,
        "any": any(d.sold_wh or d.bought_wh for d in days),
        "kwh_chart": charts.daily_bars_svg(
            days=[(d.day, d.sold_wh, d.bought_wh) for d in days],
            title=_("My energy sold and bought per day, last %(days)s days") % {"days": ENERGY_DAYS},
            labels=(_("Sold"), _("Bought")),
            unit="kWh",
        ),
        "credits_chart": charts.daily_bars_svg(
            days=[(d.day, d.earned, d.spent) for d in days],
            title=_("My credits earned and spent on energy per day, last %(days)s days") % {"days": ENERGY_DAYS},
            labels=(_("Earned"), _("Spent")),
            unit="credits",
        ),
        "sold_wh": sum(d.sold_wh for d in days),
        "bought_wh": sum(d.bought_wh for d in days),
        "earned": sum((d.earned for d in days), Decimal(0)),
        "spent": sum((d.spent for d in days), Decimal(0)),
    }


@login_required
@require_GET
def market(request: HttpRequest) -> HttpResponse:
    """My communities' market: the quarter hours taking orders, the next one's order book,
    the last 24 hours of prices, and my energy per day."""
    user = request.user
    now = timezone.now()
    communities = list(active_communities(user))
    if len(communities) == 1:
        activate_community_zone(communities[0])
    context: dict = {"communities": communities, "current": "market"}
    if communities:
        upcoming = open_slots(user=user, now=now, limit=UPCOMING_SHOWN)
        context.update(
            meters=list(my_active_meters(user)),
            upcoming=[(slot, slot_value(slot.start)) for slot in upcoming],
            recent=_recent(communities, now),
            energy=_my_energy(user, now),
            several=len(communities) > 1,
        )
        if upcoming:
            first = upcoming[0]
            buys, sells = selectors.order_book(slot=first)
            context["next_slot"] = first
            context["next_book"] = charts.supply_demand_svg(
                buys=buys,
                sells=sells,
                price=None,
                volume_wh=None,
                title=_("Orders so far for %(slot)s") % {"slot": slot_label(first.start)},
            )
    return render(request, "solar/market.html", context)


# --- one quarter hour ----------------------------------------------------------------------
def _visible_slot(request: HttpRequest, pk: int) -> Slot:
    slot = selectors.slot_visible(user=request.user, pk=pk)
    if slot is None:
        raise Http404(_("No such quarter hour."))
    activate_community_zone(slot.community)
    return slot


def _cancel_reason(slot: Slot) -> str:
    if slot.status != Slot.Status.CANCELLED:
        return ""
    event = SlotEvent.objects.filter(slot=slot, target=Slot.Status.CANCELLED).order_by("-created_at", "-pk").first()
    return event.note if event else ""


@login_required
@require_GET
def slot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One quarter hour: its state, its anonymous order book (and where it cleared), my
    orders and trades in it, and for its organizers the cancel button."""
    user = request.user
    slot = _visible_slot(request, pk)
    now = timezone.now()
    cleared = slot.status in (Slot.Status.CLEARED, Slot.Status.SETTLED)
    book = counts = None
    if slot.status != Slot.Status.CANCELLED:
        buys, sells = selectors.order_book(slot=slot)
        traded = cleared and slot.volume_wh > 0 and slot.clearing_price is not None
        book = charts.supply_demand_svg(
            buys=buys,
            sells=sells,
            price=slot.clearing_price if traded else None,
            volume_wh=slot.volume_wh if traded else None,
            title=_("Buy and sell orders for %(slot)s") % {"slot": slot_label(slot.start)},
        )
        counts = (slot.buy_orders, slot.sell_orders) if cleared else (len(buys), len(sells))
    mine = list(Order.objects.filter(slot=slot, member=user).select_related("slot", "meter").order_by("side", "pk"))
    trades = list(
        Trade.objects.filter(Q(buyer=user) | Q(seller=user), slot=slot)
        .select_related("buyer__profile", "seller__profile")
        .order_by("seq")
    )
    context = {
        "slot": slot,
        "state": slot_state(slot, now, _cancel_reason(slot)),
        "book": book,
        "counts": counts,
        "orders": order_rows(mine, user, now),
        "trades": trade_rows(trades, user),
        "cancel_buttons": SLOT.buttons(slot, user, names=("cancel",), now=now),
        "taking_orders": slot.status == Slot.Status.OPEN and now < slot.gate_closes_at,
        "slot_value": slot_value(slot.start),
        "current": "market",
    }
    return render(request, "solar/slot_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def slot_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """An organizer cancels a quarter hour: GET asks for the reason and confirmation,
    POST cancels (``services.slot_cancel`` checks who may, and when)."""
    slot = _visible_slot(request, pk)
    if request.method == "GET":
        refusal = SLOT.refusal("cancel", slot, request.user)
        if refusal is not None:
            messages.error(request, str(refusal))
            return redirect(slot)
    form = SlotCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        done = attempt(request, lambda: services.slot_cancel(slot=slot, actor=request.user, reason=reason), form=form)
        if done is not REFUSED:
            messages.success(
                request,
                _("The quarter hour %(slot)s is cancelled; everyone with an order is told why.")
                % {"slot": slot_label(slot.start)},
            )
            return redirect(slot)
    live_orders = Order.objects.filter(slot=slot).exclude(status=Order.Status.CANCELLED).count()
    context = {"slot": slot, "form": form, "live_orders": live_orders, "current": "market"}
    return render(request, "solar/slot_cancel.html", context)


# --- my trades -------------------------------------------------------------------------------
@login_required
@require_GET
def trade_list(request: HttpRequest) -> HttpResponse:
    """Everything I bought and sold, newest quarter hour first, with what was delivered
    and paid."""
    page = paginate(request, selectors.trades_of(user=request.user), PER_PAGE)
    page.object_list = trade_rows(page.object_list, request.user)
    return render(request, "solar/trade_list.html", {"page": page, "current": "trades"})
