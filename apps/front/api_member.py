"""API: unified search and the member's dashboard."""

urlpatterns: list = []
