"""Auto-approve: trusted, experienced borrowers are approved at once; everyone else waits for the owner."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.notifications.models import Notification
from apps.reputation.factories import TrustScoreFactory
from apps.tools import services
from apps.tools.factories import ReservationFactory, ToolFactory

pytestmark = pytest.mark.django_db


def window(days=2):
    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return {"starts_at": start, "ends_at": start + timedelta(hours=6)}


@pytest.fixture
def trusted_tool(tool):
    tool.auto_approve = True
    tool.auto_approve_min_score = Decimal("4.00")
    tool.auto_approve_min_exchanges = 2
    tool.save()
    return tool


def complete_loans(borrower, n, community):
    now = timezone.now()
    for i in range(n):
        ReservationFactory(
            tool=ToolFactory(community=community),
            borrower=borrower,
            status="returned",
            starts_at=now - timedelta(days=10 + i),
            ends_at=now - timedelta(days=9 + i),
            returned_at=now - timedelta(days=9 + i),
        )


def test_a_borrower_above_both_thresholds_is_approved_at_once(trusted_tool, member, owner, community):
    TrustScoreFactory(user=member, score=Decimal("4.50"))
    complete_loans(member, 2, community)
    reservation = services.reservation_request(tool=trusted_tool, borrower=member, **window())
    assert reservation.status == "approved"
    event = reservation.events.get(to_status="approved")
    assert event.actor is None and "trust 4.50" in event.note and "2 completed" in event.note
    assert "approved automatically" in Notification.objects.get(recipient=owner).text
    assert "approved automatically" in Notification.objects.get(recipient=member).text


@pytest.mark.parametrize(("score", "loans"), [(Decimal("3.99"), 5), (Decimal("4.80"), 1), (None, 5)])
def test_below_either_threshold_the_owner_decides(trusted_tool, member, community, score, loans):
    TrustScoreFactory(user=member, score=score)
    complete_loans(member, loans, community)
    assert services.reservation_request(tool=trusted_tool, borrower=member, **window()).status == "requested"


def test_off_by_default(tool, member, community):
    TrustScoreFactory(user=member, score=Decimal("5.00"))
    complete_loans(member, 10, community)
    assert services.reservation_request(tool=tool, borrower=member, **window()).status == "requested"
