"""Services: a community starts or stops using an exchange ("Use this blueprint").

Organizers (or site superusers) only, on every path: the blueprint page, the API and
the admin call these. Starting sets the blueprint's defaults (its ``start`` hook and its
rules text); stopping keeps every row: what was agreed runs to its end, and starting
again picks the same row up.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from p2pcommons.errors import RuleViolation

from . import blueprints
from .guards import require_organizer
from .models import Community, CommunityExchange, User


def _known(key: str) -> blueprints.Blueprint:
    found = blueprints.blueprint(key)
    if found is None:
        raise RuleViolation(_("There is no such exchange."), code="unknown_exchange")
    return found


@transaction.atomic
def exchange_start(
    *, community: Community, key: str, actor: User | None, rules: str | None = None
) -> CommunityExchange:
    """Start using an exchange in the community, with its defaults. Idempotent: an
    exchange in use stays as it is (its rules change only when ``rules`` is given).
    ``actor`` None is the system (demo, migrations, a new community's defaults)."""
    found = _known(key)
    if actor is not None:
        require_organizer(user=actor, community_id=community.pk, doing=_("choose the community's exchanges"))
    row, created = CommunityExchange.objects.select_for_update().get_or_create(
        community=community,
        key=key,
        defaults={"rules": rules if rules is not None else found.default_rules, "started_by": actor},
    )
    if not created and (row.stopped_at is not None or rules is not None):
        if row.stopped_at is not None:
            row.stopped_at = None
            row.started_at = timezone.now()
            row.started_by = actor
        if rules is not None:
            row.rules = rules
        row.full_clean()
        row.save()
    found.start(community=community, actor=actor)
    return row


@transaction.atomic
def exchange_stop(*, community: Community, key: str, actor: User) -> CommunityExchange | None:
    """Stop using an exchange: it leaves the community's menus and pages and takes no
    new listings or requests there. Returns the row, or None when it was not in use."""
    _known(key)
    require_organizer(user=actor, community_id=community.pk, doing=_("choose the community's exchanges"))
    row = CommunityExchange.objects.select_for_update().filter(community=community, key=key).first()
    if row is None or row.stopped_at is not None:
        return None
    row.stopped_at = timezone.now()
    row.save(update_fields=["stopped_at"])
    return row


def exchanges_start_all(*, community: Community) -> None:
    """A new community starts with every exchange in use: the point of the platform is
    one community with all four. Organizers turn off what they do not want."""
    for key in blueprints.blueprint_keys():
        exchange_start(community=community, key=key, actor=None)
