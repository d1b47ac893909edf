"""Skill offers and requests (part of the scale seed, bench/scale/__init__.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from .base import Ctx, next_id, reset_sequences, write


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
