"""API routes of "Download my data" and "Move house" (under /api/v1/)."""

from django.urls import path

from .api_export import ExportDownloadView, ExportView
from .api_move import MoveHouseView

urlpatterns = [
    path("me/export/", ExportView.as_view(), name="me-export"),
    path("me/export/<id:pk>/download/", ExportDownloadView.as_view(), name="me-export-download"),
    path("me/import/", MoveHouseView.as_view(), name="me-import"),
]
