"""What every HTML view needs, once: a page of results, a service call whose refusal is
shown in words, a safe "next".

    page = paginate(request, queryset, per_page=20)   # with "_pagination.html", which
                                                      # keeps the other query parameters
    loan = attempt(request, lambda: services.reservation_approve(...))
    if loan is REFUSED:          # the refusal is already a message (with form=: form errors)
        return redirect(...)
    return redirect(safe_next(request, default=reverse(...)))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
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


class _Refused:
    """What ``attempt`` returns when the service said no (never a service's own result)."""

    def __repr__(self) -> str:
        return "REFUSED"


REFUSED: Any = _Refused()


def attempt(request: HttpRequest, call: Callable[[], Any], *, form=None) -> Any:
    """Run one service call for a page: its result, or ``REFUSED`` when the service
    refuses (``RuleViolation``) or finds the input wrong (``ValidationError``). The
    refusal is shown where the member looks: on ``form`` (field by field, through its
    ``add_service_error``) when given, else as a message on the next page."""
    try:
        return call()
    except (ValidationError, RuleViolation) as exc:
        if form is not None:
            form.add_service_error(exc)
        else:
            messages.error(request, refusal_text(exc))
        return REFUSED
