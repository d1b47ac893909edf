"""SVG drawing primitives for the solar charts (apps/solar/charts.py): the plotting
area, scales, ticks, elements and the ``<svg>`` wrapper. Pure Python, no database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_CEILING, Decimal
from itertools import pairwise
from typing import TypeVar

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 360  # viewBox units: about one unit per CSS pixel on a phone, so 12-unit text stays legible
_FONT_SIZE = 12
_LINE = 16  # one line of text, in viewBox units
_CHAR = 6.6  # rough width of one character of 12-unit system-ui text, to lay out legends

Number = int | Decimal
_V = TypeVar("_V")


# --- drawing ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Plot:
    """The plotting area inside the viewBox; labels go in the margins around it."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True, slots=True)
class _Scale:
    """Maps a value from 0..``top`` onto ``start``..``end`` (SVG coordinates)."""

    start: float
    end: float
    top: Number | float

    def __call__(self, value: Number | float) -> float:
        return self.start + (self.end - self.start) * float(value) / float(self.top)


def _c(value: float) -> str:
    return f"{value:.1f}"


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_c(x)},{_c(y)}" for x, y in points)


def _ticks(top: Decimal, *, least: Decimal, count: int = 5) -> list[Decimal]:
    """Round axis values from 0 to at least ``top``, in steps of 1, 2 or 5 times a power
    of ten (never finer than ``least``, the smallest step the labels can show)."""
    raw = max(top / count, least)
    magnitude = Decimal(1).scaleb(raw.adjusted())
    step = next(magnitude * m for m in (1, 2, 5, 10) if magnitude * m >= raw)
    steps = max(1, int((top / step).to_integral_value(rounding=ROUND_CEILING)))
    return [step * i for i in range(steps + 1)]


def _el(tag: str, text: str | None = None, **attrs: object) -> SafeString:
    """One SVG element, every attribute value and the text escaped. ``class_`` is
    ``class``, ``stroke_width`` is ``stroke-width``; floats are coordinates (one decimal)."""
    pairs = ((k.rstrip("_").replace("_", "-"), _c(v) if isinstance(v, float) else v) for k, v in attrs.items())
    attributes = format_html_join("", ' {}="{}"', pairs)
    if text is None:
        return format_html("<{}{}/>", tag, attributes)
    return format_html("<{}{}>{}</{}>", tag, attributes, text, tag)


def _text(x: float, y: float, text: str, *, anchor: str = "start", cls: str = "solar-label") -> SafeString:
    return _el("text", text, class_=cls, x=x, y=y, text_anchor=anchor, fill="currentColor")


def _line(x1: float, y1: float, x2: float, y2: float, *, cls: str, opacity: str) -> SafeString:
    return _el("line", class_=cls, x1=x1, y1=y1, x2=x2, y2=y2, stroke="currentColor", stroke_opacity=opacity)


def _polyline(points: Sequence[tuple[float, float]], *, cls: str, colour: str, dashed: bool, **data: str) -> SafeString:
    """A series line; ``data`` (``data_corners=...``) carries the exact values drawn."""
    dash = {"stroke_dasharray": "6 3"} if dashed else {}
    return _el(
        "polyline", class_=cls, points=_points(points), fill="none", stroke=colour, stroke_width="2.5", **dash, **data
    )


def _rect(x: float, y: float, w: float, h: float, *, cls: str, colour: str, data: str, **extra: str) -> SafeString:
    return _el("rect", class_=cls, x=x, y=y, width=max(w, 0.5), height=h, fill=colour, data_value=data, **extra)


def _y_grid(plot: _Plot, y: _Scale, ticks: list[Decimal], label: Callable[[Decimal], str]) -> list[str]:
    """Faint horizontal lines at the round values, labelled on the left, and the baseline."""
    parts: list[str] = []
    for tick in ticks:
        at = y(tick)
        parts.append(_line(plot.left, at, plot.right, at, cls="solar-grid", opacity="0.15"))
        parts.append(_text(plot.left - 5, at + 4, label(tick), anchor="end", cls="solar-tick"))
    parts.append(_line(plot.left, plot.bottom, plot.right, plot.bottom, cls="solar-axis", opacity="0.6"))
    return parts


def _legend(entries: list[tuple[str, str, str, bool]], *, top: float) -> tuple[list[str], float]:
    """Swatch and label for each (label, "line" or "box", colour, dashed), wrapped onto
    more rows on a narrow chart; returns the parts and the y below the last row."""
    parts: list[str] = []
    x, y = 8.0, top + _LINE - 4
    for label, kind, colour, dashed in entries:
        width = 24 + len(label) * _CHAR
        if x > 8 and x + width > WIDTH - 4:
            x, y = 8.0, y + _LINE
        if kind == "line":
            parts.append(
                _polyline([(x, y - 4), (x + 16, y - 4)], cls="solar-legend-swatch", colour=colour, dashed=dashed)
            )
        else:
            parts.append(_el("rect", x=x + 2, y=y - 9, width="12", height="10", fill=colour))
        parts.append(_text(x + 21, y, label, cls="solar-legend"))
        x += width + 14
    return parts, y + 8


def _time_labels(plot: _Plot, at: Callable[[datetime], float], start: datetime, end: datetime, tz: tzinfo) -> list[str]:
    """HH:MM in ``tz`` at whole hours every 1, 2, 3, 4, 6, 12 or 24 hours, four or five
    labels at most (quarter hours are walked in UTC, so DST and half-hour zones hold)."""
    hours = (end - start) / timedelta(hours=1)
    every = next((h for h in (1, 2, 3, 4, 6, 12) if hours / h <= 5), 24)
    moment = start.astimezone(UTC).replace(second=0, microsecond=0)
    moment -= timedelta(minutes=moment.minute % 15)
    parts: list[str] = []
    while moment <= end:
        local = moment.astimezone(tz)
        if moment >= start and local.minute == 0 and local.hour % every == 0:
            x = at(moment)
            parts.append(_line(x, plot.bottom, x, plot.bottom + 4, cls="solar-axis", opacity="0.6"))
            parts.append(_text(x, plot.bottom + _LINE, f"{local:%H:%M}", anchor="middle", cls="solar-tick"))
        moment += timedelta(minutes=15)
    return parts


def _interval(starts: list[datetime]) -> timedelta:
    """The length of one slot or reading: the smallest step between starts (15 minutes
    when there is only one)."""
    steps = [later - earlier for earlier, later in pairwise(starts) if later > earlier]
    return min(steps, default=timedelta(minutes=15))


def _runs(rows: list[tuple[datetime, _V | None]], width: timedelta) -> list[list[tuple[datetime, _V]]]:
    """Split into runs of back-to-back intervals with a value: a missing interval or a
    None (not traded) leaves a gap in the line rather than a made-up slope across it."""
    runs: list[list[tuple[datetime, _V]]] = []
    previous: datetime | None = None
    for start, value in rows:
        if value is None:
            previous = None
            continue
        if previous is None or start - previous != width:
            runs.append([])
        runs[-1].append((start, value))
        previous = start
    return runs


def _svg(*, kind: str, title: str, desc: str, parts: list[str], height: float) -> str:
    """The chart's frame: named by its title, described by its desc, sized by viewBox."""
    ident = "solar-" + kind + "-" + hashlib.sha256(f"{kind}\n{title}\n{desc}".encode()).hexdigest()[:10]
    head = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="solar-chart solar-chart-{}" viewBox="0 0 {} {}" width="100%" '
        'role="img" aria-labelledby="{}-title {}-desc" font-family="{}" font-size="{}">',
        kind,
        WIDTH,
        round(height),
        ident,
        ident,
        "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
        _FONT_SIZE,
    )
    head += _el("title", title, id=f"{ident}-title") + _el("desc", desc, id=f"{ident}-desc")
    return mark_safe(head + "".join(parts) + "</svg>")  # noqa: S308 - every part was built by format_html


def _empty(message: str) -> str:
    """A sentence in place of a chart with nothing to draw."""
    return format_html('<p class="solar-chart-empty">{}</p>', message)
