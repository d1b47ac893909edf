"""P1 telegrams: a published DSMR 5 test vector parses with its CRC checked, a damaged
one is refused, and cumulative registers become 15-minute interval readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.solar.p1 import IntervalReading, P1Reading, TelegramError, parse, to_intervals
from tests.solar.p1_telegrams import TELEGRAM_V5


def test_a_dsmr5_telegram_gives_its_clock_meter_and_registers_in_wh():
    reading = parse(TELEGRAM_V5)
    assert reading == P1Reading(
        taken_at=datetime(2017, 1, 2, 18, 20, 2, tzinfo=UTC),  # 19:20:02 winter time in the telegram
        equipment_id="4B384547303034303436333935353037",
        imported_wh=4426 + 2399,
        exported_wh=2444,
    )


def test_a_telegram_whose_crc_does_not_match_is_refused():
    damaged = TELEGRAM_V5.replace("1-0:1.8.1(000004.426*kWh)", "1-0:1.8.1(000005.426*kWh)")
    with pytest.raises(TelegramError, match="can't be read"):
        parse(damaged)


def test_a_telegram_without_its_registers_is_refused():
    with pytest.raises(TelegramError):
        parse("/ISk5\2MT382-1000\r\n\r\n1-3:0.2.8(50)\r\n!0000\r\n")


def _at(minute: int, second: int = 0, imported: int = 0, exported: int = 0) -> P1Reading:
    moment = datetime(2026, 6, 21, 12, 0, tzinfo=UTC) + timedelta(minutes=minute, seconds=second)
    return P1Reading(taken_at=moment, equipment_id="E1", imported_wh=imported, exported_wh=exported)


def test_cumulative_registers_become_quarter_hour_readings():
    readings = [
        _at(0, 5, imported=1000, exported=500),
        _at(7, 0, imported=1040, exported=700),  # mid-quarter: not a boundary
        _at(15, 2, imported=1100, exported=900),
        _at(30, 30, imported=1150, exported=1400),
    ]
    assert to_intervals(reversed(readings)) == [
        IntervalReading(datetime(2026, 6, 21, 12, 0, tzinfo=UTC), imported_wh=100, exported_wh=400),
        IntervalReading(datetime(2026, 6, 21, 12, 15, tzinfo=UTC), imported_wh=50, exported_wh=500),
    ]


def test_a_quarter_hour_without_a_telegram_at_one_of_its_edges_is_left_out():
    readings = [_at(0, 1, 0, 0), _at(16, 30, 10, 10), _at(30, 0, 20, 20), _at(45, 59, 30, 30)]
    # 12:15 was read 90 s late: 12:00-12:15 and 12:15-12:30 are left out; 12:30-12:45 counts.
    assert to_intervals(readings) == [
        IntervalReading(datetime(2026, 6, 21, 12, 30, tzinfo=UTC), imported_wh=10, exported_wh=10)
    ]


def test_registers_running_backwards_are_refused():
    with pytest.raises(TelegramError, match="went backwards"):
        to_intervals([_at(0, 0, 100, 100), _at(15, 0, 90, 120)])
