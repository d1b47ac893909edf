"""The member API of neighbouring communities; the lead includes it in
``p2pcommons/api/urls.py`` as ``path("federation/", include("apps.federation.api_urls"))``."""

from rest_framework.routers import SimpleRouter

from .api import RemoteExchangeViewSet, RemoteListingViewSet

router = SimpleRouter()
router.register("listings", RemoteListingViewSet, basename="federation-listing")
router.register("exchanges", RemoteExchangeViewSet, basename="federation-exchange")

urlpatterns = router.urls
