"""What apps/solar holds about a member, for their data download (apps.privacy): their
meters (device tokens without their secrets), readings and corrections, P1 registers,
standing orders and orders, the trades they bought or sold in with each settlement, their
trading days and any trading suspension.

The other party of a trade is named by their public display name."""

from __future__ import annotations

from django.db.models import Q

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter

from .models import (
    DeviceToken,
    Meter,
    MeterReading,
    Order,
    P1Boundary,
    ReadingCorrection,
    StandingOrder,
    Trade,
    TradingDay,
    TradingSuspension,
)

TRADE = {
    "id": "id",
    "slot_id": "slot_id",
    "slot_start": "slot__start",
    "seq": "seq",
    "quantity_wh": "quantity_wh",
    "price": "price",
    "status": "status",
    "delivered_wh": "delivered_wh",
    "amount": "amount",
    "transfer_id": "transfer_id",
    "note": "note",
    "settled_at": "settled_at",
}
DAY = ["id", "community_id", "day", "delivered_wh", "amount", "completed_at"]


def export(user) -> dict[str, list[dict]]:
    return {
        "solar_meters": rows(
            Meter.objects.filter(owner=user),
            [
                "id",
                "community_id",
                "name",
                "kind",
                "peak_capacity_w",
                "approx_latitude",
                "approx_longitude",
                "status",
                "p1_equipment_id",
                "created_at",
            ],
        ),
        "solar_device_tokens": rows(
            DeviceToken.objects.filter(meter__owner=user),
            ["id", "meter_id", "label", "prefix", "created_at", "last_used_at", "revoked_at"],
        ),
        "solar_readings": rows(
            MeterReading.objects.filter(meter__owner=user),
            ["id", "meter_id", "interval_start", "imported_wh", "exported_wh", "source", "created_at", "corrected_at"],
        ),
        "solar_reading_corrections": rows(
            ReadingCorrection.objects.filter(reading__meter__owner=user),
            ["id", "reading_id", "previous_imported_wh", "previous_exported_wh", "created_at"],
        ),
        "solar_p1_registers": rows(
            P1Boundary.objects.filter(meter__owner=user),
            ["id", "meter_id", "boundary", "taken_at", "imported_wh_total", "exported_wh_total"],
        ),
        "solar_standing_orders": rows(
            StandingOrder.objects.filter(member=user),
            ["id", "meter_id", "side", "quantity_wh", "limit_price", "from_time", "until_time", "status", "created_at"],
        ),
        "solar_orders": rows(
            Order.objects.filter(member=user),
            {
                "id": "id",
                "slot_id": "slot_id",
                "slot_start": "slot__start",
                "meter_id": "meter_id",
                "side": "side",
                "quantity_wh": "quantity_wh",
                "limit_price": "limit_price",
                "status": "status",
                "filled_wh": "filled_wh",
                "standing_order_id": "standing_id",
                "created_at": "created_at",
                "cancelled_at": "cancelled_at",
            },
        ),
        "solar_purchases": rows(
            Trade.objects.filter(buyer=user),
            {**TRADE, "order_id": "buy_order_id", "seller": "seller__profile__display_name"},
        ),
        "solar_sales": rows(
            Trade.objects.filter(seller=user),
            {**TRADE, "order_id": "sell_order_id", "buyer": "buyer__profile__display_name"},
        ),
        "solar_trading_days": rows(
            TradingDay.objects.filter(Q(seller=user) | Q(buyer=user)),
            {**{f: f for f in DAY}, "seller": "seller__profile__display_name", "buyer": "buyer__profile__display_name"},
        ),
        "solar_trading_suspensions": rows(
            TradingSuspension.objects.filter(member=user), ["id", "community_id", "reason", "created_at", "lifted_at"]
        ),
    }


register_exporter("solar", export)
