"""Micro Solar Exchange: neighbors sell surplus rooftop power to each other.

A member registers a **meter**; its **readings** say how much energy went in and out
in each 15-minute interval. Members place **orders** (buy or sell, Wh at a limit price
in credits per kWh) for a **slot**, a quarter hour of one community's market. At gate
closure the slot is cleared once (``apps/solar/clearing.py``): **trades** at one
clearing price. After the slot, the readings settle each trade: the delivered energy
is paid buyer -> seller in CREDIT through the ledger, once per trade.

Quantities are integer Wh, prices ``Decimal`` credits per kWh (4 places), never floats.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from p2pcommons.humanize import format_when, format_when_short

SLOT = timedelta(minutes=15)
GATE_CLOSURE = timedelta(minutes=5)  # orders for a slot close this long before it starts
ORDER_HORIZON = timedelta(days=7)  # how far ahead an order may be placed
# Readings for a slot settle it as soon as every trading meter has one, or at this
# deadline after the slot ends with whatever arrived (a missing reading delivered nothing).
SETTLE_DEADLINE = timedelta(hours=2)
PRICE = {"max_digits": 10, "decimal_places": 4}
MAX_PRICE = Decimal("1000")  # credits per kWh: far above any real price, refuses typos
MAX_ORDER_WH = 1_000_000  # 1 MWh in a quarter hour: far above any household
MAX_CAPACITY_W = 1_000_000
MAX_INTERVAL_WH = 1_000_000


def slot_end(start: datetime) -> datetime:
    return start + SLOT


def gate_closes_at(start: datetime) -> datetime:
    return start - GATE_CLOSURE


def capacity_wh(peak_w: int) -> int:
    """The most a meter of ``peak_w`` watts can deliver in one slot (a quarter hour)."""
    return peak_w // 4


class Meter(models.Model):
    """A member's electricity meter: the panels' output, the home's use, or both."""

    class Kind(models.TextChoices):
        PRODUCER = "producer", gettext_lazy("Solar panels (sells)")
        CONSUMER = "consumer", gettext_lazy("Home use (buys)")
        BOTH = "both", gettext_lazy("Both (sells and buys)")

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("In use")
        RETIRED = "retired", gettext_lazy("No longer used")

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="solar_meters")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="solar_meters")
    name = models.CharField(max_length=80, help_text=gettext_lazy("For you, e.g. 'Roof panels' or 'Flat 3'."))
    kind = models.CharField(max_length=10, choices=Kind.choices)
    peak_capacity_w = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY_W)],
        help_text=gettext_lazy("The most power it passes, in watts (for panels: their peak rating)."),
    )
    # Approximate only, like profiles: rounded to about 500 m by the service.
    approx_latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    approx_longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # The smart meter's equipment id, learnt from its first P1 telegram; a telegram of
    # another meter is refused.
    p1_equipment_id = models.CharField(max_length=96, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["owner_id", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(peak_capacity_w__gte=1) & Q(peak_capacity_w__lte=MAX_CAPACITY_W),
                name="solar_meter_capacity_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("solar:meter", args=[self.pk])

    @property
    def sells(self) -> bool:
        return self.kind in (self.Kind.PRODUCER, self.Kind.BOTH)

    @property
    def buys(self) -> bool:
        return self.kind in (self.Kind.CONSUMER, self.Kind.BOTH)

    @property
    def slot_capacity_wh(self) -> int:
        return capacity_wh(self.peak_capacity_w)


class DeviceToken(models.Model):
    """A secret a small device (a Raspberry Pi on the meter's P1 port) uses to post that
    one meter's readings, and nothing else. Only its SHA-256 is stored: the token is
    shown once, when made; revoking it stops it at once."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="device_tokens")
    label = models.CharField(max_length=80, help_text=gettext_lazy("Which device, e.g. 'Pi in the hall cupboard'."))
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text=gettext_lazy("The first characters, to tell tokens apart."))
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class MeterReading(models.Model):
    """Energy through one meter in one 15-minute interval (Wh in from the grid, Wh out).

    One per meter and interval. The same values again change nothing; other values are
    a correction, allowed (and kept in ``ReadingCorrection``) until the interval's slot
    is settled, refused after: a settled reading is never changed."""

    class Source(models.TextChoices):
        FORM = "form", gettext_lazy("Entered by hand")
        CSV = "csv", gettext_lazy("Uploaded file")
        DEVICE = "device", gettext_lazy("From a device")
        P1 = "p1", gettext_lazy("From the smart meter")
        DEMO = "demo", gettext_lazy("Demo data")

    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="readings")
    interval_start = models.DateTimeField()
    imported_wh = models.PositiveIntegerField(validators=[MaxValueValidator(MAX_INTERVAL_WH)])
    exported_wh = models.PositiveIntegerField(validators=[MaxValueValidator(MAX_INTERVAL_WH)])
    source = models.CharField(max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now)
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meter_id", "interval_start"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "interval_start"], name="solar_reading_one_per_interval"),
        ]

    def __str__(self) -> str:
        return f"{self.meter} {format_when_short(self.interval_start)}"


class ReadingCorrection(models.Model):
    """What a reading said before its owner corrected it (append-only history)."""

    reading = models.ForeignKey(MeterReading, on_delete=models.CASCADE, related_name="corrections")
    previous_imported_wh = models.PositiveIntegerField()
    previous_exported_wh = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return _("was %(imported)s Wh in, %(exported)s Wh out") % {
            "imported": self.previous_imported_wh,
            "exported": self.previous_exported_wh,
        }


class P1Boundary(models.Model):
    """A smart meter's cumulative registers at one quarter-hour boundary, as its P1
    telegrams said. Two consecutive boundaries make one interval reading; telegrams of
    one quarter hour may arrive in several posts."""

    meter = models.ForeignKey(Meter, on_delete=models.CASCADE, related_name="p1_boundaries")
    boundary = models.DateTimeField()
    taken_at = models.DateTimeField()
    imported_wh_total = models.BigIntegerField()
    exported_wh_total = models.BigIntegerField()

    class Meta:
        ordering = ["meter_id", "boundary"]
        constraints = [models.UniqueConstraint(fields=["meter", "boundary"], name="solar_p1_one_per_boundary")]

    def __str__(self) -> str:
        return format_when_short(self.boundary)


class Slot(models.Model):
    """A quarter hour of one community's market, made when its first order is placed."""

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open for orders")
        CLEARED = "cleared", gettext_lazy("Cleared")
        SETTLED = "settled", gettext_lazy("Settled")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="solar_slots")
    start = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    clearing_price = models.DecimalField(**PRICE, null=True, blank=True)
    volume_wh = models.PositiveBigIntegerField(default=0)
    buy_orders = models.PositiveIntegerField(default=0)
    sell_orders = models.PositiveIntegerField(default=0)
    cleared_at = models.DateTimeField(null=True, blank=True)
    # When its traders were told how their orders did: after the clearing commits, by a
    # task of its own (claimed by this field, so they are told once).
    traders_told_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start", "community_id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "start"], name="solar_slot_one_per_quarter"),
        ]
        indexes = [models.Index(fields=["status", "start"], name="solar_slot_status_start")]

    def __str__(self) -> str:
        return format_when(self.start)

    def get_absolute_url(self) -> str:
        return reverse("solar:slot", args=[self.pk])

    @property
    def end(self) -> datetime:
        return slot_end(self.start)

    @property
    def gate_closes_at(self) -> datetime:
        return gate_closes_at(self.start)

    @property
    def settle_deadline(self) -> datetime:
        return self.end + SETTLE_DEADLINE


class SlotEvent(models.Model):
    """What happened to a slot and who did it: cleared, settled, cancelled (with why)."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Slot.Status.choices)
    target = models.CharField(max_length=10, choices=Slot.Status.choices)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


class StandingOrder(models.Model):
    """'Sell up to X Wh every slot between 10:00 and 16:00 at >= p': the beat task turns
    it into an order for each upcoming slot in its hours (local time), once per slot."""

    class Side(models.TextChoices):
        BUY = "buy", gettext_lazy("Buy")
        SELL = "sell", gettext_lazy("Sell")

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Active")
        PAUSED = "paused", gettext_lazy("Paused")
        ENDED = "ended", gettext_lazy("Ended")

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="solar_standing")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="standing_orders")
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity_wh = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_ORDER_WH)])
    limit_price = models.DecimalField(**PRICE, validators=[MinValueValidator(Decimal("0"))])
    from_time = models.TimeField(help_text=gettext_lazy("The first slot of the day it orders for (local time)."))
    until_time = models.TimeField(help_text=gettext_lazy("It orders for slots starting before this time."))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity_wh__gte=1), name="solar_standing_quantity_positive"),
            models.CheckConstraint(condition=Q(limit_price__gte=0), name="solar_standing_price_not_negative"),
            models.CheckConstraint(condition=Q(from_time__lt=models.F("until_time")), name="solar_standing_hours"),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.quantity_wh} Wh {self.from_time:%H:%M}-{self.until_time:%H:%M}"


class Order(models.Model):
    """A bid (buy) or an offer (sell) of energy for one slot.

    Placed, changed and cancelled until gate closure; then the clearing fills it fully,
    partly or not at all. ``priority_at`` is its place in the queue among equal prices:
    set when placed and again when changed (a changed order goes to the back)."""

    Side = StandingOrder.Side

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")
        FILLED = "filled", gettext_lazy("Filled")
        PARTIAL = "partial", gettext_lazy("Partly filled")
        UNFILLED = "unfilled", gettext_lazy("Not filled")
        VOID = "void", gettext_lazy("Slot cancelled")

    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="orders")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="solar_orders")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="orders")
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity_wh = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_ORDER_WH)])
    limit_price = models.DecimalField(**PRICE, validators=[MinValueValidator(Decimal("0"))])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    filled_wh = models.PositiveIntegerField(default=0)
    standing = models.ForeignKey(StandingOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders")
    created_at = models.DateTimeField(default=timezone.now)
    priority_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-slot__start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity_wh__gte=1), name="solar_order_quantity_positive"),
            models.CheckConstraint(condition=Q(limit_price__gte=0), name="solar_order_price_not_negative"),
            models.CheckConstraint(
                condition=Q(filled_wh__lte=models.F("quantity_wh")), name="solar_order_not_overfilled"
            ),
            # A standing order makes at most one order per slot, whatever retries happen.
            models.UniqueConstraint(
                fields=["standing", "slot"], condition=Q(standing__isnull=False), name="solar_standing_once_per_slot"
            ),
        ]
        indexes = [models.Index(fields=["slot", "status"], name="solar_order_slot_status")]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.quantity_wh} Wh"

    def get_absolute_url(self) -> str:
        return reverse("solar:slot", args=[self.slot_id])


class Trade(models.Model):
    """Energy one seller sells one buyer in one slot at the slot's clearing price.

    Settled from the readings: ``delivered_wh`` is what arrived, ``amount`` what the
    buyer paid (``transfer``), or ``unpaid`` with the reason if the ledger refused."""

    class Status(models.TextChoices):
        CLEARED = "cleared", gettext_lazy("Waiting for meter readings")
        SETTLED = "settled", gettext_lazy("Settled")
        UNPAID = "unpaid", gettext_lazy("Not paid")
        VOID = "void", gettext_lazy("Slot cancelled")

    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="trades")
    seq = models.PositiveIntegerField(help_text=gettext_lazy("Its place in the slot's clearing (trade order)."))
    buy_order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="buy_trades")
    sell_order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="sell_trades")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="solar_buys")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="solar_sales")
    quantity_wh = models.PositiveIntegerField()
    price = models.DecimalField(**PRICE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CLEARED)
    delivered_wh = models.PositiveIntegerField(null=True, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    transfer = models.OneToOneField(
        "ledger.Transfer", on_delete=models.PROTECT, null=True, blank=True, related_name="solar_trade"
    )
    note = models.CharField(max_length=300, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-slot__start", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "seq"], name="solar_trade_seq_unique"),
            models.CheckConstraint(condition=Q(quantity_wh__gte=1), name="solar_trade_quantity_positive"),
            models.CheckConstraint(
                condition=Q(delivered_wh__isnull=True) | Q(delivered_wh__lte=models.F("quantity_wh")),
                name="solar_trade_delivered_within_sold",
            ),
        ]

    def __str__(self) -> str:
        return _("%(quantity)s Wh at %(price)s") % {"quantity": self.quantity_wh, "price": self.price}

    def get_absolute_url(self) -> str:
        return reverse("solar:slot", args=[self.slot_id])


class TradingDay(models.Model):
    """All the energy one seller delivered to one buyer on one day: the exchange the two
    can review each other for. Reputation counts it once per counterpart and day, so
    a hundred small trades weigh as one neighborly exchange, not a hundred."""

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    delivered_wh = models.PositiveBigIntegerField(default=0)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "seller", "buyer", "day"], name="solar_trading_day_once_per_pair"
            ),
        ]

    def __str__(self) -> str:
        return _("Energy on %(day)s") % {"day": f"{self.day:%d %b %Y}"}

    def get_absolute_url(self) -> str:
        return reverse("solar:trades")


class TradingSuspension(models.Model):
    """An organizer stopped a member trading in a community (recorded with why); lifted
    by setting ``lifted_at``. While it stands, the member places no orders."""

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "member"], condition=Q(lifted_at__isnull=True), name="solar_one_live_suspension"
            ),
        ]

    def __str__(self) -> str:
        return self.reason
