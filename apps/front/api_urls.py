"""The front door's API routes (under /api/v1/): blueprints and community exchanges
(``api_public``), unified search and the dashboard (``api_member``)."""

from . import api_member, api_public

urlpatterns = [*api_public.urlpatterns, *api_member.urlpatterns]
