"""Pages for members: dashboard, search."""

from django.http import HttpRequest, HttpResponse


def dashboard(request: HttpRequest) -> HttpResponse:  # replaced by the front-member helper
    return HttpResponse("dashboard")


def search(request: HttpRequest) -> HttpResponse:
    return HttpResponse("search")
