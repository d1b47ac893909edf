"""Browser forms of the energy market: shape only; the rules live in ``services``.

Quantities are typed in kWh (what the pages show) and handed to the services as whole
Wh; prices in credits per kWh as ``Decimal``. A service's refusal lands on the field it
names: the services speak of ``quantity_wh`` and ``slot_start``, these forms of
``quantity_kwh`` and ``slot`` (``SERVICE_FIELDS``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.models import User
from p2pcommons.errors import RuleViolation
from p2pcommons.forms import AccessibleErrorsMixin, DateTimeLocalInput, active_communities
from p2pcommons.humanize import format_when_short

from .models import MAX_CAPACITY_W, MAX_INTERVAL_WH, MAX_ORDER_WH, MAX_PRICE, Meter, Order, slot_end

WH_PER_KWH = Decimal(1000)
# The services' field names, and the fields of these forms that carry their errors.
SERVICE_FIELDS = {"quantity_wh": "quantity_kwh", "slot_start": "slot", "note": "reason"}
SIDE_CHOICES = [("sell", gettext_lazy("Sell")), ("buy", gettext_lazy("Buy"))]


class SolarForm(AccessibleErrorsMixin, forms.Form):
    # Forms sharing one page (the meter's) need their own ids: set ``field_ids`` to "reading_%s" etc.
    field_ids = "id_%s"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", self.field_ids)
        super().__init__(*args, **kwargs)

    def add_service_error(self, exc: ValidationError | RuleViolation) -> None:
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            exc = ValidationError({SERVICE_FIELDS.get(name, name): errors for name, errors in exc.error_dict.items()})
        super().add_service_error(exc)


def kwh_field(label: str, help_text: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0.001"),
        max_value=Decimal(MAX_ORDER_WH) / WH_PER_KWH,
        max_digits=10,
        decimal_places=3,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
    )


def price_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=gettext_lazy("Price limit, in credits per kWh"),
        min_value=Decimal(0),
        max_value=MAX_PRICE,
        max_digits=10,
        decimal_places=4,
        help_text=gettext_lazy(
            "Buying: the most you pay. Selling: the least you accept. "
            "Everyone in a quarter hour trades at one price, between the two."
        ),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class MeterChoiceField(forms.ModelChoiceField):
    """My meters as "Roof panels (sells)", with the community's name when they are in
    several (``several`` is set by the form)."""

    several = False

    def label_from_instance(self, obj: Meter) -> str:
        does = obj.get_kind_display().split("(")[-1].rstrip(")")
        return f"{obj.name} ({does}, {obj.community.name})" if self.several else f"{obj.name} ({does})"


def set_meters(field: MeterChoiceField, user: User) -> None:
    field.queryset = my_active_meters(user)
    field.several = len({meter.community_id for meter in field.queryset}) > 1


def my_active_meters(user: User):
    return (
        Meter.objects.filter(owner=user, status=Meter.Status.ACTIVE).select_related("community").order_by("name", "pk")
    )


def slot_label(start: datetime) -> str:
    """ "Tue 24 Nov, 14:15 to 14:30" in the site's time zone."""
    return _("%(start)s to %(end)s") % {
        "start": format_when_short(start),
        "end": f"{timezone.localtime(slot_end(start)):%H:%M}",
    }


def slot_value(start: datetime) -> str:
    return start.astimezone(UTC).isoformat()


class SlotField(forms.Field):
    """A quarter hour, chosen from the next ones still taking orders. Any quarter hour
    sent is read (one that closed since the page was shown is the service's to refuse,
    in words), so the choice is a select, not a closed list."""

    widget = forms.Select

    def to_python(self, value):
        if value in self.empty_values:
            return None
        moment = parse_datetime(str(value)) if isinstance(value, str) else None
        if moment is None or timezone.is_naive(moment):
            raise ValidationError(_("Choose a quarter hour from the list."), code="invalid")
        return moment


class OrderForm(SolarForm):
    meter = MeterChoiceField(queryset=Meter.objects.none(), label=gettext_lazy("Meter"), empty_label=None)
    slot = SlotField(label=gettext_lazy("Quarter hour"))
    side = forms.ChoiceField(choices=SIDE_CHOICES, label=gettext_lazy("Buy or sell"))
    quantity_kwh = kwh_field(
        gettext_lazy("How much, in kWh"), gettext_lazy("For one quarter hour, e.g. 0.5 for 500 Wh.")
    )
    limit_price = price_field()

    def __init__(self, *args, user: User, starts: list[datetime], **kwargs):
        super().__init__(*args, **kwargs)
        set_meters(self.fields["meter"], user)
        choices = [(slot_value(start), slot_label(start)) for start in starts]
        # A quarter hour sent that is no longer offered stays selected, so the refusal reads next to it.
        sent = self.data.get(self.add_prefix("slot")) if self.is_bound else self.initial.get("slot")
        moment = parse_datetime(sent) if isinstance(sent, str) else None
        if moment is not None and timezone.is_aware(moment) and slot_value(moment) not in dict(choices):
            choices.insert(0, (sent, slot_label(moment)))
        self.fields["slot"].widget.choices = choices

    @property
    def quantity_wh(self) -> int:
        return int(self.cleaned_data["quantity_kwh"] * WH_PER_KWH)


class OrderChangeForm(SolarForm):
    quantity_kwh = kwh_field(gettext_lazy("How much, in kWh"), gettext_lazy("For the whole quarter hour."))
    limit_price = price_field()

    @property
    def quantity_wh(self) -> int:
        return int(self.cleaned_data["quantity_kwh"] * WH_PER_KWH)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self):
        super().__init__(attrs={"step": "900"}, format="%H:%M")


class StandingForm(SolarForm):
    meter = MeterChoiceField(queryset=Meter.objects.none(), label=gettext_lazy("Meter"), empty_label=None)
    side = forms.ChoiceField(choices=SIDE_CHOICES, label=gettext_lazy("Buy or sell"))
    quantity_kwh = kwh_field(gettext_lazy("How much each quarter hour, in kWh"), gettext_lazy("e.g. 0.25 for 250 Wh."))
    limit_price = price_field()
    from_time = forms.TimeField(
        label=gettext_lazy("From (time of day)"), widget=TimeInput(), help_text=gettext_lazy("On the quarter hour.")
    )
    until_time = forms.TimeField(
        label=gettext_lazy("Until (time of day)"), widget=TimeInput(), help_text=gettext_lazy("The same day, later.")
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        set_meters(self.fields["meter"], user)

    @property
    def quantity_wh(self) -> int:
        return int(self.cleaned_data["quantity_kwh"] * WH_PER_KWH)


class MeterForm(SolarForm):
    community = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Community"), empty_label=None)
    name = forms.CharField(
        max_length=80, label=gettext_lazy("Name"), help_text=gettext_lazy("For you, e.g. 'Roof panels' or 'Flat 3'.")
    )
    kind = forms.ChoiceField(choices=Meter.Kind.choices, label=gettext_lazy("What it measures"))
    peak_capacity_w = forms.IntegerField(
        min_value=1,
        max_value=MAX_CAPACITY_W,
        label=gettext_lazy("Peak power, in watts"),
        help_text=gettext_lazy("For panels: their peak rating, e.g. 4000. For a home: its connection, e.g. 8000."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    latitude = forms.DecimalField(
        required=False,
        min_value=-90,
        max_value=90,
        decimal_places=6,
        label=gettext_lazy("Latitude (optional)"),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    longitude = forms.DecimalField(
        required=False,
        min_value=-180,
        max_value=180,
        decimal_places=6,
        label=gettext_lazy("Longitude (optional)"),
        help_text=gettext_lazy("Kept rounded to about 500 m, like your profile's area."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = active_communities(user)


class ReadingForm(SolarForm):
    field_ids = "reading_%s"
    interval_start = forms.DateTimeField(
        label=gettext_lazy("Quarter hour starting at"),
        widget=DateTimeLocalInput(attrs={"step": "900"}),
        help_text=gettext_lazy("Local time, on the quarter hour (:00, :15, :30 or :45)."),
    )
    imported_wh = forms.IntegerField(
        min_value=0,
        max_value=MAX_INTERVAL_WH,
        label=gettext_lazy("Wh in (taken from the grid)"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    exported_wh = forms.IntegerField(
        min_value=0,
        max_value=MAX_INTERVAL_WH,
        label=gettext_lazy("Wh out (sent to the grid)"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    correct = forms.BooleanField(
        required=False,
        label=gettext_lazy("Correct an earlier reading (replace what was recorded for this quarter hour)"),
    )


class UploadForm(SolarForm):
    field_ids = "upload_%s"
    file = forms.FileField(
        label=gettext_lazy("CSV file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"})
    )
    correct = forms.BooleanField(required=False, label=gettext_lazy("Correct earlier readings that differ"))


class TokenForm(SolarForm):
    field_ids = "token_%s"
    label = forms.CharField(
        max_length=80,
        label=gettext_lazy("Which device is it for?"),
        help_text=gettext_lazy("e.g. 'Pi in the hall cupboard'."),
    )


class SlotCancelForm(SolarForm):
    reason = forms.CharField(
        max_length=300,
        label=gettext_lazy("Why is it cancelled?"),
        help_text=gettext_lazy("Everyone with an order in it is told. Up to 300 characters."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def order_initial(order: Order) -> dict:
    """The change form's starting values: the order as it stands, without trailing zeros."""
    return {
        "quantity_kwh": f"{(Decimal(order.quantity_wh) / WH_PER_KWH).normalize():f}",
        "limit_price": f"{order.limit_price.normalize():f}",
    }
