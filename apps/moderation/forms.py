"""Browser forms for moderation: the report form behind every "Report" button."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from .models import TEXT_MAX_LENGTH, Reason


class ReportForm(forms.Form):
    """Shape only: what is reported, why, and where (for members). Rules live in services."""

    target_type = forms.CharField(widget=forms.HiddenInput, max_length=100)
    target_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)
    community = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1)
    reason = forms.ChoiceField(
        choices=[("", gettext_lazy("Choose a reason")), *Reason.choices], label=gettext_lazy("Reason")
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        label=gettext_lazy("What happened (optional)"),
    )

    def __init__(self, *args, communities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if communities is not None:
            # Reporting a member: say in which of the communities you share. (Content has
            # its own community; the service checks membership either way.)
            self.fields["community"] = forms.TypedChoiceField(
                coerce=int, choices=[(c.pk, c.name) for c in communities], label=gettext_lazy("In which community")
            )
