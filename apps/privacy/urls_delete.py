"""Deleting one's account, at /me/delete/ (namespace "account_delete")."""

from django.urls import path

from . import views_delete

app_name = "account_delete"

urlpatterns = [
    path("", views_delete.delete_start, name="start"),
    path("done/", views_delete.delete_done, name="done"),
]
