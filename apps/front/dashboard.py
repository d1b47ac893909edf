"""The member's dashboard, read in one selector: ``dashboard_for(user)``.

It composes what every exchange says about the member through its blueprint
(``apps.peers.blueprints``: ``actions``, ``upcoming``, ``activity``) with the core's own
reads: the reviews they may still write (``apps.reputation``), their balances per
community (``apps.ledger``) and their trust score. Only the blueprints used by one of
the member's communities are asked, so a community that does not trade energy shows no
energy on its members' dashboards.

The page and ``GET /api/v1/me/dashboard/`` both render this one result; its query count
is fixed (each loader's is, and the core reads below are one to four queries each).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.ledger.models import Currency
from apps.ledger.selectors import accounts_of
from apps.peers.blueprints import Blueprint, Item, all_blueprints, keys_in_use_for
from apps.peers.models import Community, Membership, User
from apps.peers.selectors import memberships_of
from apps.reputation.selectors import reviews_to_write, trust_of, trust_standing
from p2pcommons.humanize import format_number

# How many lines the community feed shows, newest first, across every exchange.
ACTIVITY_LIMIT = 20
# How many reviews to write the dashboard lists (the oldest windows first).
REVIEWS_LIMIT = 10
CURRENCIES = (Currency.HOUR, Currency.CREDIT)


@dataclass(frozen=True)
class Balance:
    """The member's balance in one currency of one community (zero before any transfer)."""

    community: Community
    currency: str
    balance: Decimal
    available: Decimal | None

    @property
    def number(self) -> str:
        """The balance as written for people ("1.50", "-2", "0"), its unit beside it."""
        return format_number(self.balance)


@dataclass(frozen=True)
class Trust:
    """The member's standing: ``score`` (None before any counted review), from how many
    reviewers, how many exchanges they completed, with how many different neighbors."""

    score: Decimal | None
    rating_count: int
    completed: int
    counterparts: int


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, already in the order it is shown."""

    communities: list[Community]
    blueprints: list[Blueprint]
    actions: list[Item]
    upcoming: list[Item]
    balances: list[Balance]
    trust: Trust
    activity: list[Item]

    @property
    def labels(self) -> dict[str, str]:
        """Each blueprint's short name by key ("Tools"), for the lines' labels."""
        return {bp.key: bp.nav_label for bp in all_blueprints()}


def _soonest_first(items: list[Item]) -> list[Item]:
    """By ``when``, soonest first; items without a time after those with one (stable)."""
    timed = sorted((i for i in items if i.when is not None), key=lambda i: i.when)
    return timed + [i for i in items if i.when is None]


def _newest_first(items: list[Item], limit: int) -> list[Item]:
    timed = sorted((i for i in items if i.when is not None), key=lambda i: i.when, reverse=True)
    return (timed + [i for i in items if i.when is None])[:limit]


def review_items(*, user: User, now: datetime | None = None) -> list[Item]:
    """The reviews the member may still write, as dashboard lines (``when`` is when the
    review window closes)."""
    return [
        Item(
            text=_("How was your exchange with %(name)s? Your review stays hidden until both have written.")
            % {"name": review.other_name},
            url=reverse("reputation:review-create", args=[review.exchange_type, review.exchange_id]),
            kind=review.domain,
            when=review.window_closes_at,
            verb=_("Write a review"),
        )
        for review in reviews_to_write(user=user, now=now, limit=REVIEWS_LIMIT)
    ]


def balances_of(*, user: User, communities: list[Community]) -> list[Balance]:
    """HOUR and CREDIT in each of ``communities``, in their order (one query)."""
    accounts = {(a.community_id, a.currency): a for a in accounts_of(user=user)}
    rows = []
    for community in communities:
        for currency in CURRENCIES:
            account = accounts.get((community.pk, currency))
            rows.append(
                Balance(
                    community=community,
                    currency=str(currency),
                    balance=account.balance if account else Decimal("0"),
                    available=account.available if account else None,
                )
            )
    return rows


def trust_for(*, user: User) -> Trust:
    """The member's trust score and standing (four queries)."""
    stored = trust_of(user)
    standing = trust_standing(user=user)
    has = stored is not None and stored.has_ratings
    return Trust(
        score=stored.rounded_score if has else None,
        rating_count=stored.rating_count if has else 0,
        completed=stored.completed_total if stored else 0,
        counterparts=standing.counterparts,
    )


def active_communities(*, user: User) -> list[Community]:
    """The communities the member is active in, by name (one query)."""
    memberships = memberships_of(user=user).filter(status=Membership.Status.ACTIVE).order_by("community__name")
    return [m.community for m in memberships]


def blueprints_for(*, user: User) -> list[Blueprint]:
    """The blueprints used by one of the member's communities, in their order (one query)."""
    used = keys_in_use_for(user=user)
    return [bp for bp in all_blueprints() if bp.key in used]


def dashboard_for(user: User, *, activity_limit: int = ACTIVITY_LIMIT) -> Dashboard:
    """The member's dashboard: what waits for them (every exchange's requests to answer,
    plus the reviews they may write), what is coming up, their balances and trust, and
    what is new in their communities. A member of no community gets empty lists."""
    now = timezone.now()
    communities = active_communities(user=user)
    blueprints = blueprints_for(user=user) if communities else []
    community_ids = [c.pk for c in communities]
    actions: list[Item] = []
    upcoming: list[Item] = []
    activity: list[Item] = []
    for bp in blueprints:
        actions += bp.actions(user=user)
        upcoming += bp.upcoming(user=user)
        activity += bp.activity(user=user, community_ids=community_ids, limit=activity_limit)
    actions += review_items(user=user, now=now)
    return Dashboard(
        communities=communities,
        blueprints=blueprints,
        actions=_soonest_first(actions),
        upcoming=_soonest_first(upcoming),
        balances=balances_of(user=user, communities=communities),
        trust=trust_for(user=user),
        activity=_newest_first(activity, activity_limit),
    )
