"""Matching: which open offers could help which open requests, scored by
``apps.skills.matching`` (pure scoring), the best kept as ``Match`` rows, and both sides
told of good ones within bounds.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Value
from django.utils import timezone

from apps.notifications.services import notify
from p2pcommons.i18n import Message

from .. import matching
from ..models import AvailabilityWindow, Match, MatchNoticeQuota, Offer, Request

# How many candidates one listing reads at most, what is kept and what is told.
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
    # Who has no notice left: the counters only grow (today's, for helpers), so once a
    # claim fails it fails for the rest of this run; not asking again saves a query each.
    spent_requests: set[int] = set()
    spent_helpers: set[int] = set()
    for match in good.select_related("request__member__profile", "offer__member__profile").order_by("-score", "id"):
        if not Match.objects.filter(pk=match.pk, notified_at__isnull=True).update(notified_at=now):
            continue
        why = matching.reasons_message(match.reasons)
        if match.request_id in spent_requests or not _claim_requester_notice(match.request_id):
            spent_requests.add(match.request_id)
        else:
            notify(
                recipients=[match.request.member],
                kind="skills.match",
                actor=match.offer.member,
                target=match,
                text=Message(
                    "{name} can help with \u201c{title}\u201d ({why})",
                    name=match.offer.member.public_name,
                    title=match.request.title,
                    why=why,
                ),
            )
        if match.offer.member_id in spent_helpers or not _claim_helper_notice(match.offer.member_id, now=now):
            spent_helpers.add(match.offer.member_id)
        else:
            notify(
                recipients=[match.offer.member],
                kind="skills.match",
                actor=match.request.member,
                target=match,
                text=Message(
                    "{name} needs help you offer: \u201c{title}\u201d ({why})",
                    name=match.request.member.public_name,
                    title=match.request.title,
                    why=why,
                ),
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
    (each request keeps its best ``TOP_MATCHES``). Returns how many requests it matches.

    A fixed number of queries however many requests it reaches: their current matches
    are read at once, and the placements, updates and displaced matches written in bulk."""
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
        qualifying = {}
        for request_id, (_request, side) in requests.items():
            s = matching.score(side, offer_side)
            if s.total >= STORE_THRESHOLD:
                qualifying[request_id] = s
        placed = _place_offer(offer, qualifying, now=now)
        Match.objects.filter(offer=offer).exclude(request_id__in=qualifying).delete()
        _notify_good(offer_id=offer.pk, now=now)
    return placed


def _place_offer(offer: Offer, qualifying: dict[int, matching.Score], *, now: datetime) -> int:
    """Put ``offer`` among the matches of each qualifying request where it beats the
    request's ``TOP_MATCHES``-th other match (or the request has fewer), dropping the
    matches it pushes out; an offer that doesn't make it keeps any match it had."""
    others: dict[int, list[Match]] = {pk: [] for pk in qualifying}
    for match in (
        Match.objects.filter(request_id__in=qualifying)
        .exclude(offer=offer)
        .order_by("request_id", "-score", "id")
        .only("id", "request_id", "score")
    ):
        others[match.request_id].append(match)
    existing = {m.request_id: m for m in Match.objects.filter(offer=offer, request_id__in=qualifying)}
    new, changed, displaced = [], [], []
    for request_id, s in qualifying.items():
        current, score = others[request_id], Decimal(str(s.total))
        if len(current) >= TOP_MATCHES and current[TOP_MATCHES - 1].score >= score:
            continue
        match = existing.get(request_id)
        if match is None:
            new.append(
                Match(
                    request_id=request_id,
                    offer=offer,
                    score=score,
                    parts=s.parts,
                    reasons=s.reasons,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            match.score, match.parts, match.reasons, match.updated_at = score, s.parts, s.reasons, now
            changed.append(match)
        displaced += [m.pk for m in current[TOP_MATCHES - 1 :]]
    Match.objects.bulk_create(new, ignore_conflicts=True)
    Match.objects.bulk_update(changed, ["score", "parts", "reasons", "updated_at"])
    if displaced:
        Match.objects.filter(pk__in=displaced).delete()
    return len(new) + len(changed)


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
