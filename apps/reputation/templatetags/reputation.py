"""Template tags that show reputation wherever a member appears.

{% load reputation %}
{% trust_badge member %}          stars + count; free if the queryset did
                                  select_related("...user__trust")
{% trust_summary member %}        stars, count and completed exchanges per domain
{% revealed_reviews member %}     a page of revealed reviews the viewer may see (``?reviews_page=``),
                                  each with a "Report" button
{{ exchange|review_url }}         the review form of a registered exchange
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.core.paginator import Paginator
from django.db.models import Model
from django.urls import reverse
from django.utils.formats import localize, number_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext

from apps.peers.models import User

from .. import registry, selectors
from ..models import MAX_RATING, TrustScore

register = template.Library()
REVIEWS_PER_PAGE = 10


def _stars(score: Decimal) -> str:
    filled = int(score.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return "★" * filled + "☆" * (MAX_RATING - filled)


def _badge_context(trust: TrustScore | None) -> dict:
    if trust is None or not trust.has_ratings:
        return {"has_ratings": False}
    score = trust.rounded_score
    count = trust.rating_count
    return {
        "has_ratings": True,
        "stars": _stars(score),
        "score": score,
        "count": count,
        "label": ngettext(
            "%(score)s out of %(max)s from %(count)s review", "%(score)s out of %(max)s from %(count)s reviews", count
        )
        % {"score": number_format(score), "max": MAX_RATING, "count": count},
    }


@register.simple_tag
def trust_badge(user: User) -> str:
    """The badge as HTML built in Python: a list shows one per row, and the inclusion tag's
    template render cost about 0.9 ms each (22 ms for a page of 24 tools, issue 17). The
    markup and the translated strings are those of reputation/_trust_badge.html, which
    stays the reference (tests compare the two); numbers are localized as a template would."""
    badge = _badge_context(selectors.trust_of(user))
    if not badge["has_ratings"]:
        return format_html('<span class="badge trust-badge muted">{}</span>\n', gettext("No reviews yet"))
    return format_html(
        '<span class="badge trust-badge" role="img" aria-label="{label}" title="{label}">'
        "{stars} {score} ({count})</span>\n",  # the template file's last newline too: the same bytes
        label=badge["label"],
        stars=badge["stars"],
        score=localize(badge["score"]),
        count=localize(badge["count"]),
    )


@register.inclusion_tag("reputation/_trust_summary.html")
def trust_summary(user: User) -> dict:
    trust = selectors.trust_of(user)
    completed = trust.completed_counts if trust else dict.fromkeys(registry.DOMAINS, 0)
    return {
        **_badge_context(trust),
        "completed": [(registry.DOMAINS[domain], count) for domain, count in completed.items()],
        "completed_total": sum(completed.values()),
    }


@register.inclusion_tag("reputation/_revealed_reviews.html", takes_context=True)
def revealed_reviews(context: template.Context, user: User) -> dict:
    request = context.get("request")
    page_number = request.GET.get("reviews_page") if request is not None else None
    viewer = request.user if request is not None else None
    page = Paginator(selectors.reviews_about(user=user, viewer=viewer), REVIEWS_PER_PAGE).get_page(page_number)
    return {"page": page, "subject": user, "viewer": viewer, "request": request}


@register.filter
def review_url(exchange: Model) -> str:
    return reverse("reputation:review-create", args=[registry.exchange_type_of(exchange).key, exchange.pk])


@register.filter
def stars(rating: int) -> str:
    return _stars(Decimal(rating))
