"""The energy market's pages on a phone (360x740) and a laptop, in headless Chromium:
nothing wider than the screen, no serious or critical axe-core (WCAG 2.2 A/AA) problem,
the sub-menu on two lines at most, and the one-time device token page too. The same
checks as tests/test_phone_layout.py, with its helpers, for the pages of apps/solar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.peers.models import User
from apps.solar import services
from apps.solar.factories import next_slot_start
from apps.solar.models import Order, Slot, StandingOrder
from apps.solar.services import Row
from tests.test_phone_layout import PHONE, SIZES, axe_problems, overflow, signed_in

from .test_pages import place, settle_a_slot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass
class Market:
    producer: User
    organizer: User
    pages: list[str]
    meter_url: str
    organizer_pages: list[str]


@pytest.fixture
def market(producer, buyer, organizer, panels, home) -> Market:
    """A settled quarter hour, an open one with orders, a standing order, readings and a
    device token: every solar page has something to show."""
    # One transaction: the settlement its readings would ask a worker for (on commit) finds it done.
    with transaction.atomic():
        settled = settle_a_slot(producer=producer, buyer=buyer, panels=panels, home=home)
    start = next_slot_start(timezone.now(), ahead=2)
    order = place(producer, panels, start, "sell", 500, "0.2")
    place(buyer, home, start, "buy", 400, "0.3")
    standing = services.standing_create(
        member=producer, meter=panels, side="sell", quantity_wh=300, limit_price="0.21",
        from_time=timezone.datetime(2000, 1, 1, 10).time(), until_time=timezone.datetime(2000, 1, 1, 16).time(),
    )  # fmt: skip
    base = next_slot_start(timezone.now()) - timedelta(hours=1)
    starts = [base - timedelta(minutes=15 * n) for n in range(12)]
    services.readings_record(
        meter=panels, rows=[Row(s, n, 40 * n) for n, s in enumerate(starts) if s != settled.start], source="form",
        actor=producer,
    )  # fmt: skip
    token, _ = services.device_token_create(meter=panels, actor=producer, label="Pi in the hall cupboard")
    open_slot = Slot.objects.get(start=start)
    meter_url = reverse("solar:meter", args=[panels.pk])
    pages = [
        reverse("solar:market"),
        reverse("solar:slot", args=[open_slot.pk]),
        reverse("solar:slot", args=[settled.pk]),
        reverse("solar:orders"),
        reverse("solar:order-create"),
        reverse("solar:order-change", args=[order.pk]),
        reverse("solar:order-cancel", args=[order.pk]),
        reverse("solar:standing-create"),
        reverse("solar:standing-step", args=[standing.pk, "end"]),
        reverse("solar:trades"),
        reverse("solar:meters"),
        reverse("solar:meter-create"),
        meter_url,
        reverse("solar:meter-retire", args=[panels.pk]),
        reverse("solar:token-revoke", args=[panels.pk, token.pk]),
    ]
    assert Order.objects.filter(member=producer).exists() and StandingOrder.objects.exists()
    return Market(
        producer=producer,
        organizer=organizer,
        pages=pages,
        meter_url=meter_url,
        organizer_pages=[reverse("solar:slot", args=[open_slot.pk]), reverse("solar:slot-cancel", args=[open_slot.pk])],
    )


def check(page, urls: list[str], width: int) -> tuple[list[str], list[str]]:
    layout, problems = [], []
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.ok, f"{url} answered {response and response.status}"
        if (extra := overflow(page)) > 0:
            layout.append(f"{url}: {extra} px wider than the {width} px screen")
        problems += axe_problems(page)
    return layout, problems


@pytest.mark.parametrize("size", SIZES)
def test_no_energy_page_is_wider_than_the_screen_and_axe_finds_nothing_serious(browser, live_server, market, size):
    context = signed_in(browser, live_server, market.producer, SIZES[size])
    page = context.new_page()
    try:
        layout, problems = check(page, market.pages, SIZES[size]["width"])
        # The device token page answers a form, once.
        page.goto(market.meter_url)
        page.get_by_label("Which device is it for?").fill("Pi by the meter")
        page.get_by_role("button", name="Make a device token").click()
        page.get_by_text("it is shown only this once").wait_for()
        if (extra := overflow(page)) > 0:
            layout.append(f"the token page: {extra} px wider than the screen")
        problems += axe_problems(page)
    finally:
        context.close()
    context = signed_in(browser, live_server, market.organizer, SIZES[size])
    page = context.new_page()
    try:
        more_layout, more_problems = check(page, market.organizer_pages, SIZES[size]["width"])
    finally:
        context.close()
    assert layout + more_layout == []
    assert problems + more_problems == [], "axe-core found serious or critical problems:\n" + "\n".join(
        problems + more_problems
    )


def test_the_energy_sub_menu_keeps_to_two_lines_on_a_phone(browser, live_server, market):
    context = signed_in(browser, live_server, market.producer, PHONE)
    page = context.new_page()
    try:
        for url in (reverse("solar:market"), reverse("solar:order-create"), reverse("solar:meters")):
            page.goto(url)
            links = page.get_by_role("navigation", name="Energy market").get_by_role("link")
            tops = {round(link.bounding_box()["y"]) for link in links.all()}
            assert len(tops) <= 2, f"the energy sub-menu wraps onto {len(tops)} lines on {url}"
    finally:
        context.close()
