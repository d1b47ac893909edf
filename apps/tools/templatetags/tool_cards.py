"""Template tags of the tool lists.

{% load tool_cards %}
{% tool_thumb tool %}    the first photo's thumbnail, or the "No photo yet" tile
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def tool_thumb(tool) -> str:
    """The markup of tools/_photo_thumb.html for the tool's first (prefetched) photo, built
    in Python: a list shows one per card, and an include costs a template render each
    (24 per browse page, issue 17). The template stays the reference; tests compare them."""
    photo = next(iter(tool.photos.all()), None)
    if photo is None:
        return format_html(
            '<div class="tool-thumb tool-thumb-empty" aria-hidden="true"><span>{}</span></div>\n',
            gettext("No photo yet"),
        )
    return format_html(
        '<img src="{}" alt="{}" width="480" height="360" loading="lazy" class="tool-thumb">\n',
        photo.thumbnail.url,
        photo.alt_text,
    )
