"""The site's URLs plus the bare baseline views of bench/baseline.py (bench settings only)."""

from django.urls import include, path

urlpatterns = [
    path("", include("p2pcommons.urls")),
]

try:  # bench/baseline.py adds the bare views the API lists are compared with
    from bench.baseline import urlpatterns as _baseline
except ImportError:  # pragma: no cover - before bench/baseline.py exists
    _baseline = []
urlpatterns = [*_baseline, *urlpatterns]
