"""Writes for identity and communities. The only home of their business rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from p2pcommons import images
from p2pcommons.enqueue import enqueue_on_commit
from p2pcommons.errors import RuleViolation
from p2pcommons.i18n import Message

from . import geo, selectors
from .guards import require_organizer
from .models import Community, JoinRequest, Membership, Profile, User

PROFILE_PUBLIC_FIELDS = ("display_name", "bio", "neighborhood")
PROFILE_PRIVATE_FIELDS = ("exact_address", "phone")


def _default_display_name(user: User) -> str:
    """A neutral name for an account that did not choose one: "Neighbor" and a few random
    characters. Never derived from the email address, which is private."""
    return f"Neighbor {get_random_string(5, allowed_chars='ABCDEFGHJKLMNPQRSTUVWXYZ23456789')}"


def profile_ensure(*, user: User, display_name: str = "") -> Profile:
    """Return the user's profile, creating it if missing with ``display_name`` (or a
    neutral default name)."""
    name = display_name.strip()[:80] or _default_display_name(user)
    profile, _created = Profile.objects.get_or_create(user=user, defaults={"display_name": name})
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
        raise RuleViolation(_("You can only edit your own profile."), code="not_owner")
    allowed = set(PROFILE_PUBLIC_FIELDS) | set(PROFILE_PRIVATE_FIELDS) | {"avatar", "language"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    new_avatar = fields.pop("avatar", None)
    for name, value in fields.items():
        setattr(profile, name, value)
    if (latitude is None) != (longitude is None):
        raise ValidationError({"latitude": _("Give both latitude and longitude, or neither.")})
    if clear_location:
        profile.approx_latitude = profile.approx_longitude = None
    elif latitude is not None and longitude is not None:
        profile.approx_latitude, profile.approx_longitude = geo.approximate(latitude, longitude)
    old_avatar = profile.avatar.name
    picture = None
    if new_avatar is not None and new_avatar is not False and new_avatar != "" and new_avatar != old_avatar:
        # Through the site's picture pipeline: checked, re-encoded (no EXIF, no GPS),
        # square, stored under a random name.
        picture = images.process_avatar(new_avatar, field="avatar")
    profile.full_clean(exclude=["avatar"])
    if new_avatar == "" or new_avatar is False:  # cleared
        profile.avatar = ""
    elif picture is not None:
        profile.avatar.save("avatar.jpg", picture, save=False)
    profile.save()
    if old_avatar and profile.avatar.name != old_avatar:
        _delete_file_on_commit(profile.avatar.storage, old_avatar)
    return profile


def _delete_file_on_commit(storage, name: str) -> None:
    """Delete a replaced or cleared file once the change is committed (never before:
    a rolled-back change keeps pointing at it)."""
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def community_create(
    *, creator: User, name: str, slug: str, exchanges: list[str] | None = None, **fields: Any
) -> Community:
    """Create a community; its creator becomes its first organizer. It uses every
    exchange unless ``exchanges`` names the ones to start with."""
    from .exchanges import exchange_start, exchanges_start_all

    community = Community(name=name, slug=slug, **fields)
    community.full_clean()
    community.save()
    Membership.objects.create(user=creator, community=community, role=Membership.Role.ORGANIZER)
    _grant_admin_access(creator)
    if exchanges is None:
        exchanges_start_all(community=community)
    else:
        for key in exchanges:
            exchange_start(community=community, key=key, actor=None)
    return community


def community_join(*, community: Community, user: User, approved_by: User | None = None) -> Membership:
    """Join a community as a member. Joining again returns the existing membership.

    A community that approves each newcomer (``join_policy`` "approval") is joined only
    through ``join_request_approve``, which passes ``approved_by``; otherwise this raises
    ``RuleViolation`` (code ``approval_required``): ask with ``join_request_create``.
    The unique (user, community) constraint settles a double click racing itself.
    A suspended member stays suspended: leaving and rejoining is not a way around it.
    """
    from .tasks import membership_send_welcome

    existing = Membership.objects.filter(user=user, community=community).first()
    if existing is not None:
        return existing
    if community.requires_approval and approved_by is None:
        raise RuleViolation(
            _("This community's organizers approve each new member: ask to join instead."), code="approval_required"
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, community=community)
            profile_ensure(user=user)
            enqueue_on_commit(membership_send_welcome, membership.pk, waits_for="nothing: this welcome is not sent")
    except IntegrityError:
        return Membership.objects.get(user=user, community=community)
    return membership


JOIN_MESSAGE_MAX = 1000


def join_request_create(*, community: Community, user: User, message: str = "") -> JoinRequest:
    """Ask to join a community whose organizers approve each newcomer; its organizers are
    notified. Asking again while a request is open returns that request: the partial
    unique constraint (one open request per person and community) settles a double click.
    """
    from apps.notifications.services import notify

    message = (message or "").strip()
    if len(message) > JOIN_MESSAGE_MAX:
        raise ValidationError({"message": _("At most %(count)s characters.") % {"count": JOIN_MESSAGE_MAX}})
    if not community.requires_approval:
        raise RuleViolation(_("Anyone may join this community: join it directly."), code="open_community")
    if Membership.objects.filter(user=user, community=community).exists():
        raise RuleViolation(_("You are already a member of this community."), code="already_member")
    existing = JoinRequest.objects.filter(user=user, community=community, status=JoinRequest.Status.REQUESTED).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            join_request = JoinRequest.objects.create(community=community, user=user, message=message)
            notify(
                recipients=selectors.organizers_of(community_id=community.pk),
                kind="peers.join_requested",
                text=Message("{name} asks to join {community}.", name=user.public_name, community=community.name),
                target=community,
                actor=user,
                url=reverse("admin:peers_joinrequest_changelist") + f"?community__id__exact={community.pk}",
            )
    except IntegrityError:
        return JoinRequest.objects.get(user=user, community=community, status=JoinRequest.Status.REQUESTED)
    return join_request


def _decide(*, join_request: JoinRequest, actor: User, status: str) -> JoinRequest:
    """Lock the request, check the actor organizes its community and that it is still
    open, and record the decision. Holds SELECT FOR UPDATE on the request row, so two
    organizers deciding at once act one after the other and the second is refused."""
    join_request = JoinRequest.objects.select_for_update().select_related("community", "user").get(pk=join_request.pk)
    require_organizer(user=actor, community_id=join_request.community_id, doing=_("answer requests to join"))
    if join_request.status != JoinRequest.Status.REQUESTED:
        raise RuleViolation(_("This request was already answered."), code="already_decided")
    join_request.status = status
    join_request.decided_by = actor
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "decided_by", "decided_at"])
    return join_request


@transaction.atomic
def join_request_approve(*, join_request: JoinRequest, actor: User) -> Membership:
    """Approve a request to join: the person becomes a member (through ``community_join``,
    as an open join) and is notified."""
    from apps.notifications.services import notify

    join_request = _decide(join_request=join_request, actor=actor, status=JoinRequest.Status.APPROVED)
    membership = community_join(community=join_request.community, user=join_request.user, approved_by=actor)
    notify(
        recipients=[join_request.user],
        kind="peers.join_decided",
        text=Message("Welcome! Your request to join {community} was approved.", community=join_request.community.name),
        target=join_request.community,
    )
    return membership


@transaction.atomic
def join_request_decline(*, join_request: JoinRequest, actor: User) -> JoinRequest:
    """Decline a request to join; the person is notified and may ask again later."""
    from apps.notifications.services import notify

    join_request = _decide(join_request=join_request, actor=actor, status=JoinRequest.Status.DECLINED)
    notify(
        recipients=[join_request.user],
        kind="peers.join_decided",
        text=Message("Your request to join {community} was not approved.", community=join_request.community.name),
        target=join_request.community,
    )
    return join_request


@transaction.atomic
def join_request_withdraw(*, join_request: JoinRequest, actor: User) -> JoinRequest:
    """The person who asked takes their open request back."""
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if join_request.user_id != actor.pk:
        raise RuleViolation(_("Only the person who asked can withdraw this request."), code="not_owner")
    if join_request.status != JoinRequest.Status.REQUESTED:
        raise RuleViolation(_("This request was already answered."), code="already_decided")
    join_request.status = JoinRequest.Status.WITHDRAWN
    join_request.save(update_fields=["status"])
    return join_request


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
        raise RuleViolation(_("You are not a member of this community."), code="not_member")
    if membership.status == Membership.Status.SUSPENDED:
        raise RuleViolation(
            _("Your membership is suspended; ask an organizer to reinstate it before leaving."), code="suspended"
        )
    if membership.role == Membership.Role.ORGANIZER:
        organizers = list(
            Membership.objects.filter(
                community=community, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
            ).values_list("pk", flat=True)
        )
        if organizers == [membership.pk]:
            raise RuleViolation(
                _("You are the last organizer of this community; promote another member before leaving."),
                code="last_organizer",
            )
    was_organizer = membership.role == Membership.Role.ORGANIZER
    membership.delete()
    if was_organizer:
        staff_access_end_if_not_organizing(user=user)


@transaction.atomic
def membership_promote(*, membership: Membership, actor: User) -> Membership:
    """Make a member an organizer. Only an active organizer of the same community (or a
    site superuser) may. Organizers get access to the admin, scoped to their communities.
    """
    require_organizer(user=actor, community_id=membership.community_id, doing=_("promote members"))
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status != Membership.Status.ACTIVE:
        raise RuleViolation(_("A suspended member can't be promoted."), code="suspended")
    if membership.role != Membership.Role.ORGANIZER:
        membership.role = Membership.Role.ORGANIZER
        membership.save(update_fields=["role"])
    _grant_admin_access(membership.user)
    return membership


@transaction.atomic
def membership_demote(*, membership: Membership, actor: User) -> Membership:
    """Make an organizer a plain member again. Only another active organizer of the same
    community (or a site superuser) may, and never the last active organizer. Holds
    SELECT FOR UPDATE on the community row, as ``community_leave`` does, so two demotions
    can't leave a community without organizers. Admin access goes with the last role.
    """
    Community.objects.select_for_update().filter(pk=membership.community_id).first()
    require_organizer(user=actor, community_id=membership.community_id, doing=_("change roles"))
    if actor.pk == membership.user_id and not actor.is_superuser:
        raise RuleViolation(_("Another organizer has to do this."), code="self")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role != Membership.Role.ORGANIZER:
        return membership
    others = Membership.objects.filter(
        community_id=membership.community_id, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise RuleViolation(_("A community needs at least one organizer."), code="last_organizer")
    membership.role = Membership.Role.MEMBER
    membership.save(update_fields=["role"])
    staff_access_end_if_not_organizing(user=membership.user)
    return membership


def staff_access_end_if_not_organizing(*, user: User) -> bool:
    """Take admin access away from someone who no longer actively organizes any
    community (they left, were demoted or suspended); site superusers keep it. Organizing
    is what gives non-superusers admin access (``_grant_admin_access``). Returns the
    resulting ``is_staff``.

    Every service that ends someone's organizing calls it (moderation's suspend too).
    """
    if user.is_superuser or not user.is_staff:
        return user.is_staff
    organizes = Membership.objects.filter(
        user_id=user.pk, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
    ).exists()
    if not organizes:
        User.objects.filter(pk=user.pk).update(is_staff=False)
        user.is_staff = False
    return user.is_staff


def staff_access_grant_if_organizing(*, user: User) -> bool:
    """Give admin access back to someone who actively organizes a community again (an
    organizer's suspension was lifted). Returns the resulting ``is_staff``."""
    if Membership.objects.filter(
        user_id=user.pk, role=Membership.Role.ORGANIZER, status=Membership.Status.ACTIVE
    ).exists():
        _grant_admin_access(user)
    return user.is_staff


def membership_mark_welcomed(*, membership_id: int) -> bool:
    """Claim the right to send the welcome email: a conditional UPDATE, so a retried or
    duplicated task sends it once. Returns True for the one caller that claimed it.
    """
    return Membership.objects.filter(pk=membership_id, welcomed_at__isnull=True).update(welcomed_at=timezone.now()) == 1


def _grant_admin_access(user: User) -> None:
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
