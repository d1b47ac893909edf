"""The Skill Swap Network blueprint: how the front door, the dashboard, unified search and
the profile see this exchange (``apps.peers.blueprints``). Registered from ``apps.py``.

Listings are read through the directory's selector (``listings_search``: open, not
expired, not hidden by moderation, in the member's communities), so the feed and search
show what the directory shows; every loader runs a fixed number of queries whatever the
rows. Offers and requests of communities that stopped using the skill swap leave the feed
and search; sessions already agreed there run to their end, so they stay in the member's
actions and upcoming sessions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, Exists, FloatField, Max, OuterRef, Prefetch, Q, QuerySet, Sum, When
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.ledger.models import Transfer
from apps.peers.blueprints import Blueprint, Figure, HistoryRow, Item, SearchHit, communities_using
from apps.peers.geo import distance_km_expression
from apps.peers.models import User
from apps.peers.search import ranked_match
from p2pcommons.humanize import format_when_short

from .models import Offer, Request, Seat, Session, Skill
from .selectors import listings_search, with_skill_names

KEY = "skills"
P = Seat.Status
ACTIONS_LIMIT = 20
UPCOMING_LIMIT = 10
SNIPPET_CHARS = 140
SEARCH_KINDS = (("offer", gettext_lazy("Skill offers")), ("request", gettext_lazy("Skill requests")))
_MODELS = {"offer": Offer, "request": Request}

DEFAULT_RULES = gettext_lazy(
    "An hour of help is one hour of time credit, whoever gives it and whatever the skill. "
    "Agree on a session first; afterwards both of you confirm the hours it really took, and the hours move only "
    "when you both have. "
    "If you can't come, cancel before the session starts. "
    "Stay within your time limit and never ask for or pay cash. "
    "If the hours are wrong, dispute them: the organizers settle it."
)


def _in_use() -> QuerySet:
    """The communities using the skill swap, as a subquery (no query of its own)."""
    return communities_using(KEY).values("pk")


def hours_text(hours: Decimal | None) -> str:
    """Hours as the cards and the profile write them: "38", "38.5", "0.25", "1,204"."""
    value = Decimal(hours or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _mine(user: User) -> QuerySet:
    """Ids of the sessions where ``user`` has a place (a subquery)."""
    return Seat.objects.filter(learner=user).values("session_id")


# --- the card ----------------------------------------------------------------------------
def figure() -> Figure:
    """Hours swapped, ever: the hours that moved for completed places at sessions (a
    place completes when both confirmed, or when the organizers settled a dispute; the
    hours of a place under dispute are not counted until then). One query. The hours move
    through the ledger (a ``Transfer`` is saved, or reversed by a new one), which is why
    transfers invalidate the cached figure."""
    total = Seat.objects.filter(status=P.COMPLETED).aggregate(total=Sum("hours"))["total"]
    text = hours_text(total)
    return Figure(value=text, label=gettext_lazy("hour swapped") if text == "1" else gettext_lazy("hours swapped"))


# --- the member's dashboard ------------------------------------------------------------------
def actions(*, user: User) -> list[Item]:
    """What waits for the member (three queries): sessions proposed to them, to agree to
    or cancel before they start; sessions that took place whose hours they have not
    confirmed yet; and their open requests with neighbors who could help and no session
    arranged yet."""
    if not user.is_authenticated:
        return []
    now = timezone.now()
    proposed = (
        Session.objects.filter(status=Session.Status.PROPOSED, starts_at__gt=now)
        .filter(Q(helper=user) | Q(pk__in=_mine(user)))
        .exclude(proposed_by=user)
        .select_related("proposed_by__profile")
        .order_by("starts_at", "id")[:ACTIONS_LIMIT]
    )
    items = [
        Item(
            text=_("%(name)s proposes \u201c%(title)s\u201d on %(when)s")
            % {
                "name": session.proposed_by.public_name,
                "title": session.title,
                "when": format_when_short(session.starts_at),
            },
            url=session.get_absolute_url(),
            kind=KEY,
            when=session.starts_at,
            verb=_("Agree or cancel"),
        )
        for session in proposed
    ]
    helper_waits = Seat.objects.filter(session=OuterRef("pk"), status=P.BOOKED, helper_hours__isnull=True)
    learner_waits = Seat.objects.filter(
        session=OuterRef("pk"), learner=user, status=P.BOOKED, learner_hours__isnull=True
    )
    to_confirm = (
        Session.objects.filter(status=Session.Status.SCHEDULED, starts_at__lte=now)
        .filter(Q(Q(helper=user) & Exists(helper_waits)) | Exists(learner_waits))
        .select_related("helper__profile")
        .order_by("starts_at", "id")[:ACTIONS_LIMIT]
    )
    for session in to_confirm:
        if session.helper_id == user.pk:
            text = _("Confirm the hours you gave at \u201c%(title)s\u201d") % {"title": session.title}
        else:
            text = _("Confirm the hours of \u201c%(title)s\u201d with %(name)s") % {
                "title": session.title,
                "name": session.helper.public_name,
            }
        items.append(Item(text, session.get_absolute_url(), KEY, session.starts_at, _("Confirm the hours")))
    good = Q(
        matches__offer__status=Offer.Status.OPEN,
        matches__offer__is_hidden=False,
        matches__offer__expires_at__gt=now,
    )
    arranged = Session.objects.filter(request=OuterRef("pk")).exclude(status=Session.Status.CANCELLED)
    requests = (
        Request.objects.filter(member=user, status=Request.Status.OPEN, is_hidden=False, expires_at__gt=now)
        .annotate(
            helpers=Count("matches", filter=good, distinct=True), matched_at=Max("matches__created_at", filter=good)
        )
        .filter(helpers__gt=0)
        .exclude(Exists(arranged))
        .order_by("-matched_at", "-id")[:ACTIONS_LIMIT]
    )
    for request in requests:
        text = ngettext(
            "%(count)s neighbor could help with \u201c%(title)s\u201d",
            "%(count)s neighbors could help with \u201c%(title)s\u201d",
            request.helpers,
        ) % {"count": request.helpers, "title": request.title}
        items.append(Item(text, reverse("skills:matches"), KEY, request.matched_at, _("See who can help")))
    items.sort(key=lambda item: item.when)
    return items[:ACTIONS_LIMIT]


def upcoming(*, user: User) -> list[Item]:
    """The member's sessions coming up, helping and learning, soonest first (two
    queries): booked ones, and the ones they proposed that wait for the other's yes."""
    if not user.is_authenticated:
        return []
    booked_seats = Seat.objects.filter(status=P.BOOKED).select_related("learner__profile").order_by("id")
    sessions = (
        Session.objects.filter(starts_at__gt=timezone.now())
        .filter(Q(status=Session.Status.SCHEDULED) | Q(status=Session.Status.PROPOSED, proposed_by=user))
        .filter(Q(helper=user) | Q(pk__in=Seat.objects.filter(learner=user, status=P.BOOKED).values("session_id")))
        .select_related("helper__profile")
        .prefetch_related(Prefetch("seats", queryset=booked_seats, to_attr="booked"))
        .order_by("starts_at", "id")[:UPCOMING_LIMIT]
    )
    items = []
    for session in sessions:
        when = format_when_short(session.starts_at)
        learners = [seat.learner.public_name for seat in session.booked]
        values = {"title": session.title, "when": when}
        if session.helper_id != user.pk:
            other = session.helper.public_name
            text = _("\u201c%(title)s\u201d with %(name)s, %(when)s") % {**values, "name": other}
        elif session.is_group:
            text = _("You host \u201c%(title)s\u201d (%(taken)s of %(capacity)s places taken), %(when)s") % {
                **values,
                "taken": len(learners),
                "capacity": session.capacity,
            }
            other = ""
        else:
            other = learners[0] if learners else ""
            if other:
                text = _("You help %(name)s with \u201c%(title)s\u201d, %(when)s") % {**values, "name": other}
            else:
                text = _("%(title)s, %(when)s") % values
        if session.status == Session.Status.PROPOSED:
            if other:
                text = _("%(text)s (waiting for %(name)s to agree)") % {"text": text, "name": other}
            else:
                text = _("%(text)s (waiting for an answer)") % {"text": text}
        items.append(Item(text, session.get_absolute_url(), KEY, session.starts_at, _("See the session")))
    return items


def activity(*, user: User, community_ids, limit: int = 10) -> list[Item]:
    """The newest offers and requests in those communities, as the member sees them in
    the directory (open, not expired, not hidden, their communities that use the skill
    swap); two queries."""
    items = []
    kinds = (
        (Offer, _("%(name)s offers help: %(title)s"), _("See the offer")),
        (Request, _("%(name)s asks for help: %(title)s"), _("See the request")),
    )
    for model, says, verb in kinds:
        listings = (
            listings_search(model=model, user=user)
            .filter(community_id__in=community_ids, community__in=_in_use())
            .prefetch_related(None)
            .order_by("-created_at", "-id")[:limit]
        )
        items += [
            Item(
                text=says % {"name": listing.member.public_name, "title": listing.title},
                url=listing.get_absolute_url(),
                kind=KEY,
                when=listing.created_at,
                verb=verb,
            )
            for listing in listings
        ]
    items.sort(key=lambda item: item.when, reverse=True)
    return items[:limit]


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
    """Offers and requests the member may see in the directory matching ``query`` in
    their title, then description, then skills and their categories; best first, one
    query per kind asked. With ``near``, the distance to the listing's approximate
    location; with ``within_km`` too, listings farther than that are left out (those
    without a location are kept, as every exchange's search does)."""
    hits: list[SearchHit] = []
    if limit <= 0:
        return hits
    for kind, label in SEARCH_KINDS:
        if kinds and kind not in kinds:
            continue
        model = _MODELS[kind]
        listings = listings_search(model=model, user=user).filter(community__in=_in_use()).prefetch_related(None)
        listings = ranked_match(with_skill_names(listings), query, ("title", "description", "skill_names"))
        if near is not None:
            # No distance without a place (PostgreSQL's LEAST would otherwise turn NULL into 0 km).
            distance = distance_km_expression("latitude", "longitude", *near)
            listings = listings.annotate(
                distance_km=Case(When(latitude__isnull=False, then=distance), default=None, output_field=FloatField())
            )
            if within_km is not None:
                listings = listings.filter(Q(distance_km__lte=within_km) | Q(latitude__isnull=True))
        for listing in listings.order_by("-search_rank", "-created_at", "-id")[:limit]:
            hits.append(
                SearchHit(
                    kind=kind,
                    kind_label=label,
                    title=listing.title,
                    snippet=_snippet(listing),
                    url=listing.get_absolute_url(),
                    rank=float(listing.search_rank),
                    community=listing.community.name,
                    when=listing.created_at,
                    distance_km=getattr(listing, "distance_km", None),
                )
            )
    hits.sort(key=lambda hit: hit.rank, reverse=True)
    return hits[:limit]


def _snippet(listing: Offer | Request) -> str:
    text = " ".join(listing.description.split()) or " ".join((listing.skill_names or "").split())
    return Truncator(text).chars(SNIPPET_CHARS)


# --- the profile -----------------------------------------------------------------------------
def history(*, subject: User, viewer: User) -> list[HistoryRow]:
    """The subject's record (two queries): hours given and received at completed places
    (what moved through the ledger), and the skills of their open offers the directory
    shows. The profile page decides who may see it (members sharing a community)."""
    hours = Seat.objects.filter(Q(session__helper=subject) | Q(learner=subject), status=P.COMPLETED).aggregate(
        given=Sum("hours", filter=Q(session__helper=subject)), received=Sum("hours", filter=Q(learner=subject))
    )
    offered = (
        Skill.objects.filter(
            offers__member=subject,
            offers__status=Offer.Status.OPEN,
            offers__is_hidden=False,
            offers__expires_at__gt=timezone.now(),
        )
        .distinct()
        .count()
    )
    return [
        HistoryRow(_("Hours given"), hours_text(hours["given"])),
        HistoryRow(_("Hours received"), hours_text(hours["received"])),
        HistoryRow(_("Skills offered"), f"{offered:,}"),
    ]


# --- "Use this blueprint" ----------------------------------------------------------------------
def start(*, community, actor) -> None:
    """A community starts the skill swap: nothing to set. The skills taxonomy is site-wide
    (seeded by a migration, curated by site staff; organizers add their community's own
    skills in the admin), and each member's time limit comes from the community's
    ``default_hour_limit``, which every community has. No fees: an hour is an hour."""


BLUEPRINT = Blueprint(
    key=KEY,
    category=gettext_lazy("Learning"),
    title=gettext_lazy("Skill Swap Network"),
    description=gettext_lazy("A community-driven way to exchange home, garden, and repair skills."),
    tags=(gettext_lazy("Education"), gettext_lazy("P2P")),
    nav_label=gettext_lazy("Skills"),
    nav_url="skills:directory",
    order=30,
    default_rules=DEFAULT_RULES,
    figure=figure,
    figure_models=(Seat, Transfer),
    search_kinds=SEARCH_KINDS,
    actions=actions,
    upcoming=upcoming,
    activity=activity,
    search=search,
    history=history,
    start=start,
)
