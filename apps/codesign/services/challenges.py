"""Challenges: created and moved through their phases by organizers (or by the beat when
a phase's date passes), followed by members, who are told of each phase change."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify_each
from apps.peers.geo import approximate
from apps.peers.guards import require_active_member, require_exchange_in_use, require_organizer
from apps.peers.models import Community, User
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_when
from p2pcommons.i18n import Message

from ..models import MAX_DOTS, Challenge, Follow, PhaseEvent
from ..transitions import CHALLENGE, NEXT_STEP

PH = Challenge.Phase
# Which planned date ends each phase; moving a phase early or late sets it to now.
PHASE_END = {PH.IDEAS: "ideas_until", PH.PROPOSALS: "proposals_until", PH.VOTING: "voting_until"}


def challenge_create(
    *,
    community: Community,
    actor: User,
    title: str,
    brief: str,
    space: str,
    ideas_until: datetime,
    proposals_until: datetime,
    voting_until: datetime,
    constraints: str = "",
    budget: Decimal | None = None,
    method: str = Challenge.Method.DOTS,
    dots: int = 5,
    max_dots_per_proposal: int = 3,
    live_totals: bool = False,
    latitude=None,
    longitude=None,
    now: datetime | None = None,
) -> Challenge:
    """An organizer posts a challenge for a shared space of their community; it opens in
    the ideas phase, and its author follows it. Refused (``exchange_off``) where the
    community stopped using the exchange."""
    now = now or timezone.now()
    require_organizer(user=actor, community_id=community.pk, doing="post a design challenge")
    require_exchange_in_use(community_id=community.pk, key="codesign", doing="post a design challenge")
    errors = {}
    title, brief, space = (title or "").strip(), (brief or "").strip(), (space or "").strip()
    if not title:
        errors["title"] = _("Give the challenge a title.")
    if not brief:
        errors["brief"] = _("Say what the space needs.")
    if not space:
        errors["space"] = _("Say where the space is.")
    dates = (ideas_until, proposals_until, voting_until)
    if any(not isinstance(d, datetime) or timezone.is_naive(d) for d in dates):
        errors["ideas_until"] = _("Give each phase's end as a date and time.")
    elif not now < ideas_until <= proposals_until <= voting_until:
        errors["ideas_until"] = _("The phases end in order (ideas, then proposals, then voting), after now.")
    if method not in Challenge.Method.values:
        errors["method"] = _("Choose dot voting or approval voting.")
    if method == Challenge.Method.DOTS and not (1 <= max_dots_per_proposal <= dots <= MAX_DOTS):
        errors["dots"] = _("Give 1 to %(most)s dots, and at most that many on one proposal.") % {"most": MAX_DOTS}
    if budget is not None and (
        not isinstance(budget, Decimal) or budget < 0 or budget != budget.quantize(Decimal("0.01"))
    ):
        errors["budget"] = _("A budget is a number of credits, with at most two decimals.")
    if errors:
        raise ValidationError(errors)
    approx = approximate(latitude, longitude) if latitude is not None and longitude is not None else (None, None)
    with transaction.atomic():
        challenge = Challenge.objects.create(
            community=community, created_by=actor, title=title[:120], brief=brief[:5000], space=space[:200],
            constraints=(constraints or "").strip()[:2000], budget=budget, method=method, dots=dots,
            max_dots_per_proposal=max_dots_per_proposal if method == Challenge.Method.DOTS else 1,
            live_totals=live_totals, ideas_until=ideas_until, proposals_until=proposals_until,
            voting_until=voting_until, approx_latitude=approx[0], approx_longitude=approx[1], created_at=now,
        )  # fmt: skip
        Follow.objects.create(challenge=challenge, member=actor)
    return challenge


def _retime(challenge: Challenge, step: str, now: datetime) -> dict:
    """The planned dates once the phase ``step`` leaves ends now: that phase's end is now,
    and later ends move by as much, so each later phase keeps its length."""
    field = PHASE_END.get(challenge.phase)
    if field is None:
        return {}
    shift = now - getattr(challenge, field)
    stamps = {}
    fields = list(PHASE_END.values())
    for name in fields[fields.index(field) :]:
        stamps[name] = getattr(challenge, name) + shift
    stamps[field] = now
    return stamps


def challenge_step(
    *, challenge: Challenge, actor: User | None, step: str, note: str = "", now: datetime | None = None
) -> Challenge:
    """Move a challenge to its next phase: an organizer, early or late (the planned
    dates adjust), or the beat (``actor`` None) when the phase's date passed. Closing
    the vote counts it and starts the winners' projects. Followers are told, in one
    insert however many they are."""
    from .voting import results_publish

    now = now or timezone.now()
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
        source = challenge.phase
        stamps = _retime(challenge, step, now)
        challenge = CHALLENGE.apply(step, challenge, actor, note=note, now=now, checked=actor is None, **stamps)
        # The timeline says when it happened (``now``, which the beat and the demo pass).
        PhaseEvent.objects.filter(pk=PhaseEvent.objects.filter(challenge=challenge).order_by("-pk")[:1]).update(
            created_at=now
        )
        if step == "close_voting":
            results_publish(challenge=challenge)
        _tell_followers(challenge, source, actor)
        return challenge


def _tell_followers(challenge: Challenge, source: str, actor: User | None) -> None:
    title = challenge.title
    if challenge.phase == PH.PROPOSALS:
        text = Message(
            "{title}: ideas are closed; propose a design until {until}.",
            title=title,
            until=format_when(challenge.proposals_until),
        )
    elif challenge.phase == PH.VOTING:
        text = Message("{title}: voting is open until {until}.", title=title, until=format_when(challenge.voting_until))
    elif challenge.phase == PH.BUILDING:
        text = Message("{title}: Voting is closed: see the results and join the build.", title=title)
    elif challenge.phase == PH.DONE:
        text = Message("{title}: The build is done.", title=title)
    else:
        text = Message("{title}: {phase}.", title=title, phase=str(challenge.get_phase_display()))
    followers = User.objects.filter(pk__in=Follow.objects.filter(challenge=challenge).values("member_id"))
    notify_each(messages=[(user, text) for user in followers], kind="codesign.phase", target=challenge, actor=actor)


def challenges_advance_due(*, now: datetime | None = None) -> int:
    """The beat: move every challenge whose phase's planned end passed (ideas,
    proposals, voting) to the next phase. Each in its own transaction; a challenge an
    organizer moved meanwhile is left alone (the conditional update finds it moved)."""
    now = now or timezone.now()
    moved = 0
    for phase, field in PHASE_END.items():
        for pk in Challenge.objects.filter(phase=phase, **{f"{field}__lte": now}).values_list("pk", flat=True):
            try:
                challenge_step(challenge=Challenge(pk=pk), actor=None, step=NEXT_STEP[phase], now=now)
                moved += 1
            except RuleViolation:
                continue
    return moved


def challenge_follow(*, challenge: Challenge, member: User) -> Follow:
    """Follow a challenge of one's community (idempotent)."""
    require_active_member(user=member, community_id=challenge.community_id, doing="follow a challenge")
    try:
        with transaction.atomic():
            follow, _created = Follow.objects.get_or_create(challenge=challenge, member=member)
    except IntegrityError:
        follow = Follow.objects.get(challenge=challenge, member=member)
    return follow


def challenge_unfollow(*, challenge: Challenge, member: User) -> None:
    Follow.objects.filter(challenge=challenge, member=member).delete()
