from django.urls import path

from . import views

app_name = "peers"

urlpatterns = [
    path("communities/", views.community_list_page, name="list"),
    path("c/<slug:slug>/", views.community_detail, name="community"),
    path("c/<slug:slug>/join/", views.community_join, name="community-join"),
    path("c/<slug:slug>/join/withdraw/", views.join_request_withdraw, name="join-request-withdraw"),
    path("c/<slug:slug>/leave/", views.community_leave, name="community-leave"),
    path("c/<slug:slug>/members/<id:membership_id>/promote/", views.member_promote, name="member-promote"),
    path("people/<id:user_id>/", views.profile_detail, name="profile"),
    path("me/", views.profile_edit, name="profile-edit"),
    path("language/", views.language_switch, name="language"),
    path("about/developers/", views.about_developers, name="about-developers"),
]
