import pytest
from django.urls import reverse

from apps.peers.factories import MembershipFactory
from apps.tools.factories import ReservationFactory, ToolFactory

pytestmark = pytest.mark.django_db


def test_an_organizer_sees_only_their_communitys_tools_and_loans(web_as, organizer, tool, member, other_community):
    outsider = MembershipFactory(community=other_community).user
    other_tool = ToolFactory(owner=outsider, community=other_community, title="Riverside ladder")
    ReservationFactory(tool=tool, borrower=member)
    client = web_as(organizer)
    tools = client.get(reverse("admin:tools_tool_changelist")).content.decode()
    assert "Cordless drill" in tools and "Riverside ladder" not in tools
    loans = client.get(reverse("admin:tools_reservation_changelist")).content.decode()
    assert "Max Member" in loans
    response = client.get(reverse("admin:tools_tool_change", args=[other_tool.pk]))
    assert response.status_code == 302


def test_an_organizer_can_pause_a_tool_but_not_rewrite_it(web_as, organizer, tool):
    url = reverse("admin:tools_tool_change", args=[tool.pk])
    web_as(organizer).post(url, {"status": "paused", "title": "Hacked"})
    tool.refresh_from_db()
    assert (tool.status, tool.title) == ("paused", "Cordless drill")
