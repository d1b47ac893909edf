"""Writes for identity and communities. The only home of their business rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from p2pcommons.errors import RuleViolation

from . import geo
from .models import Community, Membership, Profile, User

PROFILE_PUBLIC_FIELDS = ("display_name", "bio", "neighborhood")
PROFILE_PRIVATE_FIELDS = ("exact_address", "phone")


def _default_display_name(user: User) -> str:
    return user.email.split("@", 1)[0][:80] or f"Neighbor {user.pk}"


def profile_ensure(*, user: User) -> Profile:
    """Return the user's profile, creating it with a name from their email if missing."""
    profile, _ = Profile.objects.get_or_create(user=user, defaults={"display_name": _default_display_name(user)})
    return profile


@transaction.atomic
def user_create(*, email: str, password: str | None, display_name: str = "", **profile_fields: Any) -> User:
    """Create a user together with their profile."""
    user = User.objects.create_user(email=email, password=password)
    Profile.objects.create(user=user, display_name=display_name or _default_display_name(user), **profile_fields)
    return user


@transaction.atomic
def profile_update(
    *,
    profile: Profile,
    actor: User,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    clear_location: bool = False,
    **fields: Any,
) -> Profile:
    """Update a profile. Only its owner may; a given location is stored rounded to ~500 m.

    ``fields`` may hold the public and private text fields and ``avatar``.
    """
    if profile.user_id != actor.pk:
        raise RuleViolation("You can only edit your own profile.", code="not_owner")
    allowed = set(PROFILE_PUBLIC_FIELDS) | set(PROFILE_PRIVATE_FIELDS) | {"avatar"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(profile, name, value)
    if (latitude is None) != (longitude is None):
        raise ValidationError({"latitude": "Give both latitude and longitude, or neither."})
    if clear_location:
        profile.approx_latitude = profile.approx_longitude = None
    elif latitude is not None and longitude is not None:
        profile.approx_latitude, profile.approx_longitude = geo.approximate(latitude, longitude)
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def community_create(*, creator: User, name: str, slug: str, **fields: Any) -> Community:
    """Create a community; its creator becomes its first organizer."""
    community = Community(name=name, slug=slug, **fields)
    community.full_clean()
    community.save()
    Membership.objects.create(user=creator, community=community, role=Membership.Role.ORGANIZER)
    _grant_admin_access(creator)
    return community


def community_join(*, community: Community, user: User) -> Membership:
    """Join a community as a member. Joining again returns the existing membership.

    The unique (user, community) constraint settles a double click racing itself.
    A suspended member stays suspended: leaving and rejoining is not a way around it.
    """
    from .tasks import membership_send_welcome

    existing = Membership.objects.filter(user=user, community=community).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, community=community)
            profile_ensure(user=user)
            transaction.on_commit(lambda: membership_send_welcome.delay(membership.pk))
    except IntegrityError:
        return Membership.objects.get(user=user, community=community)
    return membership


@transaction.atomic
def community_leave(*, community: Community, user: User) -> None:
    """Leave a community. The last active organizer can't leave: someone must moderate.

    Holds SELECT FOR UPDATE on the community row first: leaves from one community run
    one at a time (one lock, one order, no deadlock), so two organizers leaving at once
    can't both succeed.
    """
    Community.objects.select_for_update().filter(pk=community.pk).first()
    membership = Membership.objects.filter(user=user, community=community).first()
    if membership is None:
        raise RuleViolation("You are not a member of this community.", code="not_member")
    if membership.status == Membership.Status.SUSPENDED:
        raise RuleViolation(
            "Your membership is suspended; ask an organizer to reinstate it before leaving.", code="suspended"
        )
    if membership.role == Membership.Role.ORGANIZER:
        organizers = list(
            Membership.objects.filter(
                community=community, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
            ).values_list("pk", flat=True)
        )
        if organizers == [membership.pk]:
            raise RuleViolation(
                "You are the last organizer of this community; promote another member before leaving.",
                code="last_organizer",
            )
    membership.delete()


@transaction.atomic
def membership_promote(*, membership: Membership, actor: User) -> Membership:
    """Make a member an organizer. Only an active organizer of the same community (or a
    site superuser) may. Organizers get access to the admin, scoped to their communities.
    """
    if not (actor.is_superuser or is_organizer(user=actor, community_id=membership.community_id)):
        raise RuleViolation("Only an organizer of this community can promote members.", code="not_organizer")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status != Membership.Status.ACTIVE:
        raise RuleViolation("A suspended member can't be promoted.", code="suspended")
    if membership.role != Membership.Role.ORGANIZER:
        membership.role = Membership.Role.ORGANIZER
        membership.save(update_fields=["role"])
    _grant_admin_access(membership.user)
    return membership


def membership_mark_welcomed(*, membership_id: int) -> bool:
    """Claim the right to send the welcome email: a conditional UPDATE, so a retried or
    duplicated task sends it once. Returns True for the one caller that claimed it.
    """
    return Membership.objects.filter(pk=membership_id, welcomed_at__isnull=True).update(welcomed_at=timezone.now()) == 1


def membership_refuse_if_suspended(*, user: User, community_id: int, doing: str) -> None:
    """Raise ``RuleViolation`` (code ``suspended``) with the organizers' reason when
    ``user``'s membership of the community is suspended. Every service by which a member
    posts, books or trades in a community calls it; ``doing`` completes "you can't ...".
    """
    membership = (
        Membership.objects.filter(user=user, community_id=community_id, status=Membership.Status.SUSPENDED)
        .select_related("community")
        .first()
    )
    if membership is not None:
        why = f" Reason: {membership.status_reason}" if membership.status_reason else ""
        raise RuleViolation(
            f"Your membership in {membership.community.name} is suspended, so you can't {doing} there.{why}",
            code="suspended",
        )


def is_organizer(*, user: User, community_id: int) -> bool:
    return Membership.objects.filter(
        user=user, community_id=community_id, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
    ).exists()


def _grant_admin_access(user: User) -> None:
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
