"""Invariant 1, attacked: many simultaneous requests for one tool's window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.peers.factories import MembershipFactory
from apps.tools import services
from apps.tools.factories import ReservationFactory
from apps.tools.models import Reservation
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def _race(tool, community, n: int):
    borrowers = [MembershipFactory(community=community).user for _ in range(n)]
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    calls = [
        (
            lambda b=b, i=i: services.reservation_request(
                tool=tool,
                borrower=b,
                starts_at=start + timedelta(hours=i % 5),
                ends_at=start + timedelta(hours=6 + i % 5),
            )
        )
        for i, b in enumerate(borrowers)
    ]
    return run_together(*calls)


@pytest.mark.postgres
def test_fifty_simultaneous_overlapping_requests_on_postgresql_give_one_booking(tool, community):
    results = _race(tool, community, 50)
    successes = [r for r in results if isinstance(r, Reservation)]
    conflicts = [r for r in results if isinstance(r, RuleViolation) and r.code == "conflict"]
    assert (len(successes), len(conflicts)) == (1, 49), [r for r in results if not isinstance(r, Reservation)][:3]
    assert Reservation.objects.filter(tool=tool).count() == 1


@pytest.mark.sqlite
def test_simultaneous_overlapping_requests_on_sqlite_give_one_booking_and_no_lock_error(tool, community):
    results = _race(tool, community, 50)
    errors = [r for r in results if isinstance(r, Exception) and not isinstance(r, RuleViolation)]
    assert errors == [], errors[:3]  # no "database is locked"
    assert sum(isinstance(r, Reservation) for r in results) == 1
    assert Reservation.objects.filter(tool=tool).count() == 1


@pytest.mark.postgres
def test_postgresql_refuses_an_overlapping_insert_that_bypasses_the_service(tool, member, organizer):
    first = ReservationFactory(tool=tool, borrower=member)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReservationFactory(tool=tool, borrower=organizer, starts_at=first.starts_at + timedelta(hours=3))
    # A finished loan no longer blocks the window.
    Reservation.objects.filter(pk=first.pk).update(status="declined")
    assert ReservationFactory(tool=tool, borrower=organizer, starts_at=first.starts_at).status == "requested"
