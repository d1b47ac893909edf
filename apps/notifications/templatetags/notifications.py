from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    """The nav bell with the unread count (one COUNT query)."""
    return {"unread": selectors.unread_count(user=context["request"].user)}
