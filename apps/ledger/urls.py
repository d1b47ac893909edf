from django.urls import path

from . import views

app_name = "ledger"

urlpatterns = [
    path("", views.my_balance, name="mine"),
    path("c/<slug:slug>/", views.community_ledger, name="community"),
]
