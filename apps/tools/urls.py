from django.urls import path

from . import views

app_name = "tools"

urlpatterns = [
    path("", views.tool_list, name="list"),
    path("new/", views.tool_create, name="create"),
    path("mine/", views.my_tools, name="mine"),
    path("loans/", views.my_loans, name="loans"),
    path("requests/", views.owner_requests, name="requests"),
    path("waitlist/", views.waitlist_list, name="waitlist"),
    path("waitlist/<id:pk>/accept/", views.waitlist_accept, name="waitlist-accept"),
    path("waitlist/<id:pk>/withdraw/", views.waitlist_withdraw, name="waitlist-withdraw"),
    path("loans/<id:pk>/", views.loan_detail, name="loan"),
    path("loans/<id:pk>/condition/", views.loan_condition, name="loan-condition"),
    path("loans/<id:pk>/<slug:action>/", views.loan_transition, name="loan-action"),
    path("<id:pk>/", views.tool_detail, name="detail"),
    path("<id:pk>/book/", views.tool_book, name="book"),
    path("<id:pk>/waitlist/", views.waitlist_join, name="waitlist-join"),
    path("<id:pk>/edit/", views.tool_edit, name="edit"),
    path("<id:pk>/pause/", views.tool_pause, name="pause"),
    path("<id:pk>/resume/", views.tool_resume, name="resume"),
    path("<id:pk>/retire/", views.tool_retire, name="retire"),
    path("<id:pk>/photos/", views.tool_photos, name="photos"),
    path("<id:pk>/photos/<id:photo_id>/remove/", views.photo_remove, name="photo-remove"),
]
