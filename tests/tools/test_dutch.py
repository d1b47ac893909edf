"""Tool sharing in Dutch: a member whose browser asks for Dutch reads the tool pages,
refusals, form errors and notifications in Dutch, and times in the community's zone."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from apps.notifications.models import Notification
from apps.tools import services
from apps.tools.factories import ReservationFactory
from apps.tools.forms import ToolFilterForm
from p2pcommons.i18n import Message

pytestmark = pytest.mark.django_db

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def test_the_tool_list_reads_in_dutch(web_as, tool, member):
    page = html(web_as(member).get(reverse("tools:list"), **NL))
    assert "Gereedschap lenen" in page and "Borrow a tool" not in page
    assert "1 stuk gereedschap" in page
    assert "Alle categorieën" in page  # a form's empty label


def test_the_tool_page_reads_in_dutch_and_in_the_communitys_zone(web_as, tool, member, community):
    community.time_zone = "America/New_York"
    community.save()
    page = html(web_as(member).get(reverse("tools:detail", args=[tool.pk]), **NL))
    assert "Over dit gereedschap" in page and "About this tool" not in page
    assert "Beschikbaarheid" in page and "Vraag om te lenen" in page
    assert "Tijden zijn in America/New_York." in page


def test_the_loan_page_reads_in_dutch(web_as, tool, member):
    start = timezone.now() + timedelta(days=2)
    loan = ReservationFactory(tool=tool, borrower=member, starts_at=start, ends_at=start + timedelta(days=1))
    page = html(web_as(tool.owner).get(reverse("tools:loan", args=[loan.pk]), **NL))
    assert "Uitlening van Cordless drill" in page and "Loan of Cordless drill" not in page
    assert "Goedkeuren" in page and "Weigeren" in page  # the buttons of the declared steps


def test_a_refusal_reads_in_dutch(web_as, tool, owner):
    start = timezone.now() + timedelta(days=2)
    data = {"starts_at": local(start), "ends_at": local(start + timedelta(days=1)), "message": ""}
    page = html(web_as(owner).post(reverse("tools:book", args=[tool.pk]), data, **NL))
    assert "Je kunt je eigen gereedschap niet lenen." in page
    assert "borrow your own tool" not in page


def test_a_form_error_reads_in_dutch(member):
    with translation.override("nl"):
        form = ToolFilterForm({"available_from": "2030-01-01T10:00"}, user=member, has_location=False)
        assert not form.is_valid()
        assert form.errors["available_to"] == ["Geef zowel het begin als het einde van de periode."]


def test_a_notification_is_stored_in_english_and_read_in_dutch(tool, member):
    start = timezone.now() + timedelta(days=2)
    services.reservation_request(tool=tool, borrower=member, starts_at=start, ends_at=start + timedelta(days=1))
    note = Notification.objects.get(recipient=tool.owner, kind="tools.requested")
    assert note.text == "Max Member asks to borrow Cordless drill"
    with translation.override("nl"):
        assert note.display == "Max Member vraagt Cordless drill te lenen"
        assert str(Message("{name} cancelled the loan of {tool}", name="Max", tool="Drill")) == (
            "Max heeft de uitlening van Drill geannuleerd"
        )
