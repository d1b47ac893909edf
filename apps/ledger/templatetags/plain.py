"""Template filters for writing amounts and moments for people (see p2pcommons.humanize).

    {% load plain %}
    {{ entry.amount|amount:entry.account.currency }}   -> "1.50 hours"
    {{ entry.amount|signed_amount:"CREDIT" }}           -> "+3 credits"
    {{ session.starts_at|when }}                        -> "Tuesday 24 November 2026, 10:00"
    {{ session.starts_at|when_short }}                  -> "Tue 24 Nov, 10:00"
    {% page_query page.next_page_number "offers_page" %}  -> "?q=bike&offers_page=3"
    {{ n.created_at|ago }}                              -> "just now" / "5 minutes ago"
    {{ session|place_for:user }}                        -> "At Max's place" / "At your place"

The library lives in apps.ledger only because Django loads template libraries from
installed apps; the formatting itself is p2pcommons.humanize, shared by every app.
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from p2pcommons import humanize

register = template.Library()


@register.filter
def amount(value, currency: str) -> str:
    if value is None or value == "":
        return ""
    return humanize.format_amount(value, currency)


@register.filter
def signed_amount(value, currency: str) -> str:
    if value is None or value == "":
        return ""
    return humanize.format_amount(value, currency, signed=True)


@register.filter
def when(value) -> str:
    return humanize.format_when(value) if value else ""


@register.filter
def when_short(value) -> str:
    return humanize.format_when_short(value) if value else ""


@register.filter
def ago(value) -> str:
    return humanize.format_ago(value) if value else ""


@register.simple_tag(takes_context=True)
def page_query(context, number, param: str = "page") -> str:
    """``?<this page's query>`` with ``param`` set to ``number``: a pager link that keeps
    the search and filters (``_pagination.html``; ``param`` when one page has two pagers)."""
    query = context["request"].GET.copy()
    query[param or "page"] = number
    return f"?{query.urlencode()}"


@register.filter
def place_for(session, user) -> str:
    """A session's place as the viewer should read it (its author is who proposed it)."""
    author = session.proposed_by
    return humanize.place_for(
        session.place,
        author_name=author.public_name if author else _("the organizer"),
        viewer_is_author=bool(author and user and author.pk == user.pk),
    )
