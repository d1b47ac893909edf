"""Cross-exchange suggestions on the pages where they help.

    {% load suggestions %}
    {% suggestions_for_user %}            the dashboard: the member's latest few
    {% suggestions_for_source listing %}  a skill request's page, a page of waitlist
                                          entries, a challenge's project board

Both show only the signed-in member's own suggestions (``request.user``), still holding
(``apps.front.selectors``), each with its reason and a "Dismiss" button that comes back
to the page; with none, they render nothing.
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from .. import selectors

register = template.Library()
TEMPLATE = "front/_suggestions.html"


def _shown(context, suggestions: list, heading: str) -> dict:
    request = context.get("request")
    return {
        "suggestions": suggestions,
        "heading": heading,
        "next": request.get_full_path() if request is not None else "",
    }


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag(TEMPLATE, takes_context=True)
def suggestions_for_user(context, limit: int = selectors.DEFAULT_LIMIT) -> dict:
    """The member's latest suggestions across the exchanges (the dashboard)."""
    user = _user(context)
    found = selectors.suggestions_for(user, limit=limit) if user is not None else []
    return _shown(context, found, _("Suggested for you"))


@register.inclusion_tag(TEMPLATE, takes_context=True)
def suggestions_for_source(context, source, limit: int = selectors.DEFAULT_LIMIT) -> dict:
    """The member's suggestions about what this page shows (an object, or a list of them)."""
    user = _user(context)
    found = selectors.suggestions_about(user, source, limit=limit) if user is not None and source else []
    return _shown(context, found, _("Suggestions for you"))
