"""Loan reminders: due ones go out once, however often the task runs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.notifications.models import Notification
from apps.tools import services
from apps.tools.factories import ReservationFactory
from apps.tools.tasks import expire_unpicked_loans, send_loan_reminders

pytestmark = pytest.mark.django_db


def texts(user):
    return sorted(Notification.objects.filter(recipient=user, kind="tools.reminder").values_list("text", flat=True))


def test_pickup_and_return_reminders_go_out_once(tool, member, organizer):
    now = timezone.now()
    ReservationFactory(
        tool=tool,
        borrower=member,
        status="approved",
        starts_at=now + timedelta(hours=20),
        ends_at=now + timedelta(hours=30),
    )
    ReservationFactory(
        tool=tool,
        borrower=organizer,
        status="picked_up",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(hours=5),
    )
    assert send_loan_reminders.delay().get() == 2
    assert send_loan_reminders.delay().get() == 0
    assert [t.split(":")[0] for t in texts(member)] == ["Pickup of Cordless drill from Olive Owner"]
    assert [t.split(":")[0] for t in texts(organizer)] == ["Cordless drill is due back to Olive Owner"]


def test_an_overdue_loan_reminds_the_borrower_then_the_owner_and_organizers(tool, member, owner, organizer):
    now = timezone.now()
    loan = ReservationFactory(
        tool=tool,
        borrower=member,
        status="picked_up",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(hours=1),
    )
    services.reminders_send(now=now)
    assert len(texts(member)) == 1 and texts(owner) == []
    services.reminders_send(now=loan.ends_at + timedelta(days=2, minutes=1))
    services.reminders_send(now=loan.ends_at + timedelta(days=3))
    assert texts(owner) == texts(organizer) == ["Cordless drill lent to Max Member is more than 2 days overdue."]
    assert len(texts(member)) == 1


def test_returned_or_cancelled_loans_get_no_reminders(tool, member):
    now = timezone.now()
    ReservationFactory(
        tool=tool,
        borrower=member,
        status="returned",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=1),
    )
    ReservationFactory(
        tool=tool,
        borrower=member,
        status="cancelled",
        starts_at=now + timedelta(hours=3),
        ends_at=now + timedelta(hours=9),
    )
    assert services.reminders_send(now=now) == 0


def test_the_expiry_task_expires_unpicked_loans_once(tool, member):
    loan = ReservationFactory(
        tool=tool,
        borrower=member,
        status="approved",
        starts_at=timezone.now() - services.PICKUP_GRACE - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=5),
    )
    assert expire_unpicked_loans.delay().get() == 1
    assert expire_unpicked_loans.delay().get() == 0
    loan.refresh_from_db()
    assert loan.status == "expired"
