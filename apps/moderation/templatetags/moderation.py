"""Template tags for reporting content and members.

{% load moderation %}
{% report_button obj %}     a "Report" disclosure with a small form (reason + text) that
                            posts to /moderation/report/; shown to signed-in members who
                            are not its author. Free for content; for a member, one query
                            (the communities the viewer could report them in).
"""

from __future__ import annotations

from django import template
from django.db.models import Model

from .. import registry, selectors
from ..forms import ReportForm
from ..services import noun_of

register = template.Library()


def _author_pk(kind: registry.ModeratableType, obj: Model) -> int | None:
    if kind.is_member:
        return obj.pk
    if "__" not in kind.author:
        return getattr(obj, f"{kind.author}_id", None)
    author = kind.author_of(obj)
    return author.pk if author is not None else None


@register.inclusion_tag("moderation/_report_button.html", takes_context=True)
def report_button(context: template.Context, obj: Model) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    kind = registry.moderatable_type_of(obj)
    if user is None or not user.is_authenticated or _author_pk(kind, obj) == user.pk:
        return {"show": False}
    communities = list(selectors.shared_communities(user=user, other=obj)) if kind.is_member else None
    if communities == []:
        return {"show": False}
    form = ReportForm(
        initial={"target_type": kind.key, "target_id": obj.pk, "next": request.get_full_path()},
        communities=communities,
        auto_id=f"report-{kind.key.replace('.', '-')}-{obj.pk}-%s",
    )
    return {"show": True, "form": form, "noun": noun_of(kind), "obj": obj, "csrf_token": context.get("csrf_token")}
