"""Demo data for the skill swap: offers, requests, their matches, and sessions in every state.

Idempotent: a community that already has demo offers is left as it is. Listings are
made through the services (as members would), matching runs synchronously so the
"matches for you" page is full at once, and past sessions are moved into the past
after they were agreed (the services only book future times).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.peers.models import Community
from apps.peers.selectors import active_members_of
from p2pcommons.errors import RuleViolation

from . import services
from .models import Match, Offer, Request, Seat, Session, Skill


@dataclass(frozen=True)
class OfferPlan:
    """A neighbor's offer of help, when they are usually free (weekday 0 = Monday, local
    times on the quarter hour), and what they would call a session for a group."""

    title: str
    skills: list[str]
    tags: list[str]
    windows: list[tuple[int, time, time]]
    group_title: str
    group_place: str


HALL = "Community hall, back room"
OFFERS = [
    OfferPlan(
        "Bike repair in my shed",
        ["bike-repair"],
        ["gears", "brakes", "punctures"],
        [(5, time(10), time(13)), (2, time(19), time(21))],
        "Bike repair café: bring your bike",
        "In front of the community hall",
    ),
    OfferPlan(
        "I fix wobbly chairs and drawers",
        ["furniture-repair"],
        ["wood"],
        [(5, time(13), time(16)), (3, time(19), time(21, 30))],
        "Repair café: furniture",
        HALL,
    ),
    OfferPlan(
        "Sewing machine and patience",
        ["sewing-and-mending"],
        ["hems", "zips"],
        [(1, time(19, 30), time(21, 30)), (6, time(14), time(17))],
        "Mending evening: bring what needs a stitch",
        HALL,
    ),
    OfferPlan(
        "Help with your phone or tablet",
        ["smartphone-help", "online-forms-and-banking"],
        ["seniors"],
        [(0, time(14), time(16, 30)), (3, time(10), time(12))],
        "Phone and tablet questions, drop in",
        "Library, reading room",
    ),
    OfferPlan(
        "Pruning fruit trees",
        ["pruning", "tree-planting"],
        ["apples"],
        [(5, time(9, 30), time(12, 30)), (6, time(10), time(13))],
        "Pruning workshop in the community garden",
        "Community garden, by the shed",
    ),
    OfferPlan(
        "Sourdough and bread baking",
        ["baking-bread"],
        ["sourdough"],
        [(6, time(9), time(12)), (4, time(18), time(20))],
        "Sourdough workshop: take a starter home",
        "Community hall kitchen",
    ),
    OfferPlan(
        "Spanish conversation over coffee",
        ["conversation-practice"],
        ["spanish"],
        [(2, time(10), time(12)), (4, time(16), time(18))],
        "Spanish conversation table",
        "Café on the corner, the big table at the back",
    ),
    OfferPlan(
        "Homework help, maths and science",
        ["homework-help"],
        ["maths"],
        [(0, time(15, 30), time(17, 30)), (2, time(15, 30), time(17, 30))],
        "Homework club: maths and science",
        "Library, study room",
    ),
    OfferPlan(
        "Moving boxes and flat-pack furniture",
        ["moving-help", "flat-pack-assembly"],
        ["ikea"],
        [(5, time(10), time(16))],
        "Flat-pack afternoon: many hands",
        HALL,
    ),
    OfferPlan(
        "Dog walking in the park",
        ["dog-walking", "pet-sitting"],
        ["dogs"],
        [(0, time(7, 30), time(9)), (4, time(7, 30), time(9)), (6, time(8), time(10))],
        "Group dog walk in the park",
        "Park entrance by the playground",
    ),
    OfferPlan(
        "Vegetable beds and composting",
        ["vegetable-growing", "composting"],
        ["allotment"],
        [(5, time(10), time(12, 30)), (2, time(18, 30), time(20, 30))],
        "Composting for beginners",
        "Community garden, by the shed",
    ),
    OfferPlan(
        "Computer setup and backups",
        ["computer-setup"],
        ["linux", "backups"],
        [(1, time(19), time(21)), (5, time(14), time(16))],
        "Backups for beginners: bring your laptop",
        "Library, reading room",
    ),
]
GROUP_TITLES = {plan.title: plan.group_title for plan in OFFERS}
# title, skills, tags, estimated hours, whether help from afar would do
REQUESTS = [
    ("My bike's gears keep slipping", ["bike-repair"], ["gears"], "1.5", False),
    ("A chair leg came loose", ["furniture-repair"], [], "1", False),
    ("Hem two pairs of trousers", ["sewing-and-mending"], ["hems"], "1", False),
    ("Set up video calls on my tablet", ["smartphone-help"], ["seniors"], "1", True),
    ("Our apple tree needs pruning", ["pruning"], ["apples"], "2", False),
    ("Learn to keep a sourdough starter", ["baking-bread"], ["sourdough"], "2", False),
    ("Practice Spanish before a trip", ["conversation-practice"], ["spanish"], "2", True),
    ("Help carrying a sofa upstairs", ["moving-help"], [], "1", False),
]


def seed(*, communities: list[Community], rng: random.Random, log: Callable[[str], object]) -> None:
    skills = {s.slug: s for s in Skill.objects.filter(community__isnull=True)}
    if not skills:
        log("  no skill taxonomy (migrations not applied?); skipped")
        return
    made = {"offers": 0, "requests": 0, "sessions": 0}
    for community in communities:
        if Offer.objects.filter(community=community, title__in=GROUP_TITLES).exists():
            continue
        members = active_members_of(community_id=community.pk)
        if len(members) < 4:
            continue
        helpers = members[: max(2, len(members) // 2)]
        askers = members[len(helpers) :] or members[:2]
        offers = []
        for i, plan in enumerate(OFFERS[: max(4, len(helpers))]):
            helper = helpers[i % len(helpers)]
            try:
                offers.append(
                    services.offer_create(
                        member=helper,
                        community=community,
                        title=plan.title,
                        skills=[skills[s] for s in plan.skills if s in skills],
                        tags=plan.tags,
                        travel_km=Decimal(rng.choice(["2.0", "3.0", "5.0"])),
                        remote_ok=i % 4 == 3,
                        windows=plan.windows,
                    )
                )
            except RuleViolation:
                continue
        today = timezone.localdate()
        requests = []
        for i, (title, slugs, tags, hours, remote_ok) in enumerate(REQUESTS[: max(3, len(askers))]):
            start = today + timedelta(days=rng.randint(1, 6))
            try:
                requests.append(
                    services.request_create(
                        member=askers[i % len(askers)],
                        community=community,
                        title=title,
                        skills=[skills[s] for s in slugs if s in skills],
                        tags=tags,
                        wanted_from=start,
                        wanted_until=start + timedelta(days=7),
                        estimated_hours=Decimal(hours),
                        remote_ok=remote_ok,
                    )
                )
            except RuleViolation:
                continue
        made["offers"] += len(offers)
        made["requests"] += len(requests)
        for request in requests:
            services.match_request(request_id=request.pk)
        made["sessions"] += _sessions(community, requests, rng)
    log(
        f"  {made['offers']} offers, {made['requests']} requests, {made['sessions']} sessions; "
        f"{Match.objects.count()} matches, {Seat.objects.filter(status='completed').count()} completed seats in all"
    )


def _sessions(community: Community, requests: list[Request], rng: random.Random) -> int:
    """One session in each state, from the best match of each request, at the start of
    one of the helper's usual times: in the coming days, or for a past one last week. And
    a group session from the offer that fits one more request (in a small demo, the first)."""
    states = ["proposed", "scheduled", "completed", "completed", "cancelled", "disputed"]
    pairs = list(zip(states, requests, strict=False))
    if requests:
        pairs.append(("group", requests[len(states)] if len(requests) > len(states) else requests[0]))
    plans = {plan.title: plan for plan in OFFERS}
    today = timezone.localdate()
    count = 0
    for state, request in pairs:
        match = Match.objects.filter(request=request).select_related("offer__member").order_by("-score").first()
        if match is None:
            continue
        helper, learner = match.offer.member, request.member
        past = state in ("completed", "disputed")
        try:
            if state == "group":
                plan = plans[match.offer.title]
                session = services.group_session_create(
                    helper=helper,
                    community=community,
                    title=plan.group_title,
                    starts_at=_slot(match.offer, today + timedelta(days=rng.randint(3, 9))),
                    planned_hours=Decimal("2"),
                    capacity=6,
                    place=plan.group_place,
                    offer=match.offer,
                )
                services.seat_join(session=session, learner=learner)
                count += 1
                continue
            session = services.session_propose(
                proposer=learner,
                helper=helper,
                learner=learner,
                community=community,
                title=request.title,
                starts_at=_slot(match.offer, today + timedelta(days=rng.randint(1, 5))),
                planned_hours=request.estimated_hours,
                place="" if request.remote_ok else "At my place",
                remote=request.remote_ok,
                request=request,
                offer=match.offer,
            )
            if state != "proposed":
                services.session_accept(session=session, actor=helper)
            if state == "cancelled":
                services.session_cancel(session=session, actor=learner, reason="Fixed it myself after all")
            if past:
                # The services only book future times; the demo's history is moved back.
                before = today - timedelta(days=rng.randint(2, 6))
                Session.objects.filter(pk=session.pk).update(starts_at=_slot(match.offer, before, forward=False))
                hours = request.estimated_hours
                services.session_confirm(session=session, actor=learner, hours=hours)
                helper_hours = hours if state == "completed" else hours + Decimal("2")
                services.session_confirm(session=session, actor=helper, hours=helper_hours)
                if state == "completed":
                    _review(session, helper, learner, rng)
            count += 1
        except RuleViolation:
            continue  # a neighbor at their limit: skip, as they would
    return count


def _slot(offer: Offer, day: date, *, forward: bool = True) -> datetime:
    """When the helper is usually free: the start of their first weekly window on ``day``
    or after it (before it, going back), in local time."""
    windows = sorted(offer.windows.all(), key=lambda w: w.start)
    zone = timezone.get_current_timezone()
    for n in range(7):
        candidate = day + timedelta(days=n if forward else -n)
        for window in windows:
            if window.weekday == candidate.weekday():
                return datetime.combine(candidate, window.start, tzinfo=zone)
    return datetime.combine(day, time(10), tzinfo=zone)  # an offer without windows


def _review(session: Session, helper, learner, rng: random.Random) -> None:
    from apps.reputation.services import review_create

    seat = session.seats.get(learner=learner)
    review_create(author=learner, exchange=seat, rating=rng.choice([4, 5, 5]), comment="Patient and kind, thank you!")
    review_create(author=helper, exchange=seat, rating=5, comment="Lovely to meet a neighbor.")
