"""Fix the fee on the reservations that existed before fees were fixed at request time.

Loans not yet picked up (requested, approved, and the closed ones that never were) get
the tool's current fee, as if requested now; loans picked up or returned keep what was
actually charged at their pickup (the ledger transfer ``tool-fee:<id>``), or nothing.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import migrations

PICKED = ("picked_up", "returned")


def _days(reservation) -> int:
    return max(1, -(-(reservation.ends_at - reservation.starts_at) // timedelta(days=1)))


def forwards(apps, schema_editor):
    Reservation = apps.get_model("tools", "Reservation")
    Transfer = apps.get_model("ledger", "Transfer")
    for reservation in Reservation.objects.select_related("tool").iterator():
        if reservation.status in PICKED:
            charged = (
                Transfer.objects.filter(idempotency_key=f"tool-fee:{reservation.pk}")
                .values_list("amount", flat=True)
                .first()
            )
            fee_total = charged or Decimal("0.00")
            fee_per_day = (fee_total / _days(reservation)).quantize(Decimal("0.01")) if charged else None
        else:
            fee_per_day = reservation.tool.fee_per_day
            fee_total = fee_per_day * _days(reservation) if fee_per_day else Decimal("0.00")
        Reservation.objects.filter(pk=reservation.pk).update(fee_per_day=fee_per_day, fee_total=fee_total)


class Migration(migrations.Migration):
    dependencies = [
        ("tools", "0007_reservation_fee_fixed_at_request"),
        ("ledger", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
