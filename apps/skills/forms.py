"""Browser forms for the skill swap: shape only; the rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.models import Community, User
from p2pcommons.forms import AccessibleErrorsMixin, DateTimeLocalInput, active_communities

from .models import MAX_HOURS, MAX_SKILLS, MAX_WINDOWS, MIN_HOURS, WEEKDAYS, Offer, Skill, SkillCategory

MAX_TAG_TEXT = 400


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


def hours_input(step: str = "0.25") -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step, "inputmode": "decimal"})


def skills_of_communities(community_ids: list[int]) -> QuerySet[Skill]:
    """Active site-wide skills and those of these communities, by category then name."""
    return (
        Skill.objects.filter(Q(community__isnull=True) | Q(community_id__in=community_ids), is_active=True)
        .select_related("category", "community")
        .order_by("category__name", "name", "id")
    )


class GroupedSkillIterator(ModelChoiceIterator):
    """Skills as ``<optgroup>``s, one per category, from the one query of the queryset
    (which must be ordered by category)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[str, list] = {}
        for skill in self.queryset:
            groups.setdefault(skill.category.name, []).append(self.choice(skill))
        yield from groups.items()


class SkillLabelMixin:
    iterator = GroupedSkillIterator

    def label_from_instance(self, obj: Skill) -> str:
        if obj.community_id:
            return _("%(skill)s (%(community)s only)") % {"skill": obj.name, "community": obj.community.name}
        return obj.name


class SkillMultipleChoiceField(SkillLabelMixin, forms.ModelMultipleChoiceField):
    """Skills, at most ``MAX_SKILLS``: a longer list is refused before it is looked up."""

    def clean(self, value):
        if isinstance(value, (list, tuple)) and len(value) > MAX_SKILLS:
            raise ValidationError(_("Choose at most %(n)s skills.") % {"n": MAX_SKILLS}, code="max_length")
        return super().clean(value)


class SkillChoiceField(SkillLabelMixin, forms.ModelChoiceField):
    pass


def split_tags(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


# --- the directory -----------------------------------------------------------------------
class DirectoryFilterForm(AccessibleErrorsMixin, forms.Form):
    """The search form of the directory (GET); the tabs choose offers or requests."""

    q = forms.CharField(
        required=False,
        max_length=100,
        label=gettext_lazy("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("bike, sourdough, Excel…")}),
    )
    category = forms.ModelChoiceField(
        queryset=SkillCategory.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        label=gettext_lazy("Category"),
        empty_label=gettext_lazy("All categories"),
    )
    # By id: two communities may each add a skill with the same slug.
    skill = SkillChoiceField(
        queryset=Skill.objects.none(),
        required=False,
        label=gettext_lazy("Skill"),
        empty_label=gettext_lazy("Any skill"),
    )
    community = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("Community"), empty_label=gettext_lazy("All my communities")
    )
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
        communities = active_communities(user)
        self.fields["community"].queryset = communities
        self.community_ids = list(communities.values_list("pk", flat=True))
        self.fields["skill"].queryset = skills_of_communities(self.community_ids)
        if not has_location:
            self.fields["radius_km"].help_text = _("Set your approximate location on your profile to search near you.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("radius_km") is not None and not self.has_location:
            self.add_error("radius_km", _("Set your approximate location on your profile first."))
        return cleaned


# --- offers and requests -----------------------------------------------------------------
class ListingForm(AccessibleErrorsMixin, forms.Form):
    """What offers and requests share. ``community`` is chosen when posting and fixed after."""

    community = forms.ModelChoiceField(queryset=None, empty_label=None, label=gettext_lazy("Community"))
    title = forms.CharField(max_length=120, label=gettext_lazy("Title"))
    description = forms.CharField(
        max_length=3000, required=False, label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 4})
    )
    skills = SkillMultipleChoiceField(
        queryset=Skill.objects.none(),
        label=gettext_lazy("Skills"),
        help_text=format_lazy(gettext_lazy("Up to {n}. Hold Ctrl (or ⌘) to choose more than one."), n=MAX_SKILLS),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    tags = forms.CharField(
        required=False,
        label=gettext_lazy("Tags"),
        max_length=MAX_TAG_TEXT,
        help_text=gettext_lazy("Separated by commas, e.g. “fixie, gears”."),
    )
    remote_ok = forms.BooleanField(required=False, label=gettext_lazy("Can happen by video or phone"))

    def __init__(self, *args, user: User, listing=None, **kwargs):
        super().__init__(*args, **kwargs)
        community = self.fields["community"]
        if listing is not None:
            community.queryset = Community.objects.filter(pk=listing.community_id)
            community.initial = listing.community_id
            community.disabled = True
            community.help_text = _("A listing stays in its community.")
            skill_ids = [listing.community_id]
        else:
            community.queryset = active_communities(user)
            skill_ids = list(community.queryset.values_list("pk", flat=True))
        self.fields["skills"].queryset = skills_of_communities(skill_ids)

    def clean_tags(self) -> list[str]:
        return split_tags(self.cleaned_data["tags"])


def listing_initial(listing) -> dict:
    return {
        "community": listing.community_id,
        "title": listing.title,
        "description": listing.description,
        "skills": [skill.pk for skill in listing.skills.all()],
        "tags": ", ".join(tag.name for tag in listing.tags.all()),
        "remote_ok": listing.remote_ok,
    }


class OfferForm(ListingForm):
    travel_km = forms.DecimalField(
        min_value=Decimal("0"),
        max_value=Decimal("50"),
        decimal_places=1,
        initial=Decimal("3.0"),
        label=gettext_lazy("How far you go to help (km)"),
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )

    field_order = ("community", "title", "description", "skills", "tags", "travel_km", "remote_ok")

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "skills": list(data["skills"]),
            "tags": data["tags"],
            "travel_km": data["travel_km"],
            "remote_ok": data["remote_ok"],
        }


class RequestForm(ListingForm):
    wanted_from = forms.DateField(widget=DateInput, label=gettext_lazy("Wanted from"))
    wanted_until = forms.DateField(widget=DateInput, label=gettext_lazy("Wanted until"))
    estimated_hours = forms.DecimalField(
        min_value=MIN_HOURS,
        max_value=MAX_HOURS,
        decimal_places=2,
        initial=Decimal("1.00"),
        label=gettext_lazy("About how many hours"),
        widget=hours_input(),
    )

    field_order = (
        "community",
        "title",
        "description",
        "skills",
        "tags",
        "wanted_from",
        "wanted_until",
        "estimated_hours",
        "remote_ok",
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("wanted_from"), cleaned.get("wanted_until")
        if start and end and end < start:
            self.add_error("wanted_until", _("The last day must be on or after the first."))
        return cleaned

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "skills": list(data["skills"]),
            "tags": data["tags"],
            "wanted_from": data["wanted_from"],
            "wanted_until": data["wanted_until"],
            "estimated_hours": data["estimated_hours"],
            "remote_ok": data["remote_ok"],
        }


class WindowForm(AccessibleErrorsMixin, forms.Form):
    """One weekly time range. A row left empty is skipped; a half-filled one is an error."""

    weekday = forms.TypedChoiceField(
        choices=[("", "—"), *((str(n), day) for n, day in enumerate(WEEKDAYS))],
        coerce=int,
        empty_value=None,
        required=False,
        label=gettext_lazy("Day"),
    )
    start = forms.TimeField(required=False, widget=TimeInput, label=gettext_lazy("From"))
    end = forms.TimeField(required=False, widget=TimeInput, label=gettext_lazy("Until"))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = [cleaned.get("weekday"), cleaned.get("start"), cleaned.get("end")]
        if all(value is None for value in values):
            return cleaned
        if any(value is None for value in values):
            raise ValidationError(_("Give the day, the start and the end, or leave the row empty."))
        if cleaned["end"] <= cleaned["start"]:
            self.add_error("end", _("Must be after the start."))
        return cleaned

    @property
    def window(self):
        data = getattr(self, "cleaned_data", None) or {}
        if data.get("weekday") is None:
            return None
        return (data["weekday"], data["start"], data["end"])


BLANK_WINDOWS = 3
WindowFormSet = forms.formset_factory(
    WindowForm, extra=BLANK_WINDOWS, max_num=MAX_WINDOWS, absolute_max=MAX_WINDOWS, validate_max=True
)


def window_formset(data=None, offer: Offer | None = None):
    initial = None
    if offer is not None:
        initial = [{"weekday": w.weekday, "start": w.start, "end": w.end} for w in offer.windows.all()]
    return WindowFormSet(data, initial=initial, prefix="windows")


def windows_of(formset) -> list:
    return [form.window for form in formset.forms if form.window is not None]


# --- sessions ----------------------------------------------------------------------------
class SessionForm(AccessibleErrorsMixin, forms.Form):
    """A one-to-one session: when, how long, where (the service checks the rest)."""

    title = forms.CharField(max_length=120, label=gettext_lazy("Title"))
    starts_at = forms.DateTimeField(widget=DateTimeLocalInput, label=gettext_lazy("Starts at"))
    planned_hours = forms.DecimalField(
        min_value=MIN_HOURS,
        max_value=MAX_HOURS,
        decimal_places=2,
        label=gettext_lazy("Planned hours"),
        widget=hours_input(),
    )
    place = forms.CharField(
        max_length=200,
        required=False,
        label=gettext_lazy("Place"),
        help_text=gettext_lazy("Where you meet; leave empty if it is remote."),
    )
    remote = forms.BooleanField(required=False, label=gettext_lazy("Remote (video or phone)"))

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("title", "starts_at", "planned_hours", "place", "remote")}


class GroupSessionForm(SessionForm):
    """A group session (a repair café) that I give and neighbors join."""

    community = forms.ModelChoiceField(queryset=None, empty_label=None, label=gettext_lazy("Community"))
    capacity = forms.IntegerField(
        min_value=2, max_value=30, initial=6, label=gettext_lazy("Places"), help_text=gettext_lazy("2 to 30 learners.")
    )
    offer = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=gettext_lazy("None"), label=gettext_lazy("For my offer (optional)")
    )

    field_order = ("community", "title", "offer", "starts_at", "planned_hours", "capacity", "place", "remote")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = active_communities(user)
        self.fields["offer"].queryset = Offer.objects.filter(member=user, status=Offer.Status.OPEN).order_by("title")

    def clean(self):
        cleaned = super().clean()
        offer, community = cleaned.get("offer"), cleaned.get("community")
        if offer is not None and community is not None and offer.community_id != community.pk:
            self.add_error("offer", _("That offer is in another community."))
        return cleaned


class ConfirmForm(AccessibleErrorsMixin, forms.Form):
    """The hours one place at a session actually took."""

    hours = forms.DecimalField(
        min_value=Decimal("0"),
        max_value=MAX_HOURS,
        decimal_places=2,
        label=gettext_lazy("Hours it took"),
        widget=hours_input(),
    )


class DisputeForm(AccessibleErrorsMixin, forms.Form):
    """Why the hours of one place at a session are wrong (the organizers settle it)."""

    reason = forms.CharField(
        max_length=500,
        label=gettext_lazy("What went wrong"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Say what went wrong.")},
    )


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False, label=gettext_lazy("Reason (optional)"))
