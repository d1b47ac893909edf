"""One quarter hour of the energy market in a real browser (headless Chromium against the
live test server): a producer offers power, two neighbors bid for it, the beat task
clears the slot, the meters report (the producer's as raw P1 telegrams from a device),
the settlement pays, and all three see the trade, the chart point and their balances.

The clock is moved with time-machine (it moves the server thread's clock too): orders
before gate closure, the clearing after it, the readings once the quarter hour is over.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from apps.solar import services, tasks
from apps.solar.factories import next_slot_start
from apps.solar.forms import slot_value
from apps.solar.models import Slot, Trade
from tests.solar.conftest import balance
from tests.solar.p1_telegrams import telegram

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def place_order(page: Page, *, start, side: str, kwh: str, price: str) -> None:
    page.goto(reverse("solar:order-create"))
    page.get_by_label("Quarter hour").select_option(slot_value(start))
    page.get_by_label("Buy or sell").select_option(side)
    page.get_by_label("How much, in kWh").fill(kwh)
    page.get_by_label("Price limit, in credits per kWh").fill(price)
    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_role("main")).to_contain_text(f"Your order to {side} {kwh} kWh")


def enter_reading(page: Page, meter, *, start, wh_in: int) -> None:
    page.goto(reverse("solar:meter", args=[meter.pk]))
    local = timezone.localtime(start)
    page.get_by_label("Quarter hour starting at").fill(local.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Wh in (taken from the grid)").fill(str(wh_in))
    page.get_by_label("Wh out (sent to the grid)").fill("0")
    page.get_by_role("button", name="Save the reading").click()
    expect(page.get_by_role("main")).to_contain_text("is recorded")


def test_a_producer_and_two_neighbors_trade_a_quarter_hour_and_all_see_it_paid(
    open_as, community, producer, buyer, buyer2, panels, home, home2
):
    start = next_slot_start(timezone.now(), ahead=3)
    with time_machine.travel(start - timedelta(minutes=30), tick=True):
        pia, ben, cleo = open_as(producer), open_as(buyer), open_as(buyer2)
        place_order(pia, start=start, side="sell", kwh="1", price="0.20")
        place_order(ben, start=start, side="buy", kwh="0.6", price="0.30")
        place_order(cleo, start=start, side="buy", kwh="0.6", price="0.25")
        slot = Slot.objects.get(community=community, start=start)
        pia.goto(reverse("solar:slot", args=[slot.pk]))
        expect(pia.get_by_role("main")).to_contain_text("2 buy orders and 1 sell order so far")

    with time_machine.travel(start - timedelta(minutes=4), tick=True):
        assert tasks.clear_due_slots() == 1  # the beat task, as the schedule runs it
    slot.refresh_from_db()
    assert (slot.status, slot.clearing_price, slot.volume_wh) == (Slot.Status.CLEARED, Decimal("0.2250"), 1000)

    with time_machine.travel(start + timedelta(minutes=20), tick=True):
        # The producer's Raspberry Pi posts the smart meter's telegrams at both edges of
        # the quarter hour; the registers went up by 1,000 Wh exported.
        _, key = services.device_token_create(meter=panels, actor=producer, label="Pi in the cupboard")
        device = APIClient()
        device.credentials(HTTP_AUTHORIZATION=f"Device {key}")
        answer = device.post(
            "/api/v1/solar/readings/p1/",
            {"telegrams": [
                telegram(start + timedelta(seconds=4), imported_wh=2_000, exported_wh=5_000),
                telegram(start + timedelta(minutes=15, seconds=3), imported_wh=2_000, exported_wh=6_000),
            ]},
            format="json",
        )  # fmt: skip
        assert answer.status_code in (200, 201), answer.content
        enter_reading(ben, home, start=start, wh_in=700)
        enter_reading(cleo, home2, start=start, wh_in=300)
        # The last reading completed the quarter hour: its settlement was queued at once
        # (tasks run eagerly in tests); the five-minute sweep then finds nothing left.
        slot.refresh_from_db()
        assert slot.status == Slot.Status.SETTLED
        assert tasks.settle_due_slots() == 0

        # Ben's bid was higher: his 600 Wh came first; Cleo was sold 400 and used 300.
        trades = list(Trade.objects.filter(slot=slot).order_by("seq"))
        assert [(t.buyer_id, t.quantity_wh, t.delivered_wh) for t in trades] == [
            (buyer.pk, 600, 600),
            (buyer2.pk, 400, 300),
        ]
        assert balance(producer, community) == Decimal("0.21")  # 0.135 -> 0.14, and 0.0675 -> 0.07
        assert balance(buyer, community) == Decimal("-0.14")
        assert balance(buyer2, community) == Decimal("-0.07")

        for page, counterpart, words in (
            (pia, "Ben Buyer", "Sold to"),
            (pia, "Cleo Consumer", "Sold to"),
            (ben, "Pia Producer", "Bought from"),
            (cleo, "Pia Producer", "Bought from"),
        ):
            page.goto(reverse("solar:trades"))
            item = page.locator("li.solar-item").filter(has_text=counterpart)
            expect(item).to_contain_text(words)
            expect(item).to_contain_text("Settled")
        pia.goto(reverse("solar:trades"))
        expect(pia.locator("li.solar-item").filter(has_text="Ben Buyer")).to_contain_text("0.14 credits")
        expect(cleo.locator("li.solar-item").filter(has_text="Pia Producer")).to_contain_text("0.07 credits")

        for page, shown in ((pia, "0.21 credits"), (ben, "-0.14 credits"), (cleo, "-0.07 credits")):
            page.goto(reverse("ledger:mine"))
            expect(page.get_by_test_id(f"balance-{community.slug}-CREDIT")).to_have_text(shown)
            # The chart point: the market's last 24 hours show this quarter hour's price.
            page.goto(reverse("solar:market"))
            expect(page.locator("figure.solar-figure svg").first).to_be_attached()
            page.get_by_text("The same as a table").first.click()
            row = page.locator("tr").filter(has_text=re.compile(r"0\.225"))
            expect(row).to_contain_text("1 kWh")
