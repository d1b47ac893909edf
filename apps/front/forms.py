"""Forms of the front door: an organizer starting or stopping an exchange ("Use this
blueprint") for one of their communities.

The forms only read the input; who may start or stop is the service's question
(``apps.peers.exchanges``), so a community the person does not organize is refused there,
with the same sentence as on every other path.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy

from apps.peers.models import Community, CommunityExchange

RULES_MAX = CommunityExchange._meta.get_field("rules").max_length


class CommunityChoiceField(forms.ModelChoiceField):
    """A community by its name (its id travels in the form)."""

    def label_from_instance(self, obj: Community) -> str:
        return obj.name


class BlueprintUseForm(forms.Form):
    """Start using the exchange in a community, with the rules its members will read."""

    community = CommunityChoiceField(
        queryset=Community.objects.all(),
        label=gettext_lazy("Community"),
        empty_label=None,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the communities you organize.")},
    )
    rules = forms.CharField(
        label=gettext_lazy("Rules your members will read"),
        required=False,
        max_length=RULES_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "Prefilled with sensible rules: change them to fit your neighborhood, now or later on this page."
        ),
    )

    def __init__(self, *args, communities: Iterable[Community] | None = None, **kwargs) -> None:
        """``communities``: the ones to offer in the list (those the person organizes that do
        not use the exchange yet). A posted form accepts any community: the service decides."""
        super().__init__(*args, **kwargs)
        if communities is not None:
            self.offer(communities)

    def offer(self, communities: Iterable[Community]) -> None:
        """List these communities (already loaded: no query when the form is drawn)."""
        self.fields["community"].choices = [(c.pk, c.name) for c in sorted(communities, key=lambda c: c.name)]


class BlueprintRulesForm(BlueprintUseForm):
    """Change the rules of an exchange the community already uses (the same service:
    starting one in use changes only its rules)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].widget = forms.HiddenInput()


class BlueprintStopForm(forms.Form):
    """Stop using the exchange in a community (after the confirmation page)."""

    community = CommunityChoiceField(
        queryset=Community.objects.all(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": gettext_lazy("There is no such community.")},
    )
