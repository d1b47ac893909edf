"""Pages for visitors: home, guide, blueprints."""

from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:  # replaced by the front-public helper
    return HttpResponse("home")


def guide(request: HttpRequest) -> HttpResponse:
    return HttpResponse("guide")


def blueprint_detail(request: HttpRequest, key: str) -> HttpResponse:
    return HttpResponse(key)


def blueprint_use(request: HttpRequest, key: str) -> HttpResponse:
    return HttpResponse(key)
