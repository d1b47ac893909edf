"""The server-to-server protocol: WebFinger, NodeInfo, actors, inboxes and outboxes (ActivityPub)."""

from django.urls import path

from . import views_ap

app_name = "activitypub"

urlpatterns = [
    path(".well-known/webfinger", views_ap.webfinger, name="webfinger"),
    path(".well-known/nodeinfo", views_ap.nodeinfo_index, name="nodeinfo-index"),
    path("nodeinfo/2.1", views_ap.nodeinfo, name="nodeinfo"),
    path("federation/inbox", views_ap.shared_inbox, name="shared-inbox"),
    path("federation/p/<uuid:handle>", views_ap.person, name="person"),
    path("federation/c/<slug:slug>", views_ap.actor, name="actor"),
    path("federation/c/<slug:slug>/inbox", views_ap.inbox, name="inbox"),
    path("federation/c/<slug:slug>/outbox", views_ap.outbox, name="outbox"),
    path("federation/c/<slug:slug>/followers", views_ap.followers, name="followers"),
    path("federation/c/<slug:slug>/following", views_ap.following, name="following"),
    path("federation/c/<slug:slug>/clearing", views_ap.clearing, name="clearing"),
    path("federation/c/<slug:slug>/listings/<slug:kind>/<id:pk>", views_ap.listing, name="listing"),
]
