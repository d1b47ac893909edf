"""Template filters and tags for the energy market pages.

    {% load solar %}
    {{ order.quantity_wh|kwh }}        -> "0.5 kWh" (exact to the Wh, no trailing zeros)
    {{ reading.exported_wh|kwh_number }} -> "0.5" (under a heading that names the unit)
    {{ slot.clearing_price|per_kwh }}  -> "0.23 credits per kWh"
    {{ slot.clearing_price|price }}    -> "0.23" (under a heading that names the unit)
    {% delivery_reliability member %}  -> "Delivered 96% of the energy they sold ..." (profiles)

The words are the services' own (``services.kwh``, ``services.price_words``), so a page
says a quantity or a price exactly as the notifications about it do.
"""

from __future__ import annotations

from decimal import Decimal

from django import template

from .. import charts, selectors, services

register = template.Library()


@register.filter
def kwh(wh) -> str:
    if wh is None or wh == "":
        return ""
    return services.kwh(int(wh))


@register.filter
def kwh_number(wh) -> str:
    """The number of kWh alone ("0.125"), for a column headed "kWh"."""
    if wh is None or wh == "":
        return ""
    return services.kwh(int(wh)).removesuffix(" kWh")


@register.filter
def per_kwh(price) -> str:
    if price is None or price == "":
        return ""
    return services.price_words(Decimal(price))


@register.filter
def price(value) -> str:
    if value is None or value == "":
        return ""
    return charts.format_price(Decimal(value))


@register.inclusion_tag("solar/_reliability.html")
def delivery_reliability(member) -> dict:
    """A seller's share of sold energy delivered over the last 30 days (one query), for
    their profile; nothing when they sold none."""
    share = selectors.reliability(seller=member)
    return {"percent": None if share is None else int((share * 100).to_integral_value()), "member": member}
