"""Browser forms of the neighbouring-communities pages: shape only; the rules live in
``apps.federation.services`` (and ``apps.ledger.clearing`` for a neighbour's limit)."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.ledger.models import Currency
from p2pcommons.forms import AccessibleErrorsMixin, DateTimeLocalInput, within_search_span

# "riverside@example.org", "@riverside@example.org" or "acct:riverside@example.org":
# a name, an @, a host (with an optional port). The service looks it up.
HANDLE = re.compile(r"^(?:acct:|@)?(?P<name>[A-Za-z0-9_.~-]{1,100})@(?P<host>[A-Za-z0-9.-]{1,253}(?::\d{1,5})?)$")
# The most credit organizers may let one neighbouring community owe (the ledger's own
# floor still applies in the service).
MAX_NEIGHBOUR_LIMIT = Decimal("100000")


class FollowForm(AccessibleErrorsMixin, forms.Form):
    """Follow a community on another server by the handle its organizers gave you."""

    handle = forms.CharField(
        max_length=360,
        label=gettext_lazy("Their community's address"),
        help_text=gettext_lazy("Ask their organizers for it. It looks like riverside@example.org."),
        widget=forms.TextInput(attrs={"placeholder": "riverside@example.org", "autocapitalize": "none"}),
    )

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"].strip()
        if not HANDLE.match(handle):
            raise forms.ValidationError(_("Write the address as name@server, for example riverside@example.org."))
        return handle.removeprefix("acct:").removeprefix("@")


class LimitForm(AccessibleErrorsMixin, forms.Form):
    """How much one neighbouring community may owe us in one currency.

    Organizers think of it as a positive amount ("they may owe us up to 50 credits"); the
    ledger keeps it as the clearing account's (negative) limit. ``peers`` are the
    neighbours this community clears with (uri -> name): any other uri is refused here.
    """

    peer = forms.CharField(widget=forms.HiddenInput, max_length=500)
    currency = forms.ChoiceField(choices=Currency.choices, widget=forms.HiddenInput)
    amount = forms.DecimalField(
        min_value=Decimal("0"),
        max_value=MAX_NEIGHBOUR_LIMIT,
        decimal_places=2,
        label=gettext_lazy("They may owe us at most"),
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "decimal", "min": "0"}),
    )

    def __init__(self, *args, peers: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.peers = peers

    def clean_peer(self) -> str:
        peer = self.cleaned_data["peer"]
        if peer not in self.peers:
            raise forms.ValidationError(_("This community does not clear with that neighbour."))
        return peer

    @property
    def limit(self) -> Decimal:
        """The clearing account's limit: the amount below zero."""
        return -self.cleaned_data["amount"]


class BorrowForm(AccessibleErrorsMixin, forms.Form):
    """Ask to borrow a tool of a neighbouring community for a window (their server checks
    notice, length and overlap, and their owner answers)."""

    starts_at = forms.DateTimeField(widget=DateTimeLocalInput, label=gettext_lazy("From"))
    ends_at = forms.DateTimeField(widget=DateTimeLocalInput, label=gettext_lazy("Until"))
    message = forms.CharField(
        required=False,
        max_length=500,
        label=gettext_lazy("Message to the owner (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        for name in ("starts_at", "ends_at"):
            if not within_search_span(cleaned.get(name)):
                self.add_error(name, _("Choose a date within five years from now."))
                cleaned.pop(name, None)
        start, end = cleaned.get("starts_at"), cleaned.get("ends_at")
        if start is not None and end is not None and end <= start:
            self.add_error("ends_at", _("The end must be after the start."))
        return cleaned


class OptInForm(forms.Form):
    """Appear on other servers, or stop appearing there."""

    opt_in = forms.TypedChoiceField(
        choices=(("1", gettext_lazy("Yes")), ("0", gettext_lazy("No"))),
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
