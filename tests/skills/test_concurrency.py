"""Both people confirming at once, again and again, move the hours once (separate connections)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.ledger.models import Account, Transfer
from apps.skills import services
from apps.skills.models import Seat, Session
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_and_repeated_confirmations_move_the_hours_exactly_once(community, owner, member):
    session = services.session_propose(
        proposer=member,
        helper=owner,
        learner=member,
        community=community,
        title="Fix the bike",
        starts_at=timezone.now() + timedelta(hours=1),
        planned_hours=Decimal("2"),
        place="Garage",
    )
    services.session_accept(session=session, actor=owner)
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(hours=3))

    def confirm(person):
        return lambda: services.session_confirm(session=session, actor=person, hours="2")

    results = run_together(*[confirm(p) for p in (owner, member) * 4])
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == [], errors[:3]
    assert Transfer.objects.count() == 1
    assert Seat.objects.get().status == "completed"
    balances = dict(Account.objects.filter(currency="HOUR").values_list("owner__email", "balance"))
    assert balances == {"owner@example.org": Decimal("2.00"), "member@example.org": Decimal("-2.00")}
