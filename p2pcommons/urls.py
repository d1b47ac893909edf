"""Top-level URLs: the site, accounts, the admin and the versioned REST API."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views
from .converters import IdConverter

register_converter(IdConverter, "id")

admin.site.site_header = "p2pcommons organizers"
admin.site.site_title = "p2pcommons admin"
admin.site.index_title = "Moderation and community settings"

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include("p2pcommons.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("ledger/", include("apps.ledger.urls")),
    path("reviews/", include("apps.reputation.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("moderation/", include("apps.moderation.urls")),
    path("tools/", include("apps.tools.urls")),
    path("skills/", include("apps.skills.urls")),
    path("", include("apps.peers.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", views.media, name="media"),
    ]
