"""The energy market's pages: the market overview, a quarter hour's page with the
organizers' cancel, my trades, the menu, the community page's section and a seller's
delivery record on their profile. What a neighbor reads, with the database as judge.

Orders, meters and query counts have their own files (test_pages_*.py); the helpers
and the settled quarter hour below are shared with them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from apps.peers import sections
from apps.peers.factories import MembershipFactory
from apps.peers.sections import CommunitySection
from apps.solar import services
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import Meter, MeterReading, Order, Slot, SlotEvent, Trade
from apps.solar.services import Row
from apps.solar.views.community import community_slots
from p2pcommons.humanize import format_when_short

pytestmark = pytest.mark.django_db

MARKET = reverse("solar:market")
TRADES = reverse("solar:trades")


def words(response) -> str:
    """The page's text without its tags, spaces collapsed: what a reader reads."""
    return " ".join(unescape(strip_tags(response.content.decode())).split())


def html(response) -> str:
    return unescape(response.content.decode())


def place(member, meter, start, side, wh, price, now=None) -> Order:
    return services.order_place(
        member=member, meter=meter, slot_start=start, side=side, quantity_wh=wh, limit_price=Decimal(price), now=now
    )


def slot_url(slot: Slot, action: str = "") -> str:
    return reverse("solar:slot-cancel" if action == "cancel" else "solar:slot", args=[slot.pk])


def settle_a_slot(*, producer, buyer, panels, home, hours_ago: int = 3) -> Slot:
    """A quarter hour a few hours ago: the producer sold 0.8 kWh at 0.20 or more, the
    buyer asked 0.5 kWh at 0.30 or less; cleared at 0.25 for 0.5 kWh, then the meters
    measured 0.7 kWh out and 0.6 kWh in: 0.5 kWh delivered, 0.12 credits paid."""
    start = next_slot_start(timezone.now() - timedelta(hours=hours_ago))
    placed_at = start - timedelta(minutes=30)
    place(producer, panels, start, "sell", 800, "0.20", now=placed_at)
    place(buyer, home, start, "buy", 500, "0.30", now=placed_at)
    slot = Slot.objects.get(community=panels.community, start=start)
    assert services.slot_clear(slot_id=slot.pk, now=start - timedelta(minutes=4))
    after = start + timedelta(minutes=20)
    for meter, actor, into, out in ((panels, producer, 0, 700), (home, buyer, 600, 0)):
        services.readings_record(
            meter=meter, rows=[Row(start, into, out)], source=MeterReading.Source.FORM, actor=actor, now=after
        )
    assert services.slot_settle(slot_id=slot.pk, now=after)
    slot.refresh_from_db()
    return slot


@pytest.fixture
def open_slot(producer, buyer, panels, home) -> Slot:
    """The next quarter hour taking orders, with one sell and one buy order."""
    start = next_slot_start(timezone.now(), ahead=2)
    place(producer, panels, start, "sell", 500, "0.20")
    place(buyer, home, start, "buy", 400, "0.30")
    return Slot.objects.get(start=start)


@pytest.fixture
def settled(producer, buyer, panels, home) -> Slot:
    return settle_a_slot(producer=producer, buyer=buyer, panels=panels, home=home)


# --- the market overview ------------------------------------------------------------------
def test_the_market_shows_the_quarter_hours_taking_orders_and_the_next_order_book(web_as, buyer, open_slot):
    response = web_as(buyer).get(MARKET)
    page = words(response)
    assert "Quarter hours taking orders" in page
    assert format_when_short(open_slot.start) in page
    assert "1 buy order and 1 sell order so far" in page
    assert f"{reverse('solar:order-create')}?slot=" in html(response)
    assert "Orders for the next quarter hour" in page
    assert 'class="solar-chart solar-chart-book"' in html(response)
    # The book has no names: not the producer's, not the buyer's own.
    assert "Pia Producer" not in page
    for link in ("My meters", "My orders", "My trades"):
        assert link in page


def test_the_market_charts_the_last_24_hours_with_a_table_and_my_energy(web_as, producer, settled):
    response = web_as(producer).get(MARKET)
    page = words(response)
    assert 'class="solar-chart solar-chart-slots"' in html(response)
    assert "The same as a table" in page
    assert f"{format_when_short(settled.start)} 0.25 0.5 kWh" in page  # time, price, traded
    assert "My energy, last 14 days" in page
    assert "Sold 0.5 kWh and earned 0.12 credits; bought 0 kWh and spent 0 credits." in page
    assert 'class="solar-chart solar-chart-daily"' in html(response)


def test_a_member_of_two_communities_sees_each_markets_last_24_hours_apart(
    web_as, producer, buyer, panels, home, settled, other_community
):
    MembershipFactory(community=other_community, user=producer)
    there = MeterFactory(community=other_community, owner=producer, name="Allotment panels", kind=Meter.Kind.PRODUCER)
    neighbor = MeterFactory(community=other_community, kind=Meter.Kind.CONSUMER)
    settle_a_slot(producer=producer, buyer=neighbor.owner, panels=there, home=neighbor, hours_ago=2)
    upcoming = next_slot_start(timezone.now(), ahead=3)
    place(producer, there, upcoming, "sell", 100, "0.3")
    response = web_as(producer).get(MARKET)
    page = words(response)
    assert html(response).count('class="solar-chart solar-chart-slots"') == 2
    assert "<h3>Riverside Neighbors</h3>" in html(response) and "<h3>Sunnyside Commons</h3>" in html(response)
    assert f"{format_when_short(upcoming)} · Riverside Neighbors" in page
    assert "Sold 1 kWh and earned 0.24 credits" in page  # both markets' trades


def test_a_member_without_a_meter_learns_how_it_works_and_is_asked_to_register_one(web_as, member):
    response = web_as(member).get(MARKET)
    page = words(response)
    assert "How it works" in page and "one fair price" in page
    assert f'href="{reverse("solar:meter-create")}" role="button">Register your meter' in html(response)
    assert "No quarter hour was traded in the last 24 hours." in page
    assert "My energy" not in page  # nothing to show without a meter or a trade


def test_someone_in_no_community_is_led_to_join_one(web_as, stranger):
    page = words(web_as(stranger).get(MARKET))
    assert "Join a community first" in page and "Find a community to join" in page
    assert "Quarter hours taking orders" not in page


def test_the_pages_need_a_sign_in(client, open_slot):
    for url in (MARKET, slot_url(open_slot), TRADES, reverse("solar:orders"), reverse("solar:meters")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_top_menu_has_the_energy_market(web_as, member):
    assert f'<a href="{MARKET}">Energy</a>' in html(web_as(member).get("/"))


# --- a quarter hour -----------------------------------------------------------------------
def test_an_open_quarter_hour_says_until_when_it_takes_orders_and_shows_my_orders_with_their_buttons(
    web_as, producer, open_slot
):
    response = web_as(producer).get(slot_url(open_slot))
    page = words(response)
    assert f"Open for orders until {format_when_short(open_slot.gate_closes_at)}." in page
    assert "1 buy order and 1 sell order so far" in page
    assert "Sell 0.5 kWh at 0.2 credits per kWh or more" in page
    assert "Buy 0.4 kWh" not in page  # the buyer's order is theirs, not shown here
    order = Order.objects.get(slot=open_slot, member=producer)
    assert reverse("solar:order-change", args=[order.pk]) in html(response)
    assert reverse("solar:order-cancel", args=[order.pk]) in html(response)
    assert "Place an order for this quarter hour" in page


def test_a_quarter_hour_past_gate_closure_says_it_is_being_matched(web_as, producer, panels):
    start = next_slot_start(timezone.now()) - timedelta(minutes=15)  # its orders closed a moment ago
    place(producer, panels, start, "sell", 500, "0.2", now=start - timedelta(minutes=20))
    slot = Slot.objects.get(start=start)
    page = words(web_as(producer).get(slot_url(slot)))
    gate = timezone.localtime(start - timedelta(minutes=5))
    assert f"Orders closed at {gate:%H:%M}; the market is matching them now." in page
    assert "Waiting for the market to match it" in page
    assert "Place an order for this quarter hour" not in page


def test_a_settled_quarter_hour_shows_where_it_cleared_and_my_trade(web_as, buyer, settled):
    response = web_as(buyer).get(slot_url(settled))
    page = words(response)
    assert "Settled from the meter readings. 0.5 kWh traded at 0.25 credits per kWh." in page
    assert 'class="solar-cleared"' in html(response)
    assert "Bought from Pia Producer" in page
    assert "Agreed 0.5 kWh at 0.25 credits per kWh Delivered 0.5 kWh Paid 0.12 credits" in page
    assert "Filled" in page
    assert "Change" not in page and "Cancel order" not in page
    assert "Place an order for this quarter hour" not in page


def test_a_quarter_hour_of_another_community_is_not_found(web_as, buyer, other_community):
    outsider = MeterFactory(community=other_community, kind=Meter.Kind.PRODUCER)
    start = next_slot_start(timezone.now(), ahead=2)
    place(outsider.owner, outsider, start, "sell", 100, "0.1")
    slot = Slot.objects.get(community=other_community)
    assert web_as(buyer).get(slot_url(slot)).status_code == 404
    assert web_as(buyer).get(slot_url(slot, "cancel")).status_code == 404
    assert web_as(buyer).post(slot_url(slot, "cancel"), {"reason": "x"}).status_code == 404


def test_an_organizer_cancels_a_quarter_hour_with_a_reason_after_confirming(web_as, organizer, open_slot):
    client = web_as(organizer)
    page = words(client.get(slot_url(open_slot)))
    assert "For organizers" in page and "Cancel this slot" in page
    confirm = words(client.get(slot_url(open_slot, "cancel")))
    assert "The 2 orders in it are void" in confirm and "Yes, cancel this quarter hour" in confirm

    response = client.post(slot_url(open_slot, "cancel"), {"reason": "The transformer is being replaced."}, follow=True)
    open_slot.refresh_from_db()
    assert open_slot.status == Slot.Status.CANCELLED
    assert set(Order.objects.filter(slot=open_slot).values_list("status", flat=True)) == {Order.Status.VOID}
    assert SlotEvent.objects.get(slot=open_slot, target=Slot.Status.CANCELLED).actor == organizer
    page = words(response)
    assert "is cancelled; everyone with an order is told why" in page
    assert "Cancelled by the organizers: The transformer is being replaced." in page
    assert "Cancel this slot" not in page


def test_an_organizer_must_give_a_reason_to_cancel(web_as, organizer, open_slot):
    response = web_as(organizer).post(slot_url(open_slot, "cancel"), {"reason": "  "})
    assert "This field is required." in words(response)
    open_slot.refresh_from_db()
    assert open_slot.status == Slot.Status.OPEN


def test_a_member_sees_no_cancel_button_and_cannot_cancel(web_as, buyer, open_slot):
    client = web_as(buyer)
    assert "Cancel this slot" not in words(client.get(slot_url(open_slot)))
    response = client.get(slot_url(open_slot, "cancel"), follow=True)
    assert "Only an organizer of the community can do that." in words(response)
    response = client.post(slot_url(open_slot, "cancel"), {"reason": "I don't like it"})
    assert "Only an organizer of the community can do that." in words(response)
    open_slot.refresh_from_db()
    assert open_slot.status == Slot.Status.OPEN


# --- my trades ----------------------------------------------------------------------------
def test_my_trades_say_who_what_and_whether_it_was_paid(web_as, producer, buyer, settled):
    seller_page = words(web_as(producer).get(TRADES))
    assert "Sold to Ben Buyer" in seller_page
    assert "Agreed 0.5 kWh at 0.25 credits per kWh Delivered 0.5 kWh Earned 0.12 credits Status Settled" in seller_page
    buyer_page = words(web_as(buyer).get(TRADES))
    assert "Bought from Pia Producer" in buyer_page and "Paid 0.12 credits" in buyer_page


def test_my_trades_say_waiting_not_paid_and_cancelled_in_words(web_as, producer, settled):
    trade = Trade.objects.get(slot=settled)
    client = web_as(producer)
    Trade.objects.filter(pk=trade.pk).update(status=Trade.Status.UNPAID, note="The buyer's account is at its limit.")
    assert "Not paid: The buyer's account is at its limit." in words(client.get(TRADES))
    Trade.objects.filter(pk=trade.pk).update(status=Trade.Status.VOID)
    assert "Slot cancelled" in words(client.get(TRADES))
    Trade.objects.filter(pk=trade.pk).update(status=Trade.Status.CLEARED, delivered_wh=None, amount=None)
    page = words(client.get(TRADES))
    assert "Waiting for meter readings" in page and "Delivered not measured yet" in page


def test_no_trades_yet_leads_to_placing_an_order(web_as, buyer, home):
    page = words(web_as(buyer).get(TRADES))
    assert "No trades yet." in page and "Place an order" in page


# --- the community page and the profile -------------------------------------------------------
def test_the_community_section_lists_the_open_quarter_hours_with_their_orders(buyer, community, open_slot):
    slots = community_slots(user=buyer, community=community, limit=4)
    assert [(s.pk, s.buys, s.sells) for s in slots] == [(open_slot.pk, 1, 1)]
    rendered = Template(
        '{% include "solar/_community_section.html" %}<ol>{% include "solar/_community_first_step.html" %}</ol>'
    ).render(Context({"community": community, "items": slots}))
    text = " ".join(strip_tags(rendered).split())
    assert f"{format_when_short(open_slot.start)} · 1 buy and 1 sell order" in text
    assert "Register your electricity meter" in text


def test_the_community_page_shows_the_section_once_registered(web_as, buyer, community, open_slot, monkeypatch):
    """With the registration proposed for ``SolarConfig.ready()`` (set here for this test only)."""
    section = CommunitySection(
        key="solar",
        template="solar/_community_section.html",
        first_step="solar/_community_first_step.html",
        load=community_slots,
        order=30,
    )
    monkeypatch.setitem(sections._SECTIONS, "solar", section)
    page = words(web_as(buyer).get(reverse("peers:community", args=[community.slug])))
    assert "Energy market here" in page and f"{format_when_short(open_slot.start)} · 1 buy and 1 sell order" in page
    assert "Register your electricity meter: sell your solar panels' surplus to neighbors, or buy theirs." in page


def test_the_community_section_of_a_quiet_market_explains_it(buyer, community, other_community):
    assert community_slots(user=buyer, community=other_community, limit=4) == []
    rendered = Template('{% include "solar/_community_section.html" %}').render(
        Context({"community": community, "items": []})
    )
    assert "Nobody has ordered energy for the coming quarter hours here." in rendered


def test_a_sellers_profile_can_show_how_much_of_what_they_sold_was_delivered(producer, buyer, panels, home):
    template = Template("{% load solar %}{% delivery_reliability member %}")
    assert template.render(Context({"member": producer})).strip() == ""  # sold nothing yet
    settle_a_slot(producer=producer, buyer=buyer, panels=panels, home=home)
    text = " ".join(strip_tags(template.render(Context({"member": producer}))).split())
    assert text.startswith("Solar energy Delivered 100% of the energy sold to neighbors over the last 30 days")
