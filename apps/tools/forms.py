"""Browser forms for tool sharing: shape only; the rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.models import Community, User
from p2pcommons.forms import AccessibleErrorsMixin, DateTimeLocalInput, active_communities, within_search_span

from .models import ConditionReport, Tool
from .selectors import category_choices
from .services import TOOL_FIELDS


class ToolFilterForm(AccessibleErrorsMixin, forms.Form):
    """The search form of the browse page (GET)."""

    q = forms.CharField(
        required=False,
        max_length=100,
        label=gettext_lazy("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("drill, ladder, tent…")}),
    )
    # The slug of a category, from choices cached until a category changes (no query per
    # page); the same <select> and the same error as a ModelChoiceField by slug.
    category = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Category"),
        error_messages={"invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"]},
    )
    community = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=gettext_lazy("All my communities"), label=gettext_lazy("Community")
    )
    available_from = forms.DateTimeField(
        required=False, widget=DateTimeLocalInput, label=gettext_lazy("Available from")
    )
    available_to = forms.DateTimeField(required=False, widget=DateTimeLocalInput, label=gettext_lazy("Available until"))
    radius_km = forms.DecimalField(
        required=False,
        min_value=Decimal("0.1"),
        max_value=Decimal("100"),
        decimal_places=1,
        label=gettext_lazy("Near me (km)"),
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )

    def __init__(self, *args, user: User, has_location: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_location = has_location
        self.fields["community"].queryset = active_communities(user)
        self.fields["category"].choices = [("", _("All categories")), *category_choices()]
        if not has_location:
            self.fields["radius_km"].help_text = _("Set your approximate location on your profile to search near you.")

    def clean(self):
        cleaned = super().clean()
        for name in ("available_from", "available_to"):
            if not within_search_span(cleaned.get(name)):
                self.add_error(name, _("Choose a date within five years from now."))
                cleaned.pop(name, None)
        start, end = cleaned.get("available_from"), cleaned.get("available_to")
        if "available_from" not in self.errors and "available_to" not in self.errors:
            if (start is None) != (end is None):
                self.add_error("available_to", _("Give both the start and the end of the window."))
            elif start is not None and end <= start:
                self.add_error("available_to", _("The end must be after the start."))
        if cleaned.get("radius_km") is not None and not self.has_location:
            self.add_error("radius_km", _("Set your approximate location on your profile first."))
        return cleaned


class BookingForm(AccessibleErrorsMixin, forms.Form):
    """Ask to borrow a tool for a window (the service checks notice, length and overlap)."""

    starts_at = forms.DateTimeField(widget=DateTimeLocalInput, label=gettext_lazy("From"))
    ends_at = forms.DateTimeField(widget=DateTimeLocalInput, label=gettext_lazy("Until"))
    message = forms.CharField(
        required=False,
        max_length=500,
        label=gettext_lazy("Message to the owner (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The fee per day the page showed (empty: free), sent back so that a fee changed in
    # the meantime is refused instead of fixed on the loan unseen.
    fee_per_day = forms.DecimalField(required=False, min_value=Decimal("0"), decimal_places=2, widget=forms.HiddenInput)


class WaitlistJoinForm(forms.Form):
    """The window to wait for, carried over from a refused booking (ISO with offset)."""

    starts_at = forms.DateTimeField(widget=forms.HiddenInput)
    ends_at = forms.DateTimeField(widget=forms.HiddenInput)


class ToolForm(AccessibleErrorsMixin, forms.ModelForm):
    """List or edit a tool. Status is not here: pausing, resuming and retiring are their
    own buttons (retiring asks for confirmation first)."""

    FIELDSETS = (
        (gettext_lazy("The tool"), ("community", "title", "category", "condition", "description")),
        (
            gettext_lazy("Lending terms"),
            ("usage_rules", "deposit_note", "fee_per_day", "max_loan_days", "min_notice_hours"),
        ),
        (gettext_lazy("Between loans"), ("buffer_hours",)),
        (gettext_lazy("Automatic approval"), ("auto_approve", "auto_approve_min_score", "auto_approve_min_exchanges")),
    )

    class Meta:
        model = Tool
        fields = ("community", *(name for name in TOOL_FIELDS if name != "status"))
        labels = {
            "community": gettext_lazy("Community"),
            "title": gettext_lazy("Title"),
            "category": gettext_lazy("Category"),
            "condition": gettext_lazy("Condition"),
            "description": gettext_lazy("Description"),
            "fee_per_day": gettext_lazy("Fee per day (credits, optional)"),
            "max_loan_days": gettext_lazy("Longest loan (days)"),
            "min_notice_hours": gettext_lazy("Notice needed (hours)"),
            "buffer_hours": gettext_lazy("Buffer after each loan (hours)"),
            "usage_rules": gettext_lazy("Rules for borrowers"),
            "deposit_note": gettext_lazy("Deposit"),
            "auto_approve": gettext_lazy("Approve trusted neighbors automatically"),
            "auto_approve_min_score": gettext_lazy("Lowest trust score"),
            "auto_approve_min_exchanges": gettext_lazy("Fewest different neighbors exchanged with"),
        }
        help_texts = {"deposit_note": gettext_lazy("Optional, e.g. “a 20 € deposit, returned at the end”.")}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "usage_rules": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        community = self.fields["community"]
        if self.instance.pk:
            community.queryset = Community.objects.filter(pk=self.instance.community_id)
            community.disabled = True
            community.help_text = _("A listed tool stays in its community.")
        else:
            community.queryset = active_communities(user)
            community.empty_label = None
        self.fields["category"].empty_label = _("Choose a category")

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def service_fields(self) -> dict:
        """The cleaned values the services take, by name."""
        return {name: self.cleaned_data[name] for name in TOOL_FIELDS if name in self.cleaned_data}


class PhotoForm(AccessibleErrorsMixin, forms.Form):
    """One photo; the service checks that it is a real image and not too big."""

    image = forms.FileField(
        label=gettext_lazy("Photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy("JPEG, PNG or WebP, at most 8 MB. Location data in the file is removed."),
    )
    alt_text = forms.CharField(
        required=False,
        max_length=200,
        label=gettext_lazy("Describe the photo"),
        help_text=gettext_lazy("For neighbors using a screen reader, e.g. “Drill with two batteries in its case”."),
    )


class ConditionReportForm(AccessibleErrorsMixin, forms.Form):
    """The tool's state at pickup or return. ``stages`` are those the viewer may still
    report; the damage box is offered to the owner only at return."""

    stage = forms.ChoiceField(label=gettext_lazy("When"))
    condition = forms.ChoiceField(choices=ConditionReport.Condition.choices, label=gettext_lazy("Condition"))
    note = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), label=gettext_lazy("Note (optional)")
    )
    photo = forms.FileField(
        required=False,
        label=gettext_lazy("Photo (optional)"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    damage = forms.BooleanField(
        required=False,
        label=gettext_lazy("Report damage to the organizers"),
        help_text=gettext_lazy("Only at return. Describe the damage in the note."),
    )

    def __init__(self, *args, stages: list[str], allow_damage: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [(s, ConditionReport.Stage(s).label) for s in stages]
        if not allow_damage:
            del self.fields["damage"]
