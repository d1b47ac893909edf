"""The open-request cap, attacked: one member sends requests for many tools at once. The
borrower's row is locked while the cap is checked, so the cap holds under a race."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.tools import services
from apps.tools.factories import ToolFactory
from apps.tools.models import Reservation
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_requests_for_many_tools_stop_at_the_open_request_cap(member, owner, community):
    tools = [ToolFactory(owner=owner, community=community) for _ in range(12)]
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    end = start + timedelta(hours=6)

    def ask(tool):
        return lambda: services.reservation_request(tool=tool, borrower=member, starts_at=start, ends_at=end)

    results = run_together(*(ask(tool) for tool in tools))
    refused = [r for r in results if isinstance(r, RuleViolation) and r.code == "too_many_open_requests"]
    others = [r for r in results if not isinstance(r, Reservation | RuleViolation)]
    assert others == [], others[:3]
    assert len(refused) == 12 - services.MAX_OPEN_REQUESTS
    assert Reservation.objects.filter(borrower=member, status="requested").count() == services.MAX_OPEN_REQUESTS
