"""Tools and loans (part of the scale seed, bench/scale/__init__.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from .base import CENT, Ctx, next_id, reset_sequences, write


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
