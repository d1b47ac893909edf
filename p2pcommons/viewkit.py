"""What every HTML view needs, once: a page of results, a refusal in words, a safe "next".

page = paginate(request, queryset, per_page=20)     # with the template "_pagination.html",
                                                    # which keeps the other query parameters
messages.error(request, refusal_text(exc))          # a RuleViolation or a ValidationError
return redirect(safe_next(request, default=reverse(...)))
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from p2pcommons.errors import RuleViolation


def paginate(request: HttpRequest, queryset: QuerySet | list, per_page: int, param: str = "page") -> Page:
    """The requested page (``?page=``, or ``param`` when one page lists two things; a page
    out of range or not a number gives the nearest page), its rows already fetched."""
    page = Paginator(queryset, per_page).get_page(request.GET.get(param))
    page.object_list = list(page.object_list)
    return page


def safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` the form came from (POST, else GET), if it points to this site;
    ``default`` otherwise, so a link can't send a member to another site."""
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def refusal_text(exc: ValidationError | RuleViolation) -> str:
    """A service's refusal as one sentence for a message on the page."""
    return str(exc) if isinstance(exc, RuleViolation) else " ".join(exc.messages)
