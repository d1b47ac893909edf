"""Auto-approve: borrowers trusted by enough different, established neighbors are
approved at once; everyone else, a pair of fresh accounts trading with each other
included, waits for the owner. The rule is the reputation app's ``trust_standing``."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.notifications.models import Notification
from apps.reputation.factories import TrustScoreFactory
from apps.tools import services
from tests.tools.trust import completed_loan, established_neighbor, new_account

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


def exchanges_with_different_neighbors(borrower, n, community):
    for _ in range(n):
        completed_loan(lender=established_neighbor(community), borrower=borrower, community=community)


def test_a_borrower_above_both_thresholds_is_approved_at_once(trusted_tool, member, owner, community):
    TrustScoreFactory(user=member, score=Decimal("4.50"), rating_count=2)
    exchanges_with_different_neighbors(member, 2, community)
    reservation = services.reservation_request(tool=trusted_tool, borrower=member, **window())
    assert reservation.status == "approved"
    event = reservation.events.get(to_status="approved")
    assert event.actor is None and "trust 4.50" in event.note and "2 different neighbors" in event.note
    assert "approved automatically" in Notification.objects.get(recipient=owner).text
    assert "approved automatically" in Notification.objects.get(recipient=member).text


@pytest.mark.parametrize(("score", "neighbors"), [(Decimal("3.99"), 5), (Decimal("4.80"), 1), (None, 5)])
def test_below_either_threshold_the_owner_decides(trusted_tool, member, community, score, neighbors):
    TrustScoreFactory(user=member, score=score, rating_count=0 if score is None else 2)
    exchanges_with_different_neighbors(member, neighbors, community)
    assert services.reservation_request(tool=trusted_tool, borrower=member, **window()).status == "requested"


def test_many_exchanges_with_one_neighbor_count_as_one_for_auto_approval(trusted_tool, member, community):
    TrustScoreFactory(user=member, score=Decimal("5.00"), rating_count=5)
    friend = established_neighbor(community)
    for n in range(5):
        completed_loan(lender=friend, borrower=member, community=community, days_ago=5 + n)
    reservation = services.reservation_request(tool=trusted_tool, borrower=member, **window())
    assert reservation.status == "requested"
    assert not reservation.events.filter(to_status="approved").exists()


def test_exchanges_with_brand_new_accounts_do_not_unlock_auto_approval(trusted_tool, member, community):
    """The farming of issue 10: a new account and sock puppets trade and review 5 stars."""
    TrustScoreFactory(user=member, score=Decimal("5.00"), rating_count=3)
    for _ in range(3):
        completed_loan(lender=new_account(community), borrower=member, community=community)
    assert services.reservation_request(tool=trusted_tool, borrower=member, **window()).status == "requested"


def test_off_by_default(tool, member, community):
    TrustScoreFactory(user=member, score=Decimal("5.00"), rating_count=5)
    exchanges_with_different_neighbors(member, 4, community)
    assert services.reservation_request(tool=tool, borrower=member, **window()).status == "requested"


def test_a_tool_asking_for_no_exchanges_approves_on_the_score_alone(trusted_tool, member):
    trusted_tool.auto_approve_min_exchanges = 0
    trusted_tool.save()
    TrustScoreFactory(user=member, score=Decimal("4.10"), rating_count=1)
    reservation = services.reservation_request(tool=trusted_tool, borrower=member, **window())
    assert reservation.events.get(to_status="approved").note == "Approved automatically: trust 4.10 (at least 4.00)."
