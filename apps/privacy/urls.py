"""Pages of "Download my data" and "Move house" (mounted at /me/data/)."""

from django.urls import path

from . import views_export, views_move

app_name = "privacy"

urlpatterns = [
    path("", views_export.export_page, name="page"),
    path("status/", views_export.export_status, name="status"),
    path("prepare/", views_export.export_prepare, name="prepare"),
    path("download/<str:token>/", views_export.export_download, name="download"),
    path("move/", views_move.move_house_page, name="move"),
]
