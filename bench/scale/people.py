"""People and communities (part of the scale seed, bench/scale/__init__.py)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from bench import personas

from .base import FIRST, LAST, STREETS, TWO_COMMUNITIES, Ctx, next_id, reset_sequences, write


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
