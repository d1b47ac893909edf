"""Top-level URLs: the site, accounts, the admin and the versioned REST API."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from django.views.generic.base import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from . import admin_views, pwa, views
from .converters import IdConverter

register_converter(IdConverter, "id")

admin.site.site_header = "p2pcommons organizers"
admin.site.site_title = "p2pcommons admin"
admin.site.index_title = "Moderation and community settings"

# Error pages: JSON under /api/ and /_allauth/, Django's HTML pages elsewhere.
handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

# The API docs pages are the only ones allowed inline styles (Swagger UI's and ReDoc's
# own); scripts stay 'self': Swagger UI's start-up script is served as a file by the
# "split" view, and ReDoc's worker runs from a blob.
swagger_csp = csp_update({"style-src": [UNSAFE_INLINE]})
redoc_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    # Readiness: database, cache and broker (docs/operations.md).
    path("readyz/", views.readyz, name="readyz"),
    # The installable app: its service worker must be served from the root to look after
    # every page; the page it shows offline (p2pcommons/pwa.py).
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("offline/", pwa.offline, name="offline"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's, files).
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.ico", permanent=True)),
    # Before admin.site.urls, which has the unchecked version of this shortcut.
    path(
        "admin/r/<path:content_type_id>/<path:object_id>/",
        admin.site.admin_view(admin_views.view_on_site),
        name="admin-view-on-site",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include("p2pcommons.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", swagger_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    path("api/redoc/", redoc_csp(SpectacularRedocView.as_view(url_name="schema")), name="api-redoc"),
    path("ledger/", include("apps.ledger.urls")),
    # The ledger's public log protocol for witnesses and auditors (apps/ledger/wellknown.py).
    path(".well-known/p2pcommons-log/", include("apps.ledger.wellknown")),
    # ActivityPub between servers: WebFinger, NodeInfo, actors, inboxes (apps/federation).
    path("", include("apps.federation.urls_ap")),
    path("neighbours/", include("apps.federation.urls")),
    path("reviews/", include("apps.reputation.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("moderation/", include("apps.moderation.urls")),
    path("tools/", include("apps.tools.urls")),
    path("skills/", include("apps.skills.urls")),
    path("solar/", include("apps.solar.urls")),
    path("design/", include("apps.codesign.urls")),
    path("me/data/", include("apps.privacy.urls")),
    path("me/delete/", include("apps.privacy.urls_delete")),
    path("", include("apps.front.urls")),
    path("", include("apps.peers.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", views.media, name="media"),
    ]
