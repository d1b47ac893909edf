"""Organizers in the admin's solar market: their communities' rows only, and what they do
(cancel a slot, stop a member trading, let them trade again) goes through the services."""

from __future__ import annotations

import itertools
import uuid
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory, UserFactory
from apps.solar import services
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import (
    DeviceToken,
    Meter,
    MeterReading,
    Order,
    ReadingCorrection,
    Slot,
    SlotEvent,
    StandingOrder,
    Trade,
    TradingSuspension,
)
from p2pcommons.errors import RuleViolation
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db

SLOTS = reverse("admin:solar_slot_changelist")
SUSPENSIONS = reverse("admin:solar_tradingsuspension_changelist")


@pytest.fixture
def riverside_slot(other_community) -> Slot:
    """A cleared slot of the other community, with a trade."""
    seller = MembershipFactory(community=other_community, user__profile__display_name="Rita Riverside").user
    buyer = MembershipFactory(community=other_community).user
    panels = MeterFactory(owner=seller, community=other_community, name="Houseboat panels", kind=Meter.Kind.PRODUCER)
    home = MeterFactory(owner=buyer, community=other_community, name="Warehouse loft", kind=Meter.Kind.CONSUMER)
    return _cleared_slot(panels, home)


def _cleared_slot(panels: Meter, home: Meter) -> Slot:
    now = timezone.now()
    start = next_slot_start(now, ahead=2)
    for meter, side, price in ((panels, "sell", "0.20"), (home, "buy", "0.30")):
        services.order_place(
            member=meter.owner,
            meter=meter,
            slot_start=start,
            side=side,
            quantity_wh=500,
            limit_price=Decimal(price),
            now=now,
        )
    slot = Slot.objects.get(community=panels.community, start=start)
    assert services.slot_clear(slot_id=slot.pk, now=start - timedelta(minutes=4))
    slot.refresh_from_db()
    return slot


def _changelist_pks(response) -> set[int]:
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def test_an_organizer_sees_their_communitys_slots_and_meters_and_not_the_others(
    web_as, organizer, panels, home, riverside_slot
):
    mine = _cleared_slot(panels, home)
    client = web_as(organizer)
    assert _changelist_pks(client.get(SLOTS)) == {mine.pk}
    meters = client.get(reverse("admin:solar_meter_changelist"))
    assert _changelist_pks(meters) == {panels.pk, home.pk}
    page = meters.content.decode()
    assert "Roof panels" in page and "Pia Producer" in page and "Houseboat panels" not in page
    assert "pia@example.org" not in page  # names, never emails
    trades = client.get(reverse("admin:solar_trade_changelist"))
    assert _changelist_pks(trades) == set(Trade.objects.filter(slot=mine).values_list("pk", flat=True))
    assert "Rita Riverside" not in trades.content.decode()
    # Another community's slot by its address: "doesn't exist", like a missing one.
    response = client.get(reverse("admin:solar_slot_change", args=[riverside_slot.pk]))
    assert response.status_code == 302
    # A superuser sees both.
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert _changelist_pks(client.get(SLOTS)) == {mine.pk, riverside_slot.pk}


def test_an_organizer_cancels_a_cleared_slot_with_a_reason_that_voids_its_trades_and_is_recorded(
    web_as, organizer, producer, buyer, panels, home
):
    slot = _cleared_slot(panels, home)
    assert Trade.objects.filter(slot=slot, status=Trade.Status.CLEARED).count() == 1
    client = web_as(organizer)
    form = client.post(SLOTS, {"action": "cancel_slots", "_selected_action": [slot.pk]})
    assert form.status_code == 200 and b"reason" in form.content  # asks why first; nothing done yet
    assert Slot.objects.get(pk=slot.pk).status == Slot.Status.CLEARED

    done = client.post(
        SLOTS,
        {"action": "cancel_slots", "_selected_action": [slot.pk], "apply": "1", "reason": "The meters misreported"},
        follow=True,
    )
    assert "Cancelled 1 slot(s)" in done.content.decode()
    slot.refresh_from_db()
    assert slot.status == Slot.Status.CANCELLED
    assert set(Trade.objects.filter(slot=slot).values_list("status", flat=True)) == {Trade.Status.VOID}
    assert set(Order.objects.filter(slot=slot).values_list("status", flat=True)) == {Order.Status.VOID}
    event = SlotEvent.objects.get(slot=slot, target=Slot.Status.CANCELLED)
    assert (event.actor, event.source, event.note) == (organizer, Slot.Status.CLEARED, "The meters misreported")
    told = Notification.objects.filter(recipient__in=[producer, buyer], text__contains="The meters misreported")
    assert told.count() == 2

    # The slot's page in the admin shows the timeline, by the organizer's name.
    page = client.get(reverse("admin:solar_slot_change", args=[slot.pk])).content.decode()
    assert "The meters misreported" in page and "Orla Organizer" in page
    assert "organizer@example.org" not in page


def test_cancelling_a_settled_slot_is_refused_with_a_message_and_changes_nothing(web_as, organizer, panels, home):
    slot = _cleared_slot(panels, home)
    Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.SETTLED)
    response = web_as(organizer).post(
        SLOTS, {"action": "cancel_slots", "_selected_action": [slot.pk], "apply": "1", "reason": "Late"}, follow=True
    )
    assert response.status_code == 200
    assert Slot.objects.get(pk=slot.pk).status == Slot.Status.SETTLED
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1
    assert not SlotEvent.objects.filter(slot=slot, target=Slot.Status.CANCELLED).exists()


def test_an_organizer_cannot_cancel_another_communitys_slot(web_as, organizer, riverside_slot):
    web_as(organizer).post(
        SLOTS, {"action": "cancel_slots", "_selected_action": [riverside_slot.pk], "apply": "1", "reason": "Mine now"}
    )
    riverside_slot.refresh_from_db()
    assert riverside_slot.status == Slot.Status.CLEARED
    assert set(Trade.objects.filter(slot=riverside_slot).values_list("status", flat=True)) == {Trade.Status.CLEARED}
    assert not SlotEvent.objects.filter(slot=riverside_slot, target=Slot.Status.CANCELLED).exists()


def test_the_admin_edits_no_slot_or_order_directly(web_as, organizer, panels, home):
    slot = _cleared_slot(panels, home)
    client = web_as(organizer)
    client.post(reverse("admin:solar_slot_change", args=[slot.pk]), {"status": "settled", "clearing_price": "9"})
    order = Order.objects.filter(slot=slot).first()
    client.post(reverse("admin:solar_order_change", args=[order.pk]), {"quantity_wh": "1", "status": "open"})
    slot.refresh_from_db()
    order.refresh_from_db()
    assert (slot.status, slot.clearing_price) == (Slot.Status.CLEARED, Decimal("0.2500"))
    assert (order.quantity_wh, order.status) == (500, Order.Status.FILLED)
    for name in ("slot", "order", "trade", "meterreading", "meter"):
        assert client.get(reverse(f"admin:solar_{name}_add")).status_code == 403


def _place(member, meter, side, *, ahead: int = 3, price: str = "0.30"):
    now = timezone.now()
    return services.order_place(
        member=member,
        meter=meter,
        slot_start=next_slot_start(now, ahead=ahead),
        side=side,
        quantity_wh=400,
        limit_price=Decimal(price),
        now=now,
    )


def test_stopping_a_member_in_the_admin_cancels_their_open_orders_and_refuses_new_ones_until_lifted(
    web_as, organizer, community, buyer, home
):
    open_order = _place(buyer, home, "buy")
    client = web_as(organizer)
    add = reverse("admin:solar_tradingsuspension_add")
    page = client.get(add).content.decode()
    assert "Stop trading for a member" in page and "Ben Buyer" in page and "ben@example.org" not in page

    response = client.post(add, {"community": community.pk, "member": buyer.pk, "reason": "Orders never delivered"})
    assert response.status_code == 302
    suspension = TradingSuspension.objects.get(member=buyer)
    assert (suspension.created_by, suspension.reason, suspension.lifted_at) == (
        organizer,
        "Orders never delivered",
        None,
    )
    open_order.refresh_from_db()
    assert open_order.status == Order.Status.CANCELLED
    assert Notification.objects.filter(recipient=buyer, text__contains="Orders never delivered").exists()
    with pytest.raises(RuleViolation) as refused:
        _place(buyer, home, "buy")
    assert refused.value.code == "suspended"

    # Stopping them again is refused in words, with no second record.
    again = client.post(add, {"community": community.pk, "member": buyer.pk, "reason": "Twice"}, follow=True)
    assert "already stopped" in again.content.decode()
    assert TradingSuspension.objects.filter(member=buyer).count() == 1

    client.post(SUSPENSIONS, {"action": "lift", "_selected_action": [suspension.pk]})
    suspension.refresh_from_db()
    assert suspension.lifted_at is not None and suspension.lifted_by == organizer
    assert _place(buyer, home, "buy").status == Order.Status.OPEN


def test_an_organizer_stops_a_meters_owner_from_the_meter_list_with_a_reason(web_as, organizer, producer, panels):
    _place(producer, panels, "sell", price="0.20")
    url = reverse("admin:solar_meter_changelist")
    web_as(organizer).post(
        url, {"action": "stop_trading", "_selected_action": [panels.pk], "apply": "1", "reason": "Meter tampered"}
    )
    assert TradingSuspension.objects.get(member=producer).reason == "Meter tampered"
    assert not Order.objects.filter(member=producer, status=Order.Status.OPEN).exists()


def test_an_organizer_can_only_stop_members_of_their_own_communities(
    web_as, organizer, community, other_community, riverside_slot
):
    outsider = riverside_slot.orders.first().member
    client = web_as(organizer)
    assert outsider.public_name not in client.get(reverse("admin:solar_tradingsuspension_add")).content.decode()
    for where in (community, other_community):
        response = client.post(
            reverse("admin:solar_tradingsuspension_add"),
            {"community": where.pk, "member": outsider.pk, "reason": "Not yours"},
        )
        assert response.status_code == 200  # the form again, with the error
    assert not TradingSuspension.objects.exists()


def test_a_device_tokens_secret_and_its_hash_never_show_in_the_admin(web_as, producer, panels):
    token, key = services.device_token_create(meter=panels, actor=producer, label="Pi in the hall")
    client = web_as(UserFactory(is_staff=True, is_superuser=True))
    for url in (
        reverse("admin:solar_devicetoken_changelist"),
        reverse("admin:solar_devicetoken_change", args=[token.pk]),
    ):
        page = client.get(url).content.decode()
        assert "Pi in the hall" in page
        assert token.key_hash not in page and key not in page


# --- every changelist renders, in a fixed number of queries ------------------------------
_quarters = itertools.count(1)


def _market_rows(community, organizer, count: int) -> None:
    """``count`` rounds of everything the solar admin lists, in ``community``: meters,
    readings with a correction, a settled slot with its event, orders and a trade, a
    standing order, a device token and a lifted suspension."""
    base = next_slot_start(timezone.now()) - timedelta(days=1)
    for _ in range(count):
        seller = MembershipFactory(community=community).user
        buyer = MembershipFactory(community=community).user
        panels = MeterFactory(owner=seller, community=community, kind=Meter.Kind.PRODUCER)
        home = MeterFactory(owner=buyer, community=community, kind=Meter.Kind.CONSUMER)
        start = base - next(_quarters) * timedelta(minutes=15)
        slot = Slot.objects.create(
            community=community, start=start, status=Slot.Status.SETTLED, clearing_price=Decimal("0.25")
        )
        SlotEvent.objects.create(slot=slot, source=Slot.Status.OPEN, target=Slot.Status.CLEARED)
        orders = {
            side: Order.objects.create(
                slot=slot,
                member=meter.owner,
                meter=meter,
                side=side,
                quantity_wh=500,
                limit_price=Decimal("0.25"),
                status=Order.Status.FILLED,
                filled_wh=500,
            )
            for side, meter in (("sell", panels), ("buy", home))
        }
        Trade.objects.create(
            slot=slot,
            seq=1,
            buy_order=orders["buy"],
            sell_order=orders["sell"],
            buyer=buyer,
            seller=seller,
            quantity_wh=500,
            price=Decimal("0.25"),
            status=Trade.Status.SETTLED,
            delivered_wh=500,
            amount=Decimal("0.13"),
        )
        reading = MeterReading.objects.create(
            meter=panels, interval_start=start, imported_wh=0, exported_wh=500, source=MeterReading.Source.FORM
        )
        ReadingCorrection.objects.create(reading=reading, previous_imported_wh=0, previous_exported_wh=450)
        StandingOrder.objects.create(
            member=seller,
            meter=panels,
            side="sell",
            quantity_wh=300,
            limit_price=Decimal("0.20"),
            from_time=time(10),
            until_time=time(16),
        )
        DeviceToken.objects.create(meter=panels, label="Pi", key_hash=uuid.uuid4().hex, prefix="p1m_abcd")
        TradingSuspension.objects.create(
            community=community,
            member=buyer,
            reason="Testing",
            created_by=organizer,
            lifted_at=timezone.now(),
            lifted_by=organizer,
        )


CHANGELISTS = ["meter", "meterreading", "devicetoken", "slot", "order", "trade", "standingorder", "tradingsuspension"]


@pytest.mark.parametrize("name", CHANGELISTS)
@pytest.mark.parametrize("who", ["organizer", "superuser"])
def test_each_solar_changelist_renders_in_a_fixed_number_of_queries(
    client, organizer, community, other_community, name, who
):
    viewer = organizer if who == "organizer" else UserFactory(is_staff=True, is_superuser=True)
    client.force_login(viewer)
    url = reverse(f"admin:solar_{name}_changelist")

    def request():
        response = client.get(url)
        assert response.status_code == 200

    def add(count: int) -> None:
        _market_rows(community, organizer, count)
        _market_rows(other_community, organizer, count)

    assert assert_queries_do_not_grow(request, add, small=1, large=4) == PINNED[who][name]


# The organizer's pages also read which communities they organize (scope, filter, menu);
# the readings and slots lists have a date drill-down (two more).
PINNED = {
    "organizer": dict.fromkeys(CHANGELISTS, 11) | {"meterreading": 13, "slot": 13},
    "superuser": dict.fromkeys(CHANGELISTS, 7) | {"meterreading": 9, "slot": 9},
}
