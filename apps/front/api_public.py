"""API: blueprints with their live figures; a community starting or stopping an exchange."""

urlpatterns: list = []
