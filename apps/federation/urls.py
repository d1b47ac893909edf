"""The federation's pages for neighbours and organizers (mounted at /neighbours/)."""

from django.urls import path

from . import views

app_name = "federation"

urlpatterns = [
    path("me/", views.me, name="me"),
    path("exchanges/", views.exchanges, name="exchanges"),
    path("exchanges/<id:pk>/cancel/", views.exchange_cancel, name="exchange-cancel"),
    path("exchanges/<id:pk>/pickup/", views.exchange_pickup, name="exchange-pickup"),
    path("listings/", views.listings, name="listings"),
    path("listings/<id:pk>/", views.listing_detail, name="listing"),
    path("listings/<id:pk>/borrow/", views.listing_borrow, name="listing-borrow"),
    path("c/<slug:slug>/", views.community_page, name="community"),
    path("c/<slug:slug>/on/", views.federation_on, name="on"),
    path("c/<slug:slug>/off/", views.federation_off, name="off"),
    path("c/<slug:slug>/follow/", views.follow, name="follow"),
    path("c/<slug:slug>/follows/<id:pk>/accept/", views.follow_accept, name="follow-accept"),
    path("c/<slug:slug>/follows/<id:pk>/reject/", views.follow_reject, name="follow-reject"),
    path("c/<slug:slug>/follows/<id:pk>/end/", views.follow_end, name="follow-end"),
    path("c/<slug:slug>/limit/", views.set_limit, name="limit"),
]
