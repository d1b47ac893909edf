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

import random
import time
from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction

from bench import personas

from .base import BASE, Ctx, _line, _out, bulk_load
from .codesign import seed_codesign
from .ledger import seed_ledger
from .people import seed_people
from .reviews import seed_reviews
from .skills import seed_skills
from .solar import seed_solar
from .tools import seed_reservations, seed_tools

__all__ = ["BASE", "AlreadySeeded", "seed"]

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
