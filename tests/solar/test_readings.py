"""Meter readings, through the services: by hand, from a CSV file, from P1 telegrams.

One set of rules on every way in: a quarter hour that is over, on the quarter hour and
with its time zone; no more out than the meter can pass; the same values again change
nothing; other values are a correction only the owner makes (kept in the history) and
only until the slot is settled; a batch with a bad row writes nothing and names it.

Times are fixed: the quarter hour of Monday 22 June 2026, 12:00 in Amsterdam (10:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from apps.solar import services
from apps.solar.models import Meter, MeterReading, P1Boundary, ReadingCorrection, Slot, Trade
from apps.solar.services import Recorded, Row
from p2pcommons.errors import RuleViolation
from tests.solar.p1_telegrams import TELEGRAM_V5

START = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)  # Monday 22 June 2026, 12:00 in Amsterdam
OVER = START + timedelta(minutes=20)  # when readings of that quarter hour are sent
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FORM = MeterReading.Source.FORM


def record(meter: Meter, *rows: Row, actor="owner", correct: bool = False, now: datetime = OVER) -> Recorded:
    return services.readings_record(
        meter=meter,
        rows=list(rows),
        source=FORM,
        actor=meter.owner if actor == "owner" else actor,
        correct=correct,
        now=now,
    )


def problems(call) -> list[str]:
    """The messages a person reads under 'readings' when the batch is refused."""
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict["readings"]


def stored(meter: Meter) -> list[tuple[datetime, int, int]]:
    return list(
        MeterReading.objects.filter(meter=meter)
        .order_by("interval_start")
        .values_list("interval_start", "imported_wh", "exported_wh")
    )


def settled_slot(panels: Meter, home: Meter, *, exported: int = 300, imported: int = 300) -> Slot:
    """Pia's panels sold Ben 300 Wh in the 12:00 slot; both readings are in; it settled."""
    for meter, side, price in ((panels, "sell", "0.20"), (home, "buy", "0.30")):
        services.order_place(
            member=meter.owner,
            meter=meter,
            slot_start=START,
            side=side,
            quantity_wh=300,
            limit_price=Decimal(price),
            now=START - timedelta(hours=1),
        )
    slot = Slot.objects.get(start=START)
    assert services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)
    record(panels, Row(START, 0, exported))
    record(home, Row(START, imported, 0))
    assert services.slot_settle(slot_id=slot.pk, now=OVER)
    return slot


# --- one reading ------------------------------------------------------------------------------
def test_a_reading_of_a_quarter_hour_that_is_over_is_recorded(panels):
    result = record(panels, Row(START.astimezone(AMSTERDAM), 12, 640), now=START + timedelta(minutes=15))

    assert result == Recorded(created=1, corrected=0, unchanged=0)
    reading = MeterReading.objects.get()
    assert (reading.meter, reading.interval_start, reading.imported_wh, reading.exported_wh) == (
        panels,
        START,
        12,
        640,
    )
    assert (reading.source, reading.corrected_at) == (FORM, None)


@pytest.mark.parametrize(
    ("start", "label"),
    [
        (START + timedelta(minutes=7), "Mon 22 Jun, 12:07"),
        (START + timedelta(seconds=30), "Mon 22 Jun, 12:00"),
        (START + timedelta(microseconds=1), "Mon 22 Jun, 12:00"),
    ],
)
def test_a_reading_off_the_quarter_hour_is_refused(panels, start, label):
    assert problems(lambda: record(panels, Row(start, 0, 100))) == [
        f"Row 1 ({label}): an interval starts on the quarter hour (:00, :15, :30 or :45)."
    ]
    assert stored(panels) == []


def test_a_reading_without_a_time_zone_is_refused(panels):
    assert problems(lambda: record(panels, Row(START.replace(tzinfo=None), 0, 100))) == [
        "Row 1: give the interval's start with its time zone, e.g. 2026-06-21T12:00:00+02:00."
    ]


@pytest.mark.parametrize(
    ("start", "now"),
    [
        (START, START + timedelta(minutes=14, seconds=59)),  # not over yet
        (START + timedelta(hours=1), OVER),  # in the future
    ],
    ids=["not over yet", "future"],
)
def test_a_reading_of_a_quarter_hour_that_is_not_over_is_refused(panels, start, now):
    messages = problems(lambda: record(panels, Row(start, 0, 100), now=now))

    assert len(messages) == 1
    assert messages[0].endswith("this quarter hour is not over yet; send its reading afterwards.")
    assert stored(panels) == []


def test_more_out_than_the_meter_can_pass_in_a_quarter_hour_is_refused(panels):
    assert problems(lambda: record(panels, Row(START, 0, 1001))) == [
        "Row 1 (Mon 22 Jun, 12:00): 1,001 Wh out in a quarter hour is more than this meter's 4,000 W can pass "
        "(1,000 Wh)."
    ]

    record(panels, Row(START, 0, 1000))
    assert stored(panels) == [(START, 0, 1000)]


@pytest.mark.parametrize("value", [-1, 1.5, "12", True, None, 1_000_001])
def test_a_reading_that_is_not_a_whole_number_of_wh_is_refused(home, value):
    assert problems(lambda: record(home, Row(START, value, 0))) == [
        "Row 1 (Mon 22 Jun, 12:00): imported must be a whole number of Wh from 0 to 1,000,000."
    ]
    assert stored(home) == []


def test_an_empty_batch_is_refused(panels):
    assert problems(lambda: record(panels)) == ["Send at least one reading."]


def test_only_the_meters_owner_records_its_readings(buyer, panels):
    with pytest.raises(RuleViolation) as caught:
        record(panels, Row(START, 0, 100), actor=buyer)

    assert caught.value.code == "forbidden"
    assert stored(panels) == []


def test_a_retired_meter_takes_no_readings(producer, panels):
    services.meter_retire(meter=panels, actor=producer)

    with pytest.raises(RuleViolation) as caught:
        record(panels, Row(START, 0, 100))

    assert caught.value.code == "illegal_transition"
    assert stored(panels) == []


# --- the same quarter hour again -------------------------------------------------------------
def test_the_same_reading_again_changes_nothing(panels):
    record(panels, Row(START, 0, 640))
    first = MeterReading.objects.get()

    result = record(panels, Row(START.astimezone(AMSTERDAM), 0, 640), now=OVER + timedelta(hours=1))

    assert result == Recorded(created=0, corrected=0, unchanged=1)
    again = MeterReading.objects.get()
    assert (again.pk, again.created_at, again.corrected_at) == (first.pk, first.created_at, None)
    assert not ReadingCorrection.objects.exists()


def test_other_values_for_a_recorded_quarter_hour_are_refused_unless_the_owner_corrects(panels):
    record(panels, Row(START, 0, 640))

    assert problems(lambda: record(panels, Row(START, 0, 600))) == [
        "Row 1 (Mon 22 Jun, 12:00): already recorded as 0 Wh in, 640 Wh out. Tick 'correct' to replace it."
    ]
    assert stored(panels) == [(START, 0, 640)]


def test_the_owner_corrects_a_reading_and_its_previous_values_are_kept(panels):
    record(panels, Row(START, 3, 640))
    corrected_at = OVER + timedelta(minutes=5)

    result = record(panels, Row(START, 0, 600), correct=True, now=corrected_at)

    assert result == Recorded(created=0, corrected=1, unchanged=0)
    reading = MeterReading.objects.get()
    assert (reading.imported_wh, reading.exported_wh, reading.corrected_at) == (0, 600, corrected_at)
    history = list(ReadingCorrection.objects.values_list("reading", "previous_imported_wh", "previous_exported_wh"))
    assert history == [(reading.pk, 3, 640)]


def test_a_device_cannot_correct_a_reading(panels):
    record(panels, Row(START, 0, 640))

    assert problems(lambda: record(panels, Row(START, 0, 600), actor=None, correct=True)) == [
        "Row 1 (Mon 22 Jun, 12:00): already recorded as 0 Wh in, 640 Wh out. Only the owner can correct it."
    ]
    assert stored(panels) == [(START, 0, 640)]
    assert not ReadingCorrection.objects.exists()


def test_a_reading_of_a_settled_slot_can_no_longer_be_corrected(panels, home):
    settled_slot(panels, home, exported=280)

    assert problems(lambda: record(panels, Row(START, 0, 300), correct=True, now=OVER + timedelta(minutes=1))) == [
        "Row 1 (Mon 22 Jun, 12:00): this quarter hour is settled; its reading can't change."
    ]
    assert stored(panels) == [(START, 0, 280)]
    assert Trade.objects.get().delivered_wh == 280


def test_a_missing_reading_of_a_slot_settled_without_it_is_refused(community, panels, home):
    # Settled at the deadline without the home's reading: it counted as nothing.
    for meter, side, price in ((panels, "sell", "0.20"), (home, "buy", "0.30")):
        services.order_place(
            member=meter.owner,
            meter=meter,
            slot_start=START,
            side=side,
            quantity_wh=300,
            limit_price=price,
            now=START - timedelta(hours=1),
        )
    slot = Slot.objects.get()
    services.slot_clear(slot_id=slot.pk, now=slot.gate_closes_at)
    record(panels, Row(START, 0, 300))
    assert services.slot_settle(slot_id=slot.pk, now=slot.settle_deadline)

    late = slot.settle_deadline + timedelta(minutes=1)
    assert problems(lambda: record(home, Row(START, 300, 0), now=late)) == [
        "Row 1 (Mon 22 Jun, 12:00): this quarter hour is already settled without it."
    ]
    assert stored(home) == []


def test_a_meter_whose_order_did_not_trade_still_records_its_reading_after_the_slot_settles(
    community, panels, home, home2
):
    """Cleo bid too low and bought nothing in the 12:00 slot: her reading decided no
    payment, so it is recorded (her day's file is not refused for it)."""
    services.order_place(
        member=home2.owner,
        meter=home2,
        slot_start=START,
        side="buy",
        quantity_wh=300,
        limit_price="0.05",
        now=START - timedelta(hours=1),
    )
    settled_slot(panels, home)
    assert not Trade.objects.filter(buyer=home2.owner).exists()

    result = record(
        home2, Row(START, 250, 0), Row(START + timedelta(minutes=15), 240, 0), now=OVER + timedelta(hours=1)
    )

    assert result == Recorded(created=2, corrected=0, unchanged=0)


# --- batches ------------------------------------------------------------------------------------
def test_a_batch_with_one_bad_row_writes_nothing_and_names_that_row(panels):
    rows = [Row(START + timedelta(minutes=15 * i), 0, 100 + i) for i in range(4)]
    rows[2] = Row(rows[2].interval_start, 0, 5000)

    assert problems(lambda: record(panels, *rows, now=START + timedelta(hours=2))) == [
        "Row 3 (Mon 22 Jun, 12:30): 5,000 Wh out in a quarter hour is more than this meter's 4,000 W can pass "
        "(1,000 Wh)."
    ]
    assert stored(panels) == []


def test_every_bad_row_of_a_batch_is_named(panels):
    rows = [
        Row(START, 0, 100),
        Row(START + timedelta(minutes=20), 0, 100),
        Row(START + timedelta(minutes=30), -1, 100),
        Row(START, 0, 100),
    ]

    assert problems(lambda: record(panels, *rows, now=START + timedelta(hours=2))) == [
        "Row 2 (Mon 22 Jun, 12:20): an interval starts on the quarter hour (:00, :15, :30 or :45).",
        "Row 3 (Mon 22 Jun, 12:30): imported must be a whole number of Wh from 0 to 1,000,000.",
        "Row 4 (Mon 22 Jun, 12:00): the same quarter hour as row 1.",
    ]
    assert stored(panels) == []


def test_a_batch_mixing_new_known_and_changed_readings_is_refused_whole_without_correct(panels):
    record(panels, Row(START, 0, 100))
    rows = [Row(START, 0, 100), Row(START + timedelta(minutes=15), 0, 200), Row(START, 0, 100)]
    rows[2] = Row(START + timedelta(minutes=30), 0, 300)
    record(panels, rows[2], now=START + timedelta(hours=1))

    messages = problems(
        lambda: record(panels, rows[0], rows[1], Row(rows[2].interval_start, 0, 333), now=START + timedelta(hours=1))
    )

    assert messages == [
        "Row 3 (Mon 22 Jun, 12:30): already recorded as 0 Wh in, 300 Wh out. Tick 'correct' to replace it."
    ]
    assert stored(panels) == [(START, 0, 100), (START + timedelta(minutes=30), 0, 300)]


# --- CSV files ----------------------------------------------------------------------------------
def upload(meter: Meter, text: str | bytes, *, correct: bool = False) -> Recorded:
    data = text.encode() if isinstance(text, str) else text
    return services.readings_upload_csv(meter=meter, actor=meter.owner, data=data, correct=correct)


HEADER = "interval_start,imported_wh,exported_wh\n"


def test_a_csv_file_of_readings_is_recorded(panels):
    result = upload(
        panels,
        "\ufeff" + HEADER + "2026-06-22T12:00:00+02:00,3,640\n2026-06-22T10:15:00+00:00, 0 , 655\n\n",
    )

    assert result == Recorded(created=2, corrected=0, unchanged=0)
    assert stored(panels) == [(START, 3, 640), (START + timedelta(minutes=15), 0, 655)]
    assert set(MeterReading.objects.values_list("source", flat=True)) == {MeterReading.Source.CSV}


def test_a_csv_file_corrects_readings_when_asked(panels):
    upload(panels, HEADER + "2026-06-22T12:00:00+02:00,3,640\n")

    assert upload(panels, HEADER + "2026-06-22T12:00:00+02:00,3,600\n", correct=True) == Recorded(
        created=0, corrected=1, unchanged=0
    )
    assert stored(panels) == [(START, 3, 600)]


def test_lines_of_a_csv_file_that_cannot_be_read_are_named_by_their_line(panels):
    text = (
        HEADER
        + "2026-06-22T12:00:00+02:00,3,640\n"  # line 2: fine
        + "yesterday noon,3,640\n"  # line 3
        + "2026-06-22T12:30:00+02:00,three,640\n"  # line 4
        + "2026-06-22T12:45:00+02:00,3\n"  # line 5
    )

    assert problems(lambda: upload(panels, text)) == [
        "Line 3: 'yesterday noon' is not a date and time.",
        "Line 4: Wh in and Wh out must be whole numbers.",
        "Line 5: three values are needed (start, Wh in, Wh out).",
    ]
    assert stored(panels) == []


def test_a_rule_broken_in_a_csv_file_names_the_line_counting_the_header_as_line_one(panels):
    text = HEADER + "2026-06-22T12:00:00+02:00,3,640\n2026-06-22T12:15:00+02:00,3,4000\n"

    assert problems(lambda: upload(panels, text)) == [
        "Line 3 (Mon 22 Jun, 12:15): 4,000 Wh out in a quarter hour is more than this meter's 4,000 W can pass "
        "(1,000 Wh)."
    ]
    assert stored(panels) == []


def test_a_rule_broken_after_a_blank_line_of_a_csv_file_names_the_line_of_the_file(panels):
    text = HEADER + "2026-06-22T12:00:00+02:00,3,640\n\n2026-06-22T12:07:00+02:00,3,600\n"

    assert problems(lambda: upload(panels, text)) == [
        "Line 4 (Mon 22 Jun, 12:07): an interval starts on the quarter hour (:00, :15, :30 or :45)."
    ]


def test_a_quarter_hour_twice_in_a_csv_file_names_both_lines_of_the_file(panels):
    text = HEADER + "2026-06-22T12:00:00+02:00,3,640\n2026-06-22T12:15:00+02:00,3,600\n2026-06-22T10:00:00Z,3,640\n"

    assert problems(lambda: upload(panels, text)) == ["Line 4 (Mon 22 Jun, 12:00): the same quarter hour as line 2."]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"start,in,out\n2026-06-22T12:00:00+02:00,3,640\n",
            "The first line must be: interval_start,imported_wh,exported_wh",
        ),
        (b"", "The first line must be: interval_start,imported_wh,exported_wh"),
        (HEADER.encode(), "The file has no readings under its first line."),
        (
            HEADER.encode() + "2026-06-22T12:00:00+02:00,3,640 \xe9t\xe9\n".encode("latin-1"),
            "The file is not text (UTF-8 CSV).",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "The file is not text (UTF-8 CSV)."),
        (HEADER.encode() + b"2026-06-22T12:00:00+02:00,3,640\n" * 40_000, "The file is over 1 MB; split it up."),
    ],
    ids=["wrong header", "empty", "header only", "latin-1", "an image", "too large"],
)
def test_a_csv_file_that_is_not_a_readings_file_is_refused_with_why(panels, data, message):
    assert problems(lambda: upload(panels, data)) == [message]
    assert stored(panels) == []


# --- P1 telegrams -------------------------------------------------------------------------------
OTHER_METER_ID = "4B384547303034303436333935353038"


def _crc16(text: str) -> int:
    """CRC-16/ARC (polynomial 0xA001, reflected), over the telegram from '/' to '!'."""
    crc = 0
    for byte in text.encode("latin-1"):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _kwh(wh: int) -> str:
    return f"{wh // 1000:06d}.{wh % 1000:03d}*kWh"


def telegram(clock: str, imported_wh: int, exported_wh: int, *, equipment: str = "", crc: bool = True) -> str:
    """The published DSMR 5 telegram with another clock (``YYMMDDhhmmss`` + ``S``
    summer or ``W`` winter time) and registers (all on tariff 1), with its CRC made again."""
    body = TELEGRAM_V5[: TELEGRAM_V5.index("!") + 1]
    body = body.replace("0-0:1.0.0(170102192002W)", f"0-0:1.0.0({clock})")
    body = body.replace("1-0:1.8.1(000004.426*kWh)", f"1-0:1.8.1({_kwh(imported_wh)})")
    body = body.replace("1-0:1.8.2(000002.399*kWh)", f"1-0:1.8.2({_kwh(0)})")
    body = body.replace("1-0:2.8.1(000002.444*kWh)", f"1-0:2.8.1({_kwh(exported_wh)})")
    if equipment:
        body = body.replace("4B384547303034303436333935353037", equipment)
    checksum = _crc16(body) if crc else (_crc16(body) ^ 0x1)
    return f"{body}{checksum:04X}\r\n"


def test_the_crc_of_the_published_telegram_is_the_one_it_carries():
    assert f"{_crc16(TELEGRAM_V5[: TELEGRAM_V5.index('!') + 1]):04X}" == "87B3"


# Monday 22 June 2026 in summer time: 12:00:05 in Amsterdam is 10:00:05 UTC.
AT_1200 = "260622120005S"
AT_1207 = "260622120700S"
AT_1215 = "260622121503S"


def ingest(meter: Meter, *telegrams: str, now: datetime = START + timedelta(minutes=16)) -> Recorded:
    return services.p1_ingest(meter=meter, telegrams=list(telegrams), now=now)


def test_telegrams_across_a_quarter_hour_make_one_reading_of_the_register_differences(home):
    result = ingest(
        home,
        telegram(AT_1215, 1_234_912, 56_120),
        telegram(AT_1207, 1_234_700, 56_100),  # within the quarter hour: not a boundary
        telegram(AT_1200, 1_234_562, 56_000),
    )

    assert result == Recorded(created=1, corrected=0, unchanged=0)
    assert stored(home) == [(START, 350, 120)]
    assert MeterReading.objects.get().source == MeterReading.Source.P1
    home.refresh_from_db()
    assert home.p1_equipment_id == "4B384547303034303436333935353037"


def test_telegrams_of_one_quarter_hour_sent_in_two_posts_combine(home):
    first = ingest(home, telegram(AT_1200, 1_234_562, 56_000), now=START + timedelta(minutes=1))
    assert first == Recorded(created=0, corrected=0, unchanged=0)
    assert stored(home) == []

    second = ingest(home, telegram(AT_1215, 1_234_912, 56_120))

    assert second == Recorded(created=1, corrected=0, unchanged=0)
    assert stored(home) == [(START, 350, 120)]
    assert list(P1Boundary.objects.values_list("boundary", "imported_wh_total")) == [
        (START, 1_234_562),
        (START + timedelta(minutes=15), 1_234_912),
    ]


def test_the_same_telegrams_again_change_nothing(home):
    telegrams = [telegram(AT_1200, 1_234_562, 56_000), telegram(AT_1215, 1_234_912, 56_120)]
    ingest(home, *telegrams)

    assert ingest(home, *telegrams) == Recorded(created=0, corrected=0, unchanged=0)
    assert stored(home) == [(START, 350, 120)]


def test_a_telegram_with_a_bad_crc_refuses_the_whole_post(home):
    with pytest.raises(ValidationError) as caught:
        ingest(home, telegram(AT_1200, 1_234_562, 56_000), telegram(AT_1215, 1_234_912, 56_120, crc=False))

    messages = caught.value.message_dict["telegrams"]
    assert len(messages) == 1 and messages[0].startswith("Telegram 2: This telegram can't be read")
    assert stored(home) == []
    assert not P1Boundary.objects.exists()
    home.refresh_from_db()
    assert home.p1_equipment_id == ""


def test_telegrams_of_another_smart_meter_are_refused(home):
    ingest(home, telegram(AT_1200, 1_234_562, 56_000), now=START + timedelta(minutes=1))

    with pytest.raises(RuleViolation) as caught:
        ingest(home, telegram(AT_1215, 1_234_912, 56_120, equipment=OTHER_METER_ID))

    assert caught.value.code == "wrong_meter"
    assert stored(home) == []
    assert P1Boundary.objects.count() == 1


def test_one_post_with_telegrams_of_two_smart_meters_is_refused(home):
    with pytest.raises(RuleViolation) as caught:
        ingest(
            home, telegram(AT_1200, 1_234_562, 56_000), telegram(AT_1215, 1_234_912, 56_120, equipment=OTHER_METER_ID)
        )

    assert caught.value.code == "wrong_meter"
    assert not P1Boundary.objects.exists()


def test_registers_that_go_backwards_are_refused(home):
    ingest(home, telegram(AT_1200, 1_234_562, 56_000), now=START + timedelta(minutes=1))

    with pytest.raises(RuleViolation) as caught:
        ingest(home, telegram(AT_1215, 1_234_500, 56_120))

    assert caught.value.code == "registers_backwards"
    assert "went backwards at Mon 22 Jun, 12:15" in str(caught.value)
    assert stored(home) == []
    assert P1Boundary.objects.count() == 1


def test_a_telegram_whose_clock_is_ahead_of_ours_is_refused(home):
    with pytest.raises(ValidationError) as caught:
        ingest(home, telegram(AT_1215, 1_234_912, 56_120), now=START + timedelta(minutes=5))

    assert caught.value.message_dict["telegrams"] == ["Telegram 1: its clock is ahead of ours (Mon 22 Jun, 12:15)."]


def test_a_smart_meter_leaves_a_reading_entered_by_hand_as_it_is(home):
    """A device never corrects: the quarter hour the owner entered is skipped (not an
    error, or the device's every later post would be refused for it)."""
    record(home, Row(START, 300, 100))

    result = ingest(home, telegram(AT_1200, 1_234_562, 56_000), telegram(AT_1215, 1_234_912, 56_120))

    assert result == Recorded(created=0, corrected=0, unchanged=0)
    assert stored(home) == [(START, 300, 100)]
    assert not ReadingCorrection.objects.exists()
