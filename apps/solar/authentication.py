"""Device tokens on the API: a small device on a meter's P1 port posts that meter's
readings with ``Authorization: Device <token>``, and can do nothing else.

A device is not a member: it authenticates as an anonymous user carrying a
``DeviceCredential`` (the meter its token belongs to). Only the readings endpoints list
``DeviceTokenAuthentication``, so on every other endpoint the header means nothing and
the request is refused as not signed in (401); on the readings endpoints
``MemberOrOwnDevice`` lets a device POST only (readings or P1 telegrams), and the views
refuse a body naming another meter. A wrong, revoked or retired meter's token is 401.

Devices get a budget of their own, per token (``DeviceRateThrottle``), instead of the
members' write budgets: a meter posting every minute must not share a limit with a
neighbor's clicks, nor with other devices behind the same home router.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.settings import api_settings

from . import services
from .models import Meter

KEYWORD = "Device"
# The throttle rate's name in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]; without it a
# device gets the members' overall rate ("user"), counted per token.
DEVICE_RATE = "solar-device"


@dataclass(frozen=True)
class DeviceCredential:
    """What a device token proves: which meter it may post readings for."""

    meter: Meter
    token_hash: str  # tells tokens apart for the throttle, without keeping the secret

    def __str__(self) -> str:
        return f"device token of {self.meter}"


def device_key(request) -> str | None:
    """The token of an ``Authorization: Device <token>`` header, or None without one."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    keyword, _, key = header.partition(" ")
    if keyword.lower() != KEYWORD.lower():
        return None
    return key.strip()


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Device <token>``: the device of one meter (see the module docstring)."""

    def authenticate(self, request):
        key = device_key(request)
        if key is None:
            return None
        meter = services.device_token_meter(key=key)
        if meter is None:
            raise exceptions.AuthenticationFailed(
                _(
                    "This device token is not valid: it was revoked, its meter is no longer used, "
                    "or it was mistyped. Make a new one on the meter's page."
                )
            )
        return AnonymousUser(), DeviceCredential(meter=meter, token_hash=hashlib.sha256(key.encode()).hexdigest())

    def authenticate_header(self, request) -> str:
        return KEYWORD


def device_of(request) -> DeviceCredential | None:
    """The device making the request, or None for a member (or nobody)."""
    return request.auth if isinstance(request.auth, DeviceCredential) else None


class MemberOrOwnDevice(permissions.BasePermission):
    """A signed-in member, or a device for the view's ``device_actions`` (POSTs of its
    own meter's readings; the view checks the meter named in the body)."""

    message = "A device token can only post its own meter's readings."

    def has_permission(self, request, view) -> bool:
        if device_of(request) is not None:
            return request.method == "POST" and getattr(view, "action", None) in getattr(view, "device_actions", ())
        return bool(request.user and request.user.is_authenticated)


class DeviceRateThrottle(throttling.SimpleRateThrottle):
    """Requests of one device token (rate read at request time, like the others)."""

    scope = DEVICE_RATE

    def __init__(self) -> None:
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        self.rate = rates.get(DEVICE_RATE) or rates.get("user")
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request, view) -> str | None:
        device = device_of(request)
        if device is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": device.token_hash}


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = DeviceTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A meter's device token, made on the meter's page or with POST /api/v1/solar/meters/{id}/tokens/, "
                "sent as `Authorization: Device <token>`. It may only post that meter's readings "
                "(/api/v1/solar/readings/ and /api/v1/solar/readings/p1/); a revoked token, or one of a meter no "
                "longer used, is answered 401."
            ),
        }
