"""My orders: the list with its buttons, placing an order (and the refusals shown on the
form with what was typed), changing and cancelling one, and standing orders."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.solar.factories import next_slot_start
from apps.solar.forms import slot_value
from apps.solar.models import Order, StandingOrder
from p2pcommons.humanize import format_when, format_when_short

from .test_pages import html, place, settle_a_slot, words

pytestmark = pytest.mark.django_db

ORDERS = reverse("solar:orders")
NEW = reverse("solar:order-create")
NEW_STANDING = reverse("solar:standing-create")


def order_form(meter, start, *, side="sell", kwh="0.5", price="0.22") -> dict:
    return {"meter": meter.pk, "slot": slot_value(start), "side": side, "quantity_kwh": kwh, "limit_price": price}


def closed_start():
    """A quarter hour whose orders closed a moment ago (it starts within 5 minutes, or started)."""
    moment = (timezone.now() + timedelta(minutes=5)).astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def change_url(order) -> str:
    return reverse("solar:order-change", args=[order.pk])


def cancel_url(order) -> str:
    return reverse("solar:order-cancel", args=[order.pk])


# --- the list ----------------------------------------------------------------------------
def test_my_orders_show_the_quarter_hour_side_energy_price_and_state_with_their_buttons(web_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=3)
    order = place(producer, panels, start, "sell", 500, "0.2")
    response = web_as(producer).get(ORDERS)
    page = words(response)
    assert f"Sell 0.5 kWh at 0.2 credits per kWh or more {format_when_short(start)} · Roof panels" in page
    assert f"Open: you can change it until {timezone.localtime(start - timedelta(minutes=5)):%H:%M}" in page
    assert f'href="{change_url(order)}?next=' in html(response) and "Change" in page
    assert f'href="{cancel_url(order)}?next=' in html(response) and "Cancel order" in page


def test_an_order_past_gate_closure_has_no_buttons_and_says_it_waits_for_the_market(web_as, producer, panels):
    start = closed_start()
    placed_at = start - timedelta(minutes=20)
    order = place(producer, panels, start, "sell", 500, "0.2", now=placed_at)
    response = web_as(producer).get(ORDERS)
    assert "Waiting for the market to match it" in words(response)
    assert change_url(order) not in html(response) and cancel_url(order) not in html(response)


def test_filled_and_unfilled_orders_say_how_they_did(web_as, producer, buyer, panels, home):
    settle_a_slot(producer=producer, buyer=buyer, panels=panels, home=home)
    page = words(web_as(producer).get(ORDERS))
    assert "Partly filled: 0.5 kWh of 0.8 kWh" in page and "0.5 kWh sold" in page
    Order.objects.filter(member=producer).update(status=Order.Status.UNFILLED, filled_wh=0)
    assert "Not filled: no buyer met your price" in words(web_as(producer).get(ORDERS))


def test_without_a_meter_the_orders_page_asks_to_register_one(web_as, member):
    page = words(web_as(member).get(ORDERS))
    assert "first register your meter" in page and "Place an order" in page  # the sub-menu still offers it
    page = words(web_as(member).get(NEW))
    assert "you need a meter" in page and "Register your meter" in page


# --- placing an order --------------------------------------------------------------------
def test_the_order_form_offers_my_active_meters_and_the_next_quarter_hours_as_local_times(web_as, producer, panels):
    panels_old = type(panels).objects.create(
        community=panels.community, owner=producer, name="Old shed", kind="producer", peak_capacity_w=1000
    )
    panels_old.status = "retired"
    panels_old.save()
    response = web_as(producer).get(NEW)
    page = html(response)
    assert "Roof panels (sells)" in page and "Old shed" not in page
    first = next_slot_start(timezone.now())
    label = f"{format_when_short(first)} to {timezone.localtime(first + timedelta(minutes=15)):%H:%M}"
    assert f'<option value="{slot_value(first)}">{label}</option>' in page
    assert '<option value="sell" selected>Sell</option>' in page  # panels only sell


def test_the_market_link_preselects_its_quarter_hour(web_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=4)
    page = html(web_as(producer).get(NEW, {"slot": start.isoformat()}))
    assert f'<option value="{slot_value(start)}" selected>' in page


def test_placing_an_order_records_it_in_wh_and_says_so(web_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=2)
    response = web_as(producer).post(NEW, order_form(panels, start, kwh="0.45", price="0.215"), follow=True)
    order = Order.objects.get(member=producer)
    assert (order.slot.start, order.side, order.quantity_wh, order.limit_price) == (
        start,
        "sell",
        450,
        Decimal("0.215"),
    )
    assert response.redirect_chain[-1][0] == ORDERS
    assert "Your order to sell 0.45 kWh" in words(response) and "at 0.215 credits per kWh is placed" in words(response)


def test_an_offer_over_the_meters_capacity_is_refused_on_the_form_with_the_input_kept(web_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=2)
    response = web_as(producer).post(NEW, order_form(panels, start, kwh="1.5", price="0.3"))
    page = words(response)
    assert "Roof panels passes at most 1,000 Wh in a quarter hour (4,000 W); you can offer 1,000 Wh more" in page
    assert 'name="quantity_kwh" value="1.5"' in html(response)
    assert 'name="limit_price" value="0.3"' in html(response)
    assert f'<option value="{slot_value(start)}" selected>' in html(response)
    assert not Order.objects.exists()


def test_a_quarter_hour_whose_orders_closed_is_refused_in_words_and_stays_selected(web_as, buyer, home):
    closed = closed_start()
    response = web_as(buyer).post(NEW, order_form(home, closed, side="buy", kwh="0.2", price="0.3"))
    page = words(response)
    gate = format_when(closed - timedelta(minutes=5))
    assert f"Orders for the slot at {format_when(closed)} closed at {gate}, 5 minutes before it starts." in page
    assert f'<option value="{slot_value(closed)}" selected>' in html(response)
    assert 'name="quantity_kwh" value="0.2"' in html(response)
    assert not Order.objects.exists()


def test_a_buy_with_a_meter_that_only_sells_is_refused_on_the_side_field(web_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=2)
    response = web_as(producer).post(NEW, order_form(panels, start, side="buy"))
    assert 'id="id_side_errors"' in html(response)
    assert "This meter only sells; use your home's meter to buy." in words(response)


def test_bad_numbers_are_form_errors_not_server_errors(web_as, producer, panels):
    start = next_slot_start(timezone.now(), ahead=2)
    response = web_as(producer).post(NEW, order_form(panels, start, kwh="0.0001", price="-1"))
    page = words(response)
    assert "Ensure that there are no more than 3 decimal places." in page or "greater than or equal to" in page
    assert "Ensure this value is greater than or equal to 0." in page
    response = web_as(producer).post(NEW, {**order_form(panels, start), "slot": "tomorrow"})
    assert "Choose a quarter hour from the list." in words(response)
    assert not Order.objects.exists()


def test_someone_elses_meter_cannot_be_chosen(web_as, buyer, home, panels):
    start = next_slot_start(timezone.now(), ahead=2)
    response = web_as(buyer).post(NEW, order_form(panels, start, side="sell"))
    assert "Select a valid choice." in words(response)
    assert not Order.objects.exists()


# --- changing and cancelling --------------------------------------------------------------
def test_the_change_form_shows_the_order_as_it_stands_and_saves_the_change(web_as, producer, panels):
    order = place(producer, panels, next_slot_start(timezone.now(), ahead=2), "sell", 500, "0.2000")
    client = web_as(producer)
    page = html(client.get(change_url(order)))
    assert 'name="quantity_kwh" value="0.5"' in page and 'name="limit_price" value="0.2"' in page
    response = client.post(change_url(order), {"quantity_kwh": "0.75", "limit_price": "0.18"}, follow=True)
    order.refresh_from_db()
    assert (order.quantity_wh, order.limit_price) == (750, Decimal("0.18"))
    assert "now asks 0.75 kWh at 0.18 credits per kWh" in words(response)


def test_a_change_over_capacity_is_refused_on_the_form(web_as, producer, panels):
    order = place(producer, panels, next_slot_start(timezone.now(), ahead=2), "sell", 500, "0.2")
    response = web_as(producer).post(change_url(order), {"quantity_kwh": "1.2", "limit_price": "0.2"})
    assert "you can offer 1,000 Wh more in this slot" in words(response)
    assert 'name="quantity_kwh" value="1.2"' in html(response)
    order.refresh_from_db()
    assert order.quantity_wh == 500


def test_cancelling_asks_first_then_cancels(web_as, producer, panels):
    order = place(producer, panels, next_slot_start(timezone.now(), ahead=2), "sell", 500, "0.2")
    client = web_as(producer)
    confirm = words(client.get(cancel_url(order)))
    assert "Cancel this order?" in confirm and "Sell 0.5 kWh at 0.2 credits per kWh" in confirm
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN  # asking changes nothing
    response = client.post(cancel_url(order), {"next": ORDERS}, follow=True)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert "is cancelled" in words(response) and "Cancelled" in words(response)


def test_a_closed_order_cannot_be_changed_or_cancelled_and_says_why(web_as, producer, panels):
    start = closed_start()
    order = place(producer, panels, start, "sell", 500, "0.2", now=start - timedelta(minutes=20))
    client = web_as(producer)
    response = client.get(change_url(order), follow=True)
    assert "it can no longer be changed" in words(response)
    response = client.post(cancel_url(order), follow=True)
    assert "it can no longer be changed" in words(response)
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN


def test_someone_elses_order_is_not_found(web_as, buyer, producer, panels):
    order = place(producer, panels, next_slot_start(timezone.now(), ahead=2), "sell", 500, "0.2")
    client = web_as(buyer)
    assert client.get(change_url(order)).status_code == 404
    assert client.post(change_url(order), {"quantity_kwh": "0.1", "limit_price": "0.1"}).status_code == 404
    assert client.get(cancel_url(order)).status_code == 404
    assert client.post(cancel_url(order)).status_code == 404
    order.refresh_from_db()
    assert (order.status, order.quantity_wh) == (Order.Status.OPEN, 500)


# --- standing orders -----------------------------------------------------------------------
def standing_form(meter, **changes) -> dict:
    data = {
        "meter": meter.pk,
        "side": "sell",
        "quantity_kwh": "0.5",
        "limit_price": "0.2",
        "from_time": "10:00",
        "until_time": "16:00",
    }
    return {**data, **changes}


def test_a_standing_order_is_made_listed_and_paused_resumed_and_ended(web_as, producer, panels):
    client = web_as(producer)
    response = client.post(NEW_STANDING, standing_form(panels), follow=True)
    standing = StandingOrder.objects.get(member=producer)
    assert (standing.quantity_wh, standing.from_time.hour, standing.until_time.hour) == (500, 10, 16)
    page = words(response)
    assert "Sell 0.5 kWh every quarter hour from 10:00 to 16:00, at 0.2 credits per kWh or more" in page
    assert "Pause" in page and "End" in page

    step = reverse("solar:standing-step", args=[standing.pk, "pause"])
    page = words(client.post(step, follow=True))
    standing.refresh_from_db()
    assert standing.status == StandingOrder.Status.PAUSED and "Paused:" in page and "Resume" in page
    client.post(reverse("solar:standing-step", args=[standing.pk, "resume"]))
    standing.refresh_from_db()
    assert standing.status == StandingOrder.Status.ACTIVE

    end = reverse("solar:standing-step", args=[standing.pk, "end"])
    assert "End this standing order?" in words(client.get(end))
    page = words(client.post(end, follow=True))
    standing.refresh_from_db()
    assert standing.status == StandingOrder.Status.ENDED
    assert "Ended." in page and "every quarter hour from 10:00" not in page


def test_standing_order_hours_off_the_quarter_hour_are_refused_on_their_field(web_as, producer, panels):
    response = web_as(producer).post(NEW_STANDING, standing_form(panels, from_time="10:10", until_time="09:00"))
    assert 'id="id_from_time_errors"' in html(response)
    assert "Use a quarter hour (:00, :15, :30 or :45)." in words(response)
    assert not StandingOrder.objects.exists()


def test_someone_elses_standing_order_and_unknown_steps_are_not_found(web_as, buyer, producer, panels):
    client = web_as(producer)
    client.post(NEW_STANDING, standing_form(panels))
    standing = StandingOrder.objects.get()
    assert client.post(reverse("solar:standing-step", args=[standing.pk, "explode"])).status_code == 404
    other = web_as(buyer)
    assert other.post(reverse("solar:standing-step", args=[standing.pk, "end"])).status_code == 404
    standing.refresh_from_db()
    assert standing.status == StandingOrder.Status.ACTIVE
