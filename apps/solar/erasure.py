"""What deleting an account does in the solar exchange (found by ``apps.privacy``).

Cancelled, through the solar services: open orders in slots still taking orders,
standing orders (ended), device tokens (revoked) and meters (retired). Erased: the
meters' names, approximate locations and smart-meter ids, the device tokens and the raw
P1 registers. Trades, their settlement and the readings that settled them stay.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.privacy.deletion import attempt, register_preview
from apps.privacy.registry import register_eraser

from .models import DeviceToken, Meter, Order, P1Boundary, Slot, StandingOrder, Trade


def _open_orders(user):
    return Order.objects.filter(member=user, status=Order.Status.OPEN, slot__status=Slot.Status.OPEN)


def cancel(user) -> int:
    from . import services

    done = 0
    for order in _open_orders(user):
        done += attempt(lambda o=order: services.order_cancel(order=o, actor=user))
    for standing in StandingOrder.objects.filter(
        member=user, status__in=(StandingOrder.Status.ACTIVE, StandingOrder.Status.PAUSED)
    ):
        done += attempt(lambda s=standing: services.standing_step(standing=s, actor=user, action="end"))
    for token in DeviceToken.objects.filter(meter__owner=user, revoked_at__isnull=True).select_related("meter"):
        attempt(lambda t=token: services.device_token_revoke(token=t, actor=user))
    for meter in Meter.objects.filter(owner=user, status=Meter.Status.ACTIVE):
        attempt(lambda m=meter: services.meter_retire(meter=m, actor=user))
    return done


def erase(user, pseudonym: str) -> None:
    DeviceToken.objects.filter(meter__owner=user).delete()
    P1Boundary.objects.filter(meter__owner=user).delete()
    Meter.objects.filter(owner=user).update(
        name="Meter", approx_latitude=None, approx_longitude=None, p1_equipment_id="", status=Meter.Status.RETIRED
    )


def preview(user) -> dict[str, list[str]]:
    cancelled, kept = [], []
    orders = _open_orders(user).count()
    if orders:
        cancelled.append(_("Your open energy orders (%(n)s)") % {"n": orders})
    standing = StandingOrder.objects.filter(
        member=user, status__in=(StandingOrder.Status.ACTIVE, StandingOrder.Status.PAUSED)
    ).count()
    if standing:
        cancelled.append(_("Your standing orders (%(n)s)") % {"n": standing})
    trades = Trade.objects.filter(buyer=user).count() + Trade.objects.filter(seller=user).count()
    if trades:
        kept.append(_("Energy trades (%(n)s) and their payments") % {"n": trades})
    return {"cancelled": cancelled, "kept": kept}


register_eraser("solar", cancel=cancel, erase=erase, order=50)
register_preview("solar", preview)
