"""Errors as JSON, always, in the shapes the schema names (``p2pcommons.api.schema``):
``FieldErrors`` for a 400, ``Problem`` for a 401, 403, 404 or 429, and a rule's
``detail`` + ``code`` (+ its data) for a 409."""

import math
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from p2pcommons.errors import RuleViolation
from p2pcommons.params import parse_id


def _messages(errors, prefix: str = "") -> list[str]:
    """Nested errors (a list field's items, a nested serializer's rows) as flat messages:
    ``{"0": ["Too long."]}`` becomes ``["Item 1: Too long."]``."""
    if isinstance(errors, dict):
        flat = []
        for key, value in errors.items():
            index = parse_id(str(key))
            label = _("Item %(number)s") % {"number": index + 1} if index is not None else str(key)
            flat += _messages(value, f"{prefix}{label}: " if key != "non_field_errors" else prefix)
        return flat
    if isinstance(errors, list):
        if all(not isinstance(e, dict | list) for e in errors):
            return [f"{prefix}{e}" for e in errors]
        flat = []
        for i, value in enumerate(errors):
            flat += _messages(value, prefix + _("Item %(number)s") % {"number": i + 1} + ": ") if value else []
        return flat
    return [f"{prefix}{errors}"]


def _flatten(detail):
    """Every field's errors as a list of strings, as the schema (``FieldErrors``) says; errors
    that belong to no field (``ValidationError("...")`` raised by a view) are
    ``non_field_errors``, as DRF names those of a serializer."""
    if isinstance(detail, dict):
        return {field: _messages(value) for field, value in detail.items()}
    return {"non_field_errors": _messages(detail if isinstance(detail, list) else [detail])}


def _conflict(exc: RuleViolation) -> dict:
    """A rule's refusal: the sentence, its code, and the data a program may act on."""
    data = {
        key: serializers.DateTimeField().to_representation(value) if isinstance(value, datetime) else value
        for key, value in exc.data.items()
    }
    return {**data, "detail": str(exc), "code": exc.code}


def exception_handler(exc, context):
    """Map domain errors raised by services onto HTTP: 400 for bad input, 409 for rule
    conflicts, 429 with a plain message (and ``Retry-After``) when throttled."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    if isinstance(exc, exceptions.ValidationError):
        exc = exceptions.ValidationError(detail=_flatten(exc.detail))
    elif isinstance(exc, RuleViolation):
        return Response(_conflict(exc), status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    elif isinstance(exc, exceptions.Throttled):
        exc.detail = exceptions.ErrorDetail(_throttled_message(exc.wait), code="throttled")
    return drf_exception_handler(exc, context)


def _throttled_message(wait: float | None) -> str:
    """A plain sentence for a 429; ``Retry-After`` carries the seconds for programs."""
    if wait is None:
        return _("Too many requests of this kind. Please wait a little and try again.")
    minutes = max(1, math.ceil(wait / 60))
    return ngettext(
        "Too many requests of this kind. Please wait %(minutes)s minute and try again.",
        "Too many requests of this kind. Please wait %(minutes)s minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
