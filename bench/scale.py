"""The scale data behind `make bench` (`manage.py seed_scale`): a big, realistic database.

At scale 1: about 10k members in the 20 communities of ``bench/personas.py``, 50k tools,
200k reservations, 20k skill offers and requests, 1M ledger entries, 30 days of solar
slots in 4 communities, 200 co-design challenges, and reviews of 30% of the returned
loans with the trust rows the reputation app keeps for the reviewed. Every kind of row
is split over the communities by ``SHARES`` (2%, 18%, then 80% over 18), so one
database shows how a page grows with the rows it has to consider.

Why it is written the way it is:

- Deterministic: one ``random.Random(seed)`` drives every choice and every time is an
  offset from ``now`` (the command passes the start of the current hour), so the same
  seed, scale and ``now`` give the same rows.
- Fast: the rows are built in Python and written with PostgreSQL ``COPY`` (``bulk_create``
  on SQLite), with ids chosen up front so rows can point at each other; the sequences are
  reset afterwards. The biggest tables get their constraints and indexes back after the
  load (``bulk_load``), each checked in one pass. Columns not named here get their model
  default, so a field added to a model later does not break the seed.
- Valid: the same rules the services keep hold here. Live loans of a tool never overlap
  (the exclusion constraint would refuse them); the ledger is built by the ledger's own
  canonical document and link hash (``apps.ledger.chain``) and fingerprint, balances stay
  within limits and ``verify_community`` reports OK; solar slots are cleared by
  ``apps.solar.clearing.clear``; trust rows are what ``trust_recompute`` gives.
"""

from __future__ import annotations

import io
import json
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction

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


# --- people and communities -------------------------------------------------------------


def _spot(rng: random.Random) -> tuple[Decimal, Decimal]:
    """An approximate location within about 20 x 20 km of the centre."""
    from apps.peers.geo import approximate

    lat, lng = personas.CENTRE
    return approximate(lat + rng.uniform(-0.09, 0.09), lng + rng.uniform(-0.147, 0.147))


def seed_people(ctx: Ctx) -> dict[str, int]:
    """Users (one password hash for all), verified emails, profiles, the 20 communities
    (made by the peers service, so each uses all four exchanges) and memberships."""
    from allauth.account.models import EmailAddress

    from apps.peers.models import Community, Membership, Profile, User
    from apps.peers.services import community_create

    rng, now = ctx.rng, ctx.now
    password = make_password(personas.PASSWORD)  # hashed once: every seeded user shares it
    per_community = ctx.split(ctx.total("members"), minimum=3)
    special = [email for _label, email, _c, _s in personas.GROWTH] + [personas.ORGANIZER]
    first_id = next_id(User)
    users = []  # (id, email, joined)
    veteran = now - timedelta(days=400)  # when the personas and the organizer joined
    for n, email in enumerate(special):
        users.append((first_id + n, email, veteran))
    home = []  # community index of each ordinary member
    for index, count in enumerate(per_community):
        home += [index] * count
    base = first_id + len(special)
    for n, _index in enumerate(home):
        users.append((base + n, f"member{n + 1:05d}@scale.invalid", now - timedelta(days=rng.uniform(1, 700))))
    write(
        User,
        ["id", "email", "password", "is_active", "is_staff", "is_superuser", "date_joined"],
        ((uid, email, password, True, email == personas.ORGANIZER, False, joined) for uid, email, joined in users),
    )
    write(
        EmailAddress,
        ["user_id", "email", "verified", "primary"],
        ((uid, email, True, True) for uid, email, _j in users),
    )
    profiles = []
    for uid, _email, _joined in users:
        lat, lng = _spot(rng)
        ctx.location[uid] = (lat, lng)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        profiles.append((uid, name, rng.choice(STREETS), lat, lng, now))
    write(
        Profile,
        ["user_id", "display_name", "neighborhood", "approx_latitude", "approx_longitude", "updated_at"],
        profiles,
    )
    reset_sequences([User, EmailAddress])
    ctx.persona_ids = {email: first_id + n for n, email in enumerate(special)}
    ctx.organizer_id = ctx.persona_ids[personas.ORGANIZER]
    organizer = User.objects.get(pk=ctx.organizer_id)
    for index in range(personas.COMMUNITIES):
        slug = personas.COMMUNITY_SLUG.format(index + 1)
        lat, lng = _spot(rng)
        ctx.communities.append(
            community_create(
                creator=organizer,
                name=f"Scale neighborhood {index + 1:02d}",
                slug=slug,
                description="Generated for the benchmarks (manage.py seed_scale).",
                center_latitude=lat,
                center_longitude=lng,
                radius_km=Decimal("3.00"),
            )
        )
    # The communities and their organizer go back two years; the personas joined long enough
    # ago to count as established members.
    Community.objects.filter(pk__in=[c.pk for c in ctx.communities]).update(created_at=now - timedelta(days=720))
    Membership.objects.filter(user_id=ctx.organizer_id).update(joined_at=now - timedelta(days=720))
    ctx.members = [[ctx.organizer_id] for _ in range(personas.COMMUNITIES)]
    memberships = []
    for _label, email, numbers, _share in personas.GROWTH:
        for number in numbers:
            ctx.members[number - 1].append(ctx.persona_ids[email])
            memberships.append((ctx.persona_ids[email], ctx.communities[number - 1].pk, "member", veteran))
    for n, index in enumerate(home):
        uid = base + n
        joined = users[len(special) + n][2]
        ctx.members[index].append(uid)
        memberships.append((uid, ctx.communities[index].pk, "member", joined))
        if rng.random() < TWO_COMMUNITIES:
            other = rng.choice([i for i in range(personas.COMMUNITIES) if i != index])
            ctx.members[other].append(uid)
            memberships.append((uid, ctx.communities[other].pk, "member", joined))
    write(Membership, ["user_id", "community_id", "role", "joined_at"], memberships)
    ctx.joined = {uid: joined for uid, _email, joined in users}
    for uid, community, _role, _joined in memberships:
        ctx.communities_of[uid].add(community)
    ctx.communities_of[ctx.organizer_id].update(c.pk for c in ctx.communities)
    reset_sequences([Membership, Profile])
    return {"users": len(users), "memberships": len(memberships) + personas.COMMUNITIES}


# --- tools and loans ---------------------------------------------------------------------


def seed_tools(ctx: Ctx) -> dict[str, int]:
    """Tools from the demo catalog (owners: members of the tool's community; a few paused,
    retired or hidden), in the catalog's categories."""
    from apps.tools.demo_catalog import CATALOG, CATEGORIES
    from apps.tools.models import Category, Tool

    rng, now = ctx.rng, ctx.now
    categories = {}
    for slug, name, _colour in CATEGORIES:
        categories[slug], _created = Category.objects.get_or_create(slug=slug, defaults={"name": name})
    tool_id = next_id(Tool)
    rows = []
    for index, count in enumerate(ctx.split(ctx.total("tools"))):
        ids = []
        for _ in range(count):
            item = rng.choice(CATALOG)
            roll = rng.random()
            status = "active" if roll < 0.92 else ("paused" if roll < 0.96 else "retired")
            hidden = rng.random() < 0.01
            fee = Decimal(rng.randint(50, 500)) * CENT if rng.random() < 0.2 else None
            created = now - timedelta(days=rng.uniform(30, 700))
            rows.append(
                (
                    tool_id,
                    rng.choice(ctx.members[index]),
                    ctx.communities[index].pk,
                    categories[item.category].pk,
                    item.title,
                    item.description,
                    item.usage_rules,
                    item.deposit_note,
                    rng.choice(("new", "good", "good", "worn")),
                    fee,
                    rng.choice((3, 5, 7, 7, 14)),
                    rng.choice((0, 0, 2, 12)),
                    status,
                    hidden,
                    created + timedelta(days=10) if hidden else None,
                    created,
                )
            )
            ids.append(tool_id)
            tool_id += 1
        ctx.tools.append(ids)
    columns = [
        "id",
        "owner_id",
        "community_id",
        "category_id",
        "title",
        "description",
        "usage_rules",
        "deposit_note",
        "condition",
        "fee_per_day",
        "max_loan_days",
        "buffer_hours",
        "status",
        "is_hidden",
        "hidden_at",
        "created_at",
    ]
    ctx.tool_rows = {row[0]: row for row in rows}
    count = write(Tool, columns, rows)
    reset_sequences([Tool])
    return {"tools": count}


def _loan_status(rng: random.Random, start: datetime, end: datetime, now: datetime, tool_active: bool) -> str:
    """What became of a loan in that window, seen from ``now``: returned in the past (now
    and then declined, cancelled or expired), picked up across now, asked or approved ahead."""
    if end <= now:
        roll = rng.random()
        return "returned" if roll < 0.9 else ("cancelled" if roll < 0.95 else rng.choice(("declined", "expired")))
    if not tool_active:
        return "cancelled"
    if start <= now:
        return "picked_up"
    return "approved" if rng.random() < 0.6 else "requested"


def seed_reservations(ctx: Ctx) -> dict[str, int]:
    """Loans one after another per tool, never overlapping (buffer included), from some
    months back to a few weeks ahead; borrowers are other members of the community."""
    from apps.tools.models import Reservation, loan_days

    rng, now = ctx.rng, ctx.now
    per_community = ctx.split(ctx.total("reservations"))
    reservation_id = next_id(Reservation)
    rows = []
    for index, count in enumerate(per_community):
        tools = ctx.tools[index]
        if not tools:
            continue
        per_tool = [count // len(tools)] * len(tools)
        for i in rng.sample(range(len(tools)), count % len(tools)):
            per_tool[i] += 1
        for tool_id, loans in zip(tools, per_tool, strict=True):
            tool = ctx.tool_rows[tool_id]
            owner, fee, max_days, buffer, status_of_tool = tool[1], tool[9], tool[10], tool[11], tool[12]
            # Spread so that about one loan in twelve lies ahead of now.
            cursor = now - timedelta(days=rng.uniform(10, 40) * loans)
            for _ in range(loans):
                start = cursor + timedelta(hours=rng.randint(2, 24 * 20))
                end = start + timedelta(hours=rng.randint(4, 24 * max_days))
                blocked = end + timedelta(hours=buffer)
                cursor = blocked
                status = _loan_status(rng, start, end, now, status_of_tool == "active")
                borrower = rng.choice(ctx.members[index])
                if borrower == owner:
                    borrower = ctx.members[index][0] if owner != ctx.members[index][0] else ctx.members[index][1]
                fee_total = fee * loan_days(start, end) if fee is not None else Decimal("0.00")
                rows.append(
                    (
                        reservation_id,
                        tool_id,
                        borrower,
                        start,
                        end,
                        blocked,
                        status,
                        min(start, now) - timedelta(days=rng.uniform(0.2, 7)),
                        start if status in ("picked_up", "returned") else None,
                        end if status == "returned" else None,
                        fee,
                        fee_total,
                    )
                )
                if status == "returned":
                    ctx.returned.append((reservation_id, owner, borrower, ctx.communities[index].pk, end))
                reservation_id += 1
    columns = [
        "id",
        "tool_id",
        "borrower_id",
        "starts_at",
        "ends_at",
        "blocked_until",
        "status",
        "created_at",
        "picked_up_at",
        "returned_at",
        "fee_per_day",
        "fee_total",
    ]
    count = write(Reservation, columns, rows)
    reset_sequences([Reservation])
    return {"reservations": count}


# --- skills ------------------------------------------------------------------------------


def _listing_base(ctx: Ctx, index: int, member: int) -> tuple:
    """What offers and requests share: community, where (the member's approximate spot),
    open or closed, created and expiring."""
    rng, now = ctx.rng, ctx.now
    lat, lng = ctx.location[member]
    created = now - timedelta(days=rng.uniform(1, 150))
    status = "open" if rng.random() < 0.9 else "closed"
    return (ctx.communities[index].pk, rng.random() < 0.3, status, lat, lng, created, created)


def seed_skills(ctx: Ctx) -> dict[str, int]:
    """Offers (with one to three site-wide skills and a weekly window or two) and requests
    (with a skill, dates and hours), by members of each community."""
    from datetime import time as clock

    from apps.skills.models import AvailabilityWindow, Offer, Request, Skill

    rng, now = ctx.rng, ctx.now
    skills = list(Skill.objects.filter(community__isnull=True).order_by("pk").values_list("pk", "name"))
    offer_id, request_id = next_id(Offer), next_id(Request)
    offers, offer_skills, windows, requests, request_skills = [], [], [], [], []
    for index, count in enumerate(ctx.split(ctx.total("offers"))):
        for _ in range(count):
            member = rng.choice(ctx.members[index])
            chosen = rng.sample(skills, rng.randint(1, 3))
            base = _listing_base(ctx, index, member)
            title = f"I can help with {chosen[0][1].lower()}"
            expires = base[5] + timedelta(days=180)
            offers.append(
                (
                    offer_id,
                    member,
                    title,
                    f"Happy to help neighbors: {', '.join(n for _p, n in chosen)}.",
                    *base,
                    expires,
                    Decimal(rng.randint(5, 100)) / 10,
                )
            )
            offer_skills += [(offer_id, pk) for pk, _n in chosen]
            for weekday in rng.sample(range(7), rng.randint(1, 2)):
                start = rng.randint(8, 18)
                windows.append((offer_id, weekday, clock(start), clock(start + rng.randint(1, 4))))
            offer_id += 1
    for index, count in enumerate(ctx.split(ctx.total("requests"))):
        for _ in range(count):
            member = rng.choice(ctx.members[index])
            pk, name = rng.choice(skills)
            base = _listing_base(ctx, index, member)
            wanted_from = (now + timedelta(days=rng.randint(-20, 30))).date()
            requests.append(
                (
                    request_id,
                    member,
                    f"Looking for help: {name.lower()}",
                    "Any evening works for me.",
                    *base,
                    now + timedelta(days=rng.randint(1, 60)),
                    wanted_from,
                    wanted_from + timedelta(days=rng.randint(0, 30)),
                    Decimal(rng.randint(1, 16)) / 4,
                )
            )
            request_skills.append((request_id, pk))
            request_id += 1
    listing = ["community_id", "remote_ok", "status", "latitude", "longitude", "created_at", "updated_at", "expires_at"]
    n_offers = write(Offer, ["id", "member_id", "title", "description", *listing, "travel_km"], offers)
    write(Offer.skills.through, ["offer_id", "skill_id"], offer_skills)
    write(AvailabilityWindow, ["offer_id", "weekday", "start", "end"], windows)
    n_requests = write(
        Request,
        ["id", "member_id", "title", "description", *listing, "wanted_from", "wanted_until", "estimated_hours"],
        requests,
    )
    write(Request.skills.through, ["request_id", "skill_id"], request_skills)
    reset_sequences([Offer, Request, Offer.skills.through, Request.skills.through, AvailabilityWindow])
    return {"offers": n_offers, "requests": n_requests, "windows": len(windows)}


# --- the ledger --------------------------------------------------------------------------


@dataclass(slots=True)
class _Transfer:
    """The transfer fields the canonical entry document reads (``apps.ledger.chain``)."""

    pk: int
    community_id: int
    source_id: int
    target_id: int
    amount: Decimal
    currency: str
    kind: str
    memo: str
    idempotency_key: str
    created_at: datetime
    reverses_id: int | None = None


TRANSFER_COLUMNS = [
    "id",
    "community_id",
    "currency",
    "source_id",
    "target_id",
    "amount",
    "kind",
    "memo",
    "idempotency_key",
    "fingerprint",
    "created_at",
]
ENTRY_COLUMNS = [
    "id",
    "transfer_id",
    "account_id",
    "community_id",
    "seq",
    "amount",
    "balance_after",
    "prev_hash",
    "hash",
]
MEMOS = ("Thanks for the help!", "For the ladder", "Bike repair", "Babysitting", "Garden work", "", "", "Groceries")


def _gift(rng: random.Random, ids: dict, members: list[int], currency: str) -> tuple[list, list, Decimal]:
    """A sender, a receiver and an amount the sender can afford: when the first pick
    can't, the richer of the two sends what it can (a balance never goes below its limit)."""
    while True:
        amount = Decimal(rng.randint(2, 16)) / 4 if currency == "HOUR" else Decimal(rng.randint(100, 3000)) * CENT
        src, dst = rng.sample(members, 2)
        src, dst = ids[(src, currency)], ids[(dst, currency)]
        if src[1] - amount < src[2]:
            if dst[1] - dst[2] > src[1] - src[2]:
                src, dst = dst, src
            amount = min(amount, src[1] - src[2])
        if amount > 0:
            return src, dst, amount


def seed_ledger(ctx: Ctx) -> dict[str, int]:
    """Accounts (each member, both currencies, the community's default limits) and gifts
    between members of one community, chained exactly as ``transfer_create`` does:
    the same canonical document, link hash and fingerprint, a balance never below its
    limit, and each chain head at its last entry."""
    from apps.ledger.chain import entry_document, link_hash
    from apps.ledger.models import Account, Chain, Entry, Transfer
    from apps.ledger.services import _fingerprint

    rng, now = ctx.rng, ctx.now
    account_id, transfer_id, entry_id = next_id(Account), next_id(Transfer), next_id(Entry)
    accounts, chains = [], []
    totals = {"transfers": 0, "entries": 0}
    span = timedelta(days=365).total_seconds()
    for index, entries in enumerate(ctx.split(ctx.total("ledger_entries"))):
        community = ctx.communities[index]
        ids = {}  # (member, currency) -> [account id, balance, limit]
        for member in ctx.members[index]:
            for currency, limit in (("HOUR", community.default_hour_limit), ("CREDIT", community.default_credit_limit)):
                ids[(member, currency)] = [account_id, Decimal("0.00"), limit]
                account_id += 1
        transfers, legs = [], []
        seq, prev = 0, Chain._meta.get_field("last_hash").default
        n = entries // 2
        members = ctx.members[index]
        for k in range(n):
            currency = "HOUR" if rng.random() < 0.5 else "CREDIT"
            src, dst, amount = _gift(rng, ids, members, currency)
            created = now - timedelta(seconds=span * (n - k) / n + rng.random())
            t = _Transfer(
                transfer_id,
                community.pk,
                src[0],
                dst[0],
                amount,
                currency,
                "gift",
                rng.choice(MEMOS),
                f"scale-{community.pk}-{k}",
                created,
            )
            fingerprint = _fingerprint(
                source=t.source_id,
                target=t.target_id,
                amount=f"{amount:.2f}",
                memo=t.memo,
                kind=t.kind,
                related=None,
                reverses=None,
            )
            transfers.append(
                (
                    t.pk,
                    t.community_id,
                    currency,
                    t.source_id,
                    t.target_id,
                    amount,
                    t.kind,
                    t.memo,
                    t.idempotency_key,
                    fingerprint,
                    created,
                )
            )
            for account, delta in ((src, -amount), (dst, amount)):
                account[1] += delta
                seq += 1
                doc = entry_document(seq=seq, transfer=t, account_id=account[0], amount=delta, balance_after=account[1])
                digest = link_hash(prev, doc)
                legs.append((entry_id, t.pk, account[0], community.pk, seq, delta, account[1], prev, digest))
                prev = digest
                entry_id += 1
            transfer_id += 1
        holders = {acc[0]: (member, currency) for (member, currency), acc in ids.items()}
        accounts += [
            (pk, community.pk, holders[pk][1], holders[pk][0], bal, limit, now - timedelta(days=366))
            for pk, bal, limit in ids.values()
        ]
        # Foreign keys are checked at commit, so the entries may go in before their accounts,
        # whose final balances are known only now; one community's rows at a time in memory.
        write(Transfer, TRANSFER_COLUMNS, transfers)
        write(Entry, ENTRY_COLUMNS, legs)
        chains.append((community.pk, seq, prev))
        totals["transfers"] += len(transfers)
        totals["entries"] += len(legs)
    write(Account, ["id", "community_id", "currency", "owner_id", "balance", "limit", "created_at"], accounts)
    for community_id, last_seq, last_hash in chains:
        Chain.objects.update_or_create(
            community_id=community_id, defaults={"last_seq": last_seq, "last_hash": last_hash}
        )
    reset_sequences([Account, Transfer, Entry])
    return {"accounts": len(accounts), **totals}


# --- solar -------------------------------------------------------------------------------

QUARTER = timedelta(minutes=15)
CLEARING_LAG = timedelta(seconds=30)  # the clearing sweep runs every minute after gate closure


def _solar_book(ctx: Ctx, start: datetime, buyers: list, sellers: list) -> list[tuple]:
    """One slot's orders as (member, meter, side, quantity, limit): buyers at any hour,
    sellers while the sun is up (about 07:00-17:00 UTC in the Netherlands)."""
    rng = ctx.rng
    book = []
    for member, meter in rng.sample(buyers, min(len(buyers), rng.randint(3, 12))):
        book.append((member, meter, "buy", rng.randint(50, 1500), Decimal(rng.randint(1500, 3500)).scaleb(-4)))
    if 7 <= start.hour < 17:
        for member, meter in rng.sample(sellers, min(len(sellers), rng.randint(2, 8))):
            book.append((member, meter, "sell", rng.randint(100, 2500), Decimal(rng.randint(1000, 3000)).scaleb(-4)))
    return book


def seed_solar(ctx: Ctx) -> dict[str, int]:
    """Meters in the first communities, the last days of quarter-hour slots cleared by
    ``apps.solar.clearing.clear`` (orders filled as it says, its trades), and open slots
    with orders for the rest of today."""
    from apps.solar import clearing
    from apps.solar.models import Meter, Order, Slot, Trade, gate_closes_at

    rng, now = ctx.rng, ctx.now
    days = max(1, round(SOLAR_DAYS * min(1.0, ctx.scale)))
    first = now.replace(hour=0, minute=0) - timedelta(days=days)
    meter_id, slot_id, order_id = next_id(Meter), next_id(Slot), next_id(Order)
    meters, slots, orders, trades = [], [], [], []
    for index in range(SOLAR_COMMUNITIES):
        community, people = ctx.communities[index].pk, ctx.members[index]
        sellers, buyers = [], []
        for member in people:
            roll = rng.random()
            if roll < 0.5:
                kind, group = ("producer", sellers) if roll < 0.15 else ("consumer", buyers)
                lat, lng = ctx.location[member]
                meters.append(
                    (
                        meter_id,
                        community,
                        member,
                        "Roof panels" if kind == "producer" else "Home",
                        kind,
                        rng.randint(1500, 6000) if kind == "producer" else rng.randint(3000, 11000),
                        lat,
                        lng,
                        now - timedelta(days=days + 30),
                    )
                )
                group.append((member, meter_id))
                meter_id += 1
        if not sellers or not buyers:
            continue
        start = first
        while start < now + timedelta(hours=24 - now.hour):
            cleared = gate_closes_at(start) + CLEARING_LAG <= now
            book = []
            for member, meter, side, quantity, limit in _solar_book(ctx, start, buyers, sellers):
                created = min(start - timedelta(minutes=rng.randint(20, 600)), now - timedelta(minutes=1))
                book.append([order_id, slot_id, member, meter, side, quantity, limit, "open", 0, created, created])
                order_id += 1
            row = [slot_id, community, start, "open", None, 0, 0, 0, None, None, start - timedelta(hours=12)]
            if cleared:
                _clear_slot(clearing, row, book, trades)
            slots.append(tuple(row))
            orders += [tuple(o) for o in book]
            slot_id += 1
            start += QUARTER
    write(
        Meter,
        [
            "id",
            "community_id",
            "owner_id",
            "name",
            "kind",
            "peak_capacity_w",
            "approx_latitude",
            "approx_longitude",
            "created_at",
        ],
        meters,
    )
    write(
        Slot,
        [
            "id",
            "community_id",
            "start",
            "status",
            "clearing_price",
            "volume_wh",
            "buy_orders",
            "sell_orders",
            "cleared_at",
            "traders_told_at",
            "created_at",
        ],
        slots,
    )
    write(
        Order,
        [
            "id",
            "slot_id",
            "member_id",
            "meter_id",
            "side",
            "quantity_wh",
            "limit_price",
            "status",
            "filled_wh",
            "created_at",
            "priority_at",
        ],
        orders,
    )
    write(
        Trade,
        ["slot_id", "seq", "buy_order_id", "sell_order_id", "buyer_id", "seller_id", "quantity_wh", "price", "status"],
        trades,
    )
    reset_sequences([Meter, Slot, Order, Trade])
    return {"meters": len(meters), "slots": len(slots), "orders": len(orders), "trades": len(trades)}


def _clear_slot(clearing, slot: list, book: list[list], trades: list[tuple]) -> None:
    """Clear one slot as ``slot_clear`` does: the rule's trades, each order filled, partly
    filled or not, and the slot's price, volume and order counts."""
    from apps.solar.models import gate_closes_at

    rows = {o[0]: o for o in book}
    buys = [clearing.Order(o[0], o[5], o[6], (o[10], o[0])) for o in book if o[4] == "buy"]
    sells = [clearing.Order(o[0], o[5], o[6], (o[10], o[0])) for o in book if o[4] == "sell"]
    result = clearing.clear(buys, sells)
    for seq, trade in enumerate(result.trades, start=1):
        buy, sell = rows[trade.buy], rows[trade.sell]
        trades.append((slot[0], seq, buy[0], sell[0], buy[2], sell[2], trade.quantity_wh, result.price, "cleared"))
        buy[8] += trade.quantity_wh
        sell[8] += trade.quantity_wh
    for o in book:
        o[7] = "filled" if o[8] == o[5] else ("partial" if o[8] else "unfilled")
    cleared_at = gate_closes_at(slot[2]) + CLEARING_LAG
    slot[3:10] = ["cleared", result.price, result.volume_wh, len(buys), len(sells), cleared_at, cleared_at]


# --- co-design ---------------------------------------------------------------------------

PHASES = ("ideas", "proposals", "voting", "building", "done")
PHASE_DAYS = {  # (ideas_until, proposals_until, voting_until) in days from now, per phase
    "ideas": (7, 21, 28),
    "proposals": (-7, 7, 14),
    "voting": (-14, -7, 7),
    "building": (-40, -30, -20),
    "done": (-90, -80, -70),
}
SPACES = ("the courtyard", "the playground", "the corner lot", "the community garden", "the bike shed", "the square")


@dataclass
class _Codesign:
    """The co-design rows being built, per table, with the next id of each."""

    ids: dict[str, int]
    rows: dict[str, list] = field(default_factory=lambda: {k: [] for k in CODESIGN_COLUMNS})

    def add(self, table: str, *values) -> int:
        pk = self.ids[table]
        self.ids[table] += 1
        self.rows[table].append((pk, *values))
        return pk


CODESIGN_COLUMNS = {
    "challenge": [
        "id",
        "community_id",
        "created_by_id",
        "title",
        "brief",
        "space",
        "approx_latitude",
        "approx_longitude",
        "budget",
        "phase",
        "ideas_until",
        "proposals_until",
        "voting_until",
        "created_at",
    ],
    "idea": ["id", "challenge_id", "author_id", "text", "plus_ones", "created_at"],
    "plusone": ["id", "idea_id", "member_id"],
    "proposal": [
        "id",
        "challenge_id",
        "author_id",
        "title",
        "description",
        "cost",
        "hours",
        "status",
        "answer_reason",
        "answered_by_id",
        "answer_published_at",
        "created_at",
        "submitted_at",
        "updated_at",
    ],
    "comment": ["id", "challenge_id", "author_id", "text", "created_at"],
    "ballot": ["id", "challenge_id", "voter_id", "updated_at"],
    "ballotentry": ["id", "ballot_id", "proposal_id", "dots"],
    "project": ["id", "challenge_id", "proposal_id", "votes", "created_at"],
    "task": ["id", "project_id", "title", "hours", "places", "status", "created_at"],
}


def seed_codesign(ctx: Ctx) -> dict[str, int]:
    """Challenges in every phase (in turn) with ideas and their +1s, proposals, comments,
    dot-vote ballots within the challenge's caps, and for built ones the winning
    proposal's project with its tasks."""
    from apps.codesign import models as m

    models_of = {
        "challenge": m.Challenge,
        "idea": m.Idea,
        "plusone": m.PlusOne,
        "proposal": m.Proposal,
        "comment": m.Comment,
        "ballot": m.Ballot,
        "ballotentry": m.BallotEntry,
        "project": m.Project,
        "task": m.Task,
    }
    built = _Codesign(ids={k: next_id(model) for k, model in models_of.items()})
    n = 0
    for index, count in enumerate(ctx.split(ctx.total("challenges", minimum=len(PHASES)))):
        for _ in range(count):
            _challenge(ctx, built, index, PHASES[n % len(PHASES)])
            n += 1
    for key, model in models_of.items():
        write(model, CODESIGN_COLUMNS[key], built.rows[key])
    reset_sequences(list(models_of.values()))
    return {"challenges": n, **{f"{k}s": len(built.rows[k]) for k in ("proposal", "ballot", "comment", "task")}}


def _challenge(ctx: Ctx, built: _Codesign, index: int, phase: str) -> None:
    rng, now = ctx.rng, ctx.now
    people = ctx.members[index]
    lat, lng = _spot(rng)
    ideas_until, proposals_until, voting_until = (now + timedelta(days=d) for d in PHASE_DAYS[phase])
    created = ideas_until - timedelta(days=21)
    space = rng.choice(SPACES)
    challenge = built.add(
        "challenge",
        ctx.communities[index].pk,
        ctx.organizer_id,
        f"What shall we do with {space}?",
        f"Ideas and designs for {space}, chosen together.",
        space.removeprefix("the "),
        lat,
        lng,
        Decimal(rng.randint(5, 50) * 100),
        phase,
        ideas_until,
        proposals_until,
        voting_until,
        created,
    )
    for _ in range(rng.randint(3, 6)):
        fans = rng.sample(people, min(len(people), rng.randint(0, 4)))
        idea = built.add(
            "idea",
            challenge,
            rng.choice(people),
            f"Maybe {rng.choice(('benches', 'trees', 'a mural', 'planters', 'a table tennis table'))}?",
            len(fans),
            created + timedelta(days=1),
        )
        for fan in fans:
            built.add("plusone", idea, fan)
    for _ in range(rng.randint(2, 6)):
        built.add(
            "comment", challenge, rng.choice(people), "Count me in for the building day.", created + timedelta(days=2)
        )
    if phase == "ideas":
        return
    answered = phase != "proposals"
    proposals = []
    for k in range(rng.randint(2, 4)):
        feasible = not answered or k > 0 or rng.random() < 0.7
        status = "submitted" if not answered else ("accepted" if feasible else "not_feasible")
        proposals.append(
            (
                built.add(
                    "proposal",
                    challenge,
                    rng.choice(people),
                    f"Design {k + 1} for {space}",
                    "**Plan**\n\nWhat we build, with whom and when.",
                    Decimal(rng.randint(1, 40) * 50),
                    Decimal(rng.randint(4, 40)),
                    status,
                    "" if feasible else "Too expensive for the budget.",
                    ctx.organizer_id if answered else None,
                    ideas_until + timedelta(days=2) if answered else None,
                    ideas_until,
                    ideas_until,
                    ideas_until,
                ),
                status,
            )
        )
    accepted = [pk for pk, status in proposals if status == "accepted"]
    if phase == "proposals" or not accepted:
        return
    votes = dict.fromkeys(accepted, 0)
    for voter in rng.sample(people, min(len(people), rng.randint(3, 15))):
        ballot = built.add("ballot", challenge, voter, proposals_until + timedelta(days=1))
        left = 5  # the challenge's dots (model default), at most 3 on one proposal
        for proposal in rng.sample(accepted, len(accepted)):
            dots = min(left, rng.randint(1, 3))
            if dots:
                built.add("ballotentry", ballot, proposal, dots)
                votes[proposal] += dots
                left -= dots
    if phase in ("building", "done"):
        winner = max(accepted, key=lambda pk: (votes[pk], -pk))
        project = built.add("project", challenge, winner, votes[winner], voting_until)
        for t in range(rng.randint(2, 4)):
            built.add(
                "task",
                project,
                f"Building day {t + 1}",
                Decimal(rng.randint(2, 8)),
                2,
                "open" if phase == "building" else "done",
                voting_until,
            )


# --- reviews and trust -------------------------------------------------------------------

REVIEWED = 0.3  # share of returned loans whose two parties reviewed each other
COMMENTS = ("Great, thanks!", "Everything went smoothly.", "", "Friendly and on time.", "")


def seed_reviews(ctx: Ctx) -> dict[str, int]:
    """Both parties' reviews of some returned loans (revealed, the window over), and the
    trust rows the reputation app keeps for everyone reviewed: its rule, computed for all
    of them at once (``_trust_rows``)."""
    from django.contrib.contenttypes.models import ContentType

    from apps.reputation.models import REVIEW_WINDOW, Review, TrustScore
    from apps.tools.models import Reservation

    rng, now = ctx.rng, ctx.now
    content_type = ContentType.objects.get_for_model(Reservation).pk
    rows = []
    for reservation, owner, borrower, community, returned in ctx.returned:
        if rng.random() >= REVIEWED:
            continue
        written = [returned + timedelta(hours=rng.randint(1, 24 * 10)) for _ in range(2)]
        closes = returned + REVIEW_WINDOW
        revealed = min(max(written), closes)  # shown once both wrote (or the window closed)
        if revealed > now:
            continue
        for (author, subject), at in zip(((borrower, owner), (owner, borrower)), written, strict=True):
            rating = rng.choice((5, 5, 5, 4, 4, 3, 2))
            row = (content_type, reservation, community, "tools", author, subject, rating, rng.choice(COMMENTS))
            rows.append((*row, at, closes, revealed))
    write(
        Review,
        [
            "content_type_id",
            "object_id",
            "community_id",
            "domain",
            "author_id",
            "subject_id",
            "rating",
            "comment",
            "created_at",
            "window_closes_at",
            "revealed_at",
        ],
        rows,
    )
    trust = _trust_rows(ctx, [(row[2], row[4], row[5], row[6]) for row in rows])
    write(TrustScore, ["user_id", "score", "rating_count", "tools_count", "updated_at"], trust)
    reset_sequences([Review, TrustScore])
    return {"reviews": len(rows), "trust scores": len(trust)}


def _trust_rows(ctx: Ctx, reviews: list[tuple[int, int, int, int]]) -> list[tuple]:
    """``trust_recompute``'s result for every reviewed member, from ``reviews`` (community,
    author, subject, rating; all revealed, none hidden): the reviewer weights come from the
    app itself (one query for all reviewers), the prior and the score follow its rule
    (``community_prior``, ``bayesian_score``); the tests compare with ``trust_recompute``."""
    from apps.reputation.selectors import ESTABLISHED_ACCOUNT_DAYS
    from apps.reputation.services import DEFAULT_PRIOR, bayesian_score, reviewer_weights

    now = ctx.now
    weights = reviewer_weights(reviewer_ids={author for _c, author, _s, _r in reviews}, now=now)
    old_enough = now - timedelta(days=ESTABLISHED_ACCOUNT_DAYS)
    eligible = [r for r in reviews if ctx.joined[r[1]] <= old_enough]  # authors counted in a prior
    per_community: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    own: dict[int, list[tuple[int, int]]] = defaultdict(list)  # user -> (community, rating) they wrote or got
    for community, author, subject, rating in eligible:
        per_community[community][0] += rating
        per_community[community][1] += 1
        own[author].append((community, rating))
        own[subject].append((community, rating))
    by_subject: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    reviewed_in: dict[int, set[int]] = defaultdict(set)
    for community, author, subject, rating in reviews:
        by_subject[subject][author][0] += rating
        by_subject[subject][author][1] += 1
        reviewed_in[subject].add(community)
    completed = Counter()
    for _pk, owner, borrower, _community, _returned in ctx.returned:
        completed[owner] += 1
        completed[borrower] += 1
    rows = []
    for subject, authors in sorted(by_subject.items()):
        communities = ctx.communities_of[subject] | reviewed_in[subject]
        total = sum(per_community[c][0] for c in communities) - sum(r for c, r in own[subject] if c in communities)
        count = sum(per_community[c][1] for c in communities) - sum(1 for c, _r in own[subject] if c in communities)
        prior = Decimal(total) / Decimal(count) if count else DEFAULT_PRIOR
        rating_sum = sum((weights[a] * Decimal(t) / n for a, (t, n) in authors.items()), Decimal(0))
        score = bayesian_score(prior=prior, rating_sum=rating_sum, rating_count=sum(weights[a] for a in authors))
        rows.append((subject, score, len(authors), completed[subject], now))
    return rows


# --- the whole seed ----------------------------------------------------------------------

STEPS: list[tuple[str, Callable[[Ctx], dict[str, int]]]] = [
    ("people and communities", seed_people),
    ("tools", seed_tools),
    ("reservations", seed_reservations),
    ("skill offers and requests", seed_skills),
    ("ledger", seed_ledger),
    ("solar market", seed_solar),
    ("co-design challenges", seed_codesign),
    ("reviews and trust", seed_reviews),
]


class AlreadySeeded(Exception):
    """The scale communities exist already: the seed adds to an empty database only."""


def seed(*, scale: float, seed: int, now: datetime, progress: Callable[[str], None] = _out) -> dict[str, int]:
    """Fill the database with the scale data, in one transaction (all or nothing).
    Returns the row counts per kind. Raises ``AlreadySeeded`` on a seeded database."""
    from apps.peers.models import Community

    if Community.objects.filter(slug=personas.COMMUNITY_SLUG.format(1)).exists():
        raise AlreadySeeded(
            "This database already has the scale data (community scale-01). seed_scale fills an empty "
            "database only: drop and migrate it first (bench/run.py does that unless BENCH_REUSE=1)."
        )
    from apps.ledger.models import Entry, Transfer
    from apps.solar.models import Order
    from apps.tools.models import Reservation

    ctx = Ctx(scale=scale, rng=random.Random(seed), now=now)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    with transaction.atomic():
        with bulk_load([Entry, Transfer, Reservation, Order], progress):
            for name, step in STEPS:
                began = time.perf_counter()
                made = step(ctx)
                counts.update(made)
                progress(_line(name, ", ".join(f"{v:,} {k}" for k, v in made.items()), began))
        began = time.perf_counter()
    progress(_line("commit", "(deferred foreign keys of the other tables checked)", began))
    if connection.vendor == "postgresql":
        began = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        progress(_line("analyze", "", began))
    progress(_line("total", "", started))
    return counts
