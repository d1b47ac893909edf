from django.urls import path

from . import views
from .views import member, public, suggestions

app_name = "front"

urlpatterns = [
    path("", views.home, name="home"),
    path("guide/", public.guide, name="guide"),
    path("blueprints/<slug:key>/", public.blueprint_detail, name="blueprint"),
    path("blueprints/<slug:key>/use/", public.blueprint_use, name="blueprint-use"),
    path("search/", member.search, name="search"),
    path("suggestions/<id:suggestion_id>/dismiss/", suggestions.dismiss, name="suggestion-dismiss"),
]
