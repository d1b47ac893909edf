"""The Community Tool Sharing blueprint: how the front door, the dashboard, unified search and
the profile see this exchange (``apps.peers.blueprints``). Registered from ``apps.py``.

Every loader reads through the tool selectors (``tools_search``: active, not hidden by
moderation, in the member's communities), so the dashboard and search show what the tool
pages show, and runs a fixed number of queries whatever the rows. Listings of communities
that stopped using tool sharing leave the feed and search; loans already agreed there run
to their end, so they stay in the member's actions and upcoming loans.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case, Count, F, FloatField, Q, QuerySet, When
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from apps.peers.blueprints import Blueprint, Figure, HistoryRow, Item, SearchHit, communities_using
from apps.peers.geo import distance_km_expression
from apps.peers.models import CommunityExchange, User
from apps.peers.search import ranked_match
from p2pcommons.humanize import format_when_short

from .models import Category, Reservation, Tool, WaitlistEntry
from .selectors import tools_search
from .transitions import PICKUP_GRACE

KEY = "tools"
S = Reservation.Status
ACTIONS_LIMIT = 20
UPCOMING_LIMIT = 10
SNIPPET_CHARS = 140
SEARCH_KINDS = (("tool", gettext_lazy("Tools")),)

DEFAULT_RULES = gettext_lazy(
    "Every loan is approved by the tool's owner, who may say no without giving a reason. "
    "Pick the tool up and bring it back on time, clean and in the state you found it. "
    "Tell the owner at once about any damage or a missing part: the condition is recorded at pickup and at return. "
    "Lending is free unless the owner asks a small fee in community credits, shown before you ask; "
    "no cash changes hands."
)


def _in_use() -> QuerySet:
    """The communities using tool sharing, as a subquery (no query of its own)."""
    return communities_using(KEY).values("pk")


def _end_of_today(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _at(moment: datetime, now: datetime) -> str:
    """When, in local time: "today at 14:00", "tomorrow at 09:30" or "on Tue 24 Nov, 10:00"."""
    local, today = timezone.localtime(moment), timezone.localtime(now).date()
    if local.date() == today:
        return _("today at %(time)s") % {"time": f"{local:%H:%M}"}
    if local.date() == today + timedelta(days=1):
        return _("tomorrow at %(time)s") % {"time": f"{local:%H:%M}"}
    return _("on %(when)s") % {"when": format_when_short(moment)}


# --- the card ----------------------------------------------------------------------------
def figure() -> Figure:
    """Tools listed to borrow now: active, not hidden by moderation, in communities that
    use tool sharing (one query)."""
    count = Tool.objects.filter(status=Tool.Status.ACTIVE, is_hidden=False, community__in=_in_use()).count()
    return Figure(value=f"{count:,}", label=ngettext_lazy("tool to borrow", "tools to borrow", count))


# --- the member's dashboard ------------------------------------------------------------------
def actions(*, user: User) -> list[Item]:
    """What waits for the member (two queries): requests for their tools to approve or
    decline (until the pickup window closes), pickups of today (lending or borrowing),
    returns due today or overdue, and waitlist windows held for them."""
    if not user.is_authenticated:
        return []
    now = timezone.now()
    end_of_today = _end_of_today(now)
    party = Q(borrower=user) | Q(tool__owner=user)
    loans = (
        Reservation.objects.filter(
            Q(status=S.REQUESTED, tool__owner=user, starts_at__gt=now - PICKUP_GRACE)
            | (party & Q(status=S.APPROVED, starts_at__lt=end_of_today, starts_at__gt=now - PICKUP_GRACE))
            | (party & Q(status=S.PICKED_UP, ends_at__lt=end_of_today))
        )
        .select_related("tool__owner__profile", "borrower__profile")
        .order_by("starts_at", "id")[:ACTIONS_LIMIT]
    )
    items = [_loan_action(loan, user, now) for loan in loans]
    offers = (
        WaitlistEntry.objects.filter(member=user, status=WaitlistEntry.Status.OFFERED, offer_expires_at__gt=now)
        .select_related("tool")
        .order_by("offer_expires_at", "id")[:ACTIONS_LIMIT]
    )
    items += [
        Item(
            text=_("%(tool)s is free for you from %(start)s: book it before %(deadline)s")
            % {
                "tool": entry.tool.title,
                "start": format_when_short(entry.starts_at),
                "deadline": format_when_short(entry.offer_expires_at),
            },
            url=reverse("tools:waitlist"),
            kind=KEY,
            when=entry.offer_expires_at,
            verb=_("Book it"),
        )
        for entry in offers
    ]
    items.sort(key=lambda item: item.when)
    return items[:ACTIONS_LIMIT]


def _loan_action(loan: Reservation, user: User, now: datetime) -> Item:
    tool, borrower, owner = loan.tool, loan.borrower.public_name, loan.tool.owner.public_name
    lending = user.pk == tool.owner_id
    if loan.status == S.REQUESTED:
        text = _("%(borrower)s asks to borrow your %(tool)s from %(start)s") % {
            "borrower": borrower,
            "tool": tool.title,
            "start": format_when_short(loan.starts_at),
        }
        return Item(text, loan.get_absolute_url(), KEY, loan.starts_at, _("Approve or decline"))
    if loan.status == S.APPROVED:
        at = _at(loan.starts_at, now)
        values = {"borrower": borrower, "owner": owner, "tool": tool.title, "at": at}
        text = (
            _("%(borrower)s picks up your %(tool)s %(at)s") % values
            if lending
            else _("Pick up %(tool)s from %(owner)s %(at)s") % values
        )
        return Item(text, loan.get_absolute_url(), KEY, loan.starts_at, _("Record the pickup"))
    values = {"borrower": borrower, "owner": owner, "tool": tool.title, "due": _at(loan.ends_at, now)}
    if loan.ends_at < now:
        text = (
            _("%(borrower)s has not returned your %(tool)s yet (due %(due)s)") % values
            if lending
            else _("%(tool)s was due back to %(owner)s %(due)s: return it") % values
        )
    else:
        text = (
            _("%(borrower)s returns your %(tool)s %(due)s") % values
            if lending
            else _("Return %(tool)s to %(owner)s %(due)s") % values
        )
    return Item(text, loan.get_absolute_url(), KEY, loan.ends_at, _("Record the return"))


def upcoming(*, user: User) -> list[Item]:
    """The member's loans coming up, lending and borrowing, soonest first (one query):
    approved ones until their pickup window closes (by their start), and the tools out now
    until their return is due (by their return; an overdue one is an action)."""
    if not user.is_authenticated:
        return []
    now = timezone.now()
    loans = (
        Reservation.objects.filter(Q(borrower=user) | Q(tool__owner=user))
        .filter(
            Q(status=S.APPROVED, starts_at__gt=now - PICKUP_GRACE) | Q(status=S.PICKED_UP, ends_at__gt=now),
        )
        .annotate(moment=Case(When(status=S.PICKED_UP, then=F("ends_at")), default=F("starts_at")))
        .select_related("tool__owner__profile", "borrower__profile")
        .order_by("moment", "id")[:UPCOMING_LIMIT]
    )
    items = []
    for loan in loans:
        tool, borrower, owner = loan.tool, loan.borrower.public_name, loan.tool.owner.public_name
        lending = user.pk == tool.owner_id
        values = {
            "borrower": borrower,
            "owner": owner,
            "tool": tool.title,
            "start": format_when_short(loan.starts_at),
            "end": format_when_short(loan.ends_at),
        }
        if loan.status == S.APPROVED:
            text = (
                _("You lend %(tool)s to %(borrower)s, %(start)s to %(end)s") % values
                if lending
                else _("You borrow %(tool)s from %(owner)s, %(start)s to %(end)s") % values
            )
        else:
            text = (
                _("%(borrower)s has your %(tool)s until %(end)s") % values
                if lending
                else _("Bring %(tool)s back to %(owner)s by %(end)s") % values
            )
        items.append(Item(text, loan.get_absolute_url(), KEY, loan.moment, _("See the loan")))
    return items


def activity(*, user: User, community_ids, limit: int = 10) -> list[Item]:
    """The newest tools listed in those communities, as the member sees them (the tool
    list's rules: active, not hidden, their communities that use tool sharing); one query."""
    tools = (
        tools_search(user=user, read_ids=False)
        .filter(community_id__in=community_ids, community__in=_in_use())
        .prefetch_related(None)
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        Item(
            text=_("%(owner)s listed %(tool)s to lend") % {"owner": tool.owner.public_name, "tool": tool.title},
            url=tool.get_absolute_url(),
            kind=KEY,
            when=tool.created_at,
            verb=_("See the tool"),
        )
        for tool in tools
    ]


# --- unified search ------------------------------------------------------------------------
def search(
    *,
    user: User,
    query: str,
    kinds=None,
    near: tuple[float, float] | None = None,
    within_km: float | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Tools the member may borrow (the tool list's rules) matching ``query`` in their
    title, then description, then category; best first, one query. With ``near``, the
    distance to the owner's approximate location; with ``within_km`` too, tools farther
    than that are left out (those whose owner gave no location are kept, as every
    exchange's search does)."""
    if (kinds and "tool" not in kinds) or limit <= 0:
        return []
    tools = tools_search(user=user, read_ids=False).filter(community__in=_in_use()).prefetch_related(None)
    tools = ranked_match(tools, query, ("title", "description", "category__name"))
    if near is not None:
        lat, lng = near
        # No distance without a place (PostgreSQL's LEAST would otherwise turn NULL into 0 km).
        distance = distance_km_expression(
            "owner__profile__approx_latitude", "owner__profile__approx_longitude", lat, lng
        )
        tools = tools.annotate(
            distance_km=Case(
                When(owner__profile__approx_latitude__isnull=False, then=distance),
                default=None,
                output_field=FloatField(),
            )
        )
        if within_km is not None:
            no_place = Q(owner__profile__approx_latitude__isnull=True)
            tools = tools.filter(Q(distance_km__lte=within_km) | no_place)
    tools = tools.order_by("-search_rank", "title", "id")[:limit]
    return [
        SearchHit(
            kind="tool",
            kind_label=SEARCH_KINDS[0][1],
            title=tool.title,
            snippet=_snippet(tool),
            url=tool.get_absolute_url(),
            rank=float(tool.search_rank),
            community=tool.community.name,
            when=tool.created_at,
            distance_km=getattr(tool, "distance_km", None),
        )
        for tool in tools
    ]


def _snippet(tool: Tool) -> str:
    text = " ".join(tool.description.split())
    if not text:
        return _("%(category)s, lent by %(owner)s") % {"category": tool.category.name, "owner": tool.owner.public_name}
    return Truncator(text).chars(SNIPPET_CHARS)


# --- the profile -----------------------------------------------------------------------------
def history(*, subject: User, viewer: User) -> list[HistoryRow]:
    """The subject's record (two queries): tools they list now (not retired, not hidden
    by moderation), and loans completed (returned) as the owner and as the borrower. The
    profile page decides who may see it (members sharing a community)."""
    listed = Tool.objects.filter(owner=subject, is_hidden=False).exclude(status=Tool.Status.RETIRED).count()
    loans = Reservation.objects.filter(Q(tool__owner=subject) | Q(borrower=subject), status=S.RETURNED).aggregate(
        lent=Count("pk", filter=Q(tool__owner=subject)), borrowed=Count("pk", filter=Q(borrower=subject))
    )
    return [
        HistoryRow(_("Tools listed"), f"{listed:,}"),
        HistoryRow(_("Tools lent"), f"{loans['lent']:,}"),
        HistoryRow(_("Tools borrowed"), f"{loans['borrowed']:,}"),
    ]


# --- "Use this blueprint" ----------------------------------------------------------------------
def start(*, community, actor) -> None:
    """A community starts tool sharing. Categories are shared by every community and
    curated by site staff, and fees are off unless an owner sets one on their tool, so
    there is nothing to set per community; but a tool can't be listed without a category,
    so a site that has none yet (a fresh install without the demo) gets the starting set.
    A curated list is left as it is. Idempotent."""
    if Category.objects.exists():
        return
    from .demo_catalog import CATEGORIES

    Category.objects.bulk_create(
        [Category(slug=slug, name=name) for slug, name, _color in CATEGORIES], ignore_conflicts=True
    )


BLUEPRINT = Blueprint(
    key=KEY,
    category=gettext_lazy("Collaboration"),
    title=gettext_lazy("Community Tool Sharing"),
    description=gettext_lazy("An organized system for sharing home tools and resources between neighbors."),
    tags=(gettext_lazy("DIY"), gettext_lazy("Shared")),
    nav_label=gettext_lazy("Tools"),
    nav_url="tools:list",
    order=10,
    default_rules=DEFAULT_RULES,
    figure=figure,
    figure_models=(Tool, CommunityExchange),
    search_kinds=SEARCH_KINDS,
    actions=actions,
    upcoming=upcoming,
    activity=activity,
    search=search,
    history=history,
    start=start,
)
