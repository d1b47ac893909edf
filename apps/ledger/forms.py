"""Browser forms for the ledger: shape only; rules live in services."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy

from apps.peers.models import Membership, User
from p2pcommons.forms import AccessibleErrorsMixin, active_communities

from .models import Currency


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.public_name


class SendForm(AccessibleErrorsMixin, forms.Form):
    """Send credits to a member of one of my communities.

    ``key`` is an idempotency key minted when the form is shown, so a double click or a
    resubmitted page sends once.
    """

    community = forms.ModelChoiceField(queryset=None, empty_label=None, label=gettext_lazy("Community"))
    recipient = MemberChoiceField(queryset=None, label=gettext_lazy("To"))
    currency = forms.ChoiceField(choices=Currency.choices, initial=Currency.HOUR, label=gettext_lazy("Currency"))
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), label=gettext_lazy("Amount")
    )
    memo = forms.CharField(
        max_length=200,
        required=False,
        label=gettext_lazy("What for"),
        help_text=gettext_lazy(
            "Kept for good in the community's ledger, which anyone can check: no addresses or other personal details."
        ),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        communities = active_communities(user)
        self.fields["community"].queryset = communities
        self.fields["recipient"].queryset = (
            User.objects.filter(
                is_active=True,
                memberships__community__in=communities,
                memberships__status=Membership.Status.ACTIVE,
            )
            .exclude(pk=user.pk)
            .select_related("profile")
            .distinct()
            .order_by("profile__display_name", "id")
        )
        if not self.is_bound:
            self.initial["key"] = uuid.uuid4().hex
