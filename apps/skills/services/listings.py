"""Offers and requests: posting, editing, renewing, closing and reopening them, their
expiry, and what moderation hiding one means for matching. Every change is matched again
after commit (``services.matching``). Who may close, reopen or renew one, and when, is
declared in ``apps.skills.transitions`` (``OFFER``, ``REQUEST``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.peers.guards import require_active_member, require_exchange_in_use, require_organizer
from apps.peers.models import Community, User
from apps.peers.selectors import membership_for_update
from p2pcommons.enqueue import enqueue_on_commit
from p2pcommons.errors import RuleViolation

from ..models import MAX_SKILLS, MAX_TAGS, MAX_WINDOWS, AvailabilityWindow, Match, Offer, Request, Skill, Tag
from ..transitions import LISTING_MACHINES, OFFER, PAST_DATES, REQUEST

logger = logging.getLogger(__name__)

# A member has at most this many open requests per community at a time.
MAX_OPEN_REQUESTS = 5
REQUEST_LIFETIME_AFTER_WANTED = timedelta(days=1)


def _clean_skills(skills: Iterable[Skill], community: Community) -> list[Skill]:
    skills = list(islice(skills, MAX_SKILLS + 1))  # never reads past the one too many
    if not skills:
        raise ValidationError({"skills": _("Choose at least one skill.")})
    if len(skills) > MAX_SKILLS:
        raise ValidationError({"skills": _("At most %(n)s skills.") % {"n": MAX_SKILLS}})
    for skill in skills:
        if not skill.is_active or skill.community_id not in (None, community.pk):
            raise ValidationError(
                {
                    "skills": _("%(skill)s is not a skill of %(community)s.")
                    % {"skill": skill.name, "community": community.name}
                }
            )
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
                raise ValidationError({"tags": _("At most %(n)s tags.") % {"n": MAX_TAGS}})
    if not cleaned:
        return []
    Tag.objects.bulk_create([Tag(name=slug) for slug in cleaned], ignore_conflicts=True)
    by_name = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    return [by_name[slug] for slug in cleaned]


def _clean_windows(windows: Iterable[tuple[int, time, time]]) -> list[tuple[int, time, time]]:
    windows = list(islice(windows, MAX_WINDOWS + 1))
    if len(windows) > MAX_WINDOWS:
        raise ValidationError({"windows": _("At most %(n)s time ranges.") % {"n": MAX_WINDOWS}})
    cleaned = []
    for weekday, start, end in windows:
        if not 0 <= weekday <= 6:
            raise ValidationError({"windows": _("A weekday is 0 (Monday) to 6 (Sunday).")})
        if end <= start:
            raise ValidationError({"windows": _("Each time range must end after it starts.")})
        cleaned.append((weekday, start, end))
    return cleaned


def _locate(listing, member: User) -> None:
    profile = getattr(member, "profile", None)
    listing.latitude = profile.approx_latitude if profile else None
    listing.longitude = profile.approx_longitude if profile else None


def _after_commit_match(kind: str, pk: int) -> None:
    """Match after commit. If the broker is unreachable the listing is matched by the
    nightly run instead; the member's save never fails for it."""
    from .. import tasks  # tasks import the services: imported when first needed

    task = tasks.match_request if kind == "request" else tasks.match_offer
    enqueue_on_commit(task, pk, waits_for="tonight's matching run")


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
    """Offer help ("I can help with ..."), in a community that uses the skill swap;
    matching runs for it after commit."""
    require_active_member(user=member, community=community, doing="offer help")
    require_exchange_in_use(community_id=community.pk, key="skills", doing="offer help")
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
        raise RuleViolation(_("Only the member who offered it can change it."), code="forbidden")
    allowed = {"title", "description", "travel_km", "remote_ok", "status"}
    if set(fields) - allowed:
        raise TypeError(f"Unknown offer fields: {sorted(set(fields) - allowed)}")
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    status = fields.pop("status", offer.status)
    if status == Offer.Status.OPEN:
        require_active_member(user=actor, community=offer.community, doing="offer help")
    if status != offer.status:
        # Closing or reopening (``OFFER``); reopening an expired offer renews it.
        step = "close" if status == Offer.Status.CLOSED else ("renew" if offer.is_expired else "reopen")
        OFFER.check(step, offer, actor)
    for name, value in fields.items():
        setattr(offer, name, value)
    offer.status = status
    if offer.status == Offer.Status.OPEN and offer.is_expired:
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
        errors["wanted_from"] = _("Ask for help at most a year ahead.")
    if wanted_until < wanted_from:
        errors["wanted_until"] = _("The last day must be on or after the first.")
    elif (wanted_until - wanted_from).days > 90:
        errors["wanted_until"] = _("Ask for at most 90 days at a time.")
    if creating and wanted_until < timezone.localdate():
        errors["wanted_until"] = _("That date has passed.")
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
    require_active_member(user=member, community=community, doing="ask for help")
    require_exchange_in_use(community_id=community.pk, key="skills", doing="ask for help")
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
    membership_for_update(user=member, community_id=community.pk)
    open_requests = Request.objects.filter(
        member=member, community=community, status=Request.Status.OPEN, expires_at__gt=timezone.now()
    )
    if excluding is not None:
        open_requests = open_requests.exclude(pk=excluding)
    if open_requests.count() >= MAX_OPEN_REQUESTS:
        raise RuleViolation(
            _(
                "You have %(n)s open requests in %(community)s, the most at one time. "
                "Close one you no longer need before asking for something else."
            )
            % {"n": MAX_OPEN_REQUESTS, "community": community.name},
            code="too_many_requests",
        )


def _request_expiry(wanted_until: date) -> datetime:
    end_of_day = datetime.combine(wanted_until, time(23, 59), tzinfo=timezone.get_current_timezone())
    return end_of_day + REQUEST_LIFETIME_AFTER_WANTED


@transaction.atomic
def request_update(*, request: Request, actor: User, skills=None, tags=None, **fields) -> Request:
    """The requester edits their request (``status`` closes it); new dates renew it."""
    if actor.pk != request.member_id:
        raise RuleViolation(_("Only the member who asked can change it."), code="forbidden")
    allowed = {"title", "description", "wanted_from", "wanted_until", "estimated_hours", "remote_ok", "status"}
    if set(fields) - allowed:
        raise TypeError(f"Unknown request fields: {sorted(set(fields) - allowed)}")
    request = Request.objects.select_for_update().get(pk=request.pk)
    was_open = request.is_open
    status = fields.pop("status", request.status)
    for name, value in fields.items():
        setattr(request, name, value)
    if "wanted_from" in fields or "wanted_until" in fields:
        _clean_request_dates(request.wanted_from, request.wanted_until, creating=True)
        request.expires_at = _request_expiry(request.wanted_until)
    if status == Request.Status.OPEN:
        require_active_member(user=actor, community=request.community, doing="ask for help")
    if status != request.status:
        # Closing or reopening (``REQUEST``), with the new dates if any: past dates are
        # the dates' error, on their field.
        refusal = REQUEST.refusal("close" if status == Request.Status.CLOSED else "reopen", request, actor)
        if refusal is not None and refusal.code == "expired":
            raise ValidationError({"wanted_until": str(refusal)})
        if refusal is not None:
            raise refusal
    request.status = status
    if request.status == Request.Status.OPEN:
        if request.is_expired:  # an open request edited: its dates must still be ahead
            raise ValidationError({"wanted_until": PAST_DATES})
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


def _step(listing: Offer | Request, actor: User, step: str) -> Offer | Request:
    """Close or reopen ``listing`` as its member: that step's own check (``OFFER`` /
    ``REQUEST``: only from the state it leaves), then the edit that does it (membership,
    an open offer's renewal, the cap on open requests, matching again). Reopening lists
    it again: only while the community uses the skill swap."""
    model = type(listing)
    machine = LISTING_MACHINES[model]
    listing = model.objects.select_for_update().get(pk=listing.pk)
    machine.check(step, listing, actor)
    if step == "reopen":
        doing = "offer help" if model is Offer else "ask for help"
        require_exchange_in_use(community_id=listing.community_id, key="skills", doing=doing)
    status = machine.by_name[step].target
    if model is Offer:
        return offer_update(offer=listing, actor=actor, status=status)
    return request_update(request=listing, actor=actor, status=status)


@transaction.atomic
def offer_close(*, offer: Offer, actor: User) -> Offer:
    """The helper closes their offer: nobody is matched with it any more."""
    return _step(offer, actor, "close")


@transaction.atomic
def offer_reopen(*, offer: Offer, actor: User) -> Offer:
    """The helper opens their closed offer again (an expired one is renewed instead)."""
    return _step(offer, actor, "reopen")


@transaction.atomic
def request_close(*, request: Request, actor: User) -> Request:
    """The requester closes their request."""
    return _step(request, actor, "close")


@transaction.atomic
def request_reopen(*, request: Request, actor: User) -> Request:
    """The requester opens their closed request again, while its dates are ahead."""
    return _step(request, actor, "reopen")


@transaction.atomic
def offer_renew(*, offer: Offer, actor: User) -> Offer:
    """Keep an offer open for another half year (``OFFER`` "renew": its member, in its
    last 30 days or once expired)."""
    offer = Offer.objects.select_for_update().select_related("community").get(pk=offer.pk)
    if actor.pk == offer.member_id:
        require_active_member(user=actor, community=offer.community, doing="offer help")
    require_exchange_in_use(community_id=offer.community_id, key="skills", doing="offer help")
    now = timezone.now()
    offer = OFFER.apply("renew", offer, actor, now=now, expires_at=now + Offer.LIFETIME, updated_at=now)
    _after_commit_match("offer", offer.pk)
    return offer


@transaction.atomic
def listing_set_status_by_organizer(*, listing: Offer | Request, actor: User, status: str) -> Offer | Request:
    """An organizer closes (e.g. after a report) or reopens an offer or request of their
    community. Closing drops its matches; reopening matches it again."""
    require_organizer(user=actor, community_id=listing.community_id)
    model = type(listing)
    if status not in model.Status.values:
        raise ValidationError({"status": _("Choose open or closed.")})
    listing = model.objects.select_for_update().get(pk=listing.pk)
    if status == model.Status.OPEN and listing.expires_at <= timezone.now():
        raise ValidationError({"status": _("It has expired; only its author can renew it.")})
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
