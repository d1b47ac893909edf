"""Cross-exchange suggestions: one documented function per pair of exchanges.

Each function takes the thing that needs an answer (a skill request, a waitlist entry, a
co-design task, a cleared solar slot), looks for the answer in another exchange through
that exchange's own selectors, and writes ``Suggestion`` rows for the people it helps,
each with the plain sentence saying why. The rules every pair keeps:

- only active members (active accounts) of the source's community are told, and only
  of things in that same community, which uses both exchanges;
- nothing hidden by moderation, closed, paused or expired is suggested (the exchanges'
  directory selectors already leave those out), and nobody is pointed at their own things;
- recomputing is idempotent: rows are written with ``bulk_create(ignore_conflicts=True)``
  under the unique (user, pair, source, target); the suggestions of a source that no
  longer hold (a helper who left, a tool no longer set on the task) are removed unless
  the member dismissed them, so a dismissed one never comes back.

Each function returns how many suggestions hold for its source after the run. The
Celery tasks in ``apps.front.tasks`` call them by id; ``apps.front.selectors`` reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.peers import blueprints
from apps.peers.search import MAX_WORDS, ranked_match, words_of
from apps.peers.selectors import active_members_in
from p2pcommons.humanize import format_when_short
from p2pcommons.i18n import member_language

from .models import Suggestion

Pair = Suggestion.Pair
# How many tools and helpers one request is shown: a few good ones, not a directory.
LIMIT = 3
# A producer hears about unfilled buy orders at most once in this long, however many
# slots go short: a nudge, not an alarm every quarter hour.
PRODUCER_COOLDOWN = timedelta(hours=24)
# Words that say nothing about what is needed ("I need help to fix the ...").
# fmt: off
STOPWORDS = frozenset({
    "about", "after", "again", "also", "and", "any", "are", "ask", "asking", "back", "before", "but", "can", "could",
    "does", "for", "from", "get", "got", "have", "help", "her", "his", "how", "into", "just", "like", "looking",
    "make", "may", "more", "need", "needed", "needs", "not", "off", "our", "out", "please", "some", "someone",
    "something", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "too",
    "use", "want", "wanted", "was", "way", "who", "will", "with", "would", "you", "your", "fix", "fixing", "repair",
    "repairing",
})
# fmt: on


def key_of(obj: models.Model) -> str:
    """The key a suggestion names a thing by: ``"<app>.<model>:<id>"``, e.g. ``"tools.tool:5"``."""
    return f"{obj._meta.app_label}.{obj._meta.model_name}:{obj.pk}"


def significant_words(*texts: str) -> list[str]:
    """The words of ``texts`` worth searching for: lower case, three letters or more, not
    a filler word ("need", "help", "fix"), each once, at most ``MAX_WORDS``."""
    found: list[str] = []
    for word in words_of(" ".join(t for t in texts if t)):
        word = word.lower()
        if len(word) >= 3 and word not in STOPWORDS and word not in found:
            found.append(word)
    return found[:MAX_WORDS]


def best_by_words(queryset: QuerySet, words: Sequence[str], fields: Sequence[str], *, limit: int) -> list[int]:
    """Ids of the rows of ``queryset`` matching any of ``words`` in ``fields``, best first.

    ``ranked_match`` asks for every word of a query, which a sentence ("leaking tap
    washer") rarely meets in a listing; here each word is matched alone and a row scores
    the sum of its ranks, so a row naming more of the words comes first (ties: lower id).
    One query per word, at most ``MAX_WORDS``.
    """
    scores: dict[int, float] = defaultdict(float)
    plain = queryset.order_by().prefetch_related(None)
    for word in words:
        best: dict[int, float] = {}
        for pk, rank in ranked_match(plain, word, fields).values_list("pk", "search_rank"):
            best[pk] = max(best.get(pk, 0.0), float(rank or 0.0))  # many-valued fields repeat a row
        for pk, rank in best.items():
            scores[pk] += rank
    return [pk for pk, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]]


def _in_order(queryset: QuerySet, ids: list[int]) -> list:
    by_id = {obj.pk: obj for obj in queryset.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def _active_member_ids(community_id: int, candidates: Iterable[int]) -> set[int]:
    """Which of ``candidates`` (user ids) are active members, with active accounts, of the community."""
    wanted = set(candidates)
    if not wanted:
        return set()
    return set(
        active_members_in(community_ids=[community_id])
        .filter(pk__in=wanted, is_active=True)
        .values_list("pk", flat=True)
    )


def _uses(community_id: int, *keys: str) -> bool:
    return set(keys) <= blueprints.keys_in_use(community_id=community_id)


def _replace(source_key: str, pairs: Sequence[str], rows: list[Suggestion]) -> int:
    """Write ``rows`` (existing ones stay as they are, dismissed included) and remove the
    undismissed suggestions of ``pairs`` about ``source_key`` that no longer hold."""
    keep = {(row.user_id, row.pair, row.target_key) for row in rows}
    with transaction.atomic():
        Suggestion.objects.bulk_create(rows, ignore_conflicts=True)
        stale = [
            pk
            for pk, user_id, pair, target in Suggestion.objects.filter(
                source_key=source_key, pair__in=pairs, dismissed_at__isnull=True
            ).values_list("pk", "user_id", "pair", "target_key")
            if (user_id, pair, target) not in keep
        ]
        if stale:
            Suggestion.objects.filter(pk__in=stale).delete()
    return len(keep)


def _languages(user_ids: Iterable[int]) -> dict[int, str]:
    """Each member's reading language by user id (one query): a suggestion is written
    once, in the language of the member it is for."""
    from apps.peers.models import Profile

    wanted = set(user_ids)
    saved = dict(Profile.objects.filter(user_id__in=wanted).values_list("user_id", "language")) if wanted else {}
    known = dict(settings.LANGUAGES)
    return {pk: saved.get(pk) if saved.get(pk) in known else settings.LANGUAGE_CODE for pk in wanted}


def _quoted(title: str) -> str:
    return f"“{title}”"


def _noun(title: str) -> str:
    """A listing's title inside a sentence: "Tile cutter" -> "tile cutter" ("SDS drill" stays)."""
    if len(title) > 1 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title


def _a(title: str) -> str:
    """ "a tile cutter", "an angle grinder" (in another language its own article: "een")."""
    noun = _noun(title)
    if (translation.get_language() or "en").startswith("en"):
        return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
    return pgettext("indefinite article", "a %(noun)s") % {"noun": noun}


# --- 1. a skill request -> tools to borrow, and neighbors who offer the skill ----------------
def suggest_for_skill_request(request) -> int:
    """A skill request ("Fix a leaking tap") -> tools and helpers, told to its author.

    - **Tools** (``skill_request_tools``): the community library's tools the requester may
      borrow (``tools_search``: active, not hidden, of their community), not their own,
      lent by an active member, matching the words of the request's title, skills and
      tags (``best_by_words`` over title, description and category): a pipe wrench for a
      leaking tap. Only when the community uses the tool exchange.
    - **Helpers** (``skill_request_helpers``): open, unexpired, unhidden offers of the
      same community naming one of the requested skills (``listings_search``), by active
      members other than the requester, most recently updated first.

    Nothing while the request is closed, expired or hidden, or its author is no longer
    an active member: its undismissed suggestions are removed then.
    """
    from apps.skills.models import Offer
    from apps.skills.selectors import listings_search
    from apps.tools.selectors import tools_search

    requester, community_id, source = request.member, request.community_id, key_of(request)
    rows: list[Suggestion] = []
    ok = (
        request.is_open
        and not request.is_hidden
        and _uses(community_id, "skills")
        and _active_member_ids(community_id, [requester.pk])
    )
    if ok:
        language = member_language(requester)
        skills = list(request.skills.all())
        words = significant_words(
            request.title, *(s.name for s in skills), *(t.name.replace("-", " ") for t in request.tags.all())
        )
        if words and _uses(community_id, "tools"):
            tools = (
                tools_search(user=requester, community_id=community_id)
                .exclude(owner=requester)
                .filter(owner__in=active_members_in(community_ids=[community_id]), owner__is_active=True)
            )
            ids = best_by_words(tools, words, ["title", "description", "category__name"], limit=LIMIT)
            for tool in _in_order(tools, ids):
                with translation.override(language):
                    title = _("Borrow the %(tool)s") % {"tool": tool.title}
                    reason = _(
                        "%(owner)s lends %(a_tool)s in %(community)s: it may be what your request %(request)s needs."
                    ) % {
                        "owner": tool.owner.public_name,
                        "a_tool": _a(tool.title),
                        "community": tool.community.name,
                        "request": _quoted(request.title),
                    }
                rows.append(
                    Suggestion(
                        user=requester,
                        pair=Pair.SKILL_REQUEST_TOOLS,
                        title=title,
                        reason=reason,
                        url=tool.get_absolute_url(),
                        source_key=source,
                        target_key=key_of(tool),
                    )
                )
        wanted = {s.pk for s in skills}
        if wanted:
            offers = (
                listings_search(model=Offer, user=requester, community_id=community_id)
                .filter(skills__in=wanted)
                .exclude(member=requester)
                .filter(member__in=active_members_in(community_ids=[community_id]), member__is_active=True)
                .distinct()
            )[:LIMIT]
            for offer in offers:
                shared = ", ".join(s.name for s in offer.skills.all() if s.pk in wanted)
                values = {"name": offer.member.public_name, "skills": shared, "request": _quoted(request.title)}
                with translation.override(language):
                    title = _("%(name)s offers %(skills)s") % values
                    reason = (
                        _("%(name)s offers help with %(skills)s, the skill your request %(request)s asks for.") % values
                    )
                rows.append(
                    Suggestion(
                        user=requester,
                        pair=Pair.SKILL_REQUEST_HELPERS,
                        title=title,
                        reason=reason,
                        url=offer.get_absolute_url(),
                        source_key=source,
                        target_key=key_of(offer),
                    )
                )
    return _replace(source, [Pair.SKILL_REQUEST_TOOLS, Pair.SKILL_REQUEST_HELPERS], rows)


# --- 2. a tool nobody can lend -> a neighbor who offers the skill ---------------------------
def tool_need_unmet(entry, *, now: datetime | None = None) -> bool:
    """Whether a waitlist entry is a tool request nobody can meet: its member is still
    waiting (not offered the window), the window has not passed, and no other tool like
    it (same category, every significant word of its title) that the member may borrow
    is free for that window."""
    from apps.tools.models import WaitlistEntry
    from apps.tools.selectors import tools_search

    now = now or timezone.now()
    if entry.status != WaitlistEntry.Status.WAITING or entry.ends_at <= now:
        return False
    tool = entry.tool
    words = significant_words(tool.title)
    if not words:
        return True
    free_alike = tools_search(
        user=entry.member,
        community_id=tool.community_id,
        category=tool.category.slug,
        available_from=entry.starts_at,
        available_to=entry.ends_at,
    ).exclude(pk=tool.pk)
    return not ranked_match(free_alike.exclude(owner=entry.member), " ".join(words), ["title"]).exists()


def suggest_for_unmet_tool(entry) -> int:
    """A tool request nobody can meet -> neighbors who offer that kind of help
    (``tool_wait_helpers``), told to the member waiting.

    The unmet request is a ``WaitlistEntry`` still waiting (the member asked for a window
    that was taken and chose to wait): the reservation that could not be made. A declined
    reservation is not one: the owner may decline for reasons of their own, and the
    member can ask again. ``tool_need_unmet`` also checks that no other tool like it is
    free then. The helpers are open offers of the tool's community (``listings_search``:
    unexpired, not hidden) by active members other than the one waiting, matching the
    words of the tool's title and category (``best_by_words`` over the offer's title,
    skills and description): "Nobody can lend a tile cutter ...; Ana offers tiling help".
    Only when the community uses both exchanges.
    """
    from apps.skills.models import Offer
    from apps.skills.selectors import listings_search

    tool, member, source = entry.tool, entry.member, key_of(entry)
    community_id = tool.community_id
    rows: list[Suggestion] = []
    ok = (
        _uses(community_id, "tools", "skills")
        and _active_member_ids(community_id, [member.pk])
        and tool_need_unmet(entry)
    )
    if ok:
        words = significant_words(tool.title, tool.category.name)
        offers = (
            listings_search(model=Offer, user=member, community_id=community_id)
            .exclude(member=member)
            .filter(member__in=active_members_in(community_ids=[community_id]), member__is_active=True)
        )
        ids = best_by_words(offers, words, ["title", "skills__name", "description"], limit=LIMIT)
        with translation.override(member_language(member)):
            window = _("from %(start)s to %(end)s") % {
                "start": format_when_short(entry.starts_at),
                "end": format_when_short(entry.ends_at),
            }
            texts = [
                (
                    offer,
                    _("Ask %(name)s for help") % {"name": offer.member.public_name},
                    _("Nobody can lend you %(a_tool)s %(window)s; %(name)s offers %(offer)s.")
                    % {
                        "a_tool": _a(tool.title),
                        "window": window,
                        "name": offer.member.public_name,
                        "offer": _quoted(offer.title),
                    },
                )
                for offer in _in_order(offers, ids)
            ]
        for offer, title, reason in texts:
            rows.append(
                Suggestion(
                    user=member,
                    pair=Pair.TOOL_WAIT_HELPERS,
                    title=title,
                    reason=reason,
                    url=offer.get_absolute_url(),
                    source_key=source,
                    target_key=key_of(offer),
                )
            )
    return _replace(source, [Pair.TOOL_WAIT_HELPERS], rows)


# --- 3. a co-design task needing a tool -> booking it ----------------------------------------
def suggest_for_task_tool(task) -> int:
    """A co-design task that names a tool -> a link to book it (``task_tool_booking``),
    for each member who joined the task (volunteers still on it: "joined"; a confirmed
    one has done the work) and for the organizer who posted its challenge.

    Only while the task is open and its date (if any) has not passed, the tool can be
    borrowed (active, not hidden, its community uses the tool exchange), and for people
    who are active members of the tool's community and don't own it. The link is the
    tool's page at its booking form (the form takes no prefilled dates, so the sentence
    names the day). People who left the task lose the suggestion at the next run.
    """
    from apps.codesign.models import Task, Volunteer
    from apps.tools.models import Tool

    source = key_of(task)
    tool = task.tool
    rows: list[Suggestion] = []
    ok = (
        tool is not None
        and task.status == Task.Status.OPEN
        and (task.date is None or task.date >= timezone.localdate())
        and tool.status == Tool.Status.ACTIVE
        and not tool.is_hidden
        and _uses(tool.community_id, "tools")
    )
    if ok:
        challenge = task.project.challenge
        joined = set(
            Volunteer.objects.filter(task=task, status=Volunteer.Status.JOINED).values_list("member_id", flat=True)
        )
        people = _active_member_ids(tool.community_id, joined | {challenge.created_by_id}) - {tool.owner_id}
        url = f"{tool.get_absolute_url()}#booking-heading"
        languages = _languages(people)
        for user_id in sorted(people):
            with translation.override(languages[user_id]):
                day_format = pgettext("date format", "D j M")
                values = {
                    "task": _quoted(task.title),
                    "when": f" ({dateformat.format(task.date, day_format)})" if task.date else "",
                    "challenge": _quoted(challenge.title),
                    "tool": _noun(tool.title),
                    "owner": tool.owner.public_name,
                    "day": _("that day") if task.date else _("the day you build"),
                }
                if user_id in joined:
                    reason = (
                        _("You joined %(task)s%(when)s, which needs the %(tool)s %(owner)s lends: book it for %(day)s.")
                        % values
                    )
                else:
                    reason = (
                        _(
                            "%(task)s%(when)s, a task of your challenge %(challenge)s, needs the %(tool)s %(owner)s "
                            "lends: book it for %(day)s."
                        )
                        % values
                    )
                title = _("Book the %(tool)s for %(task)s") % values
            rows.append(
                Suggestion(
                    user_id=user_id,
                    pair=Pair.TASK_TOOL_BOOKING,
                    title=title,
                    reason=reason,
                    url=url,
                    source_key=source,
                    target_key=key_of(tool),
                )
            )
    return _replace(source, [Pair.TASK_TOOL_BOOKING], rows)


# --- 4. buy orders nobody filled -> producers who did not sell ------------------------------
def _kwh(wh: int) -> str:
    from apps.solar.services import kwh

    return kwh(wh)


def suggest_for_unfilled_buys(slot, *, now: datetime | None = None) -> int:
    """A cleared solar slot with buy volume left unfilled -> its community's producers
    who did not sell in it (``unfilled_buys_producer``): "Neighbors wanted 2.4 kWh at up
    to 0.25 credits/kWh at 14:00 that nobody sold — a standing order sells your surplus
    automatically", linking to the standing-order form.

    The unfilled volume is what the slot's buy orders asked for and did not get
    (``quantity_wh - filled_wh`` of the buys that took part); the price is the highest
    limit among them. Told: active members with an active meter that sells (panels, or
    both), no sell order in the slot, no active standing sell order (theirs sells
    already), not stopped from trading, and not told in the last
    ``PRODUCER_COOLDOWN``; a member's own unfilled buys don't count for them. Only for a
    cleared (or settled) slot of a community that uses the solar exchange.
    """
    from apps.solar.models import Meter, Order, Slot, StandingOrder, TradingSuspension

    now = now or timezone.now()
    source = key_of(slot)
    if slot.status not in (Slot.Status.CLEARED, Slot.Status.SETTLED) or not _uses(slot.community_id, "solar"):
        return 0
    short = [
        (member_id, quantity - filled, price)
        for member_id, quantity, filled, price in Order.objects.filter(
            slot=slot, side=Order.Side.BUY, status__in=(Order.Status.PARTIAL, Order.Status.UNFILLED)
        ).values_list("member_id", "quantity_wh", "filled_wh", "limit_price")
        if quantity > filled
    ]
    if not short:
        return 0
    producers = set(
        Meter.objects.filter(
            community_id=slot.community_id,
            status=Meter.Status.ACTIVE,
            kind__in=(Meter.Kind.PRODUCER, Meter.Kind.BOTH),
        ).values_list("owner_id", flat=True)
    )
    producers -= set(Order.objects.filter(slot=slot, side=Order.Side.SELL).values_list("member_id", flat=True))
    producers -= set(
        StandingOrder.objects.filter(
            member_id__in=producers,
            side=StandingOrder.Side.SELL,
            status=StandingOrder.Status.ACTIVE,
            meter__community_id=slot.community_id,
        ).values_list("member_id", flat=True)
    )
    producers -= set(
        TradingSuspension.objects.filter(
            community_id=slot.community_id, member_id__in=producers, lifted_at__isnull=True
        ).values_list("member_id", flat=True)
    )
    producers -= set(
        Suggestion.objects.filter(
            user_id__in=producers, pair=Pair.UNFILLED_BUYS_PRODUCER, created_at__gt=now - PRODUCER_COOLDOWN
        )
        .exclude(source_key=source)
        .values_list("user_id", flat=True)
    )
    people = _active_member_ids(slot.community_id, producers)
    at = f"{timezone.localtime(slot.start):%H:%M}"
    url = reverse("solar:standing-create")
    rows = []
    languages = _languages(people)
    for user_id in sorted(people):
        others = [(wh, price) for member_id, wh, price in short if member_id != user_id]
        if not others:
            continue
        wanted = sum(wh for wh, _unused in others)
        top = max(price for _unused, price in others)
        with translation.override(languages[user_id]):
            title = _("Sell your surplus with a standing order")
            reason = _(
                "Neighbors wanted %(kwh)s at up to %(price)s credits/kWh at %(time)s that nobody sold — a standing "
                "order sells your surplus automatically."
            ) % {"kwh": _kwh(wanted), "price": _price(top), "time": at}
        rows.append(
            Suggestion(
                user_id=user_id,
                pair=Pair.UNFILLED_BUYS_PRODUCER,
                title=title,
                reason=reason,
                url=url,
                source_key=source,
                target_key="solar.standingorder:new",
                created_at=now,
            )
        )
    Suggestion.objects.bulk_create(rows, ignore_conflicts=True)
    return Suggestion.objects.filter(source_key=source, pair=Pair.UNFILLED_BUYS_PRODUCER).count()


def _price(price: Decimal) -> str:
    return f"{price.normalize():f}"


# --- the member's answer -------------------------------------------------------------------
def suggestion_dismiss(*, suggestion: Suggestion, actor) -> bool:
    """The member sets a suggestion of theirs aside for good: recomputing never brings it
    back (its row stays, dismissed). A conditional update, so dismissing twice is
    harmless; False when it was already dismissed. Only its member may dismiss it
    (``PermissionDenied`` otherwise; the page answers 404 before asking)."""
    from django.core.exceptions import PermissionDenied

    if suggestion.user_id != actor.pk:
        raise PermissionDenied(_("Only the member it was made for can dismiss a suggestion."))
    now = timezone.now()
    done = Suggestion.objects.filter(pk=suggestion.pk, dismissed_at__isnull=True).update(dismissed_at=now)
    if done:
        suggestion.dismissed_at = now
    return bool(done)


__all__ = [
    "best_by_words",
    "key_of",
    "significant_words",
    "suggest_for_skill_request",
    "suggest_for_task_tool",
    "suggest_for_unfilled_buys",
    "suggest_for_unmet_tool",
    "suggestion_dismiss",
    "tool_need_unmet",
]
