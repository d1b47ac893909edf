"""Smart-meter P1 telegrams into 15-minute readings (Dutch, Belgian and Luxembourg meters
speak DSMR on their P1 port; a small device there posts the raw telegrams).

``parse(telegram)`` checks the telegram's CRC and reads its clock and its cumulative
registers (import and export, both tariffs), with the ``dsmr-parser`` package rather than
our own parser: it is kept, knows every DSMR version's layout and validates the CRC.
``to_intervals(readings)`` turns a run of such readings into the solar market's
15-minute interval readings: imported and exported Wh per quarter hour.

Not wired to anything yet: the meters, the device tokens and the readings API come with
the rest of the solar exchange (issue 13).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _
from dsmr_parser import obis_references as obis
from dsmr_parser import telegram_specifications
from dsmr_parser.exceptions import ParseError
from dsmr_parser.parsers import TelegramParser

QUARTER = timedelta(minutes=15)
# A register counts for a quarter-hour boundary when read at most this long after it
# (meters send a telegram every 1 to 10 seconds).
MAX_LAG = timedelta(seconds=60)
_PARSER = TelegramParser(telegram_specifications.V5)


class TelegramError(ValueError):
    """A telegram that can't be used: damaged (CRC), incomplete, or going backwards."""


@dataclass(frozen=True, slots=True)
class P1Reading:
    """What one telegram says: when, which meter, and its cumulative registers in Wh."""

    taken_at: datetime
    equipment_id: str
    imported_wh: int  # 1-0:1.8.1 + 1-0:1.8.2
    exported_wh: int  # 1-0:2.8.1 + 1-0:2.8.2


@dataclass(frozen=True, slots=True)
class IntervalReading:
    """Energy through the meter in one quarter hour starting at ``interval_start`` (UTC)."""

    interval_start: datetime
    imported_wh: int
    exported_wh: int


def _wh(kwh: Decimal) -> int:
    return int((kwh * 1000).to_integral_value())


MAX_REGISTER_WH = 10**12  # a terawatt-hour: no household meter's register gets near


def parse(telegram: str) -> P1Reading:
    """Read one raw telegram; ``TelegramError`` if its CRC fails, a register is missing
    or unreadable, or a value is impossible (a device can send a well-formed telegram
    with a broken clock or register)."""
    try:
        parsed = _PARSER.parse(telegram, throw_ex=True)
        registers = [
            _wh(parsed[obis.ELECTRICITY_USED_TARIFF_1].value),
            _wh(parsed[obis.ELECTRICITY_USED_TARIFF_2].value),
            _wh(parsed[obis.ELECTRICITY_DELIVERED_TARIFF_1].value),
            _wh(parsed[obis.ELECTRICITY_DELIVERED_TARIFF_2].value),
        ]
        taken_at = parsed[obis.P1_MESSAGE_TIMESTAMP].value.astimezone(UTC)
        equipment = parsed[obis.EQUIPMENT_IDENTIFIER].value
    except ParseError as exc:
        raise TelegramError(_("This telegram can't be read: %(problem)s") % {"problem": exc}) from None
    except (KeyError, AttributeError, TypeError, ValueError, ArithmeticError, OverflowError):
        raise TelegramError(_("This telegram lacks a readable clock or energy register.")) from None
    if any(not 0 <= wh <= MAX_REGISTER_WH for wh in registers):
        raise TelegramError(_("This telegram's energy registers hold impossible values."))
    return P1Reading(
        taken_at=taken_at,
        equipment_id=str(equipment),
        imported_wh=registers[0] + registers[1],
        exported_wh=registers[2] + registers[3],
    )


def quarter_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def to_intervals(readings: Iterable[P1Reading]) -> list[IntervalReading]:
    """Cumulative readings of one meter into 15-minute interval readings, oldest first.

    The registers at a quarter-hour boundary are those of the first reading at or after
    it, within ``MAX_LAG``; a quarter hour is given only when both its boundaries have
    one (a gap in the telegrams leaves its quarter hours out, to be entered by hand
    rather than guessed). Registers never run backwards: a reading that does is refused.
    """
    at_boundary: dict[datetime, P1Reading] = {}
    previous = None
    for reading in sorted(readings, key=lambda r: r.taken_at):
        if previous is not None and (
            reading.imported_wh < previous.imported_wh or reading.exported_wh < previous.exported_wh
        ):
            raise TelegramError(
                _(
                    "The meter's registers went backwards at %(when)s UTC "
                    "(a replaced or reset meter?): these readings can't be used."
                )
                % {"when": f"{reading.taken_at:%Y-%m-%d %H:%M:%S}"}
            )
        previous = reading
        boundary = quarter_start(reading.taken_at)
        if reading.taken_at.astimezone(UTC) - boundary <= MAX_LAG:
            at_boundary.setdefault(boundary, reading)
    intervals = []
    for start in sorted(at_boundary):
        end = at_boundary.get(start + QUARTER)
        if end is not None:
            first = at_boundary[start]
            intervals.append(
                IntervalReading(
                    interval_start=start,
                    imported_wh=end.imported_wh - first.imported_wh,
                    exported_wh=end.exported_wh - first.exported_wh,
                )
            )
    return intervals
