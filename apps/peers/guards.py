"""Guards: the membership checks a service runs before acting, each refusing with one
code and one message, whichever app, page or endpoint asks.

- ``require_active_member``: ``suspended`` (with the organizers' reason) or ``not_member``;
- ``require_organizer``: ``not_organizer``;
- ``require_exchange_in_use``: ``exchange_off``.

The questions without the refusal (``is_active_member``, ``is_organizer``) are in
``selectors``, for pages deciding which buttons to show.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from p2pcommons.errors import RuleViolation

from .models import Community, Membership, User
from .selectors import is_organizer, membership_of


def require_active_member(
    *, user: User, community: Community | None = None, community_id: int | None = None, doing: str
) -> None:
    """Refuse unless ``user`` is an active member of the community (given by object or
    id). A suspended member is told so with the reason (code ``suspended``); anyone else
    is asked to join (code ``not_member``). ``doing`` completes "Join <community> to ...
    there.". One query when the member may act (the refusals read a little more)."""
    if community_id is None:
        community_id = community.pk
    membership = membership_of(user=user, community_id=community_id)
    if membership is not None and membership.status == Membership.Status.ACTIVE:
        return
    if membership is not None:
        membership_refuse_if_suspended(user=user, community_id=community_id, doing=doing)
    if community is None:
        community = Community.objects.only("name").get(pk=community_id)
    raise RuleViolation(
        _("Join %(community)s to %(doing)s there.") % {"community": community.name, "doing": doing}, code="not_member"
    )


def require_organizer(*, user: User, community_id: int, doing: str = "") -> None:
    """Refuse (code ``not_organizer``) unless ``user`` organizes the community or is a
    site superuser. ``doing`` completes "Only an organizer of this community can ...."."""
    if not is_organizer(user=user, community_id=community_id):
        raise RuleViolation(
            _("Only an organizer of this community can %(doing)s.") % {"doing": doing or _("do that")},
            code="not_organizer",
        )


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
        refusal = _("Your membership in %(community)s is suspended, so you can't %(doing)s there.") % {
            "community": membership.community.name,
            "doing": doing,
        }
        if membership.status_reason:
            refusal += " " + _("Reason: %(reason)s") % {"reason": membership.status_reason}
        raise RuleViolation(refusal, code="suspended")


def require_exchange_in_use(*, community_id: int, key: str, doing: str) -> None:
    """Refuse (code ``exchange_off``) new listings and requests in a community that does
    not use the exchange (``apps.peers.blueprints``). One query. ``doing`` completes
    "This community does not use ... , so you can't ... there."."""
    from . import blueprints

    if not blueprints.in_use(community_id=community_id, key=key):
        found = blueprints.blueprint(key)
        name = found.title if found else key
        raise RuleViolation(
            _("This community does not use the %(exchange)s exchange, so you can't %(doing)s there.")
            % {"exchange": name, "doing": doing},
            code="exchange_off",
        )
