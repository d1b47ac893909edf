"""The data migration that fixes the fee on reservations made before fees were fixed at
request (issue 10, item 1): loans not yet picked up get the tool's current fee; loans
picked up or returned keep what their pickup actually charged."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.ledger import services as ledger
from apps.tools.factories import ReservationFactory
from apps.tools.models import Reservation, Tool

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = ("tools", "0006_waitlist_beat")
AFTER = ("tools", "0008_fix_fees_of_existing_reservations")


def migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def test_existing_reservations_get_the_current_fee_or_keep_what_was_charged(tool, owner, member, community):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)

    def loan(status, n):
        return ReservationFactory(
            tool=tool,
            borrower=member,
            status=status,
            starts_at=start + timedelta(days=3 * n),
            ends_at=start + timedelta(days=3 * n + 2),
        )

    requested, approved, paid, unpaid, declined = (
        loan(status, n) for n, status in enumerate(["requested", "approved", "picked_up", "returned", "declined"])
    )
    ledger.transfer_create(
        source=ledger.account_for(user=member, community=community, currency="CREDIT"),
        target=ledger.account_for(user=owner, community=community, currency="CREDIT"),
        amount=Decimal("4.00"),
        memo="Fee for Cordless drill (2 day(s))",
        idempotency_key=f"tool-fee:{paid.pk}",
        kind="exchange",
        related=paid,
    )
    Tool.objects.filter(pk=tool.pk).update(fee_per_day=Decimal("1.50"))

    migrate(BEFORE)
    migrate(AFTER)

    fees = {r.pk: (r.fee_per_day, r.fee_total) for r in Reservation.objects.all()}
    assert fees[requested.pk] == (Decimal("1.50"), Decimal("3.00"))
    assert fees[approved.pk] == (Decimal("1.50"), Decimal("3.00"))
    assert fees[declined.pk] == (Decimal("1.50"), Decimal("3.00"))
    assert fees[paid.pk] == (Decimal("2.00"), Decimal("4.00"))  # what its pickup charged, not today's fee
    assert fees[unpaid.pk] == (None, Decimal("0.00"))  # picked up when the tool was free
