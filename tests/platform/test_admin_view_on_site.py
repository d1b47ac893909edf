"""The admin's "view on site" shortcut confirms nothing beyond what the staff member may see."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from apps.peers.factories import MembershipFactory, UserFactory
from apps.peers.models import User
from apps.tools.factories import ToolFactory
from apps.tools.models import Tool

pytestmark = pytest.mark.django_db


def shortcut(model, pk) -> str:
    return f"/admin/r/{ContentType.objects.get_for_model(model).pk}/{pk}/"


def test_an_organizer_cannot_learn_that_another_communitys_tool_exists(web_as, organizer, other_community):
    elsewhere = ToolFactory(community=other_community, owner=MembershipFactory(community=other_community).user)
    client = web_as(organizer)
    assert client.get(shortcut(Tool, elsewhere.pk)).status_code == 404
    assert client.get(shortcut(Tool, 999_999)).status_code == 404


def test_an_organizer_cannot_probe_members_through_the_user_model(web_as, organizer, other_community):
    stranger = MembershipFactory(community=other_community).user
    assert web_as(organizer).get(shortcut(User, stranger.pk)).status_code == 404


def test_an_organizer_is_taken_to_a_tool_of_their_own_community(web_as, organizer, community, owner):
    tool = ToolFactory(community=community, owner=owner)
    response = web_as(organizer).get(shortcut(Tool, tool.pk))
    assert response.status_code == 302
    assert response["Location"].endswith(tool.get_absolute_url())


def test_a_superuser_is_taken_to_any_tool(client, other_community):
    tool = ToolFactory(community=other_community)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(shortcut(Tool, tool.pk))
    assert response.status_code == 302
    assert response["Location"].endswith(tool.get_absolute_url())


@pytest.mark.parametrize("path", ["/admin/r/abc/1/", "/admin/r/99999999/1/", "/admin/r/1/%C2%B2/"])
def test_malformed_shortcuts_are_a_plain_404(client, path):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(path).status_code == 404


def test_a_member_who_is_not_staff_is_sent_to_the_admin_login(web_as, member, owner, community):
    tool = ToolFactory(community=community, owner=owner)
    response = web_as(member).get(shortcut(Tool, tool.pk))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
