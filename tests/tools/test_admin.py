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


def test_an_organizer_hides_and_restores_a_listing_with_a_reason(web_as, organizer, tool, owner):
    from apps.moderation.models import ModerationAction
    from apps.tools.models import Tool

    client = web_as(organizer)
    url = reverse("admin:tools_tool_changelist")
    confirm = client.post(url, {"action": "hide_listings", "_selected_action": [tool.pk]})
    assert confirm.status_code == 200 and b"reason" in confirm.content  # the form first, nothing hidden yet
    assert not Tool.objects.get(pk=tool.pk).is_hidden
    client.post(url, {"action": "hide_listings", "_selected_action": [tool.pk], "apply": "1", "reason": "Weapon"})
    assert Tool.objects.get(pk=tool.pk).is_hidden
    assert ModerationAction.objects.filter(action="hide", actor=organizer).count() == 1
    client.post(url, {"action": "restore_listings", "_selected_action": [tool.pk], "apply": "1", "reason": "Fine"})
    assert not Tool.objects.get(pk=tool.pk).is_hidden


def test_the_waitlist_admin_is_scoped_and_read_only(web_as, organizer, tool, member, other_community):
    from datetime import timedelta

    from django.utils import timezone

    from apps.tools.models import WaitlistEntry

    outsider = MembershipFactory(community=other_community).user
    other_tool = ToolFactory(owner=outsider, community=other_community, title="Riverside ladder")
    start = timezone.now() + timedelta(days=2)
    mine = WaitlistEntry.objects.create(tool=tool, member=member, starts_at=start, ends_at=start + timedelta(1))
    WaitlistEntry.objects.create(tool=other_tool, member=outsider, starts_at=start, ends_at=start + timedelta(1))
    page = web_as(organizer).get(reverse("admin:tools_waitlistentry_changelist")).content.decode()
    assert "Cordless drill" in page and "Riverside ladder" not in page
    web_as(organizer).post(reverse("admin:tools_waitlistentry_change", args=[mine.pk]), {"status": "booked"})
    mine.refresh_from_db()
    assert mine.status == "waiting"


def test_the_fee_fixed_on_a_loan_is_shown_in_the_admin_and_cannot_be_changed_there(web_as, organizer, tool, member):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from apps.tools import services

    services.tool_update(tool=tool, actor=tool.owner, fee_per_day=Decimal("1.25"))
    start = timezone.now() + timedelta(days=2)
    loan = services.reservation_request(tool=tool, borrower=member, starts_at=start, ends_at=start + timedelta(days=2))
    url = reverse("admin:tools_reservation_change", args=[loan.pk])
    page = web_as(organizer).get(url).content.decode()
    assert "2.50" in page and "1.25" in page
    web_as(organizer).post(url, {"fee_total": "99.00", "fee_per_day": "50.00", "status": "approved"})
    loan.refresh_from_db()
    assert (loan.fee_per_day, loan.fee_total, loan.status) == (Decimal("1.25"), Decimal("2.50"), "requested")
