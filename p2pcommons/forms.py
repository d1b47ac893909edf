"""Form pieces every app's browser pages share: the date-time picker, accessible error
marking, showing what a service refused, and the communities a member may post in."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from apps.peers.models import Community, Membership, User
from p2pcommons.errors import RuleViolation

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's date-and-time picker. Its value has no offset: the form reads it in
    the current timezone (Django's ``DateTimeField`` does that for naive input)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


class AccessibleErrorsMixin:
    """Mark each field that has an error so screen readers announce it with its message
    (``aria-invalid``, ``aria-describedby`` pointing at the error text of ``_field.html``),
    and show what a service refused on the right field."""

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}_errors"

    def add_service_error(self, exc: ValidationError | RuleViolation) -> None:
        """Field errors on their fields, the rest on top of the form."""
        if isinstance(exc, RuleViolation):
            self.add_error(None, str(exc))
        elif hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, exc.messages)


def active_communities(user: User) -> QuerySet[Community]:
    """The communities where ``user`` is an active member, by name."""
    return Community.objects.filter(memberships__user=user, memberships__status=Membership.Status.ACTIVE).order_by(
        "name"
    )


SEARCH_SPAN = timedelta(days=5 * 365)


def within_search_span(moment: datetime | None) -> bool:
    """Whether a searched time is within five years of now: far-off dates (year 1, year
    9999) would overflow when converted to UTC or widened by a buffer."""
    return moment is None or abs(moment - timezone.now()) <= SEARCH_SPAN
