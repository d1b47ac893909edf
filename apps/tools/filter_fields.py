"""The browse page's filter fields as HTML, cached while no filter is set."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from apps.peers.selectors import member_community_ids

from . import selectors
from .forms import ToolFilterForm

FILTER_FIELDS_TTL = 600


def filter_fields_html(request: HttpRequest, form: ToolFilterForm, *, cacheable: bool) -> str:
    """The browse filter's six fields as HTML. Rendering them costs 5-15 ms (a template per
    widget and per option) on every browse page; with no filter set they read the same for
    everyone with the same communities, language and location setting, so they are cached
    under those, and dropped when a category or a community changes (signals in
    apps.tools.apps). The community choices are then not queried either."""
    if not cacheable:
        return _render_filter_fields(form)
    key = ":".join(
        [
            f"tools:filter-fields:{selectors.filter_fields_generation()}",
            translation.get_language() or "",
            str(int(form.has_location)),
            ",".join(map(str, member_community_ids(user=request.user))),
        ]
    )
    html = cache.get(key)
    if html is None:
        html = _render_filter_fields(form)
        cache.set(key, html, FILTER_FIELDS_TTL)
    return mark_safe(html)  # noqa: S308 - rendered by our own template, escaped there


def _render_filter_fields(form: ToolFilterForm) -> str:
    return mark_safe(render_to_string("tools/_filter_fields.html", {"form": form}).strip())  # noqa: S308
