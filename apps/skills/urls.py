from django.urls import path

from . import views

app_name = "skills"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("mine/", views.mine, name="mine"),
    path("matches/", views.matches, name="matches"),
    path("offers/new/", views.offer_create, name="offer-create"),
    path("offers/<id:pk>/", views.offer_detail, name="offer"),
    path("offers/<id:pk>/edit/", views.offer_edit, name="offer-edit"),
    path("offers/<id:pk>/close/", views.offer_close, name="offer-close"),
    path("offers/<id:pk>/reopen/", views.offer_reopen, name="offer-reopen"),
    path("offers/<id:pk>/renew/", views.offer_renew, name="offer-renew"),
    path("requests/new/", views.request_create, name="request-create"),
    path("requests/<id:pk>/", views.request_detail, name="request"),
    path("requests/<id:pk>/edit/", views.request_edit, name="request-edit"),
    path("requests/<id:pk>/close/", views.request_close, name="request-close"),
    path("requests/<id:pk>/reopen/", views.request_reopen, name="request-reopen"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/new/", views.session_create, name="session-create"),
    path("sessions/new-group/", views.group_session_create, name="group-session-create"),
    path("sessions/<id:pk>/", views.session_detail, name="session"),
    path("sessions/<id:pk>/accept/", views.session_accept, name="session-accept"),
    path("sessions/<id:pk>/cancel/", views.session_cancel, name="session-cancel"),
    path("sessions/<id:pk>/join/", views.session_join, name="session-join"),
    path("sessions/<id:pk>/leave/", views.session_leave, name="session-leave"),
    path("sessions/<id:pk>/seats/<id:seat_pk>/confirm/", views.session_confirm, name="seat-confirm"),
    path("sessions/<id:pk>/seats/<id:seat_pk>/dispute/", views.session_dispute, name="seat-dispute"),
]
