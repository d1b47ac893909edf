"""Demo data for tool sharing: a catalog of about 30 tools per community, with photos,
and loans in every state, some reviewed, one overdue, and neighbors on waitlists.

Everything goes through the services, as a neighbor's clicks would. The one exception
is time: the services refuse windows that start in the past (minimum notice), so a loan
that belongs in the past is made a year ahead, taken through its transitions there (the
pickup and the return at plausible times within their windows, through the services'
``now``), and then moved back with a queryset update (``_backdate``), its history with it.

Idempotent: a community that already has the demo tools (a catalog title listed by a
demo account) is left as it is; categories are looked up by slug.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.peers.models import Community, Membership, User
from apps.reputation import services as reputation

from . import demo_pictures, services
from .demo_catalog import CATALOG, CATALOG_TITLES, CATEGORIES, Item
from .models import Category, ConditionReport, Reservation, ReservationEvent, Tool

S = Reservation.Status
DEMO_EMAIL_DOMAIN = "@example.org"
# A loan that belongs in the past is requested this far ahead, then moved back (52 weeks:
# the same weekday and, away from a DST change, the same hour).
STAGING = timedelta(weeks=52)

TOOLS_PER_COMMUNITY = 30


@dataclass(frozen=True)
class Loan:
    """One planned loan of a tool: its window (days from today, at one of ``PICKUP_TIMES``,
    and its length in days) and the state it ends in.

    ``reviews`` is how many parties review it (2 reveals both); ``waitlist`` puts a
    neighbor in line for the same window (a cancellation then offers it to them);
    ``reports`` records condition reports at pickup and return.
    """

    start_day: int
    days: int
    status: str
    reviews: int = 0
    waitlist: bool = False
    reports: bool = False


# The stories of the busiest tools; each plan's windows are far enough apart (more than
# the longest buffer) that no two loans of one tool ever overlap.
STORIES: list[list[Loan]] = [
    [
        Loan(-26, 2, S.RETURNED),  # too long ago to review
        Loan(-10, 2, S.RETURNED, reviews=2, reports=True),
        Loan(4, 1, S.REQUESTED),
        Loan(9, 2, S.APPROVED, waitlist=True),
    ],
    [
        Loan(-7, 1, S.RETURNED, reviews=1),  # the other side hasn't reviewed yet: still hidden
        Loan(-1, 3, S.PICKED_UP, reports=True),
        Loan(5, 2, S.DECLINED),
        Loan(12, 1, S.CANCELLED, waitlist=True),
    ],
    [
        Loan(-6, 1, S.EXPIRED),
        Loan(-3, 2, S.PICKED_UP, reports=True),  # overdue: it was due back yesterday
        Loan(6, 2, S.APPROVED),
    ],
    [
        Loan(-12, 2, S.RETURNED, reviews=2),
        Loan(-5, 1, S.RETURNED, reviews=2, reports=True),
        Loan(3, 1, S.CANCELLED),
        Loan(8, 2, S.REQUESTED),
    ],
]

# When neighbors arrange to pick a tool up (local time): before work, mid-morning, after work.
PICKUP_TIMES = [time(8, 30), time(9, 0), time(10, 0), time(11, 15), time(17, 30), time(18, 0), time(19, 15)]

MESSAGES = [
    "Hanging shelves in the kids' room this weekend.",
    "Our gutter is overflowing again, could I borrow it?",
    "Just a small job, I'll bring it back the same day if I can.",
    "For the street party on Saturday.",
    "Finally tackling the garden. Thanks a lot!",
    "Could I pick it up in the morning, around ten?",
    "",
]
DECLINE_NOTES = ["Sorry, I need it myself that weekend.", "It's at the repair shop then, sorry!"]
CANCEL_NOTES = ["Plans changed: the job is postponed.", "A friend lent me one after all, thanks anyway."]
OWNER_COMMENTS = [
    "Brought it back clean and on time. Welcome any time!",
    "Careful borrower, everything was in the case.",
    "Easy to arrange, friendly, on time.",
]
BORROWER_COMMENTS = [
    "Worked perfectly and got good tips on how to use it.",
    "Very helpful, even helped me carry it home.",
    "Everything as described. Thanks, neighbor!",
]
PICKUP_NOTES = ["All parts in the case, battery charged.", "Works fine, a few scratches on the housing."]
RETURN_NOTES = ["Back complete and clean.", "Back in good shape; the blade is a bit duller now."]


@dataclass
class _Counts:
    tools: int = 0
    photos: int = 0
    reservations: int = 0
    reviews: int = 0
    waitlist: int = 0


def seed(*, communities: list[Community], rng: random.Random, log: Callable[[str], object]) -> None:
    """Add the categories, and to each community without its demo tools about 30 tools
    owned by its demo neighbors, with photos, loans, reviews and waitlists."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    colors = {}
    new_categories = 0
    for slug, name, color in CATEGORIES:
        category, created = Category.objects.get_or_create(slug=slug, defaults={"name": name})
        colors[category.pk] = color
        new_categories += created
    categories = {c.slug: c for c in Category.objects.filter(slug__in=[slug for slug, _, _ in CATEGORIES])}

    counts = _Counts()
    backdated: list[Reservation] = []
    for community in communities:
        if Tool.objects.filter(
            community=community, title__in=CATALOG_TITLES, owner__email__endswith=DEMO_EMAIL_DOMAIN
        ).exists():
            continue
        members = list(
            User.objects.filter(
                memberships__community=community,
                memberships__status=Membership.Status.ACTIVE,
                email__endswith=DEMO_EMAIL_DOMAIN,
            )
            .select_related("profile")
            .order_by("pk")
        )
        if len(members) < 3:
            continue
        stories = STORIES * 2 if len(members) >= 20 else STORIES
        tools = []
        for n, item in enumerate(rng.sample(CATALOG, min(TOOLS_PER_COMMUNITY, len(CATALOG)))):
            role = n - len(stories)
            tool = _tool(
                item=item,
                owner=rng.choice(members),
                community=community,
                category=categories[item.category],
                rng=rng,
                # after the story tools: two paused, one retired, two that approve trusted neighbors at once
                # (one asks a score of 4 and exchanges with two different neighbors, which the demo's new
                # accounts don't reach: their owner decides; one a reviewed neighbor's score alone)
                status=Tool.Status.PAUSED if role in (0, 1) else Tool.Status.RETIRED if role == 2 else None,
                auto_approve=role in (3, 4),
                thresholds=(Decimal("4.00"), 2) if role == 3 else (Decimal("3.00"), 0),
            )
            counts.photos += _photos(tool=tool, color=colors[tool.category_id], rng=rng)
            tools.append(tool)
        counts.tools += len(tools)

        reviewed: set[int] = set()
        for tool, story in zip(tools, stories, strict=False):
            for plan in story:
                reservation = _loan(tool=tool, plan=plan, today=today, members=members, rng=rng, counts=counts)
                if plan.start_day <= 0:
                    backdated.append(reservation)
                if plan.reviews:
                    reviewed.update(_review(reservation=reservation, plan=plan, rng=rng))
                    counts.reviews += plan.reviews

        # Trust scores are recomputed by a task once reviews are revealed; run the same
        # service now so the demo shows them (and auto-approval can use them) at once.
        for user in User.objects.filter(pk__in=reviewed).order_by("pk"):
            reputation.trust_recompute(user=user)
        for tool in (t for t in tools if t.auto_approve):
            _auto_approved_booking(tool=tool, today=today, members=members, trusted=reviewed, rng=rng)
            counts.reservations += 1

    if backdated:
        # The approved loans moved into the past expire as the beat task would expire them
        # (any other loan past its pickup grace would expire the same way at the next beat).
        services.reservations_expire()
        for reservation in backdated:
            _backdate_history(reservation)

    log(
        f"  {counts.tools} new tools with {counts.photos} photos ({new_categories} new categories), "
        f"{counts.reservations} reservations, {counts.reviews} reviews, {counts.waitlist} waitlist entries; "
        f"{Tool.objects.count()} tools in all"
    )


def _tool(
    *,
    item: Item,
    owner: User,
    community: Community,
    category: Category,
    rng: random.Random,
    status: str | None,
    auto_approve: bool,
    thresholds: tuple[Decimal, int],
) -> Tool:
    fields = {
        "title": item.title,
        "description": item.description,
        "category": category,
        "usage_rules": item.usage_rules,
        "deposit_note": item.deposit_note,
        "condition": rng.choice([Tool.Condition.NEW, Tool.Condition.GOOD, Tool.Condition.GOOD, Tool.Condition.WORN]),
        "fee_per_day": Decimal(rng.choice([1, 2, 3, 5])) if rng.random() < 0.25 else None,
        "max_loan_days": rng.choice([2, 3, 7, 7, 14]),
        "min_notice_hours": rng.choice([0, 2, 2, 4, 12, 24]),
        "buffer_hours": rng.choice([0, 0, 0, 2, 4, 12, 24]),
        "auto_approve": auto_approve,
    }
    if auto_approve:
        fields.update(auto_approve_min_score=thresholds[0], auto_approve_min_exchanges=thresholds[1])
    if status:
        fields["status"] = status
    return services.tool_create(owner=owner, community=community, **fields)


def _photos(*, tool: Tool, color: tuple[int, int, int], rng: random.Random) -> int:
    """One to three pictures of the tool drawn locally (no downloads), added as the
    owner would add photos: the drawing, the same from the other side, a close-up."""
    count = rng.choices([1, 2, 3], weights=[5, 3, 2])[0]
    kind = demo_pictures.kind_for(tool.title, tool.category.slug)
    for view in range(count):
        picture = demo_pictures.picture(kind, color=color, view=view)
        alt_text = ", ".join(part for part in (tool.title, demo_pictures.VIEWS[view]) if part)
        services.photo_add(tool=tool, actor=tool.owner, upload=picture, alt_text=alt_text)
    return count


def _window(today: datetime, start_day: int, days: int, tool: Tool, rng: random.Random) -> tuple[datetime, datetime]:
    """``start_day`` days from ``today`` at a pickup time (local, on the quarter hour), for
    ``days`` days or the tool's maximum. Aware arithmetic on local times keeps the wall
    clock, so a window across a change to or from summer time still starts at that time."""
    at = rng.choice(PICKUP_TIMES)
    starts_at = (today + timedelta(days=start_day)).replace(hour=at.hour, minute=at.minute)
    return starts_at, starts_at + timedelta(days=min(days, tool.max_loan_days))


def _loan(
    *, tool: Tool, plan: Loan, today: datetime, members: Sequence[User], rng: random.Random, counts: _Counts
) -> Reservation:
    """Take one loan through the services to ``plan.status``.

    A loan in the past is made a year ahead and moved back afterwards (see the module
    docstring); an expired one is left approved in the past for ``reservations_expire``.
    """
    owner = tool.owner
    borrower = rng.choice([m for m in members if m.pk != owner.pk])
    starts_at, ends_at = _window(today, plan.start_day, plan.days, tool, rng)
    past = plan.start_day <= 0
    shift = STAGING if past else timedelta(0)
    reservation = services.reservation_request(
        tool=tool,
        borrower=borrower,
        starts_at=starts_at + shift,
        ends_at=ends_at + shift,
        message=rng.choice(MESSAGES),
    )
    counts.reservations += 1
    if plan.status == S.DECLINED:
        return services.reservation_decline(reservation=reservation, actor=owner, note=rng.choice(DECLINE_NOTES))
    if plan.status == S.REQUESTED:
        return reservation
    reservation = services.reservation_approve(reservation=reservation, actor=owner)
    if plan.waitlist:
        waiting = rng.choice([m for m in members if m.pk not in (owner.pk, borrower.pk)])
        services.waitlist_join(tool=tool, member=waiting, starts_at=starts_at, ends_at=starts_at + timedelta(days=1))
        counts.waitlist += 1
    if plan.status == S.CANCELLED:
        return services.reservation_cancel(reservation=reservation, actor=borrower, note=rng.choice(CANCEL_NOTES))
    if plan.status in (S.PICKED_UP, S.RETURNED):
        # Recorded when it would be: twenty minutes after the start (``_backdate`` keeps that).
        picked_up = starts_at + shift + timedelta(minutes=20)
        reservation = services.reservation_pickup(reservation=reservation, actor=borrower, now=picked_up)
        if plan.reports:
            services.condition_report_create(
                reservation=reservation,
                author=borrower,
                stage=ConditionReport.Stage.PICKUP,
                condition=tool.condition,
                note=rng.choice(PICKUP_NOTES),
            )
    if plan.status == S.RETURNED:
        returned = ends_at + shift - timedelta(hours=2)
        reservation = services.reservation_return(reservation=reservation, actor=owner, now=returned)
        if plan.reports:
            services.condition_report_create(
                reservation=reservation,
                author=owner,
                stage=ConditionReport.Stage.RETURN,
                condition=ConditionReport.Condition.GOOD,
                note=rng.choice(RETURN_NOTES),
            )
    if past:
        _backdate(reservation, starts_at=starts_at, ends_at=ends_at)
    return reservation


def _backdate(reservation: Reservation, *, starts_at: datetime, ends_at: datetime) -> None:
    """Move a loan made a year ahead to its real window: picked up twenty minutes after
    its start, returned two hours before its end. The services refuse windows in the past,
    so this is the one write that bypasses them."""
    Reservation.objects.filter(pk=reservation.pk).update(
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_until=ends_at + timedelta(hours=reservation.tool.buffer_hours),
        created_at=starts_at - timedelta(days=3),
        picked_up_at=starts_at + timedelta(minutes=20) if reservation.picked_up_at else None,
        returned_at=ends_at - timedelta(hours=2) if reservation.returned_at else None,
    )
    reservation.refresh_from_db()


def _backdate_history(reservation: Reservation) -> None:
    """Date a backdated loan's events and condition reports to match its window."""
    reservation.refresh_from_db()
    when = {
        S.REQUESTED: reservation.created_at,
        S.APPROVED: reservation.created_at + timedelta(hours=4),
        S.EXPIRED: reservation.starts_at + services.PICKUP_GRACE,
        S.PICKED_UP: reservation.picked_up_at,
        S.RETURNED: reservation.returned_at,
    }
    for status in ReservationEvent.objects.filter(reservation=reservation).values_list("to_status", flat=True):
        if when.get(status):
            ReservationEvent.objects.filter(reservation=reservation, to_status=status).update(created_at=when[status])
    stages = ConditionReport.Stage
    for stage, at in ((stages.PICKUP, reservation.picked_up_at), (stages.RETURN, reservation.returned_at)):
        if at:
            ConditionReport.objects.filter(reservation=reservation, stage=stage).update(created_at=at)


def _review(*, reservation: Reservation, plan: Loan, rng: random.Random) -> list[int]:
    """The borrower reviews the owner and, for a revealed pair, the owner the borrower."""
    owner, borrower = reservation.tool.owner, reservation.borrower
    reputation.review_create(
        author=borrower, exchange=reservation, rating=rng.choice([5, 5, 4]), comment=rng.choice(BORROWER_COMMENTS)
    )
    if plan.reviews < 2:
        return []
    reputation.review_create(
        author=owner, exchange=reservation, rating=rng.choice([5, 5, 4]), comment=rng.choice(OWNER_COMMENTS)
    )
    return [owner.pk, borrower.pk]


def _auto_approved_booking(
    *, tool: Tool, today: datetime, members: Sequence[User], trusted: set[int], rng: random.Random
) -> None:
    """A trusted neighbor books a tool that approves such neighbors at once."""
    candidates = [m for m in members if m.pk in trusted and m.pk != tool.owner_id]
    qualified = [m for m in candidates if services.auto_approve_reason(tool=tool, borrower=m)]
    borrower = rng.choice(qualified or candidates or [m for m in members if m.pk != tool.owner_id])
    starts_at, ends_at = _window(today, 2 + rng.randint(0, 3), 1, tool, rng)
    services.reservation_request(
        tool=tool, borrower=borrower, starts_at=starts_at, ends_at=ends_at, message=rng.choice(MESSAGES)
    )
