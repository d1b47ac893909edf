"""Meter readings: by hand, from a CSV file, from a device, from smart-meter telegrams.

Every way in ends in ``readings_record``, so one set of rules holds: intervals on the
quarter hour and already over; the same values again change nothing; other values are
a correction only the owner makes, and only until the interval is settled; a batch with
any bad row writes nothing and names every bad row.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from apps.peers.models import User
from p2pcommons.enqueue import enqueue_on_commit
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_when_short

from .. import p1
from ..models import MAX_INTERVAL_WH, SLOT, Meter, MeterReading, Order, P1Boundary, ReadingCorrection, Slot

MAX_ROWS = 3000  # a month of quarter hours in one upload or post
MAX_TELEGRAMS = 500
CSV_MAX_BYTES = 1_000_000
CSV_COLUMNS = ("interval_start", "imported_wh", "exported_wh")


@dataclass(frozen=True)
class Row:
    interval_start: datetime
    imported_wh: int
    exported_wh: int


@dataclass(frozen=True)
class Recorded:
    """What a batch did: new readings, corrected ones, ones that were already there."""

    created: int
    corrected: int
    unchanged: int


def _row_label(name: str, start: datetime | None) -> str:
    shown = isinstance(start, datetime) and not timezone.is_naive(start) and 2000 <= start.year < 2100
    if not shown:
        return name
    return _("%(row)s (%(when)s)") % {"row": name, "when": format_when_short(start)}


def _check_row(row: Row, meter: Meter, now: datetime) -> str | None:
    start = row.interval_start
    if not isinstance(start, datetime) or timezone.is_naive(start):
        return _("give the interval's start with its time zone, e.g. 2026-06-21T12:00:00+02:00.")
    if not 2000 <= start.year < 2100:  # a typo (and dates near the calendar's ends overflow)
        return _("that date is out of range.")
    if start.astimezone(UTC).minute % 15 or start.second or start.microsecond:
        return _("an interval starts on the quarter hour (:00, :15, :30 or :45).")
    if start + SLOT > now:
        return _("this quarter hour is not over yet; send its reading afterwards.")
    for name in ("imported_wh", "exported_wh"):
        value = getattr(row, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTERVAL_WH:
            return _("%(field)s must be a whole number of Wh from 0 to %(most)s.") % {
                "field": name.replace("_wh", ""),
                "most": f"{MAX_INTERVAL_WH:,}",
            }
    if row.exported_wh > meter.slot_capacity_wh:
        return _(
            "%(out)s Wh out in a quarter hour is more than this meter's %(peak)s W can pass (%(capacity)s Wh)."
        ) % {
            "out": f"{row.exported_wh:,}",
            "peak": f"{meter.peak_capacity_w:,}",
            "capacity": f"{meter.slot_capacity_wh:,}",
        }
    return None


def _settled_intervals(meter: Meter, starts: Iterable[datetime]) -> set[datetime]:
    """The intervals in ``starts`` whose slot is settled with a trade of this meter in
    it: their readings decided payments and never change. (A meter whose order did not
    trade decided nothing; its reading is recorded as any other.)"""
    return set(
        Order.objects.filter(
            meter=meter,
            status__in=(Order.Status.FILLED, Order.Status.PARTIAL),
            slot__community_id=meter.community_id,
            slot__start__in=list(starts),
            slot__status=Slot.Status.SETTLED,
        ).values_list("slot__start", flat=True)
    )


def readings_record(
    *,
    meter: Meter,
    rows: Sequence[Row],
    source: str,
    actor: User | None = None,
    correct: bool = False,
    now: datetime | None = None,
    names: Sequence[str] | None = None,
) -> Recorded:
    """Record ``rows`` for ``meter``: all of them, or none (a ``ValidationError`` under
    ``readings`` names each bad row). ``actor`` is the owner on a page or the API;
    None for a device (its token was checked by the caller). ``correct``: the owner
    replaces readings that differ, before settlement (a device never corrects).

    ``names`` say what to call each row in messages ("Line 4" of a file); "Row 1",
    "Row 2", ... otherwise.

    Locks the meter row, so two batches for one meter apply one after the other, then
    the rows of the slots concerned, so a correction and a settlement never cross."""
    now = now or timezone.now()
    if actor is not None and actor.pk != meter.owner_id:
        raise RuleViolation(_("Only the meter's owner can record its readings."), code="forbidden")
    if meter.status != Meter.Status.ACTIVE:
        raise RuleViolation(_("This meter is no longer used; it takes no readings."), code="illegal_transition")
    if not rows:
        raise ValidationError({"readings": [_("Send at least one reading.")]})
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            {
                "readings": [
                    _("At most %(most)s readings at a time; send the rest separately.") % {"most": f"{MAX_ROWS:,}"}
                ]
            }
        )
    names = (
        list(names)
        if names is not None
        else [_("Row %(number)s") % {"number": index + 1} for index in range(len(rows))]
    )
    errors: list[str] = []
    seen: dict[datetime, int] = {}
    for index, row in enumerate(rows):
        problem = _check_row(row, meter, now)
        if problem is None and row.interval_start in seen:
            problem = _("the same quarter hour as %(row)s.") % {"row": names[seen[row.interval_start]].lower()}
        if problem:
            errors.append(
                _("%(row)s: %(problem)s") % {"row": _row_label(names[index], row.interval_start), "problem": problem}
            )
        else:
            seen[row.interval_start] = index
    if errors:
        raise ValidationError({"readings": errors})
    with transaction.atomic():
        Meter.objects.select_for_update().filter(pk=meter.pk).first()
        starts = [row.interval_start for row in rows]
        # The slots of these quarter hours too (meter, then slot: the settlement takes no
        # meter lock, so no cycle): a settlement claims its slot with an UPDATE, so it
        # waits for this batch, or this batch waits for it and then sees it settled.
        list(
            Slot.objects.select_for_update()
            .filter(community_id=meter.community_id, start__in=starts)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        existing = {r.interval_start: r for r in MeterReading.objects.filter(meter=meter, interval_start__in=starts)}
        settled = _settled_intervals(meter, starts)
        new, changed, unchanged = [], [], 0
        for index, row in enumerate(rows):
            start = row.interval_start
            old = existing.get(start)
            if old is None:
                if start in settled:
                    errors.append(
                        _("%(row)s: this quarter hour is already settled without it.")
                        % {"row": _row_label(names[index], start)}
                    )
                    continue
                new.append(
                    MeterReading(
                        meter=meter,
                        interval_start=start,
                        imported_wh=row.imported_wh,
                        exported_wh=row.exported_wh,
                        source=source,
                        created_at=now,
                    )
                )
            elif (old.imported_wh, old.exported_wh) == (row.imported_wh, row.exported_wh):
                unchanged += 1
            elif start in settled:
                errors.append(
                    _("%(row)s: this quarter hour is settled; its reading can't change.")
                    % {"row": _row_label(names[index], start)}
                )
            elif actor is None or not correct:
                values = {
                    "row": _row_label(names[index], start),
                    "imported": f"{old.imported_wh:,}",
                    "exported": f"{old.exported_wh:,}",
                }
                if actor:
                    text = _(
                        "%(row)s: already recorded as %(imported)s Wh in, %(exported)s Wh out. "
                        "Tick 'correct' to replace it."
                    )
                else:
                    text = _(
                        "%(row)s: already recorded as %(imported)s Wh in, %(exported)s Wh out. "
                        "Only the owner can correct it."
                    )
                errors.append(text % values)
            else:
                changed.append((old, row))
        if errors:
            raise ValidationError({"readings": errors})
        try:
            MeterReading.objects.bulk_create(new)
        except IntegrityError:  # pragma: no cover - the meter lock makes this unreachable
            raise RuleViolation(
                _("These readings were recorded at the same moment by another request."), code="conflict"
            ) from None
        ReadingCorrection.objects.bulk_create(
            ReadingCorrection(
                reading=old, previous_imported_wh=old.imported_wh, previous_exported_wh=old.exported_wh, created_at=now
            )
            for old, _row in changed
        )
        for old, row in changed:
            MeterReading.objects.filter(pk=old.pk).update(
                imported_wh=row.imported_wh, exported_wh=row.exported_wh, source=source, corrected_at=now
            )
        _settle_when_complete(meter, [r.interval_start for r in new] + [old.interval_start for old, _row in changed])
    return Recorded(created=len(new), corrected=len(changed), unchanged=unchanged)


def _settle_when_complete(meter: Meter, starts: list[datetime]) -> None:
    """Readings may complete a cleared slot: ask a worker to settle it (it checks)."""
    slot_ids = list(
        Slot.objects.filter(community_id=meter.community_id, start__in=starts, status=Slot.Status.CLEARED).values_list(
            "pk", flat=True
        )
    )
    if slot_ids:
        from .. import tasks

        for slot_id in slot_ids:
            enqueue_on_commit(tasks.settle_slot, slot_id, waits_for="the five-minute settlement sweep")


# --- CSV --------------------------------------------------------------------------------
def parse_csv(data: bytes) -> list[tuple[int, Row]]:
    """Rows of a CSV file with the header ``interval_start,imported_wh,exported_wh``
    (times in ISO 8601 with their offset). ``ValidationError`` under ``readings`` names
    every row that can't be read, by its line in the file. Each row comes with its line."""
    if len(data) > CSV_MAX_BYTES:
        raise ValidationError(
            {"readings": [_("The file is over %(size)s MB; split it up.") % {"size": CSV_MAX_BYTES // 1_000_000}]}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"readings": [_("The file is not text (UTF-8 CSV).")]}) from None
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if tuple(header[:3]) != CSV_COLUMNS:
        raise ValidationError(
            {"readings": [_("The first line must be: %(columns)s") % {"columns": ",".join(CSV_COLUMNS)}]}
        )
    rows, errors = [], []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(_("At most %(most)s rows in one file.") % {"most": f"{MAX_ROWS:,}"})
            break
        if len(cells) < 3:
            errors.append(_("Line %(line)s: three values are needed (start, Wh in, Wh out).") % {"line": line})
            continue
        start = None
        with contextlib.suppress(ValueError):
            start = parse_datetime(cells[0].strip())
        if start is None:
            errors.append(
                _("Line %(line)s: '%(value)s' is not a date and time.") % {"line": line, "value": cells[0].strip()[:40]}
            )
            continue
        try:
            imported, exported = int(cells[1].strip()), int(cells[2].strip())
        except ValueError:
            errors.append(_("Line %(line)s: Wh in and Wh out must be whole numbers.") % {"line": line})
            continue
        rows.append((line, Row(start, imported, exported)))
    if errors:
        raise ValidationError({"readings": errors})
    if not rows:
        raise ValidationError({"readings": [_("The file has no readings under its first line.")]})
    return rows


def readings_upload_csv(*, meter: Meter, actor: User, data: bytes, correct: bool = False) -> Recorded:
    """A CSV file from the meter's page: parsed, then recorded all or nothing; every
    message names the line of the file."""
    lines = parse_csv(data)
    return readings_record(
        meter=meter,
        rows=[row for _line, row in lines],
        names=[_("Line %(line)s") % {"line": line} for line, _row in lines],
        source=MeterReading.Source.CSV,
        actor=actor,
        correct=correct,
    )


# --- P1 telegrams -----------------------------------------------------------------------
def p1_ingest(*, meter: Meter, telegrams: Sequence[str], now: datetime | None = None) -> Recorded:
    """Raw DSMR telegrams from a device on the meter's P1 port.

    Each is parsed and CRC-checked by ``dsmr-parser`` (``apps.solar.p1``); a damaged one
    refuses the whole post, naming it. The registers at each quarter-hour boundary are
    kept (``P1Boundary``); two consecutive boundaries become an interval reading. The
    first telegram teaches the meter its equipment id; another meter's is refused."""
    now = now or timezone.now()
    if meter.status != Meter.Status.ACTIVE:
        raise RuleViolation(_("This meter is no longer used; it takes no readings."), code="illegal_transition")
    if not telegrams:
        raise ValidationError({"telegrams": [_("Send at least one telegram.")]})
    if len(telegrams) > MAX_TELEGRAMS:
        raise ValidationError({"telegrams": [_("At most %(most)s telegrams at a time.") % {"most": MAX_TELEGRAMS}]})
    parsed, errors = [], []
    for index, text in enumerate(telegrams):
        try:
            reading = p1.parse(text)
        except p1.TelegramError as exc:
            errors.append(_("Telegram %(number)s: %(problem)s") % {"number": index + 1, "problem": exc})
            continue
        if reading.taken_at > now + timedelta(minutes=5):
            errors.append(
                _("Telegram %(number)s: its clock is ahead of ours (%(when)s).")
                % {"number": index + 1, "when": format_when_short(reading.taken_at)}
            )
            continue
        parsed.append(reading)
    if errors:
        raise ValidationError({"telegrams": errors})
    ids = {reading.equipment_id for reading in parsed}
    with transaction.atomic():
        meter = Meter.objects.select_for_update().get(pk=meter.pk)
        known = meter.p1_equipment_id
        if len(ids) > 1 or (known and ids != {known}):
            raise RuleViolation(
                _("These telegrams come from another smart meter than the one this device posted for before."),
                code="wrong_meter",
            )
        if not known:
            Meter.objects.filter(pk=meter.pk).update(p1_equipment_id=next(iter(ids))[:96])
        boundaries = {}
        for reading in sorted(parsed, key=lambda r: r.taken_at):
            boundary = p1.quarter_start(reading.taken_at)
            if reading.taken_at - boundary <= p1.MAX_LAG:
                boundaries.setdefault(boundary, reading)
        if not boundaries:
            return Recorded(created=0, corrected=0, unchanged=0)
        stored = {
            b.boundary: b
            for b in P1Boundary.objects.filter(
                meter=meter,
                boundary__gte=min(boundaries) - SLOT,
                boundary__lte=max(boundaries) + SLOT,
            )
        }
        for boundary, reading in boundaries.items():
            if boundary not in stored:
                stored[boundary] = P1Boundary(
                    meter=meter,
                    boundary=boundary,
                    taken_at=reading.taken_at,
                    imported_wh_total=reading.imported_wh,
                    exported_wh_total=reading.exported_wh,
                )
                stored[boundary].save()
        ordered = sorted(stored.values(), key=lambda b: b.boundary)
        for before, after in pairwise(ordered):
            if after.imported_wh_total < before.imported_wh_total or after.exported_wh_total < before.exported_wh_total:
                raise RuleViolation(
                    _(
                        "The meter's registers went backwards at %(when)s "
                        "(a replaced or reset meter?); these telegrams can't be used."
                    )
                    % {"when": format_when_short(after.boundary)},
                    code="registers_backwards",
                )
        rows = []
        done = set(
            MeterReading.objects.filter(meter=meter, interval_start__in=[b.boundary for b in ordered]).values_list(
                "interval_start", flat=True
            )
        )
        for before, after in pairwise(ordered):
            if after.boundary - before.boundary != SLOT or before.boundary in done:
                continue
            if before.boundary not in boundaries and after.boundary not in boundaries:
                continue
            rows.append(
                Row(
                    before.boundary,
                    after.imported_wh_total - before.imported_wh_total,
                    after.exported_wh_total - before.exported_wh_total,
                )
            )
        if not rows:
            return Recorded(created=0, corrected=0, unchanged=0)
        return readings_record(meter=meter, rows=rows, source=MeterReading.Source.P1, now=now)
