"""Writes for the skill swap: listings, matching, sessions and the hours they move.

An hour of anyone's help is one time credit: when a learner and the helper have both
confirmed the hours a session took, those hours move learner -> helper in ``HOUR``
through the ledger, once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Value
from django.utils import timezone
from django.utils.text import slugify

from apps.notifications.services import notify
from apps.peers.models import Community, Membership, User
from apps.peers.selectors import community_organizers
from apps.peers.services import is_organizer, membership_refuse_if_suspended
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount, format_when

from . import matching
from .models import (
    MAX_HOURS,
    MAX_SKILLS,
    MAX_TAGS,
    MAX_WINDOWS,
    MIN_HOURS,
    AvailabilityWindow,
    Match,
    MatchNoticeQuota,
    Offer,
    Request,
    Seat,
    Session,
    Skill,
    Tag,
)

logger = logging.getLogger(__name__)

# Matching: how many candidates one listing reads at most, what is kept and what is told.
MAX_CANDIDATES = 400
MAX_TRAVEL_KM = 50.0
TOP_MATCHES = 10
STORE_THRESHOLD = 0.35
NOTIFY_THRESHOLD = 0.60
# Match notifications are bounded, so posting requests can't flood the neighbors: a
# requester hears of the best few matches of each request, a helper of a few new
# matches a day (the rest wait on their Matches page).
REQUESTER_MATCH_NOTICES = 3
HELPER_MATCH_NOTICES_PER_DAY = 3
# A member has at most this many open requests per community at a time.
MAX_OPEN_REQUESTS = 5
# Confirmation: two figures within this many hours agree, and the lower counts.
HOURS_TOLERANCE = Decimal("0.50")
REQUEST_LIFETIME_AFTER_WANTED = timedelta(days=1)
DISPUTE_WINDOW = timedelta(days=14)


# --- listings ------------------------------------------------------------------------
def _require_active_member(*, user: User, community: Community, doing: str) -> None:
    membership_refuse_if_suspended(user=user, community_id=community.pk, doing=doing)
    if not Membership.objects.filter(user=user, community=community, status=Membership.Status.ACTIVE).exists():
        raise RuleViolation(f"Join {community.name} to {doing} there.", code="not_member")


def _clean_skills(skills: Iterable[Skill], community: Community) -> list[Skill]:
    skills = list(islice(skills, MAX_SKILLS + 1))  # never reads past the one too many
    if not skills:
        raise ValidationError({"skills": "Choose at least one skill."})
    if len(skills) > MAX_SKILLS:
        raise ValidationError({"skills": f"At most {MAX_SKILLS} skills."})
    for skill in skills:
        if not skill.is_active or skill.community_id not in (None, community.pk):
            raise ValidationError({"skills": f"{skill.name} is not a skill of {community.name}."})
    return skills


def _tags(names: Iterable[str]) -> list[Tag]:
    """The tags named (made on first use), in two queries; refused past ``MAX_TAGS``
    distinct names, before any query."""
    cleaned: list[str] = []
    for name in names:
        slug = slugify(name)[:40]
        if slug and slug not in cleaned:
            cleaned.append(slug)
            if len(cleaned) > MAX_TAGS:
                raise ValidationError({"tags": f"At most {MAX_TAGS} tags."})
    if not cleaned:
        return []
    Tag.objects.bulk_create([Tag(name=slug) for slug in cleaned], ignore_conflicts=True)
    by_name = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    return [by_name[slug] for slug in cleaned]


def _clean_windows(windows: Iterable[tuple[int, time, time]]) -> list[tuple[int, time, time]]:
    windows = list(islice(windows, MAX_WINDOWS + 1))
    if len(windows) > MAX_WINDOWS:
        raise ValidationError({"windows": f"At most {MAX_WINDOWS} time ranges."})
    cleaned = []
    for weekday, start, end in windows:
        if not 0 <= weekday <= 6:
            raise ValidationError({"windows": "A weekday is 0 (Monday) to 6 (Sunday)."})
        if end <= start:
            raise ValidationError({"windows": "Each time range must end after it starts."})
        cleaned.append((weekday, start, end))
    return cleaned


def _locate(listing, member: User) -> None:
    profile = getattr(member, "profile", None)
    listing.latitude = profile.approx_latitude if profile else None
    listing.longitude = profile.approx_longitude if profile else None


def _after_commit_match(kind: str, pk: int) -> None:
    """Match after commit. If the broker is unreachable the listing is matched by the
    nightly run instead; the member's save never fails for it."""
    from . import tasks

    task = tasks.match_request if kind == "request" else tasks.match_offer

    def enqueue() -> None:
        try:
            task.apply_async(args=[pk], retry=False)
        except Exception:  # the broker's errors vary by transport; none may reach the user's request
            logger.warning("Broker unreachable; %s %s will be matched tonight", kind, pk, exc_info=True)

    transaction.on_commit(enqueue)


@transaction.atomic
def offer_create(
    *,
    member: User,
    community: Community,
    title: str,
    skills: Iterable[Skill],
    description: str = "",
    tags: Iterable[str] = (),
    travel_km: Decimal = Decimal("3.0"),
    remote_ok: bool = False,
    windows: Iterable[tuple[int, time, time]] = (),
) -> Offer:
    """Offer help ("I can help with ..."); matching runs for it after commit."""
    _require_active_member(user=member, community=community, doing="offer help")
    skills = _clean_skills(skills, community)
    windows = _clean_windows(windows)
    now = timezone.now()
    offer = Offer(
        member=member,
        community=community,
        title=title,
        description=description,
        travel_km=travel_km,
        remote_ok=remote_ok,
        expires_at=now + Offer.LIFETIME,
        created_at=now,
        updated_at=now,
    )
    _locate(offer, member)
    offer.full_clean()
    offer.save()
    offer.skills.set(skills)
    offer.tags.set(_tags(tags))
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(offer=offer, weekday=d, start=s, end=e) for d, s, e in windows
    )
    _after_commit_match("offer", offer.pk)
    return offer


@transaction.atomic
def offer_update(*, offer: Offer, actor: User, windows=None, skills=None, tags=None, **fields) -> Offer:
    """The helper edits their offer (``status`` closes or reopens it); matching reruns."""
    if actor.pk != offer.member_id:
        raise RuleViolation("Only the member who offered it can change it.", code="forbidden")
    allowed = {"title", "description", "travel_km", "remote_ok", "status"}
    if set(fields) - allowed:
        raise TypeError(f"Unknown offer fields: {sorted(set(fields) - allowed)}")
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    for name, value in fields.items():
        setattr(offer, name, value)
    if offer.status == Offer.Status.OPEN:
        _require_active_member(user=actor, community=offer.community, doing="offer help")
        if offer.expires_at <= timezone.now():
            offer.expires_at = timezone.now() + Offer.LIFETIME  # reopening renews it
    _locate(offer, actor)
    offer.updated_at = timezone.now()
    offer.full_clean()
    offer.save()
    if skills is not None:
        offer.skills.set(_clean_skills(skills, offer.community))
    if tags is not None:
        offer.tags.set(_tags(tags))
    if windows is not None:
        offer.windows.all().delete()
        AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(offer=offer, weekday=d, start=s, end=e) for d, s, e in _clean_windows(windows)
        )
    _after_commit_match("offer", offer.pk)
    return offer


def _clean_request_dates(wanted_from: date, wanted_until: date, *, creating: bool) -> None:
    errors = {}
    if wanted_from > timezone.localdate() + timedelta(days=365):
        errors["wanted_from"] = "Ask for help at most a year ahead."
    if wanted_until < wanted_from:
        errors["wanted_until"] = "The last day must be on or after the first."
    elif (wanted_until - wanted_from).days > 90:
        errors["wanted_until"] = "Ask for at most 90 days at a time."
    if creating and wanted_until < timezone.localdate():
        errors["wanted_until"] = "That date has passed."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def request_create(
    *,
    member: User,
    community: Community,
    title: str,
    skills: Iterable[Skill],
    wanted_from: date,
    wanted_until: date,
    estimated_hours: Decimal = Decimal("1.00"),
    description: str = "",
    tags: Iterable[str] = (),
    remote_ok: bool = False,
) -> Request:
    """Requests for help ("I need help with ..."): open until the day after the last
    wanted day; at most ``MAX_OPEN_REQUESTS`` open at a time (see
    ``_refuse_too_many_open_requests`` for the lock)."""
    _require_active_member(user=member, community=community, doing="ask for help")
    skills = _clean_skills(skills, community)
    _clean_request_dates(wanted_from, wanted_until, creating=True)
    _refuse_too_many_open_requests(member=member, community=community)
    now = timezone.now()
    request = Request(
        member=member,
        community=community,
        title=title,
        description=description,
        wanted_from=wanted_from,
        wanted_until=wanted_until,
        estimated_hours=estimated_hours,
        remote_ok=remote_ok,
        expires_at=_request_expiry(wanted_until),
        created_at=now,
        updated_at=now,
    )
    _locate(request, member)
    request.full_clean()
    request.save()
    request.skills.set(skills)
    request.tags.set(_tags(tags))
    _after_commit_match("request", request.pk)
    return request


def _refuse_too_many_open_requests(*, member: User, community: Community, excluding: int | None = None) -> None:
    """At most ``MAX_OPEN_REQUESTS`` open requests per member and community.

    Locking: SELECT FOR UPDATE on the member's membership row, so two requests posted at
    once are counted one after the other and the cap holds."""
    Membership.objects.select_for_update().filter(user=member, community=community).first()
    open_requests = Request.objects.filter(
        member=member, community=community, status=Request.Status.OPEN, expires_at__gt=timezone.now()
    )
    if excluding is not None:
        open_requests = open_requests.exclude(pk=excluding)
    if open_requests.count() >= MAX_OPEN_REQUESTS:
        raise RuleViolation(
            f"You have {MAX_OPEN_REQUESTS} open requests in {community.name}, the most at one time. "
            "Close one you no longer need before asking for something else.",
            code="too_many_requests",
        )


def _request_expiry(wanted_until: date) -> datetime:
    end_of_day = datetime.combine(wanted_until, time(23, 59), tzinfo=timezone.get_current_timezone())
    return end_of_day + REQUEST_LIFETIME_AFTER_WANTED


@transaction.atomic
def request_update(*, request: Request, actor: User, skills=None, tags=None, **fields) -> Request:
    """The requester edits their request (``status`` closes it); new dates renew it."""
    if actor.pk != request.member_id:
        raise RuleViolation("Only the member who asked can change it.", code="forbidden")
    allowed = {"title", "description", "wanted_from", "wanted_until", "estimated_hours", "remote_ok", "status"}
    if set(fields) - allowed:
        raise TypeError(f"Unknown request fields: {sorted(set(fields) - allowed)}")
    request = Request.objects.select_for_update().get(pk=request.pk)
    was_open = request.is_open
    for name, value in fields.items():
        setattr(request, name, value)
    if "wanted_from" in fields or "wanted_until" in fields:
        _clean_request_dates(request.wanted_from, request.wanted_until, creating=True)
        request.expires_at = _request_expiry(request.wanted_until)
    if request.status == Request.Status.OPEN:
        _require_active_member(user=actor, community=request.community, doing="ask for help")
        if request.expires_at <= timezone.now():
            raise ValidationError({"wanted_until": "Those dates have passed; choose new ones to reopen it."})
        if not was_open:
            _refuse_too_many_open_requests(member=actor, community=request.community, excluding=request.pk)
    _locate(request, actor)
    request.updated_at = timezone.now()
    request.full_clean()
    request.save()
    if skills is not None:
        request.skills.set(_clean_skills(skills, request.community))
    if tags is not None:
        request.tags.set(_tags(tags))
    _after_commit_match("request", request.pk)
    return request


@transaction.atomic
def offer_renew(*, offer: Offer, actor: User) -> Offer:
    """Keep an offer open for another half year."""
    if actor.pk != offer.member_id:
        raise RuleViolation("Only the member who offered it can renew it.", code="forbidden")
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    _require_active_member(user=actor, community=offer.community, doing="offer help")
    Offer.objects.filter(pk=offer.pk).update(
        expires_at=timezone.now() + Offer.LIFETIME, status=Offer.Status.OPEN, updated_at=timezone.now()
    )
    offer.refresh_from_db()
    _after_commit_match("offer", offer.pk)
    return offer


@transaction.atomic
def listing_set_status_by_organizer(*, listing: Offer | Request, actor: User, status: str) -> Offer | Request:
    """An organizer closes (e.g. after a report) or reopens an offer or request of their
    community. Closing drops its matches; reopening matches it again."""
    if not (actor.is_superuser or is_organizer(user=actor, community_id=listing.community_id)):
        raise RuleViolation("Only an organizer of this community can do that.", code="forbidden")
    model = type(listing)
    if status not in model.Status.values:
        raise ValidationError({"status": "Choose open or closed."})
    listing = model.objects.select_for_update().get(pk=listing.pk)
    if status == model.Status.OPEN and listing.expires_at <= timezone.now():
        raise ValidationError({"status": "It has expired; only its author can renew it."})
    if model is Request and status == model.Status.OPEN and not listing.is_open:
        _refuse_too_many_open_requests(member=listing.member, community=listing.community, excluding=listing.pk)
    model.objects.filter(pk=listing.pk).update(status=status, updated_at=timezone.now())
    listing.refresh_from_db()
    if status == model.Status.CLOSED:
        Match.objects.filter(**{model._meta.model_name: listing}).delete()
    else:
        _after_commit_match(model._meta.model_name, listing.pk)
    return listing


def listing_visibility_changed(*, listing: Offer | Request) -> None:
    """Moderation hid or restored ``listing`` (called inside its transaction): a hidden
    one leaves matching at once, a restored one is matched again after commit."""
    kind = type(listing)._meta.model_name
    if listing.is_hidden:
        Match.objects.filter(**{kind: listing}).delete()
    else:
        _after_commit_match(kind, listing.pk)


def listings_close_expired(*, now: datetime | None = None) -> int:
    """Close open offers and requests past their expiry and drop their matches (nightly)."""
    now = now or timezone.now()
    closed = 0
    with transaction.atomic():
        for model in (Offer, Request):
            expired = model.objects.filter(status=model.Status.OPEN, expires_at__lte=now)
            ids = list(expired.values_list("pk", flat=True))
            closed += model.objects.filter(pk__in=ids).update(status=model.Status.CLOSED)
            Match.objects.filter(**{f"{model._meta.model_name}__in": ids}).delete()
    return closed


# --- matching --------------------------------------------------------------------------
def _box(latitude: float, longitude: float, km: float) -> dict:
    dlat = km / 111.195
    dlng = km / (111.195 * max(math.cos(math.radians(latitude)), 0.01))
    return {
        "latitude__gte": latitude - dlat,
        "latitude__lte": latitude + dlat,
        "longitude__gte": longitude - dlng,
        "longitude__lte": longitude + dlng,
    }


def _balances(community_id: int, user_ids: set[int]) -> dict[int, Decimal]:
    from apps.ledger.models import Account

    return dict(
        Account.objects.filter(community_id=community_id, currency="HOUR", owner_id__in=user_ids).values_list(
            "owner_id", "balance"
        )
    )


def _trust(user_ids: set[int]) -> dict[int, Decimal | None]:
    from apps.reputation.models import TrustScore

    return dict(TrustScore.objects.filter(user_id__in=user_ids).values_list("user_id", "score"))


def _sides(model, ids: list[int], community_id: int) -> dict[int, tuple[object, matching.Side]]:
    """Load listings and everything scoring needs in a fixed number of queries."""
    listings = {
        listing.pk: listing
        for listing in model.objects.filter(pk__in=ids).only(
            "id",
            "member_id",
            "latitude",
            "longitude",
            "remote_ok",
            "community_id",
            *(("travel_km",) if model is Offer else ("wanted_from", "wanted_until")),
        )
    }
    through = model.skills.through
    key = f"{model._meta.model_name}_id"
    skills: dict[int, set[int]] = {pk: set() for pk in listings}
    categories: dict[int, set[int]] = {pk: set() for pk in listings}
    for listing_id, skill_id, category_id in through.objects.filter(**{f"{key}__in": ids}).values_list(
        key, "skill_id", "skill__category_id"
    ):
        skills[listing_id].add(skill_id)
        categories[listing_id].add(category_id)
    tags: dict[int, set[int]] = {pk: set() for pk in listings}
    for listing_id, tag_id in model.tags.through.objects.filter(**{f"{key}__in": ids}).values_list(key, "tag_id"):
        tags[listing_id].add(tag_id)
    windows: dict[int, list] = {pk: [] for pk in listings}
    if model is Offer:
        for offer_id, weekday, start, end in AvailabilityWindow.objects.filter(offer_id__in=ids).values_list(
            "offer_id", "weekday", "start", "end"
        ):
            windows[offer_id].append((weekday, start, end))
    members = {listing.member_id for listing in listings.values()}
    balances = _balances(community_id, members)
    trust = _trust(members) if model is Offer else {}
    sides = {}
    for pk, listing in listings.items():
        sides[pk] = (
            listing,
            matching.Side(
                skills=frozenset(skills[pk]),
                categories=frozenset(categories[pk]),
                tags=frozenset(tags[pk]),
                latitude=float(listing.latitude) if listing.latitude is not None else None,
                longitude=float(listing.longitude) if listing.longitude is not None else None,
                remote_ok=listing.remote_ok,
                balance=balances.get(listing.member_id, Decimal(0)),
                trust=trust.get(listing.member_id),
                travel_km=float(listing.travel_km) if model is Offer else 0.0,
                windows=tuple(windows[pk]),
                wanted_from=getattr(listing, "wanted_from", None),
                wanted_until=getattr(listing, "wanted_until", None),
            ),
        )
    return sides


def _relevant(model, side: matching.Side):
    """Listings sharing a category (which includes the exact skills) or a tag, as
    EXISTS subqueries (no join fan-out, no DISTINCT)."""
    key = f"{model._meta.model_name}_id"
    condition = Exists(
        model.skills.through.objects.filter(**{key: OuterRef("pk")}, skill__category_id__in=side.categories)
    )
    if side.tags:
        condition |= Exists(model.tags.through.objects.filter(**{key: OuterRef("pk")}, tag_id__in=side.tags))
    return condition


def _exact(model, side: matching.Side):
    key = f"{model._meta.model_name}_id"
    return Exists(model.skills.through.objects.filter(**{key: OuterRef("pk")}, skill_id__in=side.skills))


def _where(side: matching.Side, km: float) -> Q | None:
    """Near enough (a bounding box the index can use), or remote on both sides."""
    where = None
    if side.latitude is not None and side.longitude is not None:
        where = Q(**_box(side.latitude, side.longitude, km))
    if side.remote_ok:
        where = Q(remote_ok=True) if where is None else where | Q(remote_ok=True)
    return where


def _within_travel(side: matching.Side) -> Q:
    """Offers whose own travel radius reaches the point, as a per-row box: the helper's
    ``travel_km`` in degrees of latitude and (at this latitude) of longitude."""
    lat, lng = Decimal(str(side.latitude)), Decimal(str(side.longitude))
    km_per_lat = Decimal("111.195")
    km_per_lng = km_per_lat * Decimal(str(max(math.cos(math.radians(side.latitude)), 0.01)))
    reach_lat = ExpressionWrapper(F("travel_km") / Value(km_per_lat), output_field=DecimalField())
    reach_lng = ExpressionWrapper(F("travel_km") / Value(km_per_lng), output_field=DecimalField())
    return Q(
        latitude__gte=Value(lat) - reach_lat,
        latitude__lte=Value(lat) + reach_lat,
        longitude__gte=Value(lng) - reach_lng,
        longitude__lte=Value(lng) + reach_lng,
    )


def candidate_offers(request: Request, side: matching.Side, *, now: datetime) -> list[int]:
    """Ids of at most ``MAX_CANDIDATES`` open offers that could match: same community,
    not the requester's, a shared category or tag, and either within the helper's own
    travel radius (a box inside the widest radius, which the index narrows first) or
    remote on both sides. One query; never the whole table."""
    where = None
    if side.latitude is not None and side.longitude is not None:
        where = Q(**_box(side.latitude, side.longitude, MAX_TRAVEL_KM)) & _within_travel(side)
    if side.remote_ok:
        where = Q(remote_ok=True) if where is None else where | Q(remote_ok=True)
    if where is None:
        return []
    # Offers naming an exact skill first, so the cap never drops them for related ones.
    return list(
        Offer.objects.filter(
            community_id=request.community_id, status=Offer.Status.OPEN, expires_at__gt=now, is_hidden=False
        )
        .exclude(member_id=request.member_id)
        .filter(_relevant(Offer, side))
        .filter(where)
        .alias(exact=_exact(Offer, side))
        .order_by("-exact", "-updated_at", "-id")
        .values_list("id", flat=True)[:MAX_CANDIDATES]
    )


def candidate_requests(offer: Offer, side: matching.Side, *, now: datetime) -> list[int]:
    """Ids of at most ``MAX_CANDIDATES`` open requests this offer could serve."""
    where = _where(side, float(offer.travel_km))
    if where is None:
        return []
    return list(
        Request.objects.filter(
            community_id=offer.community_id, status=Request.Status.OPEN, expires_at__gt=now, is_hidden=False
        )
        .exclude(member_id=offer.member_id)
        .filter(_relevant(Request, side))
        .filter(where)
        .alias(exact=_exact(Request, side))
        .order_by("-exact", "-updated_at", "-id")
        .values_list("id", flat=True)[:MAX_CANDIDATES]
    )


def _save_matches(request: Request, scored: list[tuple[int, matching.Score]], *, now: datetime) -> list[Match]:
    """Keep exactly these (offer, score) pairs as the request's matches."""
    keep = dict(scored)
    Match.objects.filter(request=request).exclude(offer_id__in=keep).delete()
    existing = {m.offer_id: m for m in Match.objects.filter(request=request, offer_id__in=keep)}
    changed, new = [], []
    for offer_id, s in keep.items():
        match = existing.get(offer_id)
        if match is None:
            new.append(
                Match(
                    request=request,
                    offer_id=offer_id,
                    score=Decimal(str(s.total)),
                    parts=s.parts,
                    reasons=s.reasons,
                    created_at=now,
                    updated_at=now,
                )
            )
        elif match.score != Decimal(str(s.total)).quantize(Decimal("0.0001")) or match.reasons != s.reasons:
            match.score, match.parts, match.reasons, match.updated_at = Decimal(str(s.total)), s.parts, s.reasons, now
            changed.append(match)
    Match.objects.bulk_create(new, ignore_conflicts=True)
    Match.objects.bulk_update(changed, ["score", "parts", "reasons", "updated_at"])
    return list(Match.objects.filter(request=request))


def _claim_requester_notice(request_id: int) -> bool:
    """One of the ``REQUESTER_MATCH_NOTICES`` of a request, claimed with a conditional UPDATE."""
    return bool(
        Request.objects.filter(pk=request_id, match_notices__lt=REQUESTER_MATCH_NOTICES).update(
            match_notices=F("match_notices") + 1
        )
    )


def _claim_helper_notice(user_id: int, *, now: datetime) -> bool:
    """One of the helper's ``HELPER_MATCH_NOTICES_PER_DAY`` for today, claimed with a
    conditional UPDATE on their quota row (made on first use), so concurrent runs never
    pass the limit."""
    day = timezone.localdate(now)
    MatchNoticeQuota.objects.bulk_create([MatchNoticeQuota(user_id=user_id, day=day)], ignore_conflicts=True)
    return bool(
        MatchNoticeQuota.objects.filter(user_id=user_id, day=day, used__lt=HELPER_MATCH_NOTICES_PER_DAY).update(
            used=F("used") + 1
        )
    )


def _notify_good(request_id: int | None = None, offer_id: int | None = None, *, now: datetime) -> int:
    """Tell both sides of each good match, once and within bounds, best matches first.

    Each match is claimed by setting ``notified_at`` with a conditional UPDATE, so nobody
    hears of one match twice. Then the requester is told if the request still has one of
    its ``REQUESTER_MATCH_NOTICES``, the helper if they still have one of today's
    ``HELPER_MATCH_NOTICES_PER_DAY``; each is claimed the same way. A match nobody is
    told about still shows on both Matches pages. Returns how many matches were claimed.
    """
    good = Match.objects.filter(notified_at__isnull=True, score__gte=Decimal(str(NOTIFY_THRESHOLD)))
    if request_id is not None:
        good = good.filter(request_id=request_id)
    if offer_id is not None:
        good = good.filter(offer_id=offer_id)
    told = 0
    for match in good.select_related("request__member__profile", "offer__member__profile").order_by("-score", "id"):
        if not Match.objects.filter(pk=match.pk, notified_at__isnull=True).update(notified_at=now):
            continue
        why = ", ".join(match.reasons)
        if _claim_requester_notice(match.request_id):
            notify(
                recipients=[match.request.member],
                kind="skills.match",
                actor=match.offer.member,
                target=match,
                text=f"{match.offer.member.public_name} can help with \u201c{match.request.title}\u201d ({why})",
            )
        if _claim_helper_notice(match.offer.member_id, now=now):
            notify(
                recipients=[match.offer.member],
                kind="skills.match",
                actor=match.request.member,
                target=match,
                text=f"{match.request.member.public_name} needs help you offer: "
                f"\u201c{match.request.title}\u201d ({why})",
            )
        told += 1
    return told


def match_request(*, request_id: int, now: datetime | None = None) -> list[Match]:
    """(Re)compute a request's best matches and tell both sides of new good ones.

    Reads a bounded candidate set (``candidate_offers``), scores each with
    ``matching.score``, keeps the best ``TOP_MATCHES`` at or above ``STORE_THRESHOLD``.
    Locking: holds SELECT FOR UPDATE on the request row, so two runs for one request
    apply one after the other; running it again writes nothing new and tells nobody twice.
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = Request.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            return []
        if not (request.status == Request.Status.OPEN and request.expires_at > now) or request.is_hidden:
            Match.objects.filter(request=request).delete()
            return []
        _, side = _sides(Request, [request.pk], request.community_id)[request.pk]
        offers = _sides(Offer, candidate_offers(request, side, now=now), request.community_id)
        scored = [(pk, matching.score(side, offer_side)) for pk, (_, offer_side) in offers.items()]
        best = sorted(
            ((pk, s) for pk, s in scored if s.total >= STORE_THRESHOLD), key=lambda pair: (-pair[1].total, pair[0])
        )[:TOP_MATCHES]
        matches = _save_matches(request, best, now=now)
        _notify_good(request_id=request.pk, now=now)
    return matches


def match_offer(*, offer_id: int, now: datetime | None = None) -> int:
    """Place a new or changed offer among the matches of the requests it could serve
    (each request keeps its best ``TOP_MATCHES``). Returns how many requests it matches."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = Offer.objects.select_for_update().filter(pk=offer_id).first()
        if offer is None:
            return 0
        if not (offer.status == Offer.Status.OPEN and offer.expires_at > now) or offer.is_hidden:
            Match.objects.filter(offer=offer).delete()
            return 0
        _, offer_side = _sides(Offer, [offer.pk], offer.community_id)[offer.pk]
        requests = _sides(Request, candidate_requests(offer, offer_side, now=now), offer.community_id)
        placed = 0
        qualifying = set()
        for request_id, (_request, side) in requests.items():
            s = matching.score(side, offer_side)
            if s.total < STORE_THRESHOLD:
                continue
            qualifying.add(request_id)
            current = list(Match.objects.filter(request_id=request_id).exclude(offer=offer).order_by("-score", "id"))
            if len(current) >= TOP_MATCHES and current[TOP_MATCHES - 1].score >= Decimal(str(s.total)):
                continue
            Match.objects.update_or_create(
                request_id=request_id,
                offer=offer,
                defaults={"score": Decimal(str(s.total)), "parts": s.parts, "reasons": s.reasons, "updated_at": now},
                create_defaults={
                    "score": Decimal(str(s.total)),
                    "parts": s.parts,
                    "reasons": s.reasons,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            for surplus in current[TOP_MATCHES - 1 :]:
                surplus.delete()
            placed += 1
        Match.objects.filter(offer=offer).exclude(request_id__in=qualifying).delete()
        _notify_good(offer_id=offer.pk, now=now)
    return placed


def match_all(*, now: datetime | None = None) -> int:
    """Nightly: rematch every open request (new offers, changed balances and trust)."""
    now = now or timezone.now()
    count = 0
    MatchNoticeQuota.objects.filter(day__lt=timezone.localdate(now) - timedelta(days=7)).delete()
    open_requests = Request.objects.filter(status=Request.Status.OPEN, expires_at__gt=now, is_hidden=False)
    for request_id in open_requests.values_list("pk", flat=True):
        match_request(request_id=request_id, now=now)
        count += 1
    return count


# --- sessions --------------------------------------------------------------------------
def _hour_account(user: User, community: Community):
    from apps.ledger.services import account_for

    return account_for(user=user, community=community, currency="HOUR")


def headroom(*, user: User, community: Community) -> tuple[Decimal, Decimal]:
    """(balance, limit) of the member's time account, what they see before booking.
    Read only: an account not opened yet is 0 with the community's default limit."""
    from apps.ledger.models import Account

    account = Account.objects.filter(owner=user, community=community, currency="HOUR").first()
    if account is None:
        return Decimal("0.00"), community.default_hour_limit
    return account.balance, account.limit


def _refuse_beyond_limit(*, learner: User, community: Community, hours: Decimal, you: bool) -> None:
    balance, limit = headroom(user=learner, community=community)
    if balance - hours < limit:
        who = "Your" if you else f"{learner.public_name}'s"
        raise RuleViolation(
            f"{who} time balance is {format_amount(balance, 'HOUR', signed=True)} with a limit of "
            f"{format_amount(limit, 'HOUR')}: {format_amount(hours, 'HOUR')} more would take it below the limit.",
            code="limit",
        )


def _clean_session(*, starts_at: datetime, planned_hours: Decimal, place: str, remote: bool) -> None:
    errors = {}
    if timezone.is_naive(starts_at):
        errors["starts_at"] = "Give the time with its timezone."
    elif starts_at <= timezone.now():
        errors["starts_at"] = "Choose a time in the future."
    elif starts_at > timezone.now() + timedelta(days=365):
        errors["starts_at"] = "Plan sessions at most a year ahead."
    if not (MIN_HOURS <= planned_hours <= MAX_HOURS):
        errors["planned_hours"] = f"Between {MIN_HOURS} and {MAX_HOURS} hours."
    if not remote and not place.strip():
        errors["place"] = "Say where you meet, or mark it remote."
    if len(place) > 200:
        errors["place"] = "At most 200 characters."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_propose(
    *,
    proposer: User,
    helper: User,
    learner: User,
    community: Community,
    title: str,
    starts_at: datetime,
    planned_hours: Decimal,
    place: str = "",
    remote: bool = False,
    request: Request | None = None,
    offer: Offer | None = None,
) -> Session:
    """One of the two (requester or helper) proposes a session; the other agrees
    (``session_accept``). Refused up front if the planned hours would take the learner
    below their time limit."""
    _clean_session(starts_at=starts_at, planned_hours=planned_hours, place=place, remote=remote)
    if proposer.pk not in (helper.pk, learner.pk):
        raise RuleViolation("Only the helper or the learner can propose their session.", code="forbidden")
    if helper.pk == learner.pk:
        raise RuleViolation("A session is between two different neighbors.", code="same_person")
    for person, doing in ((helper, "give sessions"), (learner, "book sessions")):
        _require_active_member(user=person, community=community, doing=doing)
    if request is not None and (request.member_id != learner.pk or request.community_id != community.pk):
        raise ValidationError({"request": "That request is not the learner's in this community."})
    if offer is not None and (offer.member_id != helper.pk or offer.community_id != community.pk):
        raise ValidationError({"offer": "That offer is not the helper's in this community."})
    if request is not None and request.is_hidden:
        raise ValidationError({"request": "That request was hidden by the organizers."})
    if offer is not None and offer.is_hidden:
        raise ValidationError({"offer": "That offer was hidden by the organizers."})
    _refuse_beyond_limit(learner=learner, community=community, hours=planned_hours, you=proposer.pk == learner.pk)
    session = Session.objects.create(
        helper=helper,
        community=community,
        request=request,
        offer=offer,
        title=title[:120] or (request.title if request else "Skill session"),
        starts_at=starts_at,
        planned_hours=planned_hours,
        place=place.strip(),
        remote=remote,
        capacity=1,
        proposed_by=proposer,
    )
    Seat.objects.create(session=session, learner=learner)
    other = learner if proposer.pk == helper.pk else helper
    notify(
        recipients=[other],
        kind="skills.session",
        actor=proposer,
        target=session,
        text=f"{proposer.public_name} proposes a session \u201c{session.title}\u201d on {format_when(starts_at)}",
    )
    return session


@transaction.atomic
def session_accept(*, session: Session, actor: User) -> Session:
    """The other party agrees to a proposed session."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    seat = session.seats.first()
    parties = {session.helper_id, seat.learner_id if seat else None}
    if actor.pk not in parties:
        raise RuleViolation("Only the helper or the learner can agree to this session.", code="forbidden")
    if actor.pk == session.proposed_by_id:
        raise RuleViolation("The other person agrees to what you proposed.", code="forbidden")
    if session.status != Session.Status.PROPOSED:
        raise RuleViolation(f"This session is {session.get_status_display().lower()}.", code="illegal_transition")
    if session.starts_at <= timezone.now():
        raise RuleViolation("This session's time has passed; propose a new one.", code="illegal_transition")
    Session.objects.filter(pk=session.pk).update(status=Session.Status.SCHEDULED)
    session.refresh_from_db()
    notify(
        recipients=[session.proposed_by],
        kind="skills.session",
        actor=actor,
        target=session,
        text=f"{actor.public_name} agreed to \u201c{session.title}\u201d on {format_when(session.starts_at)}",
    )
    return session


@transaction.atomic
def group_session_create(
    *,
    helper: User,
    community: Community,
    title: str,
    starts_at: datetime,
    planned_hours: Decimal,
    capacity: int,
    place: str = "",
    remote: bool = False,
    offer: Offer | None = None,
) -> Session:
    """A helper opens a group session (a repair café): learners join up to ``capacity``."""
    _clean_session(starts_at=starts_at, planned_hours=planned_hours, place=place, remote=remote)
    if not 2 <= capacity <= 30:
        raise ValidationError({"capacity": "A group session has 2 to 30 places."})
    if not title.strip():
        raise ValidationError({"title": "Give the session a title."})
    _require_active_member(user=helper, community=community, doing="give sessions")
    if offer is not None and offer.member_id != helper.pk:
        raise ValidationError({"offer": "That offer is not yours."})
    return Session.objects.create(
        helper=helper,
        community=community,
        offer=offer,
        title=title.strip()[:120],
        starts_at=starts_at,
        planned_hours=planned_hours,
        place=place.strip(),
        remote=remote,
        capacity=capacity,
        status=Session.Status.SCHEDULED,
        proposed_by=helper,
    )


@transaction.atomic
def seat_join(*, session: Session, learner: User) -> Seat:
    """Take a place at a group session. Locking: SELECT FOR UPDATE on the session row,
    so the last place goes to one learner."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    if not session.is_group:
        raise RuleViolation("This is a one-to-one session.", code="not_group")
    if session.status != Session.Status.SCHEDULED or session.starts_at <= timezone.now() or session.is_hidden:
        raise RuleViolation("This session is not open for joining.", code="illegal_transition")
    if learner.pk == session.helper_id:
        raise RuleViolation("You are the helper of this session.", code="same_person")
    _require_active_member(user=learner, community=session.community, doing="book sessions")
    _refuse_beyond_limit(learner=learner, community=session.community, hours=session.planned_hours, you=True)
    if session.seats.filter(learner=learner, status=Seat.Status.BOOKED).exists():
        raise RuleViolation("You already have a place.", code="already_joined")
    if session.seats.filter(status=Seat.Status.BOOKED).count() >= session.capacity:
        raise RuleViolation("This session is full.", code="full")
    seat, created = Seat.objects.get_or_create(session=session, learner=learner)
    if not created:
        Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.BOOKED)
        seat.refresh_from_db()
    notify(
        recipients=[session.helper],
        kind="skills.session",
        actor=learner,
        target=session,
        text=f"{learner.public_name} joined \u201c{session.title}\u201d",
    )
    return seat


@transaction.atomic
def session_cancel(*, session: Session, actor: User, reason: str = "") -> Session:
    """Call a session off before it starts: the helper (any session) or the learner of a
    one-to-one session. A learner leaves a group session with ``seat_leave``."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    learners = list(session.seats.filter(status=Seat.Status.BOOKED).select_related("learner__profile"))
    is_learner = not session.is_group and any(s.learner_id == actor.pk for s in learners)
    if actor.pk != session.helper_id and not is_learner:
        raise RuleViolation("Only the helper or the learner can cancel this session.", code="forbidden")
    if session.status not in (Session.Status.PROPOSED, Session.Status.SCHEDULED):
        raise RuleViolation(f"This session is {session.get_status_display().lower()}.", code="illegal_transition")
    if session.starts_at <= timezone.now():
        raise RuleViolation("A session can be cancelled only before it starts.", code="started")
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    session.seats.filter(status=Seat.Status.BOOKED).update(status=Seat.Status.LEFT)
    others = [s.learner for s in learners if s.learner_id != actor.pk]
    if actor.pk != session.helper_id:
        others.append(session.helper)
    notify(
        recipients=others,
        kind="skills.session",
        actor=actor,
        target=session,
        text=f"{actor.public_name} cancelled \u201c{session.title}\u201d" + (f": {reason[:200]}" if reason else ""),
    )
    session.refresh_from_db()
    return session


@transaction.atomic
def seat_leave(*, seat: Seat, actor: User) -> Seat:
    """A learner gives up their place at a group session before it starts."""
    seat = Seat.objects.select_for_update(of=("self",)).select_related("session").get(pk=seat.pk)
    if actor.pk != seat.learner_id:
        raise RuleViolation("Only the learner can give up their place.", code="forbidden")
    if seat.status != Seat.Status.BOOKED or seat.session.starts_at <= timezone.now():
        raise RuleViolation("This place can't be given up now.", code="illegal_transition")
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.LEFT)
    seat.refresh_from_db()
    return seat


def _clean_hours(hours) -> Decimal:
    try:
        hours = Decimal(str(hours)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ValidationError({"hours": "Give the hours as a number, e.g. 1.5."}) from None
    if not (Decimal(0) <= hours <= MAX_HOURS):
        raise ValidationError({"hours": f"Between 0 and {MAX_HOURS} hours."})
    return hours


def session_confirm(*, session: Session, actor: User, hours, learner: User | None = None) -> list[Seat]:
    """Confirm the hours a session actually took, after it started.

    A retry with the same figure returns the seats and changes nothing.
    The learner confirms their own seat; the helper confirms every booked seat (or only
    ``learner``'s). When both figures of a seat are in: if they differ by at most
    ``HOURS_TOLERANCE`` the lower counts and moves learner -> helper in HOUR through the
    ledger (idempotency key ``skills-session:<session>:<learner>``), so a retried or
    concurrent confirmation moves it once; a bigger difference makes the seat disputed
    for the organizers. Refused, changing nothing, if the hours would take the learner
    below their limit.

    Locking: SELECT FOR UPDATE on each seat row (then the ledger's own locks).
    """
    hours = _clean_hours(hours)
    with transaction.atomic():
        # The session row first (as every session service does), so concurrent
        # confirmations of a group session see each other's seats when completing it.
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("community", "helper__profile")
            .get(pk=session.pk)
        )
        is_helper = actor.pk == session.helper_id
        seats = Seat.objects.select_for_update(of=("self",)).filter(session=session)
        if is_helper:
            seats = seats.filter(learner=learner) if learner is not None else seats
        else:
            seats = seats.filter(learner=actor)
        seats = list(seats.select_related("learner__profile").order_by("pk"))
        if not seats:
            raise RuleViolation("Only the helper or a learner of this session can confirm it.", code="forbidden")
        field = "helper_hours" if is_helper else "learner_hours"
        if all(getattr(seat, field) == hours for seat in seats):
            return seats  # a retry of a confirmation already made: nothing more happens
        if session.status != Session.Status.SCHEDULED:
            raise RuleViolation(f"This session is {session.get_status_display().lower()}.", code="illegal_transition")
        if session.starts_at > timezone.now():
            raise RuleViolation("Confirm the hours after the session has taken place.", code="not_started")
        done = []
        for seat in seats:
            if seat.status != Seat.Status.BOOKED:
                if learner is not None or not is_helper:
                    raise RuleViolation(
                        f"This place is {seat.get_status_display().lower()} already.", code="illegal_transition"
                    )
                continue
            setattr(seat, field, hours)
            Seat.objects.filter(pk=seat.pk).update(**{field: hours})
            if seat.learner_hours is not None and seat.helper_hours is not None:
                _settle(seat=seat, session=session)
            done.append(seat)
        if not done:
            raise RuleViolation("Every place of this session is settled already.", code="illegal_transition")
        if not session.seats.filter(status=Seat.Status.BOOKED).exists():
            Session.objects.filter(pk=session.pk, status=Session.Status.SCHEDULED).update(
                status=Session.Status.COMPLETED
            )
    for seat in done:
        seat.refresh_from_db()
    return done


def _settle(*, seat: Seat, session: Session) -> None:
    from apps.ledger.services import transfer_create

    difference = abs(seat.learner_hours - seat.helper_hours)
    if difference > HOURS_TOLERANCE:
        _dispute(
            seat=seat,
            session=session,
            reason=f"The hours differ: {format_amount(seat.learner_hours, 'HOUR')} (learner) and "
            f"{format_amount(seat.helper_hours, 'HOUR')} (helper).",
            actor=None,
        )
        return
    hours = min(seat.learner_hours, seat.helper_hours)
    transfer = None
    if hours > 0:
        _refuse_beyond_limit(learner=seat.learner, community=session.community, hours=hours, you=False)
        transfer = transfer_create(
            source=_hour_account(seat.learner, session.community),
            target=_hour_account(session.helper, session.community),
            amount=hours,
            memo=f"{session.title[:150]} ({hours} h)",
            idempotency_key=f"skills-session:{session.pk}:{seat.learner_id}",
            kind="exchange",
            related=seat,
            created_by=None,
        )
    now = timezone.now()
    Seat.objects.filter(pk=seat.pk).update(
        status=Seat.Status.COMPLETED, hours=hours, transfer=transfer, completed_at=now
    )
    if transfer is None or transfer.was_created:
        notify(
            recipients=[seat.learner, session.helper],
            kind="skills.session",
            target=session,
            text=f"\u201c{session.title}\u201d: {format_amount(hours, 'HOUR')} moved from {seat.learner.public_name} "
            f"to {session.helper.public_name}.",
        )
        from apps.reputation.services import review_invite

        seat.completed_at = now
        review_invite(exchange=seat)


def _dispute(*, seat: Seat, session: Session, reason: str, actor: User | None) -> None:
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.DISPUTED, dispute_reason=reason[:500])
    seat.status = Seat.Status.DISPUTED
    notify(
        recipients=community_organizers(community_id=session.community_id),
        kind="moderation.flagged",
        actor=actor,
        target=session,
        text=f"A skill session is disputed: \u201c{session.title}\u201d ({session.helper.public_name} helping "
        f"{seat.learner.public_name}). {reason}"[:500],
    )
    notify(
        recipients=[p for p in (seat.learner, session.helper) if actor is None or p.pk != actor.pk],
        kind="skills.session",
        actor=actor,
        target=session,
        text=f"\u201c{session.title}\u201d is disputed; the organizers will look at it. {reason}"[:500],
    )


@transaction.atomic
def seat_dispute(*, seat: Seat, actor: User, reason: str) -> Seat:
    """Either person of a seat disputes it (before or after the hours moved); the
    organizers settle it (``dispute_settle``), once: their decision is final."""
    Session.objects.select_for_update().filter(pk=seat.session_id).first()  # session before seat, as confirm does
    seat = (
        Seat.objects.select_for_update(of=("self",))
        .select_related("session__helper__profile", "learner__profile")
        .get(pk=seat.pk)
    )
    session = seat.session
    if actor.pk not in (seat.learner_id, session.helper_id):
        raise RuleViolation("Only the helper or the learner can dispute this session.", code="forbidden")
    if not reason.strip():
        raise ValidationError({"reason": "Say what went wrong."})
    if seat.status not in (Seat.Status.BOOKED, Seat.Status.COMPLETED) or session.status == Session.Status.CANCELLED:
        raise RuleViolation("This session can't be disputed now.", code="illegal_transition")
    if seat.settled_at is not None:
        raise RuleViolation("The organizers have settled this session; their decision stands.", code="settled")
    if seat.completed_at is not None and seat.completed_at < timezone.now() - DISPUTE_WINDOW:
        raise RuleViolation(
            f"Sessions can be disputed up to {DISPUTE_WINDOW.days} days after the hours moved.", code="too_late"
        )
    if session.starts_at > timezone.now():
        raise RuleViolation("Cancel a session that hasn't happened instead of disputing it.", code="not_started")
    _dispute(seat=seat, session=session, reason=reason.strip(), actor=actor)
    seat.refresh_from_db()
    return seat


@transaction.atomic
def dispute_settle(*, seat: Seat, actor: User, hours, reason: str) -> Seat:
    """An organizer settles a disputed seat at ``hours``: hours that already moved are
    reversed (a reversing transfer), then the settled hours move, once."""
    from apps.ledger.services import transfer_create, transfer_reverse

    hours = _clean_hours(hours)
    Session.objects.select_for_update().filter(pk=seat.session_id).first()  # session before seat, as confirm does
    seat = (
        Seat.objects.select_for_update(of=("self",))
        .select_related("session__community", "learner", "transfer")
        .get(pk=seat.pk)
    )
    session = seat.session
    if not (actor.is_superuser or is_organizer(user=actor, community_id=session.community_id)):
        raise RuleViolation("Only an organizer of this community can settle disputes.", code="not_organizer")
    if not reason.strip():
        raise ValidationError({"reason": "Say how it was settled."})
    if seat.status != Seat.Status.DISPUTED:
        raise RuleViolation("Only a disputed session can be settled.", code="illegal_transition")
    if seat.transfer is not None:
        transfer_reverse(transfer=seat.transfer, actor=actor, reason=f"Dispute settled: {reason.strip()}"[:200])
    transfer = None
    if hours > 0:
        transfer = transfer_create(
            source=_hour_account(seat.learner, session.community),
            target=_hour_account(session.helper, session.community),
            amount=hours,
            memo=f"{session.title[:120]} (settled: {hours} h)",
            idempotency_key=f"skills-session:{session.pk}:{seat.learner_id}:settled",
            kind="exchange",
            related=seat,
            created_by=actor,
        )
    Seat.objects.filter(pk=seat.pk).update(
        status=Seat.Status.COMPLETED,
        hours=hours,
        transfer=transfer,
        completed_at=seat.completed_at or timezone.now(),
        settled_at=timezone.now(),
        dispute_reason=f"{seat.dispute_reason} Settled by an organizer: {reason.strip()}"[:500],
    )
    if not session.seats.filter(status__in=(Seat.Status.BOOKED, Seat.Status.DISPUTED)).exists():
        Session.objects.filter(pk=session.pk).update(status=Session.Status.COMPLETED)
    notify(
        recipients=[seat.learner, session.helper],
        kind="skills.session",
        actor=actor,
        target=session,
        text=(
            f"The organizers settled \u201c{session.title}\u201d at {format_amount(hours, 'HOUR')}: {reason.strip()}"
        )[:500],
    )
    seat.refresh_from_db()
    return seat
