"""API routes of "Delete my account" (under /api/v1/)."""

from django.urls import path

from .api_delete import DeleteAccountView

urlpatterns = [
    path("me/delete/", DeleteAccountView.as_view(), name="me-delete"),
]
