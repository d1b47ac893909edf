"""The solar API's market: slots of my communities with their anonymous order books,
organizers cancelling a slot, and my trades (only mine)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.peers.factories import MembershipFactory
from apps.solar import services
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import Order, Slot, SlotEvent, Trade
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
SLOTS = "/api/v1/solar/slots/"
TRADES = "/api/v1/solar/trades/"


def order(meter, start, side, quantity, price, now=None) -> Order:
    return services.order_place(
        member=meter.owner,
        meter=meter,
        slot_start=start,
        side=side,
        quantity_wh=quantity,
        limit_price=Decimal(price),
        now=now,
    )


def cleared_slot(panels, home, home2, *, hours_ago: int = 0) -> Slot:
    """A slot where the panels sold 800 Wh to two homes, cleared at 0.23."""
    now = timezone.now() - timedelta(hours=hours_ago)
    start = next_slot_start(now)
    order(panels, start, "sell", 800, "0.20", now)
    order(home, start, "buy", 500, "0.30", now)
    order(home2, start, "buy", 500, "0.26", now)
    slot = Slot.objects.get(start=start)
    assert services.slot_clear(slot_id=slot.pk, now=start - timedelta(minutes=4))
    slot.refresh_from_db()
    return slot


def test_a_slot_shows_its_book_without_who_ordered(api_as, producer, buyer, buyer2, panels, home, home2):
    start = next_slot_start(timezone.now(), ahead=2)
    order(panels, start, "sell", 800, "0.20")
    order(home, start, "buy", 500, "0.30")
    order(home2, start, "buy", 400, "0.26")
    slot = Slot.objects.get()

    response = api_as(buyer).get(f"{SLOTS}{slot.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "open" and body["gate_closes_at"] is not None
    assert body["depth"] == {
        "buys": [{"quantity_wh": 500, "limit_price": "0.3000"}, {"quantity_wh": 400, "limit_price": "0.2600"}],
        "sells": [{"quantity_wh": 800, "limit_price": "0.2000"}],
    }
    assert body["actions"] == []
    shown = str(body)
    for person in (producer, buyer, buyer2):
        assert person.public_name not in shown and person.email not in shown
    assert "member" not in shown and "meter" not in shown


def test_a_cleared_slot_shows_its_price_and_the_orders_that_took_part(api_as, buyer, panels, home, home2):
    slot = cleared_slot(panels, home, home2)

    body = api_as(buyer).get(f"{SLOTS}{slot.pk}/").json()

    assert (body["status"], body["clearing_price"], body["volume_wh"]) == ("cleared", "0.2300", 800)
    assert (body["buy_orders"], body["sell_orders"]) == (2, 1)
    assert len(body["depth"]["buys"]) == 2 and len(body["depth"]["sells"]) == 1


def test_slots_of_other_communities_are_not_found(api_as, other_community, buyer, panels, home, home2):
    slot = cleared_slot(panels, home, home2)
    outsider = MembershipFactory(community=other_community).user

    assert api_as(outsider).get(f"{SLOTS}{slot.pk}/").status_code == 404
    assert api_as(outsider).get(SLOTS).json()["results"] == []
    assert [s["id"] for s in api_as(buyer).get(SLOTS).json()["results"]] == [slot.pk]


def test_slots_filter_by_community_status_and_start(api_as, buyer, community, panels, home, home2):
    past = cleared_slot(panels, home, home2, hours_ago=2)
    later = next_slot_start(timezone.now(), ahead=3)
    order(panels, later, "sell", 100, "0.2")
    upcoming = Slot.objects.get(start=later)
    client = api_as(buyer)

    def ids(**params):
        response = client.get(SLOTS, params)
        assert response.status_code == 200, response.json()
        return [s["id"] for s in response.json()["results"]]

    assert ids() == [upcoming.pk, past.pk]
    assert ids(status="open") == [upcoming.pk]
    assert ids(start_from=timezone.now().isoformat()) == [upcoming.pk]
    assert ids(start_to=timezone.now().isoformat()) == [past.pk]
    assert ids(community=community.pk) == [upcoming.pk, past.pk]
    assert client.get(SLOTS, {"community": "x"}).status_code == 400
    assert client.get(SLOTS, {"start_from": "0001-01-01T00:00:00+14:00"}).status_code == 400


def test_an_organizer_cancels_a_slot_saying_why(api_as, organizer, buyer, panels, home, home2):
    slot = cleared_slot(panels, home, home2)
    client = api_as(organizer)
    assert client.get(f"{SLOTS}{slot.pk}/").json()["actions"] == ["cancel"]

    silent = client.post(f"{SLOTS}{slot.pk}/cancel/", {}, format="json")
    response = client.post(f"{SLOTS}{slot.pk}/cancel/", {"note": "The meters were down all morning."}, format="json")

    assert silent.status_code == 400 and list(silent.json()) == ["note"]
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["actions"] == []
    slot.refresh_from_db()
    assert slot.status == Slot.Status.CANCELLED
    assert set(Trade.objects.values_list("status", flat=True)) == {"void"}
    assert SlotEvent.objects.get(slot=slot, target="cancelled").note == "The meters were down all morning."


def test_a_member_cannot_cancel_a_slot(api_as, buyer, panels, home, home2):
    slot = cleared_slot(panels, home, home2)

    response = api_as(buyer).post(f"{SLOTS}{slot.pk}/cancel/", {"note": "I changed my mind."}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "forbidden"
    slot.refresh_from_db()
    assert slot.status == Slot.Status.CLEARED


def test_members_see_only_their_own_trades_from_their_side(api_as, producer, buyer, buyer2, panels, home, home2):
    slot = cleared_slot(panels, home, home2)

    sold = api_as(producer).get(TRADES).json()["results"]
    bought = api_as(buyer).get(TRADES).json()["results"]

    assert [(t["side"], t["counterpart"]["display_name"], t["quantity_wh"]) for t in sold] == [
        ("sell", "Ben Buyer", 500),
        ("sell", "Cleo Consumer", 300),
    ]
    assert [(t["side"], t["counterpart"]["display_name"], t["quantity_wh"], t["price"]) for t in bought] == [
        ("buy", "Pia Producer", 500, "0.2300")
    ]
    assert bought[0]["slot_start"] is not None and bought[0]["status"] == "cleared"
    assert bought[0]["delivered_wh"] is None and bought[0]["amount"] is None
    cleo = Trade.objects.get(slot=slot, buyer=buyer2)
    assert api_as(buyer).get(f"{TRADES}{cleo.pk}/").status_code == 404
    assert api_as(buyer2).get(f"{TRADES}{cleo.pk}/").json()["counterpart"] == {
        "id": producer.pk,
        "display_name": "Pia Producer",
    }


def test_trades_filter_by_my_role(api_as, producer, buyer, community, panels, home, home2):
    both = MeterFactory(owner=buyer, community=community, kind="both", peak_capacity_w=4000)
    cleared_slot(panels, home, home2)
    start = next_slot_start(timezone.now(), ahead=3)
    order(both, start, "sell", 100, "0.1")
    order(MeterFactory(owner=producer, community=community, kind="consumer"), start, "buy", 100, "0.3")
    services.slot_clear(slot_id=Slot.objects.get(start=start).pk, now=start - timedelta(minutes=4))
    client = api_as(buyer)

    assert [t["side"] for t in client.get(TRADES, {"role": "buyer"}).json()["results"]] == ["buy"]
    assert [t["side"] for t in client.get(TRADES, {"role": "seller"}).json()["results"]] == ["sell"]
    assert len(client.get(TRADES).json()["results"]) == 2
    assert client.get(TRADES, {"role": "broker"}).status_code == 400


def test_a_settled_trade_shows_what_was_delivered_and_paid(api_as, buyer, panels, home, home2):
    slot = cleared_slot(panels, home, home2, hours_ago=4)
    after = slot.start + timedelta(hours=3)  # past the deadline: missing readings delivered nothing
    services.readings_record(meter=panels, rows=[services.Row(slot.start, 0, 700)], source="form", now=after)
    services.readings_record(meter=home, rows=[services.Row(slot.start, 600, 0)], source="form", now=after)
    assert services.slot_settle(slot_id=slot.pk, now=after)

    [trade] = api_as(buyer).get(TRADES).json()["results"]

    assert (trade["status"], trade["delivered_wh"], trade["amount"]) == ("settled", 500, "0.12")
    assert trade["settled_at"] is not None


# --- query budgets ---------------------------------------------------------------------
def test_the_slot_list_costs_the_same_for_many_slots(api_as, buyer, panels):
    client = api_as(buyer)
    made = []

    def add(n):
        for _ in range(n):
            made.append(1)
            order(panels, next_slot_start(timezone.now(), ahead=len(made) + 1), "sell", 10, "0.2")

    assert_queries_do_not_grow(lambda: client.get(SLOTS), add)


def test_the_slot_page_costs_the_same_for_a_deep_book(api_as, buyer, panels, community):
    start = next_slot_start(timezone.now(), ahead=2)
    order(panels, start, "sell", 10, "0.2")
    slot = Slot.objects.get()
    client = api_as(buyer)

    def add(n):
        for _ in range(n):
            order(MeterFactory(community=community, kind="producer"), start, "sell", 10, "0.2")

    assert_queries_do_not_grow(lambda: client.get(f"{SLOTS}{slot.pk}/"), add, small=0, large=20)


def test_the_trade_list_costs_the_same_for_many_trades(api_as, producer, community, panels):
    client = api_as(producer)
    made = []

    def add(n):
        for _ in range(n):
            made.append(1)
            start = next_slot_start(timezone.now(), ahead=len(made) + 1)
            order(panels, start, "sell", 10, "0.2")
            order(MeterFactory(community=community, kind="consumer"), start, "buy", 10, "0.3")
            services.slot_clear(slot_id=Slot.objects.get(start=start).pk, now=start - timedelta(minutes=4))

    assert_queries_do_not_grow(lambda: client.get(TRADES), add)
