"""The front door's pages: ``public`` (home for visitors, the guide, blueprint pages)
and ``member`` (the dashboard, unified search)."""

from django.http import HttpRequest, HttpResponse

from . import member, public


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: the member's dashboard. Signed out: the public home page."""
    if request.user.is_authenticated:
        return member.dashboard(request)
    return public.home(request)
