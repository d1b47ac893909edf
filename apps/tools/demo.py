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
from .models import Category, ConditionReport, Reservation, ReservationEvent, Tool

S = Reservation.Status
DEMO_EMAIL_DOMAIN = "@example.org"
# A loan that belongs in the past is requested this far ahead, then moved back (52 weeks:
# the same weekday and, away from a DST change, the same hour).
STAGING = timedelta(weeks=52)

# slug, name, the color of its demo pictures (the drawing, and a pale background of the same hue)
CATEGORIES = [
    ("power-tools", "Power tools", (196, 84, 40)),
    ("hand-tools", "Hand tools", (120, 90, 60)),
    ("garden", "Garden", (70, 140, 60)),
    ("ladders-access", "Ladders & access", (200, 160, 40)),
    ("cleaning", "Cleaning", (60, 130, 190)),
    ("kitchen-canning", "Kitchen & canning", (190, 70, 90)),
    ("camping-outdoors", "Camping & outdoors", (50, 110, 100)),
    ("bikes-repair", "Bikes & repair", (90, 90, 150)),
    ("painting-decorating", "Painting & decorating", (150, 80, 160)),
    ("measuring-electronics", "Measuring & electronics", (70, 80, 90)),
]


@dataclass(frozen=True)
class Item:
    """One kind of tool a neighbor might lend."""

    category: str
    title: str
    description: str
    usage_rules: str
    deposit_note: str = ""


CATALOG = [
    Item(
        "power-tools",
        "Cordless drill (18 V)",
        "Drill-driver with two batteries, a charger and a case of wood, metal and masonry bits.",
        "Charge the batteries before you bring it back. Bits are consumables: replace one if you break it.",
    ),
    Item(
        "power-tools",
        "Hammer drill (SDS-plus)",
        "For concrete and brick. 6, 8 and 10 mm bits and a flat chisel in the case.",
        "Wear the ear defenders in the case. Check the wall for pipes and cables first.",
    ),
    Item(
        "power-tools",
        "Circular saw with guide rail",
        "190 mm saw, a 24-tooth blade fitted and a 1.4 m guide rail for straight cuts in sheet material.",
        "Wood only. Unplug it before you change the blade, and tell me if the blade feels dull.",
        "Please leave 20 credits as a deposit; you get them back at return.",
    ),
    Item(
        "power-tools",
        "Jigsaw",
        "Pendulum jigsaw with a box of blades for wood, laminate and thin metal.",
        "Used blades go in the little tin, not back in the box.",
    ),
    Item(
        "power-tools",
        "Random orbital sander",
        "125 mm sander with hook-and-loop discs in 80, 120 and 240 grit.",
        "Empty the dust bag before you bring it back. Bring your own discs for big jobs.",
    ),
    Item(
        "power-tools",
        "Angle grinder (125 mm)",
        "With a cutting disc, a grinding disc and a wire brush.",
        "Safety glasses and gloves, always. Not for children's projects.",
    ),
    Item(
        "hand-tools",
        "Socket set",
        "1/4 and 1/2 inch drives, 4 to 32 mm, with extensions and a torque wrench.",
        "Count the sockets when you return it: the case has a spot for each.",
    ),
    Item(
        "hand-tools",
        "Spirit level (120 cm)",
        "Long aluminium level, good for shelves, tiles and fence posts.",
        "Don't use it as a straightedge for cutting.",
    ),
    Item(
        "hand-tools",
        "Bar clamps (set of 6)",
        "Six quick-release clamps, two of each of 30, 60 and 90 cm.",
        "Wipe off glue before it dries.",
    ),
    Item(
        "hand-tools",
        "Tile cutter (60 cm)",
        "Manual cutter with a fresh scoring wheel, and tile nippers for curves.",
        "Brush off the dust after use.",
    ),
    Item(
        "hand-tools",
        "Wood chisels (set of 4)",
        "6, 12, 18 and 25 mm bevel-edge chisels, sharp, in a roll.",
        "Keep the caps on. Please don't use them as screwdrivers.",
    ),
    Item(
        "garden",
        "Electric lawn mower",
        "38 cm mower with a grass box and a 20 m cable. Fine for a city garden.",
        "Empty the grass box and brush the deck clean after mowing.",
    ),
    Item(
        "garden",
        "Cordless hedge trimmer",
        "50 cm blade, one battery (about 40 minutes of trimming).",
        "Oil the blade when you're done (the oil is in the bag).",
    ),
    Item(
        "garden",
        "Wheelbarrow",
        "Sturdy 90 litre barrow with a puncture-proof tyre.",
        "Hose it down after carrying soil or concrete.",
    ),
    Item(
        "garden",
        "Pruning saw and loppers",
        "Folding pruning saw and long-handled bypass loppers, for branches up to 5 cm.",
        "Clean the blades if you cut diseased wood.",
    ),
    Item(
        "garden",
        "Garden shredder",
        "Quiet roller shredder for branches up to 4 cm; turns prunings into mulch.",
        "No soil, stones or soft weeds. Use the pusher, never your hands.",
    ),
    Item(
        "garden",
        "Leaf blower and vacuum",
        "Blows, sucks and shreds leaves into a 45 litre bag.",
        "Please not before 9 in the morning: the neighbors will thank you.",
    ),
    Item(
        "ladders-access",
        "Extension ladder (2 x 4 m)",
        "Two-part aluminium ladder, reaches a first-floor gutter.",
        "Someone holds the foot while you climb. I can help carry it.",
    ),
    Item(
        "ladders-access",
        "Step ladder (5 steps)",
        "Stable step ladder with a tool tray on top.",
        "Nothing to add: just bring it back clean.",
    ),
    Item(
        "ladders-access",
        "Mobile scaffold tower",
        "Working height up to 4.5 m, with outriggers and a platform with a trapdoor.",
        "We build it together the first time. Never move it with someone on it.",
        "A deposit of 30 credits, back at return.",
    ),
    Item(
        "ladders-access",
        "Gutter cleaning kit",
        "Telescopic pole with a gutter scoop and a hose attachment, so you can stay on the ground.",
        "Rinse the scoop before you return it.",
    ),
    Item(
        "cleaning",
        "Carpet and upholstery cleaner",
        "Sprays and sucks up in one go; with a hand tool for sofas and car seats.",
        "Empty and rinse both tanks. Use only the cleaner that comes with it.",
    ),
    Item(
        "cleaning",
        "Pressure washer",
        "130 bar washer with a patio cleaner head and a 6 m hose.",
        "Not on soft wood or old brick joints. Let the water drain before you coil the hose.",
    ),
    Item(
        "cleaning",
        "Wet and dry vacuum",
        "30 litre vacuum for the workshop, a flooded cellar or after drilling.",
        "Empty it and dry the filter before you bring it back.",
    ),
    Item(
        "cleaning",
        "Window vacuum",
        "Battery window vacuum with a spray bottle and a microfibre pad.",
        "Wash the pad after use (40 degrees is fine).",
    ),
    Item(
        "kitchen-canning",
        "Preserving pan and 24 jars",
        "Large preserving pan with a thermometer, a funnel and 24 clip-top jars with new rubbers.",
        "Bring back the jars you don't fill; keep the ones you do, and replace them when you can.",
    ),
    Item(
        "kitchen-canning",
        "Pasta machine",
        "Hand-cranked roller with cutters for tagliatelle and spaghetti.",
        "Never wash it with water: brush the flour off and let it dry.",
    ),
    Item(
        "kitchen-canning",
        "Food dehydrator",
        "Six trays, for apple rings, tomatoes, herbs and jerky.",
        "Trays can go in the dishwasher, the base can't.",
    ),
    Item(
        "kitchen-canning",
        "Stockpot (30 litre)",
        "For street parties, big batches of soup or boiling jars.",
        "Return it clean, please.",
    ),
    Item(
        "kitchen-canning",
        "Stand mixer",
        "Mixer with a dough hook, a whisk and a beater. Handles a double batch of bread dough.",
        "Clean the bowl and the attachments before you bring it back.",
    ),
    Item(
        "camping-outdoors",
        "Four-person tent",
        "Tunnel tent with two sleeping cabins and a porch. Pitches in 15 minutes.",
        "Dry it completely before packing, even if it only takes a day in the garden.",
    ),
    Item(
        "camping-outdoors",
        "Camping stove with two burners",
        "Gas stove with a windshield; the gas cartridge is yours to bring.",
        "Only outdoors. Wipe the grill.",
    ),
    Item(
        "camping-outdoors",
        "Electric cool box (24 litre)",
        "Runs on the car's 12 V socket or a mains adapter.",
        "Wipe it dry and leave the lid open a crack when you return it.",
    ),
    Item(
        "camping-outdoors",
        "Inflatable kayak for two",
        "Two-seater with paddles, a pump and two life vests. Perfect for the river on a calm day.",
        "Life vests on, always. Rinse and dry it before packing.",
        "A deposit of 25 credits, back at return.",
    ),
    Item(
        "camping-outdoors",
        "Hiking backpack (65 litre)",
        "Adjustable back, rain cover included.",
        "Empty every pocket before you return it.",
    ),
    Item(
        "bikes-repair",
        "Bike workshop stand",
        "Folding repair stand that holds a bike at working height.",
        "Don't clamp carbon frames by the tube: use the seat post.",
    ),
    Item(
        "bikes-repair",
        "Bike trailer for two children",
        "Trailer with a rain cover and two harnesses; converts to a stroller.",
        "Check the tyre pressure before you ride. Shake out the crumbs, please.",
    ),
    Item(
        "bikes-repair",
        "Cargo bike",
        "Long-tail cargo bike with a bench for two kids or a big load of groceries.",
        "Lock it with both locks. Tell me at once if anything feels off.",
        "A deposit of 40 credits, back at return.",
    ),
    Item(
        "bikes-repair",
        "Bike tool kit",
        "Chain tool, cone spanners, tyre levers, a cassette tool and a floor pump with a gauge.",
        "Everything back in its foam slot.",
    ),
    Item(
        "painting-decorating",
        "Wallpaper steamer",
        "Steam plate and 4 litre tank: old wallpaper comes off in sheets.",
        "Let it cool before packing. Empty the tank.",
    ),
    Item(
        "painting-decorating",
        "Paint sprayer",
        "HVLP sprayer for fences, furniture and walls.",
        "Clean it right after use: dried paint ruins the nozzle.",
    ),
    Item(
        "painting-decorating",
        "Decorating kit",
        "Dust sheets, masking tape holder, a telescopic roller pole and two paint trays.",
        "Fold the dust sheets with the paint side in.",
    ),
    Item(
        "measuring-electronics",
        "Laser distance meter",
        "Measures up to 40 m, with area and volume functions.",
        "Never point it at eyes, human or animal.",
    ),
    Item(
        "measuring-electronics",
        "Multimeter",
        "Auto-ranging meter with test leads and crocodile clips.",
        "Turn the dial to OFF when you're done, or the battery runs flat.",
    ),
    Item(
        "measuring-electronics",
        "Stud and cable detector",
        "Finds studs, live wires and metal pipes behind drywall and plaster.",
        "It is a helper, not a guarantee: switch off the circuit you drill near.",
    ),
    Item(
        "measuring-electronics",
        "Thermal camera",
        "Shows where a house loses heat: draughty frames, missing insulation, cold bridges.",
        "Best on a cold evening. Keep it in its case.",
        "A deposit of 30 credits, back at return.",
    ),
    Item(
        "measuring-electronics",
        "Soldering station",
        "Temperature-controlled iron, stand, solder and a brass tip cleaner.",
        "Let the tip cool on the stand before packing.",
    ),
]
CATALOG_TITLES = [item.title for item in CATALOG]
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
