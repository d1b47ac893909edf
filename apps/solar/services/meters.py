"""Meters and the device tokens that post their readings."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.geo import approximate
from apps.peers.guards import require_active_member, require_exchange_in_use
from apps.peers.models import Community, User
from p2pcommons.errors import RuleViolation

from ..models import MAX_CAPACITY_W, DeviceToken, Meter
from ..transitions import METER

TOKEN_PREFIX = "p1m_"  # noqa: S105 - not a secret: tells a device token from a member's session token at a glance
MAX_METERS = 10  # per member and community: a home has one or two, a small building a few
MAX_TOKENS = 5  # live device tokens per meter


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def meter_register(
    *,
    owner: User,
    community: Community,
    name: str,
    kind: str,
    peak_capacity_w: int,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
) -> Meter:
    """Register a meter in a community the owner is an active member of. A location,
    if given, is stored rounded to about 500 m, like a profile's. Refused (``exchange_off``)
    where the community stopped using the exchange."""
    require_active_member(user=owner, community=community, doing="register a meter")
    require_exchange_in_use(community_id=community.pk, key="solar", doing="register a meter")
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the meter a name, e.g. 'Roof panels'.")
    if kind not in Meter.Kind.values:
        errors["kind"] = _("Choose whether it sells, buys or both.")
    if not isinstance(peak_capacity_w, int) or not 1 <= peak_capacity_w <= MAX_CAPACITY_W:
        errors["peak_capacity_w"] = _("Give the peak power in watts, between 1 and %(most)s.") % {
            "most": f"{MAX_CAPACITY_W:,}"
        }
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    elif latitude is not None and not (-90 <= Decimal(str(latitude)) <= 90 and -180 <= Decimal(str(longitude)) <= 180):
        errors["latitude"] = _("That is not a place on Earth.")
    if errors:
        raise ValidationError(errors)
    approx_lat = approx_lng = None
    if latitude is not None:
        approx_lat, approx_lng = approximate(latitude, longitude)
    with transaction.atomic():
        mine = Meter.objects.select_for_update().filter(owner=owner, community=community, status=Meter.Status.ACTIVE)
        if len(list(mine)) >= MAX_METERS:
            raise RuleViolation(
                _("You have %(count)s meters here already; stop using one first.") % {"count": MAX_METERS}, code="limit"
            )
        return Meter.objects.create(
            owner=owner,
            community=community,
            name=name[:80],
            kind=kind,
            peak_capacity_w=peak_capacity_w,
            approx_latitude=approx_lat,
            approx_longitude=approx_lng,
        )


def meter_retire(*, meter: Meter, actor: User) -> Meter:
    """The owner stops using a meter: no new orders, its device tokens stop working.
    Its open orders are cancelled (what already traded still settles from its readings)."""
    from .orders import order_cancel_all

    with transaction.atomic():
        meter = METER.apply("retire", meter, actor)
        DeviceToken.objects.filter(meter=meter, revoked_at__isnull=True).update(revoked_at=timezone.now())
        order_cancel_all(meter=meter, reason="The meter is no longer used.")
        return meter


def device_token_create(*, meter: Meter, actor: User, label: str) -> tuple[DeviceToken, str]:
    """A new token for one device of ``meter``; returns the row and the token itself,
    which is shown this once (only its hash is kept)."""
    if actor.pk != meter.owner_id:
        raise RuleViolation(_("Only the meter's owner can make a device token for it."), code="forbidden")
    if meter.status != Meter.Status.ACTIVE:
        raise RuleViolation(_("This meter is no longer used."), code="illegal_transition")
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": _("Say which device it is for, e.g. 'Pi in the hall cupboard'.")})
    with transaction.atomic():
        Meter.objects.select_for_update().filter(pk=meter.pk).first()
        live = DeviceToken.objects.filter(meter=meter, revoked_at__isnull=True).count()
        if live >= MAX_TOKENS:
            raise RuleViolation(
                _("This meter has %(count)s device tokens; revoke one you no longer use first.")
                % {"count": MAX_TOKENS},
                code="limit",
            )
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = DeviceToken.objects.create(meter=meter, label=label[:80], key_hash=_hash(key), prefix=key[:8])
    return token, key


def device_token_revoke(*, token: DeviceToken, actor: User) -> DeviceToken:
    """Stop a token at once (idempotent)."""
    if actor.pk != token.meter.owner_id:
        raise RuleViolation(_("Only the meter's owner can revoke its device tokens."), code="forbidden")
    DeviceToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def device_token_meter(*, key: str) -> Meter | None:
    """The active meter a live token may post readings for, or None (a wrong, revoked
    or retired meter's token). Marks the token used, at most once a minute."""
    if not key or not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    token = (
        DeviceToken.objects.select_related("meter")
        .filter(key_hash=_hash(key), revoked_at__isnull=True, meter__status=Meter.Status.ACTIVE)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.meter
