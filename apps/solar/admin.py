"""The solar market in the admin: organizers see their communities' meters, readings,
slots, orders and trades, and act on them only through the services.

Everything with a rule (orders, readings, trades, slots, meters, standing orders, device
tokens) is read-only here, superusers included: an edit would skip the checks the
services make (capacity, credit, gate closure, settled readings never change) and the
records they keep. What organizers do goes through actions that call a service and
are recorded: cancelling slots (with the reason, in the slot's events), stopping a
member's trading and letting them trade again (``TradingSuspension``, whose add form
calls ``trading_suspend`` rather than saving the row).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.admin_scoping import (
    CommunityScopedAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ScopedCommunityFilter,
    confirm_and_apply,
    when_column,
)
from apps.peers.models import User
from apps.peers.selectors import active_members_in, membership_of
from p2pcommons.errors import RuleViolation

from . import services
from .models import (
    DeviceToken,
    Meter,
    MeterReading,
    Order,
    ReadingCorrection,
    Slot,
    SlotEvent,
    StandingOrder,
    Trade,
    TradingSuspension,
)

_slot_starts = when_column("start", gettext_lazy("slot"))


class SlotReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Everyone with an order in the slot is told, and it is kept in the slot's events."),
    )


class SuspendReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("The member is told, and it is kept with the suspension."),
    )


# --- meters and readings ----------------------------------------------------------------
@admin.register(Meter)
class MeterAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Members register and retire their own meters; organizers look, and may stop a
    meter's owner trading (the action asks why)."""

    community_path = "community"
    list_display = (
        "name",
        "owner_name",
        "community",
        "kind",
        "peak_capacity_w",
        "status",
        when_column("created_at", gettext_lazy("registered")),
    )
    list_filter = ("kind", "status", ("community", ScopedCommunityFilter))
    search_fields = ("name", "owner__profile__display_name")
    list_select_related = ("owner__profile", "community")
    fields = (
        "name",
        "owner",
        "community",
        "kind",
        "peak_capacity_w",
        "approx_latitude",
        "approx_longitude",
        "status",
        "p1_equipment_id",
        "created_at",
    )
    actions = ["stop_trading"]

    @admin.display(description=gettext_lazy("owner"), ordering="owner__profile__display_name")
    def owner_name(self, obj: Meter) -> str:
        return obj.owner.public_name

    @admin.action(description=gettext_lazy("Stop trading for the owners of the selected meters"))
    def stop_trading(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset.select_related("owner__profile", "community"),
            form_class=SuspendReasonForm,
            title=_("Stop these members trading energy"),
            action="stop_trading",
            apply=lambda meter, reason: services.trading_suspend(
                community=meter.community, member=meter.owner, actor=request.user, reason=reason
            ),
            done=_("Stopped trading for {count} member(s); their open orders are cancelled."),
        )


class CorrectionInline(ReadOnlyInline):
    """What the reading said before each correction by its owner, oldest first."""

    model = ReadingCorrection
    fields = ("created_at", "previous_imported_wh", "previous_exported_wh")


@admin.register(MeterReading)
class MeterReadingAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Readings come from their meter's owner, a file or a device, and settle payments:
    never changed here."""

    community_path = "meter__community"
    list_display = (
        "meter",
        "owner_name",
        when_column("interval_start", gettext_lazy("quarter hour")),
        "imported_wh",
        "exported_wh",
        "source",
        when_column("corrected_at", gettext_lazy("corrected")),
    )
    list_filter = ("source", ("meter__community", ScopedCommunityFilter))
    search_fields = ("meter__name", "meter__owner__profile__display_name")
    list_select_related = ("meter__owner__profile",)
    date_hierarchy = "interval_start"
    fields = ("meter", "interval_start", "imported_wh", "exported_wh", "source", "created_at", "corrected_at")
    inlines = [CorrectionInline]

    @admin.display(description=gettext_lazy("owner"), ordering="meter__owner__profile__display_name")
    def owner_name(self, obj: MeterReading) -> str:
        return obj.meter.owner.public_name


@admin.register(DeviceToken)
class DeviceTokenAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Which devices may post a meter's readings. The secret's hash is never shown; only
    the meter's owner makes and revokes tokens."""

    community_path = "meter__community"
    list_display = (
        "label",
        "meter",
        "owner_name",
        "prefix",
        "is_active",
        when_column("created_at", gettext_lazy("made")),
        when_column("last_used_at", gettext_lazy("last used")),
        when_column("revoked_at", gettext_lazy("revoked")),
    )
    list_filter = (("meter__community", ScopedCommunityFilter),)
    search_fields = ("label", "meter__name", "meter__owner__profile__display_name")
    list_select_related = ("meter__owner__profile",)
    fields = ("label", "meter", "prefix", "created_at", "last_used_at", "revoked_at")  # never key_hash
    exclude = ("key_hash",)

    @admin.display(description=gettext_lazy("owner"), ordering="meter__owner__profile__display_name")
    def owner_name(self, obj: DeviceToken) -> str:
        return obj.meter.owner.public_name

    @admin.display(description=gettext_lazy("in use"), boolean=True)
    def is_active(self, obj: DeviceToken) -> bool:
        return obj.is_active


# --- the market -------------------------------------------------------------------------
class SlotEventInline(ReadOnlyInline):
    """The slot's timeline: cleared, settled, cancelled (with why), and by whom (empty:
    the platform)."""

    model = SlotEvent
    fields = ("created_at", "actor", "source", "target", "note")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor__profile")


class TradeInline(ReadOnlyInline):
    model = Trade
    fields = ("seq", "seller", "buyer", "quantity_wh", "price", "status", "delivered_wh", "amount", "note")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("seller__profile", "buyer__profile")


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Quarter hours of the market. Cleared and settled by the platform; an organizer
    may cancel one that is not settled yet (the action asks why, voids its orders and
    trades, tells everyone with an order, and records it in the slot's events)."""

    community_path = "community"
    list_display = (
        when_column("start", gettext_lazy("starts")),
        "community",
        "status",
        "clearing_price",
        "volume_wh",
        "buy_orders",
        "sell_orders",
        when_column("cleared_at", gettext_lazy("cleared")),
        when_column("settled_at", gettext_lazy("settled")),
    )
    list_filter = ("status", ("community", ScopedCommunityFilter))
    search_fields = ("community__name",)
    list_select_related = ("community",)
    date_hierarchy = "start"
    fields = (
        "community",
        "start",
        "status",
        "clearing_price",
        "volume_wh",
        "buy_orders",
        "sell_orders",
        "cleared_at",
        "settled_at",
        "cancelled_at",
    )
    inlines = [SlotEventInline, TradeInline]
    actions = ["cancel_slots"]

    @admin.action(description=gettext_lazy("Cancel the selected slots"))
    def cancel_slots(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=SlotReasonForm,
            title=_("Cancel these market slots"),
            action="cancel_slots",
            apply=lambda slot, reason: services.slot_cancel(slot=slot, actor=request.user, reason=reason),
            done=_("Cancelled {count} slot(s); their orders and trades are void and the traders are told."),
        )


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Members place, change and cancel their own orders until gate closure; the
    clearing fills them. Seen here, never edited."""

    community_path = "slot__community"
    list_display = (
        "slot_start",
        "member_name",
        "meter",
        "side",
        "quantity_wh",
        "limit_price",
        "status",
        "filled_wh",
        when_column("created_at", gettext_lazy("placed")),
    )
    list_filter = ("side", "status", ("slot__community", ScopedCommunityFilter))
    search_fields = ("member__profile__display_name", "meter__name")
    list_select_related = ("slot", "member__profile", "meter")
    fields = (
        "slot",
        "member",
        "meter",
        "side",
        "quantity_wh",
        "limit_price",
        "status",
        "filled_wh",
        "standing",
        "created_at",
        "priority_at",
        "cancelled_at",
    )

    @admin.display(description=gettext_lazy("slot"), ordering="slot__start")
    def slot_start(self, obj: Order) -> str:
        return _slot_starts(obj.slot)

    @admin.display(description=gettext_lazy("member"), ordering="member__profile__display_name")
    def member_name(self, obj: Order) -> str:
        return obj.member.public_name


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """What the clearing matched and the settlement paid (or why not)."""

    community_path = "slot__community"
    list_display = (
        "slot_start",
        "seq",
        "seller_name",
        "buyer_name",
        "quantity_wh",
        "price",
        "status",
        "delivered_wh",
        "amount",
        when_column("settled_at", gettext_lazy("settled")),
    )
    list_filter = ("status", ("slot__community", ScopedCommunityFilter))
    search_fields = ("seller__profile__display_name", "buyer__profile__display_name")
    list_select_related = ("slot", "seller__profile", "buyer__profile")
    fields = (
        "slot",
        "seq",
        "seller",
        "buyer",
        "sell_order",
        "buy_order",
        "quantity_wh",
        "price",
        "status",
        "delivered_wh",
        "amount",
        "transfer",
        "note",
        "settled_at",
    )

    @admin.display(description=gettext_lazy("slot"), ordering="slot__start")
    def slot_start(self, obj: Trade) -> str:
        return _slot_starts(obj.slot)

    @admin.display(description=gettext_lazy("seller"), ordering="seller__profile__display_name")
    def seller_name(self, obj: Trade) -> str:
        return obj.seller.public_name

    @admin.display(description=gettext_lazy("buyer"), ordering="buyer__profile__display_name")
    def buyer_name(self, obj: Trade) -> str:
        return obj.buyer.public_name


@admin.register(StandingOrder)
class StandingOrderAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Members' repeating orders; only the member pauses, resumes or ends one."""

    community_path = "meter__community"
    list_display = (
        "member_name",
        "meter",
        "side",
        "quantity_wh",
        "limit_price",
        "hours",
        "status",
        when_column("created_at", gettext_lazy("made")),
    )
    list_filter = ("side", "status", ("meter__community", ScopedCommunityFilter))
    search_fields = ("member__profile__display_name", "meter__name")
    list_select_related = ("member__profile", "meter")
    fields = (
        "member",
        "meter",
        "side",
        "quantity_wh",
        "limit_price",
        "from_time",
        "until_time",
        "status",
        "created_at",
    )

    @admin.display(description=gettext_lazy("member"), ordering="member__profile__display_name")
    def member_name(self, obj: StandingOrder) -> str:
        return obj.member.public_name

    @admin.display(description=gettext_lazy("hours"), ordering="from_time")
    def hours(self, obj: StandingOrder) -> str:
        return f"{obj.from_time:%H:%M}-{obj.until_time:%H:%M}"


# --- stopping a member's trading --------------------------------------------------------
class _MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.public_name  # never the email


class SuspendForm(forms.ModelForm):
    """Who to stop, where, and why; saved by ``services.trading_suspend``."""

    class Meta:
        model = TradingSuspension
        fields = ("community", "member", "reason")
        widgets = {"reason": forms.Textarea(attrs={"rows": 3, "cols": 60})}
        help_texts = {"reason": gettext_lazy("The member is told, and it is kept with the suspension.")}

    def clean(self):
        cleaned = super().clean()
        community, member = cleaned.get("community"), cleaned.get("member")
        if (
            community is not None
            and member is not None
            and membership_of(user=member, community_id=community.pk) is None
        ):
            self.add_error(
                "member",
                _("%(member)s is not a member of %(community)s.")
                % {"member": member.public_name, "community": community.name},
            )
        return cleaned

    def validate_unique(self):
        """The service says whether their trading is already stopped (in plain words)."""


class InForceFilter(admin.SimpleListFilter):
    title = gettext_lazy("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return (("yes", _("Stopped now")), ("no", _("Lifted")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(TradingSuspension)
class TradingSuspensionAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Members an organizer stopped trading energy. "Add" stops a member (through
    ``services.trading_suspend``: their open orders are cancelled and they are told
    why); the action lets them trade again (``services.trading_lift``). The records
    themselves are never edited or deleted: they are the history."""

    community_path = "community"
    organizer_can_add = True
    form = SuspendForm
    list_display = (
        "member_name",
        "community",
        "reason",
        "in_force",
        "created_by_name",
        when_column("created_at", gettext_lazy("stopped")),
        "lifted_by_name",
        when_column("lifted_at", gettext_lazy("lifted")),
    )
    list_filter = (InForceFilter, ("community", ScopedCommunityFilter))
    search_fields = ("member__profile__display_name", "reason")
    list_select_related = ("member__profile", "community", "created_by__profile", "lifted_by__profile")
    actions = ["lift"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("community", "member", "reason")
        return ("member", "community", "reason", "created_by", "created_at", "lifted_by", "lifted_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        # Rows are read-only; the changelist keeps its actions.
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "member":
            scope = None if request.user.is_superuser else self._organized_ids(request)
            kwargs["queryset"] = (
                active_members_in(community_ids=scope).select_related("profile").order_by("profile__display_name", "pk")
            )
            kwargs["form_class"] = _MemberChoice
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        extra_context = {"title": _("Stop trading for a member"), **(extra_context or {})}
        try:
            return super().add_view(request, form_url, extra_context)
        except (RuleViolation, ValidationError) as refusal:
            # Raised by the service inside the admin's transaction (rolled back): show it
            # and offer the form again with what was typed.
            text = "; ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
            self.message_user(request, text, messages.ERROR)
            typed = {k: request.POST.get(k, "") for k in ("community", "member", "reason")}
            return HttpResponseRedirect(f"{request.path}?{urlencode(typed)}")

    def save_model(self, request, obj: TradingSuspension, form, change) -> None:
        """Never saves the row itself: the service creates it, cancels the member's open
        orders and tells them. A refusal propagates to ``add_view``."""
        if change:
            return
        made = services.trading_suspend(
            community=obj.community, member=obj.member, actor=request.user, reason=obj.reason
        )
        obj.pk, obj.created_by, obj.created_at = made.pk, made.created_by, made.created_at

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related to save (and nothing may be saved beside the service)."""

    @admin.action(description=gettext_lazy("Let them trade again"))
    def lift(self, request, queryset):
        lifted = 0
        for suspension in queryset.filter(lifted_at__isnull=True).select_related("member__profile"):
            try:
                services.trading_lift(suspension=suspension, actor=request.user)
            except RuleViolation as refusal:
                self.message_user(request, f"{suspension.member.public_name}: {refusal}", messages.ERROR)
            else:
                lifted += 1
        if lifted:
            self.message_user(
                request, _("%(count)s member(s) may trade again; they are told.") % {"count": lifted}, messages.SUCCESS
            )
        else:
            self.message_user(request, _("None of those was still in force."), messages.WARNING)

    @admin.display(description=gettext_lazy("member"), ordering="member__profile__display_name")
    def member_name(self, obj: TradingSuspension) -> str:
        return obj.member.public_name

    @admin.display(description=gettext_lazy("in force"), boolean=True)
    def in_force(self, obj: TradingSuspension) -> bool:
        return obj.lifted_at is None

    @admin.display(description=gettext_lazy("stopped by"))
    def created_by_name(self, obj: TradingSuspension) -> str:
        return obj.created_by.public_name

    @admin.display(description=gettext_lazy("lifted by"))
    def lifted_by_name(self, obj: TradingSuspension) -> str:
        return obj.lifted_by.public_name if obj.lifted_by else ""
