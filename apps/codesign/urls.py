from django.urls import path

from . import views

app_name = "codesign"

urlpatterns = [
    path("", views.challenge_list, name="list"),
    path("new/", views.challenge_create, name="challenge-create"),
    path("<id:pk>/", views.challenge_detail, name="challenge"),
    path("<id:pk>/step/<slug:step>/", views.challenge_step, name="challenge-step"),
    path("<id:pk>/follow/", views.challenge_follow, name="challenge-follow"),
    path("<id:pk>/photos/", views.challenge_photo_add, name="challenge-photo-add"),
    path("<id:pk>/ideas/", views.idea_post, name="idea-post"),
    path("ideas/<id:pk>/plus-one/", views.idea_plus_one, name="idea-plus-one"),
    path("<id:pk>/proposals/", views.proposal_gallery, name="proposals"),
    path("<id:pk>/proposals/new/", views.proposal_create, name="proposal-create"),
    path("proposals/<id:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<id:pk>/edit/", views.proposal_edit, name="proposal-edit"),
    path("proposals/<id:pk>/photos/", views.proposal_photo_add, name="proposal-photo-add"),
    path("proposals/<id:pk>/step/<slug:step>/", views.proposal_step, name="proposal-step"),
    path("proposals/<id:pk>/answer/", views.proposal_answer, name="proposal-answer"),
    path("proposals/<id:pk>/coauthors/", views.proposal_coauthor_add, name="proposal-coauthor"),
    path("<id:pk>/comments/", views.comment_post, name="comment-post"),
    path("<id:pk>/vote/", views.ballot, name="ballot"),
    path("<id:pk>/results/", views.results, name="results"),
    path("<id:pk>/build/", views.project_board, name="board"),
    path("<id:pk>/build/tasks/new/", views.task_create, name="task-create"),
    path("<id:pk>/build/spend/", views.budget_spend, name="budget-spend"),
    path("tasks/<id:pk>/join/", views.task_join, name="task-join"),
    path("volunteers/<id:pk>/<slug:step>/", views.volunteer_step, name="volunteer-step"),
]
