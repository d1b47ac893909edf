"""Pages for suggestions: dismissing one."""

from django.http import HttpRequest, HttpResponse


def dismiss(request: HttpRequest, suggestion_id: int) -> HttpResponse:  # replaced by the suggestions helper
    return HttpResponse("")
