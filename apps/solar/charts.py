"""Server-side SVG charts for the solar market pages: pure Python, no database.

The pages put these inline, so they work with no JavaScript, no CDN and no web font,
under the site's CSP (which allows no inline ``style``: colours are presentation
attributes, with a ``solar-*`` class on each element for the stylesheet to override).

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described in plain
words by its ``<desc>`` (what a screen reader says instead of the picture); the table
of the same numbers, visually hidden, is the page's job. A ``viewBox`` with
``width="100%"`` and no fixed size lets it shrink to a 360 px phone without sideways
scrolling; the page may cap its width in CSS (``.solar-chart { max-width: ... }``).
Text is drawn in ``currentColor`` so it reads on light and dark themes; the two series
colours (orange, blue) keep 3:1 contrast on both and one series is also dashed, so
they differ without colour.

Amounts come in as integer Wh and ``Decimal`` prices or credits and are written with
``Decimal`` arithmetic, so a label never shows a float artefact; floats are used only
for SVG coordinates. An empty input gives a sentence instead of a blank chart.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal, TypeVar

from django.utils.translation import gettext, ngettext, pgettext_lazy

from p2pcommons.humanize import format_amount

from .svg import (  # noqa: F401  (drawing primitives, split out to keep this module short)
    _CHAR,
    _FONT_SIZE,
    _LINE,
    WIDTH,
    _c,
    _el,
    _empty,
    _interval,
    _legend,
    _line,
    _Plot,
    _points,
    _polyline,
    _rect,
    _runs,
    _Scale,
    _svg,
    _text,
    _ticks,
    _time_labels,
    _y_grid,
)

ORANGE = "#ea580c"  # sellers, energy sold or exported, volume: the sun's colour
BLUE = "#2563eb"  # buyers, energy bought or imported, prices
_MONTHS = (
    pgettext_lazy("abbreviated month", "Jan"),
    pgettext_lazy("abbreviated month", "Feb"),
    pgettext_lazy("abbreviated month", "Mar"),
    pgettext_lazy("abbreviated month", "Apr"),
    pgettext_lazy("abbreviated month", "May"),
    pgettext_lazy("abbreviated month", "Jun"),
    pgettext_lazy("abbreviated month", "Jul"),
    pgettext_lazy("abbreviated month", "Aug"),
    pgettext_lazy("abbreviated month", "Sep"),
    pgettext_lazy("abbreviated month", "Oct"),
    pgettext_lazy("abbreviated month", "Nov"),
    pgettext_lazy("abbreviated month", "Dec"),
)
_WEEKDAYS = (
    pgettext_lazy("abbreviated weekday", "Mon"),
    pgettext_lazy("abbreviated weekday", "Tue"),
    pgettext_lazy("abbreviated weekday", "Wed"),
    pgettext_lazy("abbreviated weekday", "Thu"),
    pgettext_lazy("abbreviated weekday", "Fri"),
    pgettext_lazy("abbreviated weekday", "Sat"),
    pgettext_lazy("abbreviated weekday", "Sun"),
)
_PRICE_STEP = Decimal("0.0001")  # prices have at most 4 decimals (clearing.py)
_KWH_STEP = Decimal("0.01")  # kWh and credits are shown with at most 2 decimals

Number = int | Decimal
_V = TypeVar("_V")


# --- numbers in words ----------------------------------------------------------------------
def _plain(value: Decimal, places: int) -> str:
    """``value`` rounded half-even to ``places`` decimals, trailing zeros dropped and
    thousands separated ("12,345.5"), never in exponent form."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _kwh_number(wh: Number) -> str:
    return _plain(Decimal(wh) / 1000, 2)


def format_kwh(wh: int) -> str:
    """Wh as kWh for neighbors, up to 2 decimals: 1250 -> "1.25 kWh", 0 -> "0 kWh"."""
    return f"{_kwh_number(wh)} kWh"


def format_price(price: Decimal) -> str:
    """A price in credits per kWh, up to 4 decimals, trailing zeros dropped: "0.25", "0.1234"."""
    return _plain(price, 4)


def _between(low: str, high: str) -> str:
    return low if low == high else gettext("%(low)s to %(high)s") % {"low": low, "high": high}


def _day_text(day: date) -> str:
    return f"{_WEEKDAYS[day.weekday()]!s} {day.day} {_MONTHS[day.month - 1]!s}"


def _moments_text(start: datetime, end: datetime, tz: tzinfo) -> str:
    """A span in words, "from 14:00 to 18:00", naming the days when it crosses midnight."""
    first, last = start.astimezone(tz), end.astimezone(tz)
    if first.date() == last.date():
        return gettext("from %(start)s to %(end)s") % {"start": f"{first:%H:%M}", "end": f"{last:%H:%M}"}
    return gettext("from %(start)s to %(end)s") % {
        "start": f"{_day_text(first.date())} {first:%H:%M}",
        "end": f"{_day_text(last.date())} {last:%H:%M}",
    }


# --- input checks: refuse what would draw a wrong picture -----------------------------------
def _check_wh(wh: object) -> int:
    if type(wh) is not int or wh < 0:
        raise ValueError(f"Energy is a whole number of Wh, 0 or more (got {wh!r}).")
    return wh


def _check_decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int) or not Decimal(value).is_finite() or value < 0:
        raise ValueError(f"{what} is a finite Decimal, 0 or more, never a float (got {value!r}).")
    return Decimal(value)


def _check_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"Times are timezone-aware (got {moment!r}).")
    return moment


# --- the charts ------------------------------------------------------------------------------
def _corners(orders: list[tuple[int, Decimal]], *, highest_first: bool) -> list[tuple[int, Decimal]]:
    """A step curve's corners (Wh so far, price): the best orders first, each one a flat
    step as wide as its quantity, so the curve reads "this much at this price or better"."""
    corners: list[tuple[int, Decimal]] = []
    total = 0
    for quantity, price in sorted(orders, key=lambda order: order[1], reverse=highest_first):
        _check_wh(quantity)
        corners += [(total, price), (total + quantity, price)]
        total += quantity
    return corners


def _book_text(orders: list[tuple[int, Decimal]], side: str) -> str:
    if not orders:
        return gettext("No buy orders yet.") if side == "buy" else gettext("No sell orders yet.")
    prices = [price for _q, price in orders]
    values = {
        "count": len(orders),
        "total": format_kwh(sum(quantity for quantity, _p in orders)),
        "prices": _between(format_price(min(prices)), format_price(max(prices))),
    }
    if side == "buy":
        text = ngettext(
            "%(count)s buy order for %(total)s in total, at %(prices)s credits per kWh.",
            "%(count)s buy orders for %(total)s in total, at %(prices)s credits per kWh.",
            len(orders),
        )
    else:
        text = ngettext(
            "%(count)s sell order for %(total)s in total, at %(prices)s credits per kWh.",
            "%(count)s sell orders for %(total)s in total, at %(prices)s credits per kWh.",
            len(orders),
        )
    return text % values


def supply_demand_svg(
    *,
    buys: list[tuple[int, Decimal]],
    sells: list[tuple[int, Decimal]],
    price: Decimal | None,
    volume_wh: int | None,
    title: str,
) -> str:
    """One slot's anonymous order book as demand and supply curves, and where they cleared.

    ``buys`` and ``sells`` are (quantity in Wh, limit in credits per kWh). Demand runs from
    the highest buy down, supply from the lowest sell up, each against the kWh added up so
    far: where they cross is what the clearing rule trades. ``price`` and ``volume_wh`` are
    the slot's result; the cleared point is marked when ``price`` is given (then
    ``volume_wh`` must be too). Each curve's exact corners are in ``data-corners``
    ("Wh:price ..."), for tests and anyone reading the markup.
    """
    if not buys and not sells:
        return _empty(gettext("No orders yet for this slot."))
    for _, limit in [*buys, *sells]:
        _check_decimal(limit, "A limit price")
    if price is not None:
        _check_decimal(price, "The clearing price")
        if volume_wh is None:
            raise ValueError("A cleared slot has both a price and a volume.")
        _check_wh(volume_wh)
    demand = _corners(buys, highest_first=True)
    supply = _corners(sells, highest_first=False)
    kwh_ticks = _ticks(Decimal(max(c[-1][0] for c in (demand, supply) if c)) / 1000, least=_KWH_STEP)
    price_ticks = _ticks(max(p for _, p in demand + supply), least=_PRICE_STEP)
    plot = _Plot(left=52, top=26, right=WIDTH - 16, bottom=180)
    x = _Scale(plot.left, plot.right, kwh_ticks[-1] * 1000)  # from Wh
    y = _Scale(plot.bottom, plot.top, price_ticks[-1])

    parts = _y_grid(plot, y, price_ticks, format_price)
    parts.append(_text(plot.left - 46, 14, gettext("credits per kWh"), cls="solar-unit"))
    for tick in kwh_ticks:
        parts.append(_text(x(tick * 1000), plot.bottom + _LINE, _plain(tick, 2), anchor="middle", cls="solar-tick"))
    middle = (plot.left + plot.right) / 2
    parts.append(
        _text(middle, plot.bottom + 2 * _LINE, gettext("kWh (running total)"), anchor="middle", cls="solar-unit")
    )
    for corners, cls, colour, dashed in ((supply, "solar-supply", ORANGE, False), (demand, "solar-demand", BLUE, True)):
        if corners:
            data = " ".join(f"{wh}:{format_price(p)}" for wh, p in corners)
            line = [(x(wh), y(p)) for wh, p in corners]
            parts.append(_polyline(line, cls=cls, colour=colour, dashed=dashed, data_corners=data))

    legend, bottom = _legend(
        [
            (gettext("Buy orders (demand)"), "line", BLUE, True),
            (gettext("Sell orders (supply)"), "line", ORANGE, False),
        ],
        top=plot.bottom + 2 * _LINE + 4,
    )
    parts += legend
    summary = [_book_text(buys, "buy"), _book_text(sells, "sell")]
    if price is not None and volume_wh is not None:
        cleared = gettext("Cleared: %(quantity)s at %(price)s credits per kWh") % {
            "quantity": format_kwh(volume_wh),
            "price": format_price(price),
        }
        cx, cy = x(volume_wh), y(price)
        parts += [
            _line(plot.left, cy, cx, cy, cls="solar-cleared-guide", opacity="0.5"),
            _line(cx, cy, cx, plot.bottom, cls="solar-cleared-guide", opacity="0.5"),
            _el(
                "circle",
                class_="solar-cleared",
                cx=cx,
                cy=cy,
                r="5",
                fill="currentColor",
                data_wh=volume_wh,
                data_price=format_price(price),
            ),
            _text(8, bottom + _LINE - 4, cleared, cls="solar-cleared-label"),
        ]
        bottom += _LINE
        summary.append(cleared + ".")
    return _svg(kind="book", title=title, desc=" ".join(summary), parts=parts, height=bottom + 4)


def slots_svg(*, points: list[tuple[datetime, Decimal | None, int]], title: str, tz: tzinfo) -> str:
    """Recent slots (meant for the last 24 hours): each slot's clearing price as a line
    with dots (left scale, credits per kWh) over its traded volume as bars (right scale,
    kWh); an untraded slot (price None) leaves a gap. Times read as HH:MM in ``tz``."""
    if not points:
        return _empty(gettext("No slots to show yet."))
    rows = sorted(
        ((_check_aware(s), p if p is None else _check_decimal(p, "A price"), _check_wh(wh)) for s, p, wh in points),
        key=lambda r: r[0],
    )
    if all(p is None and wh == 0 for _, p, wh in rows):
        return _empty(gettext("No trades in these slots yet."))
    width = _interval([start for start, _, _ in rows])
    first, end = rows[0][0], rows[-1][0] + width
    plot = _Plot(left=52, top=26, right=WIDTH - 44, bottom=186)
    x = _Scale(plot.left, plot.right, (end - first).total_seconds())

    def at(moment: datetime) -> float:
        return x((moment - first).total_seconds())

    traded = [(start, p, wh) for start, p, wh in rows if p is not None]
    price_ticks = _ticks(max((p for _, p, _ in traded), default=Decimal(0)), least=_PRICE_STEP)
    kwh_ticks = _ticks(Decimal(max(wh for _, _, wh in rows)) / 1000, least=_KWH_STEP)
    y_price = _Scale(plot.bottom, plot.top, price_ticks[-1])
    y_wh = _Scale(plot.bottom, plot.top, kwh_ticks[-1] * 1000)

    parts = _y_grid(plot, y_price, price_ticks, format_price)
    for tick in kwh_ticks:
        parts.append(_text(plot.right + 5, y_wh(tick * 1000) + 4, _plain(tick, 2), cls="solar-tick"))
    parts.append(_text(plot.left - 46, 14, gettext("credits per kWh"), cls="solar-unit"))
    parts.append(_text(WIDTH - 4, 14, "kWh", anchor="end", cls="solar-unit"))
    bar = (at(first + width) - at(first)) * 0.8
    for start, _, wh in rows:
        if wh:
            top = y_wh(wh)
            left = at(start) + bar / 8
            rect = _rect(
                left, top, bar, plot.bottom - top, cls="solar-volume", colour=ORANGE, data=str(wh), fill_opacity="0.6"
            )
            parts.append(rect)
    for run in _runs([(start, p) for start, p, _ in rows], width):
        line = [(at(start + width / 2), y_price(p)) for start, p in run]
        if len(line) > 1:
            parts.append(_polyline(line, cls="solar-price", colour=BLUE, dashed=False))
        for (_, p), (cx, cy) in zip(run, line, strict=True):
            parts.append(
                _el("circle", class_="solar-price-dot", cx=cx, cy=cy, r="2.5", fill=BLUE, data_price=format_price(p))
            )
    parts += _time_labels(plot, at, first, end, tz)
    legend, bottom = _legend(
        [(gettext("Price"), "line", BLUE, False), (gettext("Energy traded"), "box", ORANGE, False)],
        top=plot.bottom + _LINE + 4,
    )
    parts += legend

    desc = ngettext("%(count)s slot %(span)s. ", "%(count)s slots %(span)s. ", len(rows)) % {
        "count": len(rows),
        "span": _moments_text(first, end, tz),
    }
    total = format_kwh(sum(wh for _s, _p, wh in rows))
    if traded:
        prices = [p for _s, p, _wh in traded]
        last_start, last_price, _last_wh = traded[-1]
        desc += gettext(
            "Traded in %(traded)s of them, %(total)s in total, at %(prices)s credits per kWh. "
            "Latest price: %(price)s credits per kWh at %(time)s."
        ) % {
            "traded": len(traded),
            "total": total,
            "prices": _between(format_price(min(prices)), format_price(max(prices))),
            "price": format_price(last_price),
            "time": f"{last_start.astimezone(tz):%H:%M}",
        }
    else:
        desc += gettext("No price was set; %(total)s traded.") % {"total": total}
    return _svg(kind="slots", title=title, desc=desc, parts=parts, height=bottom + 4)


def daily_bars_svg(
    *,
    days: list[tuple[date, Number, Number]],
    title: str,
    labels: tuple[str, str],
    unit: Literal["kWh", "credits"] = "kWh",
) -> str:
    """Two bars a day, e.g. energy sold and bought, or credits earned and spent, named by
    ``labels`` in a legend. With ``unit="kWh"`` the values are whole Wh, shown as kWh;
    with ``unit="credits"`` they are credits (``Decimal`` or int). Values are 0 or more:
    bars grow up from zero, so a net (negative) amount is refused, not drawn upside down."""
    if unit not in ("kWh", "credits"):
        raise ValueError('The unit is "kWh" or "credits".')
    if not days:
        return _empty(gettext("No days to show yet."))

    def check(value: Number) -> Decimal:
        return Decimal(_check_wh(value)) / 1000 if unit == "kWh" else _check_decimal(value, "An amount of credits")

    rows = sorted(((day, check(first), check(second)) for day, first, second in days), key=lambda r: r[0])
    if all(a == 0 and b == 0 for _, a, b in rows):
        return _empty(gettext("Nothing to show for these days yet."))
    # Credits are written as everywhere else on the site ("12.50 credits").
    words = (lambda v: f"{_plain(v, 2)} kWh") if unit == "kWh" else (lambda v: format_amount(v, "CREDIT"))
    ticks = _ticks(max(max(a, b) for _, a, b in rows), least=_KWH_STEP)
    plot = _Plot(left=52, top=26, right=WIDTH - 12, bottom=186)
    y = _Scale(plot.bottom, plot.top, ticks[-1])
    parts = _y_grid(plot, y, ticks, lambda tick: _plain(tick, 2))
    parts.append(_text(plot.left - 46, 14, "kWh" if unit == "kWh" else gettext("credits"), cls="solar-unit"))
    group = (plot.right - plot.left) / len(rows)
    label_every = -(-len(rows) // 7)  # at most 7 day labels fit a phone
    for i, (day, *values) in enumerate(rows):
        for j, (value, colour) in enumerate(zip(values, (ORANGE, BLUE), strict=True)):
            top = y(value)
            x = plot.left + group * (i + 0.1 + 0.4 * j)
            parts.append(
                _rect(x, top, group * 0.4, plot.bottom - top, cls=f"solar-bar-{j + 1}", colour=colour, data=str(value))
            )
        if i % label_every == 0:
            label = f"{day.day} {_MONTHS[day.month - 1]!s}"
            parts.append(
                _text(plot.left + group * (i + 0.5), plot.bottom + _LINE, label, anchor="middle", cls="solar-tick")
            )
    legend, bottom = _legend(
        [(labels[0], "box", ORANGE, False), (labels[1], "box", BLUE, False)], top=plot.bottom + _LINE + 4
    )
    parts += legend

    summary = [
        ngettext("%(count)s day from %(first)s to %(last)s.", "%(count)s days from %(first)s to %(last)s.", len(rows))
        % {"count": len(rows), "first": _day_text(rows[0][0]), "last": _day_text(rows[-1][0])}
    ]
    for j, label in enumerate(labels):
        total = sum((row[j + 1] for row in rows), Decimal(0))
        if total == 0:
            summary.append(gettext("%(label)s: nothing.") % {"label": label})
        else:
            best = max(rows, key=lambda row: row[j + 1])
            summary.append(
                gettext("%(label)s: %(total)s in total, most on %(day)s (%(most)s).")
                % {"label": label, "total": words(total), "day": _day_text(best[0]), "most": words(best[j + 1])}
            )
    return _svg(kind="daily", title=title, desc=" ".join(summary), parts=parts, height=bottom + 4)


def production_svg(*, points: list[tuple[datetime, int, int]], title: str, tz: tzinfo) -> str:
    """A producer's own meter readings: per interval (15 minutes), the Wh exported (sent
    out) and imported (taken in) as two shaded step lines over time; a missing interval
    leaves a gap rather than a guess. Times read as HH:MM in ``tz``."""
    if not points:
        return _empty(gettext("No meter readings yet."))
    rows = sorted(((_check_aware(s), _check_wh(out), _check_wh(into)) for s, out, into in points), key=lambda r: r[0])
    width = _interval([start for start, _, _ in rows])
    first, end = rows[0][0], rows[-1][0] + width
    plot = _Plot(left=52, top=26, right=WIDTH - 16, bottom=186)
    x = _Scale(plot.left, plot.right, (end - first).total_seconds())

    def at(moment: datetime) -> float:
        return x((moment - first).total_seconds())

    ticks = _ticks(Decimal(max(max(out, into) for _, out, into in rows)) / 1000, least=_KWH_STEP)
    y = _Scale(plot.bottom, plot.top, ticks[-1])  # in kWh, like the labels
    minutes = int(width / timedelta(minutes=1))
    per = gettext("hour") if minutes == 60 else gettext("%(count)s minutes") % {"count": minutes}
    parts = _y_grid(plot, y, ticks, lambda tick: _plain(tick, 2))
    parts.append(_text(plot.left - 46, 14, gettext("kWh per %(per)s") % {"per": per}, cls="solar-unit"))
    series = (("solar-exported", 1, ORANGE, False), ("solar-imported", 2, BLUE, True))
    for cls, column, colour, dashed in series:
        for run in _runs([(row[0], row[column]) for row in rows], width):
            steps = [(at(s + d), y(wh / 1000)) for s, wh in run for d in (timedelta(0), width)]
            area = [(steps[0][0], plot.bottom), *steps, (steps[-1][0], plot.bottom)]
            parts.append(_el("polygon", class_=f"{cls}-area", points=_points(area), fill=colour, fill_opacity="0.2"))
            data = " ".join(f"{s.isoformat()}={wh}" for s, wh in run)
            parts.append(_polyline(steps, cls=cls, colour=colour, dashed=dashed, data_readings=data))
    parts += _time_labels(plot, at, first, end, tz)
    legend, bottom = _legend(
        [
            (gettext("Exported (sent out)"), "line", ORANGE, False),
            (gettext("Imported (taken in)"), "line", BLUE, True),
        ],
        top=plot.bottom + _LINE + 4,
    )
    parts += legend

    exported = sum(out for _, out, _ in rows)
    desc = ngettext(
        "%(count)s reading %(span)s: exported %(exported)s, imported %(imported)s.",
        "%(count)s readings %(span)s: exported %(exported)s, imported %(imported)s.",
        len(rows),
    ) % {
        "count": len(rows),
        "span": _moments_text(first, end, tz),
        "exported": format_kwh(exported),
        "imported": format_kwh(sum(into for _s, _out, into in rows)),
    }
    if exported:
        peak = max(rows, key=lambda row: row[1])
        desc += " " + gettext("Most exported in %(per)s: %(quantity)s from %(time)s.") % {
            "per": per,
            "quantity": format_kwh(peak[1]),
            "time": f"{peak[0].astimezone(tz):%H:%M}",
        }
    return _svg(kind="production", title=title, desc=desc, parts=parts, height=bottom + 4)
