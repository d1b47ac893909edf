from django.urls import path

from . import views

app_name = "reputation"

urlpatterns = [
    path("new/<str:exchange_type>/<id:exchange_id>/", views.review_create, name="review-create"),
]
