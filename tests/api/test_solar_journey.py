"""Two neighbors trade a quarter hour of solar power through the generated client only,
as a mobile app and a meter's device would: each registers a meter, the producer makes
a device token, both order, the slot clears, the device and the buyer post the readings,
and the trade shows what was delivered and paid.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.solar import services
from apps.solar.factories import next_slot_start
from apps.solar.models import Slot

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_neighbors_trade_solar_power_through_the_generated_client(
    live_server, generated_client, community, owner, member
):
    from p2p_client.api.solar import (
        solar_meters_create,
        solar_meters_tokens_create,
        solar_orders_create,
        solar_readings_create,
        solar_slots_retrieve,
        solar_trades_list,
    )
    from p2p_client.models import (
        SolarDeviceTokenCreateInput,
        SolarMeterCreateInput,
        SolarMeterKindEnum,
        SolarOrderActionsEnum,
        SolarOrderCreateInput,
        SolarReadingRowInput,
        SolarReadingsInput,
        SolarSideEnum,
        SolarTradeStatusEnum,
    )

    olive = generated_client.signed_in(live_server.url, owner)
    max_ = generated_client.signed_in(live_server.url, member)
    panels = solar_meters_create.sync(
        client=olive,
        body=SolarMeterCreateInput(
            community=community.pk, name="Roof panels", kind=SolarMeterKindEnum.PRODUCER, peak_capacity_w=4000
        ),
    )
    home = solar_meters_create.sync(
        client=max_,
        body=SolarMeterCreateInput(
            community=community.pk, name="Flat 2", kind=SolarMeterKindEnum.CONSUMER, peak_capacity_w=8000
        ),
    )
    token = solar_meters_tokens_create.sync(
        client=olive, id=panels.id, body=SolarDeviceTokenCreateInput(label="Pi in the hall")
    )
    pi = generated_client.client(live_server.url).with_headers({"Authorization": f"Device {token.key}"})

    start = next_slot_start(timezone.now(), ahead=2)
    offer = solar_orders_create.sync(
        client=olive,
        body=SolarOrderCreateInput(
            meter=panels.id, slot_start=start, side=SolarSideEnum.SELL, quantity_wh=800, limit_price="0.20"
        ),
    )
    solar_orders_create.sync(
        client=max_,
        body=SolarOrderCreateInput(
            meter=home.id, slot_start=start, side=SolarSideEnum.BUY, quantity_wh=500, limit_price="0.30"
        ),
    )
    assert offer.actions == [SolarOrderActionsEnum.CHANGE, SolarOrderActionsEnum.CANCEL]
    book = solar_slots_retrieve.sync(client=max_, id=offer.slot).depth
    assert [(e.quantity_wh, Decimal(e.limit_price)) for e in book.sells] == [(800, Decimal("0.2"))]

    # The platform clears the slot at gate closure (the beat task does this every minute).
    assert services.slot_clear(slot_id=offer.slot, now=start - timedelta(minutes=4))
    [trade] = solar_trades_list.sync(client=max_).results
    assert (trade.side, trade.counterpart.display_name, trade.quantity_wh) == (SolarSideEnum.BUY, "Olive Owner", 500)

    with time_machine.travel(start + timedelta(minutes=20)):
        sent = solar_readings_create.sync(
            client=pi,
            body=SolarReadingsInput(
                readings=[SolarReadingRowInput(interval_start=start, imported_wh=0, exported_wh=700)]
            ),
        )
        solar_readings_create.sync(
            client=max_,
            body=SolarReadingsInput(
                meter=home.id,
                readings=[SolarReadingRowInput(interval_start=start, imported_wh=600, exported_wh=0)],
            ),
        )
        [trade] = solar_trades_list.sync(client=max_).results

    assert sent.created == 1
    assert Slot.objects.get(pk=offer.slot).status == Slot.Status.SETTLED
    assert trade.status is SolarTradeStatusEnum.SETTLED
    assert (trade.delivered_wh, Decimal(trade.amount)) == (500, Decimal("0.12"))  # 0.5 kWh at 0.25 (half-even)
