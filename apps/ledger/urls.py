from django.urls import path

from . import log_views, views

app_name = "ledger"

urlpatterns = [
    path("", views.my_balance, name="mine"),
    path("c/<slug:slug>/", views.community_ledger, name="community"),
    path("c/<slug:slug>/entry/<id:seq>/", log_views.entry_proof, name="entry-proof"),
]
