"""The results chart: one horizontal bar per design, drawn on the server as inline SVG
(no JavaScript, no inline style: the site's CSP allows none), in the manner of
``apps/solar/charts.py``: ``role="img"`` named by its ``<title>`` and described in
words by its ``<desc>``; a ``viewBox`` with ``width="100%"`` so it shrinks to a 360 px
phone. The page shows the same numbers in a table too. Winners are drawn in the
primary blue and marked with a check in their label, so they differ without colour."""

from __future__ import annotations

import hashlib

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WIDTH = 360
ROW = 38
LEFT = 8
RIGHT = WIDTH - 44  # room for the count after the longest bar
BLUE = "#2563eb"
GREY = "#64748b"


def _el(tag: str, text: str | None = None, **attrs: object) -> SafeString:
    pairs = ((k.rstrip("_").replace("_", "-"), f"{v:.1f}" if isinstance(v, float) else v) for k, v in attrs.items())
    attributes = format_html_join("", ' {}="{}"', pairs)
    if text is None:
        return format_html("<{}{}/>", tag, attributes)
    return format_html("<{}{}>{}</{}>", tag, attributes, text, tag)


def _short(text: str, most: int = 48) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _describe(name: str, votes: int, won: bool, unit: str) -> str:
    """One design in words: "Bench: 3 dots, wins"."""
    values = {"name": name, "votes": votes}
    if unit == "approval":
        text = ngettext("%(name)s: %(votes)s approval", "%(name)s: %(votes)s approvals", votes) % values
    else:
        text = ngettext("%(name)s: %(votes)s dot", "%(name)s: %(votes)s dots", votes) % values
    return _("%(design)s, wins") % {"design": text} if won else text


def results_svg(*, rows: list[tuple[str, int, bool]], title: str, unit: str) -> str:
    """``rows``: (design title, votes, won), best first; ``unit``: "dot" or "approval"."""
    if not rows:
        return format_html('<p class="codesign-chart-empty">{}</p>', _("No designs were on the ballot."))
    top = max(votes for _name, votes, _won in rows) or 1
    parts = []
    for index, (name, votes, won) in enumerate(rows):
        y = 6 + index * ROW
        label = ("✓ " if won else "") + _short(name)
        parts.append(_el("text", label, x=float(LEFT), y=float(y + 11), fill="currentColor", class_="codesign-label"))
        width = (RIGHT - LEFT) * votes / top
        parts.append(
            _el(
                "rect",
                x=float(LEFT),
                y=float(y + 16),
                width=max(width, 1.0),
                height="14",
                fill=BLUE if won else GREY,
                class_="codesign-bar",
                data_value=str(votes),
            )
        )
        parts.append(
            _el(
                "text",
                str(votes),
                x=float(LEFT + width + 5),
                y=float(y + 27),
                fill="currentColor",
                class_="codesign-count",
            )
        )
    described = "; ".join(_describe(name, votes, won, unit) for name, votes, won in rows)
    height = 6 + len(rows) * ROW
    ident = "codesign-results-" + hashlib.sha256(f"{title}\n{described}".encode()).hexdigest()[:10]
    head = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="codesign-chart" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-title {}-desc" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
        'font-size="12">',
        WIDTH,
        height,
        ident,
        ident,
    )
    head += _el("title", title, id=f"{ident}-title") + _el("desc", described + ".", id=f"{ident}-desc")
    return mark_safe(head + "".join(parts) + "</svg>")  # noqa: S308 - every part was built by format_html
