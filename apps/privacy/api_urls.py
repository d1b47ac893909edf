"""API routes of "Download my data" (under /api/v1/)."""

from django.urls import path

from .api_export import ExportDownloadView, ExportView

urlpatterns = [
    path("me/export/", ExportView.as_view(), name="me-export"),
    path("me/export/<id:pk>/download/", ExportDownloadView.as_view(), name="me-export-download"),
]
