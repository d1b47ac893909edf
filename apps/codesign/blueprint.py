"""The Co-Design Mini Projects blueprint: how the front door, the dashboard, unified search and
the profile see this exchange (``apps.peers.blueprints``). Registered from ``apps.py``.

Each loader reads through ``apps.codesign.selectors`` in a fixed number of queries and
keeps its visibility rules: challenges of the member's communities, proposals as
``proposals_readable`` allows (drafts for their authors only), hidden ideas and proposals
for their authors and the organizers only; ballots are never read, only whether the
member has voted.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta

from django.db.models import Case, FloatField, Q, Value, When
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from apps.peers.blueprints import Blueprint, Figure, HistoryRow, Item, SearchHit, communities_using
from apps.peers.geo import distance_km_expression
from apps.peers.models import Community, CommunityExchange, User
from apps.peers.search import ranked_match
from p2pcommons.humanize import format_amount, format_number, format_when_short

from . import selectors
from .markdown import render
from .models import Challenge, PhaseEvent

KEY = "codesign"
SNIPPET = 140
UPCOMING = 10
SEARCH_KINDS = (("challenge", gettext_lazy("Challenges")), ("proposal", gettext_lazy("Proposals")))
# What a search matches, most important first (``ranked_match`` weighs the first field
# most, the second less, the rest least).
CHALLENGE_FIELDS = ("title", "brief", "space", "constraints")
PROPOSAL_FIELDS = ("title", "description")

DEFAULT_RULES = gettext_lazy(
    "One person, one ballot: each member votes once per challenge, and can change their vote until voting closes. "
    "Be kind in comments: talk about the designs, not the people who made them. "
    "Organizers moderate: they post the challenges, answer proposals and can hide what breaks these rules. "
    "Hours given to the build, once an organizer confirms them, earn time credits from the co-design fund."
)


def plain(text: str, length: int = SNIPPET) -> str:
    """Markdown as a short line of plain text: rendered and sanitized, tags dropped,
    entities decoded, whitespace collapsed, cut at ``length`` characters."""
    words = html.unescape(strip_tags(render(text or "")))
    return Truncator(re.sub(r"\s+", " ", words).strip()).chars(length)


def _day(value: date) -> str:
    return dateformat.format(value, "D j M")


def _start_of(value: date) -> datetime:
    return timezone.make_aware(datetime.combine(value, time.min))


# Lazy: the figure is cached for every reader, and its label read in each one's language.
FIGURE_LABEL = gettext_lazy("challenges open")


def figure() -> Figure:
    """Challenges open (collecting ideas or proposals, voting or being built) in the
    communities using the exchange. One query."""
    count = selectors.open_challenge_count(community_ids=communities_using(KEY).values("pk"))
    return Figure(value=f"{count:,}", label=FIGURE_LABEL)


# A challenge is created with ``create`` (a signal); its phase moves by a conditional
# UPDATE (no signal) that records a ``PhaseEvent`` with ``create`` in the same transaction,
# so that save invalidates the figure. The front door's cache also expires every 5
# minutes (``apps.front.figures.FIGURE_TTL``) whatever happens.
FIGURE_MODELS = (Challenge, PhaseEvent, CommunityExchange)


def actions(*, user: User, today: date | None = None) -> list[Item]:
    """What waits for the member: votes open in their communities where they have not
    voted yet; their tasks on the build today or tomorrow; as an organizer, volunteers'
    hours to confirm (tasks dated today or before) and submitted proposals to answer.
    (Co-authors are named by the proposal's author directly, with no invitation to
    answer, so there is none to list.) Four queries."""
    if not user.is_authenticated:
        return []
    today = today or timezone.localdate()
    items = []
    for challenge in selectors.votes_waiting(user=user):
        items.append(
            Item(
                text=_("Voting on “%(title)s” is open until %(until)s, and you have not voted yet")
                % {"title": challenge.title, "until": format_when_short(challenge.voting_until)},
                url=reverse("codesign:ballot", args=[challenge.pk]),
                kind=KEY,
                when=challenge.voting_until,
                verb=_("Vote"),
            )
        )
    for place in selectors.tasks_joined(user=user, since=today, until=today + timedelta(days=1)):
        task = place.task
        values = {"task": task.title, "challenge": task.project.challenge.title}
        items.append(
            Item(
                text=(
                    _("Your task “%(task)s” for %(challenge)s is today")
                    if task.date == today
                    else _("Your task “%(task)s” for %(challenge)s is tomorrow")
                )
                % values,
                url=reverse("codesign:board", args=[task.project.challenge_id]),
                kind=KEY,
                when=_start_of(task.date),
                verb=_("See the build"),
            )
        )
    waiting: dict[int, list] = {}
    for place in selectors.hours_to_confirm(user=user, today=today):
        waiting.setdefault(place.task_id, []).append(place)
    for places in waiting.values():
        task = places[0].task
        items.append(
            Item(
                text=ngettext(
                    "Hours to confirm: %(count)s volunteer on “%(task)s” (%(challenge)s)",
                    "Hours to confirm: %(count)s volunteers on “%(task)s” (%(challenge)s)",
                    len(places),
                )
                % {"count": len(places), "task": task.title, "challenge": task.project.challenge.title},
                url=reverse("codesign:board", args=[task.project.challenge_id]),
                kind=KEY,
                when=_start_of(task.date),
                verb=_("Confirm hours"),
            )
        )
    for proposal in selectors.proposals_to_answer(user=user):
        items.append(
            Item(
                text=_("The proposal “%(title)s” for %(challenge)s waits for your answer")
                % {"title": proposal.title, "challenge": proposal.challenge.title},
                url=proposal.get_absolute_url(),
                kind=KEY,
                when=proposal.submitted_at,
                verb=_("Answer"),
            )
        )
    return items


def upcoming(*, user: User, today: date | None = None) -> list[Item]:
    """The dated tasks the member joined, from today on, soonest first (at most 10).
    One query."""
    today = today or timezone.localdate()
    items = []
    for place in selectors.tasks_joined(user=user, since=today, limit=UPCOMING):
        task = place.task
        items.append(
            Item(
                text=_("“%(task)s” for %(challenge)s, %(day)s (%(hours)s)")
                % {
                    "task": task.title,
                    "challenge": task.project.challenge.title,
                    "day": _day(task.date),
                    "hours": format_amount(task.hours, "HOUR"),
                },
                url=reverse("codesign:board", args=[task.project.challenge_id]),
                kind=KEY,
                when=_start_of(task.date),
            )
        )
    return items


def activity(*, user: User, community_ids, limit: int = 10) -> list[Item]:
    """New challenges and newly submitted proposals in those of ``community_ids`` the
    member belongs to, the proposals as the member may read them, newest first. Two
    queries. Communities that stopped co-design are left out (a subquery)."""
    community_ids = communities_using(KEY).filter(pk__in=list(community_ids)).values("pk")
    items = [
        Item(
            text=_("New design challenge in %(community)s: %(title)s")
            % {"community": challenge.community.name, "title": challenge.title},
            url=challenge.get_absolute_url(),
            kind=KEY,
            when=challenge.created_at,
        )
        for challenge in selectors.new_challenges(user=user, community_ids=community_ids, limit=limit)
    ]
    items += [
        Item(
            text=_("%(name)s proposed “%(title)s” for %(challenge)s")
            % {"name": proposal.author.public_name, "title": proposal.title, "challenge": proposal.challenge.title},
            url=proposal.get_absolute_url(),
            kind=KEY,
            when=proposal.submitted_at,
        )
        for proposal in selectors.new_proposals(user=user, community_ids=community_ids, limit=limit)
    ]
    items.sort(key=lambda item: item.when, reverse=True)
    return items[:limit]


def _near(queryset, prefix: str, near, within_km):
    """``distance_km`` from ``near`` (None without a place on either side); with
    ``within_km``, rows farther than that are left out, rows with no place are kept."""
    if near is None:
        return queryset
    latitude, longitude = (float(v) for v in near)
    no_place = Q(**{f"{prefix}approx_latitude__isnull": True}) | Q(**{f"{prefix}approx_longitude__isnull": True})
    # Without a place the distance is unknown: said explicitly, because PostgreSQL's
    # LEAST() inside the expression skips NULLs and would make it 0 km.
    distance = distance_km_expression(f"{prefix}approx_latitude", f"{prefix}approx_longitude", latitude, longitude)
    queryset = queryset.annotate(
        distance_km=Case(When(no_place, then=Value(None)), default=distance, output_field=FloatField())
    )
    if within_km is not None:
        queryset = queryset.filter(Q(distance_km__lte=within_km) | no_place)
    return queryset


def search(*, user: User, query: str, kinds=None, near=None, within_km=None, limit: int = 20) -> list[SearchHit]:
    """Challenges of the member's communities and the proposals they may read whose
    words match ``query`` (the title weighs most), best first, at most ``limit``.
    ``kinds`` narrows to "challenge" and/or "proposal" (None or empty: both). Communities
    that stopped co-design are left out. One query per kind."""
    labels = dict(SEARCH_KINDS)
    wanted = set(kinds) & set(labels) if kinds else set(labels)
    if not user.is_authenticated or not wanted or limit <= 0:
        return []
    hits = []
    if "challenge" in wanted:
        visible = selectors.challenges_visible(user=user).filter(community__in=communities_using(KEY).values("pk"))
        challenges = ranked_match(visible, query, CHALLENGE_FIELDS)
        challenges = _near(challenges, "", near, within_km).order_by("-search_rank", "-created_at", "-pk")
        hits += [
            SearchHit(
                kind="challenge",
                kind_label=labels["challenge"],
                title=challenge.title,
                snippet=plain(challenge.brief),
                url=challenge.get_absolute_url(),
                rank=float(challenge.search_rank),
                community=challenge.community.name,
                when=challenge.created_at,
                distance_km=getattr(challenge, "distance_km", None),
            )
            for challenge in challenges[:limit]
        ]
    if "proposal" in wanted:
        readable = selectors.proposals_searchable(user=user).filter(
            challenge__community__in=communities_using(KEY).values("pk")
        )
        proposals = ranked_match(readable, query, PROPOSAL_FIELDS)
        proposals = (
            _near(proposals, "challenge__", near, within_km)
            .select_related("challenge__community")
            .order_by("-search_rank", "-created_at", "-pk")
        )
        hits += [
            SearchHit(
                kind="proposal",
                kind_label=labels["proposal"],
                title=proposal.title,
                snippet=plain(proposal.description),
                url=proposal.get_absolute_url(),
                rank=float(proposal.search_rank),
                community=proposal.challenge.community.name,
                when=proposal.submitted_at or proposal.created_at,
                distance_km=getattr(proposal, "distance_km", None),
            )
            for proposal in proposals[:limit]
        ]
    hits.sort(key=lambda hit: hit.rank, reverse=True)
    return hits[:limit]


def history(*, subject: User, viewer: User) -> list[HistoryRow]:
    """The subject's co-design record as the viewer may see it
    (``selectors.contributions``): the challenges they took part in and the build hours
    organizers confirmed. Two queries."""
    record = selectors.contributions(subject=subject, viewer=viewer)
    return [
        HistoryRow(label=_("Challenges contributed to"), value=f"{record['challenges']:,}"),
        HistoryRow(label=_("Build hours given"), value=format_number(record["hours"])),
    ]


def start(*, community: Community, actor: User | None) -> None:
    """Nothing to set up: the co-design fund's accounts open on first use (the first
    budget spent or hours paid), and organizers post the challenges themselves.
    Idempotent by having no effect."""


BLUEPRINT = Blueprint(
    key=KEY,
    category=gettext_lazy("Design"),
    title=gettext_lazy("Co-Design Mini Projects"),
    description=gettext_lazy("Small design challenges people can join to improve a shared space."),
    tags=(pgettext_lazy("blueprint tag: home and household", "Home"), gettext_lazy("Creative")),
    nav_label=gettext_lazy("Design"),
    nav_url="codesign:list",
    order=40,
    default_rules=DEFAULT_RULES,
    figure=figure,
    figure_models=FIGURE_MODELS,
    search_kinds=SEARCH_KINDS,
    actions=actions,
    upcoming=upcoming,
    activity=activity,
    search=search,
    history=history,
    start=start,
)
