"""My orders: the list with what ``ORDER`` and ``STANDING`` allow now, placing, changing
and cancelling an order, and standing orders.

Every write is one service call; its refusal (a closed gate, a meter's capacity, what
the account can pay) is shown on the form with what was typed, or as a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from p2pcommons.viewkit import REFUSED, attempt, paginate, safe_next

from .. import selectors, services
from ..forms import OrderChangeForm, OrderForm, StandingForm, my_active_meters, order_initial, slot_label, slot_value
from ..models import Meter, Order, StandingOrder
from ..transitions import ORDER, STANDING
from .common import PER_PAGE, order_rows, order_state, standing_rows, standing_words

SLOT_CHOICES = 16  # the next four hours of quarter hours in the order form
STANDING_DONE = {
    "pause": gettext_lazy("Paused: it places no orders until you resume it."),
    "resume": gettext_lazy("Resumed: it places orders for the coming quarter hours in its hours again."),
    "end": gettext_lazy("Ended. Orders it already placed stay until you cancel them."),
}


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    """My orders, newest quarter hour first, and my standing orders, each with the
    buttons the rules allow now."""
    user = request.user
    now = timezone.now()
    page = paginate(request, selectors.orders_of(user=user), PER_PAGE)
    page.object_list = order_rows(page.object_list, user, now)
    standings = list(selectors.standing_of(user=user).exclude(status=StandingOrder.Status.ENDED))
    context = {
        "page": page,
        "standings": standing_rows(standings, user),
        "has_meters": my_active_meters(user).exists(),
        "current": "orders",
    }
    return render(request, "solar/order_list.html", context)


def _side_for(meters: list[Meter]) -> str | None:
    """The side every meter of the member can take, if there is only one."""
    if meters and all(m.sells and not m.buys for m in meters):
        return "sell"
    if meters and all(m.buys and not m.sells for m in meters):
        return "buy"
    return None


@login_required
@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest) -> HttpResponse:
    """Place a buy or sell order for one of the next quarter hours (``?slot=`` preselects
    one, from the market page)."""
    user = request.user
    starts = selectors.next_open_starts(count=SLOT_CHOICES)
    if request.method == "POST":
        form = OrderForm(request.POST, user=user, starts=starts)
        if form.is_valid():
            data = form.cleaned_data
            order = attempt(
                request,
                lambda: services.order_place(
                    member=user,
                    meter=data["meter"],
                    slot_start=data["slot"],
                    side=data["side"],
                    quantity_wh=form.quantity_wh,
                    limit_price=data["limit_price"],
                ),
                form=form,
            )
            if order is not REFUSED:
                values = {
                    "quantity": services.kwh(order.quantity_wh),
                    "slot": slot_label(order.slot.start),
                    "price": services.price_words(order.limit_price),
                }
                if order.side == Order.Side.BUY:
                    text = _("Your order to buy %(quantity)s for %(slot)s at %(price)s is placed.") % values
                else:
                    text = _("Your order to sell %(quantity)s for %(slot)s at %(price)s is placed.") % values
                messages.success(request, text)
                return redirect(safe_next(request, default=reverse("solar:orders")))
        meters = list(form.fields["meter"].queryset)
    else:
        meters = list(my_active_meters(user))
        initial = {}
        wanted = parse_datetime(request.GET.get("slot", "")) if request.GET.get("slot") else None
        if wanted is not None and timezone.is_aware(wanted):
            initial["slot"] = slot_value(wanted)
        if side := _side_for(meters):
            initial["side"] = side
        form = OrderForm(initial=initial, user=user, starts=starts)
    return render(request, "solar/order_form.html", {"form": form, "meters": meters, "current": "order-create"})


def _my_order(request: HttpRequest, pk: int) -> Order:
    """My order; anyone else's is "not found"."""
    return get_object_or_404(
        Order.objects.select_related("slot", "slot__community", "meter"), pk=pk, member=request.user
    )


@login_required
@require_http_methods(["GET", "POST"])
def order_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an open order's quantity or price until gate closure (it goes behind the
    orders at its price)."""
    order = _my_order(request, pk)
    if request.method == "GET":
        refusal = ORDER.refusal("change", order, request.user)
        if refusal is not None:
            messages.error(request, str(refusal))
            return redirect("solar:orders")
        form = OrderChangeForm(initial=order_initial(order))
    else:
        form = OrderChangeForm(request.POST)
        if form.is_valid():
            changed = attempt(
                request,
                lambda: services.order_change(
                    order=order,
                    actor=request.user,
                    quantity_wh=form.quantity_wh,
                    limit_price=form.cleaned_data["limit_price"],
                ),
                form=form,
            )
            if changed is not REFUSED:
                messages.success(
                    request,
                    _("Your order for %(slot)s now asks %(quantity)s at %(price)s.")
                    % {
                        "slot": slot_label(order.slot.start),
                        "quantity": services.kwh(changed.quantity_wh),
                        "price": services.price_words(changed.limit_price),
                    },
                )
                return redirect(safe_next(request, default=reverse("solar:orders")))
    context = {"order": order, "state": order_state(order, timezone.now()), "form": form, "current": "orders"}
    return render(request, "solar/order_change.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST cancels the order (until gate closure)."""
    order = _my_order(request, pk)
    if request.method == "POST":
        done = attempt(request, lambda: services.order_cancel(order=order, actor=request.user))
        if done is not REFUSED:
            messages.success(
                request, _("Your order for %(slot)s is cancelled.") % {"slot": slot_label(order.slot.start)}
            )
        return redirect(safe_next(request, default=reverse("solar:orders")))
    refusal = ORDER.refusal("cancel", order, request.user)
    if refusal is not None:
        messages.error(request, str(refusal))
        return redirect("solar:orders")
    return render(request, "solar/order_cancel.html", {"order": order, "current": "orders"})


# --- standing orders ---------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
def standing_create(request: HttpRequest) -> HttpResponse:
    """A standing order: the same order for every quarter hour between two times of day."""
    user = request.user
    if request.method == "POST":
        form = StandingForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            standing = attempt(
                request,
                lambda: services.standing_create(
                    member=user,
                    meter=data["meter"],
                    side=data["side"],
                    quantity_wh=form.quantity_wh,
                    limit_price=data["limit_price"],
                    from_time=data["from_time"],
                    until_time=data["until_time"],
                ),
                form=form,
            )
            if standing is not REFUSED:
                messages.success(request, _("Standing order made: %(order)s.") % {"order": standing_words(standing)})
                return redirect("solar:orders")
        meters = list(form.fields["meter"].queryset)
    else:
        meters = list(my_active_meters(user))
        side = _side_for(meters)
        form = StandingForm(initial={"side": side} if side else {}, user=user)
    return render(request, "solar/standing_form.html", {"form": form, "meters": meters, "current": "orders"})


@login_required
@require_http_methods(["GET", "POST"])
def standing_step(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Pause, resume or end my standing order: GET asks to confirm, POST does it."""
    if action not in STANDING.member_actions:
        raise Http404(_("No such step."))
    standing = get_object_or_404(StandingOrder.objects.select_related("meter"), pk=pk, member=request.user)
    if request.method == "POST":
        done = attempt(request, lambda: services.standing_step(standing=standing, actor=request.user, action=action))
        if done is not REFUSED:
            messages.success(request, STANDING_DONE[action])
        return redirect(safe_next(request, default=reverse("solar:orders")))
    refusal = STANDING.refusal(action, standing, request.user)
    if refusal is not None:
        messages.error(request, str(refusal))
        return redirect("solar:orders")
    context = {
        "standing": standing,
        "words": standing_words(standing),
        "action": STANDING.by_name[action],
        "current": "orders",
    }
    return render(request, "solar/standing_step.html", context)
