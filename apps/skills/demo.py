"""Demo data for the skill swap: offers, requests, their matches, and sessions in every state.

Idempotent: a community that already has demo offers is left as it is. Listings are
made through the services (as members would), matching runs synchronously so the
"matches for you" page is full at once, and past sessions are moved into the past
after they were agreed (the services only book future times).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.peers.models import Community, Membership
from p2pcommons.errors import RuleViolation

from . import services
from .models import Match, Offer, Request, Seat, Session, Skill

OFFERS = [
    ("Bike repair in my shed", ["bike-repair"], ["gears", "brakes", "punctures"]),
    ("I fix wobbly chairs and drawers", ["furniture-repair"], ["wood"]),
    ("Sewing machine and patience", ["sewing-and-mending"], ["hems", "zips"]),
    ("Help with your phone or tablet", ["smartphone-help", "online-forms-and-banking"], ["seniors"]),
    ("Pruning fruit trees", ["pruning", "tree-planting"], ["apples"]),
    ("Sourdough and bread baking", ["baking-bread"], ["sourdough"]),
    ("Spanish conversation over coffee", ["conversation-practice"], ["spanish"]),
    ("Homework help, maths and science", ["homework-help"], ["maths"]),
    ("Moving boxes and flat-pack furniture", ["moving-help", "flat-pack-assembly"], ["ikea"]),
    ("Dog walking in the park", ["dog-walking", "pet-sitting"], ["dogs"]),
    ("Vegetable beds and composting", ["vegetable-growing", "composting"], ["allotment"]),
    ("Computer setup and backups", ["computer-setup"], ["linux", "backups"]),
]
REQUESTS = [
    ("My bike's gears keep slipping", ["bike-repair"], ["gears"], "1.5"),
    ("A chair leg came loose", ["furniture-repair"], [], "1"),
    ("Hem two pairs of trousers", ["sewing-and-mending"], ["hems"], "1"),
    ("Set up video calls on my tablet", ["smartphone-help"], ["seniors"], "1"),
    ("Our apple tree needs pruning", ["pruning"], ["apples"], "2"),
    ("Learn to keep a sourdough starter", ["baking-bread"], ["sourdough"], "2"),
    ("Practice Spanish before a trip", ["conversation-practice"], ["spanish"], "3"),
    ("Help carrying a sofa upstairs", ["moving-help"], [], "1"),
]


def _members(community: Community) -> list:
    return [
        m.user
        for m in Membership.objects.filter(community=community, status=Membership.Status.ACTIVE)
        .select_related("user__profile")
        .order_by("user_id")
    ]


def seed(*, communities: list[Community], rng: random.Random, log: Callable[[str], object]) -> None:
    skills = {s.slug: s for s in Skill.objects.filter(community__isnull=True)}
    if not skills:
        log("  no skill taxonomy (migrations not applied?); skipped")
        return
    made = {"offers": 0, "requests": 0, "sessions": 0}
    for community in communities:
        if Offer.objects.filter(community=community, title__in=[o[0] for o in OFFERS]).exists():
            continue
        members = _members(community)
        if len(members) < 4:
            continue
        helpers = members[: max(2, len(members) // 2)]
        askers = members[len(helpers) :] or members[:2]
        offers = []
        for i, (title, slugs, tags) in enumerate(OFFERS[: max(4, len(helpers))]):
            helper = helpers[i % len(helpers)]
            windows = [(d, time(h), time(h + 3)) for d, h in rng.sample([(5, 9), (6, 10), (2, 18), (3, 14)], 2)]
            try:
                offers.append(
                    services.offer_create(
                        member=helper,
                        community=community,
                        title=title,
                        skills=[skills[s] for s in slugs if s in skills],
                        tags=tags,
                        travel_km=Decimal(rng.choice(["2.0", "3.0", "5.0"])),
                        remote_ok=i % 4 == 3,
                        windows=windows,
                    )
                )
            except RuleViolation:
                continue
        today = timezone.localdate()
        requests = []
        for i, (title, slugs, tags, hours) in enumerate(REQUESTS[: max(3, len(askers))]):
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
                        remote_ok=i % 3 == 0,
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
    """One session in each state, from the best match of each request."""
    states = ["proposed", "scheduled", "completed", "completed", "cancelled", "disputed", "group"]
    now = timezone.now()
    count = 0
    for state, request in zip(states, requests, strict=False):
        match = Match.objects.filter(request=request).select_related("offer__member").order_by("-score").first()
        if match is None:
            continue
        helper, learner = match.offer.member, request.member
        past = state in ("completed", "disputed")
        try:
            if state == "group":
                session = services.group_session_create(
                    helper=helper,
                    community=community,
                    title=f"Repair café: {match.offer.title.lower()}",
                    starts_at=now + timedelta(days=rng.randint(3, 9), hours=2),
                    planned_hours=Decimal("2"),
                    capacity=6,
                    place="Community hall, back room",
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
                starts_at=now + timedelta(days=rng.randint(1, 5), hours=3),
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
                Session.objects.filter(pk=session.pk).update(starts_at=now - timedelta(days=rng.randint(2, 6)))
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


def _review(session: Session, helper, learner, rng: random.Random) -> None:
    from apps.reputation.services import review_create

    seat = session.seats.get(learner=learner)
    review_create(author=learner, exchange=seat, rating=rng.choice([4, 5, 5]), comment="Patient and kind, thank you!")
    review_create(author=helper, exchange=seat, rating=5, comment="Lovely to meet a neighbor.")
