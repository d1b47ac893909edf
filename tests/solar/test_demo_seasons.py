"""The solar demo at any hour and season: a winter night, a summer noon. Each seeds a
fresh neighborhood at that moment (time-machine), so it can't share the seeded module
of ``test_demo``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.ledger.chain import verify_community
from apps.solar.models import Order, Slot, Trade

from .test_demo import AMSTERDAM, _neighborhood, _seed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "moment",
    [datetime(2026, 12, 21, 2, 10, tzinfo=AMSTERDAM), datetime(2027, 6, 21, 12, 52, tzinfo=AMSTERDAM)],
    ids=["winter-night", "summer-noon"],
)
def test_the_demo_trades_and_offers_orders_whatever_the_hour_and_season(moment):
    with time_machine.travel(moment, tick=True):
        communities = _neighborhood()
        log = []
        _seed(communities, log.append)
        now = timezone.now()
        settled = Trade.objects.filter(status=Trade.Status.SETTLED, amount__gt=0, slot__start__gte=now - timedelta(1))
        assert settled.count() >= 10, log
        assert Slot.objects.filter(status=Slot.Status.SETTLED, volume_wh__gt=0).count() >= 10
        assert Order.objects.filter(status=Order.Status.OPEN, slot__start__gt=now).exists()
        assert all(verify_community(community=c).ok for c in communities)
