"""What every step of the scale seed shares: sizes, names, the context, and the writer
(COPY on PostgreSQL, bulk_create on SQLite)."""

from __future__ import annotations

import io
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, models

from bench import personas

BASE = {  # rows at scale 1
    "members": 10_000,
    "tools": 50_000,
    "reservations": 200_000,
    "offers": 16_000,
    "requests": 4_000,
    "ledger_entries": 1_000_000,
    "challenges": 200,
}
SOLAR_COMMUNITIES = 4  # communities 1..4 trade solar
SOLAR_DAYS = 30
TWO_COMMUNITIES = 0.10  # share of members who are also in a second community
CENT = Decimal("0.01")

FIRST = [
    "Anna",
    "Bas",
    "Carmen",
    "Daan",
    "Eva",
    "Fatima",
    "Gijs",
    "Hana",
    "Ilse",
    "Jan",
    "Kees",
    "Lotte",
    "Mehmet",
    "Noor",
    "Olga",
    "Pieter",
    "Quinten",
    "Rosa",
    "Sem",
    "Tess",
    "Umar",
    "Vera",
    "Wim",
    "Yara",
    "Zeynep",
    "Bram",
    "Chloe",
    "Dewi",
    "Emre",
    "Fleur",
    "Hugo",
    "Iris",
    "Joris",
    "Lieke",
    "Milan",
    "Nina",
    "Omar",
    "Priya",
    "Ruben",
    "Sanne",
    "Thijs",
    "Usha",
    "Vince",
    "Willem",
    "Xander",
    "Yusuf",
    "Zoe",
]
LAST = [
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "Kaya",
    "Yilmaz",
    "El Amrani",
    "Nguyen",
    "Santos",
    "Kowalski",
]
STREETS = [
    "Oosterpark",
    "Dapperbuurt",
    "Weesperzijde",
    "Jordaan",
    "De Pijp",
    "Rivierenbuurt",
    "Watergraafsmeer",
    "Indische Buurt",
    "Westerpark",
    "Oud-West",
    "Bos en Lommer",
    "Nieuw-West",
    "Noord",
    "IJburg",
    "Zuidas",
    "Buitenveldert",
]


def _line(step: str, detail: str, began: float) -> str:
    """One progress line: the step, what it made, and its seconds since ``began``."""
    return f"  {step:<28} {detail:<64} {time.perf_counter() - began:6.1f} s"


def _out(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Ctx:
    """What every step shares: the random source, the scale, the fixed ``now``, and the
    ids of what earlier steps made."""

    scale: float
    rng: random.Random
    now: datetime
    communities: list = field(default_factory=list)  # Community objects, index 0 = scale-01
    members: list[list[int]] = field(default_factory=list)  # user ids per community index
    location: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)  # user id -> approx lat, lng
    persona_ids: dict[str, int] = field(default_factory=dict)
    organizer_id: int = 0
    tools: list[list[int]] = field(default_factory=list)  # tool ids per community index
    tool_rows: dict[int, tuple] = field(default_factory=dict)  # tool id -> its row as written
    joined: dict[int, datetime] = field(default_factory=dict)  # user id -> when their account was made
    communities_of: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # user id -> community ids
    returned: list[tuple] = field(default_factory=list)  # (reservation, owner, borrower, community, returned_at)

    def total(self, key: str, minimum: int = 1) -> int:
        return max(minimum, round(BASE[key] * self.scale))

    def split(self, total: int, minimum: int = 0) -> list[int]:
        """``total`` split over the communities by ``SHARES`` (largest remainders), each at
        least ``minimum``."""
        raw = [total * s for s in personas.SHARES]
        counts = [int(r) for r in raw]
        order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
        for i in order[: total - sum(counts)]:
            counts[i] += 1
        return [max(minimum, c) for c in counts]


# --- writing -------------------------------------------------------------------------


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text_str(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


# One converter per Python type (looked up by exact type: the hot path of a million rows).
_CONVERT: dict[type, Callable] = {
    str: _text_str,
    int: str,
    Decimal: str,
    bool: lambda v: "t" if v else "f",
    type(None): lambda v: "\\N",
    datetime: datetime.isoformat,
    date: date.isoformat,
    dict: lambda v: _text_str(json.dumps(v)),
    list: lambda v: _text_str(json.dumps(v)),
}


def _text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    convert = _CONVERT.get(type(value))
    return convert(value) if convert is not None else _text_str(str(value))


def _defaults(model: type[models.Model], given: Sequence[str]) -> tuple[list[str], list]:
    """The columns of ``model`` not in ``given`` and their model defaults, so a seed names
    only what it cares about and survives a field added later."""
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.attname in given or f.primary_key or getattr(f, "generated", False):
            continue  # a generated column is the database's to fill
        if f.db_default is not models.NOT_PROVIDED:
            continue  # so is one with a database default
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif isinstance(f, models.CharField | models.TextField | models.FileField):
            value = ""
        else:
            raise ValueError(f"seed_scale: {model.__name__}.{f.name} needs a value (no default)")
        names.append(f.attname)
        values.append(value)
    return names, values


def write(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order, attnames) into ``model``'s table:
    COPY on PostgreSQL, bulk_create elsewhere. Returns how many rows."""
    extra_names, extra_values = _defaults(model, columns)
    names = [*columns, *extra_names]
    count = 0
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        extra = "\t".join(_text(v) for v in extra_values)
        tail = ("\t" + extra) if extra_names else ""
        buf = io.StringIO()
        for row in rows:
            buf.write("\t".join(map(_text, row)) + tail + "\n")
            count += 1
            if count % 100_000 == 0:
                _copy(table, names, buf)
                buf = io.StringIO()
        _copy(table, names, buf)
        return count
    batch = []
    for row in rows:
        batch.append(model(**dict(zip(names, [*row, *extra_values], strict=True))))
        count += 1
        if len(batch) >= 2000:
            model.objects.bulk_create(batch)
            batch = []
    model.objects.bulk_create(batch)
    return count


def _copy(table: str, names: Sequence[str], buf: io.StringIO) -> None:
    if not buf.tell():
        return
    buf.seek(0)
    cols = ", ".join(connection.ops.quote_name(n) for n in names)
    with connection.cursor() as cur:
        cur.copy_expert(f"COPY {connection.ops.quote_name(table)} ({cols}) FROM STDIN", buf)


def next_id(model: type[models.Model]) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """After inserting rows with ids chosen here, the next id the database hands out must
    follow them (PostgreSQL keeps a sequence per table; SQLite follows the max by itself)."""
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), model_list):
            cur.execute(sql)


@contextmanager
def bulk_load(model_list: Sequence[type[models.Model]], progress: Callable[[str], None]) -> Iterator[None]:
    """On PostgreSQL, load the big tables as ``pg_restore`` does: their foreign keys,
    unique and exclusion constraints and indexes are dropped for the load and made again
    after it. Made again, each is checked against every row in one pass (a foreign key
    by one join, a unique index by one sort), instead of row by row during COPY and at
    commit; a row that breaks one still fails the seed. Elsewhere: nothing changes."""
    if connection.vendor != "postgresql":
        yield
        return
    dropped: list[tuple[str, str]] = []  # (table, the SQL that makes it again)
    with connection.cursor() as cur:
        for model in model_list:
            table = model._meta.db_table
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u', 'x')",
                [table],
            )
            constraints = cur.fetchall()
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cur.fetchall()
            quoted = connection.ops.quote_name(table)
            for name, definition in constraints:
                cur.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
                dropped.append(
                    (table, f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
                )
            for name, definition in indexes:
                cur.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                dropped.append((table, definition))
    yield
    began = time.perf_counter()
    with connection.cursor() as cur:
        # Indexes first, so the foreign keys and uniques made after them check against indexes.
        for _table, sql in sorted(dropped, key=lambda item: "ALTER TABLE" in item[1]):
            cur.execute(sql)
    progress(_line("constraints and indexes", f"{len(dropped)} made again and checked", began))
