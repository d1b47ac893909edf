"""The project's URLs plus one view under /api/ that crashes, for the 500 test."""

from django.urls import path

from p2pcommons.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def crash(request):
    raise RuntimeError("boom")


urlpatterns = [path("api/v1/crash/", crash), path("pages/crash/", crash), *urlpatterns]
