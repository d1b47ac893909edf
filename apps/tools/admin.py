"""Tool sharing in the admin: organizers see their communities' tools and loans only."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.moderation import services as moderation
from apps.peers.admin_scoping import (
    CommunityScopedAdminMixin,
    ReadOnlyAdminMixin,
    ScopedCommunityFilter,
    apply_or_report,
    confirm_and_apply,
    when_column,
)

from . import services
from .models import Category, ConditionReport, Reservation, ReservationEvent, Tool, ToolPhoto, WaitlistEntry


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=300, help_text=gettext_lazy("Recorded in the moderation log and sent to the owner.")
    )


class PhotoInline(admin.TabularInline):
    """Photos are added by their owner (re-encoded by the service); here they are only seen."""

    model = ToolPhoto
    extra = 0
    can_delete = False
    fields = ("preview", "alt_text", "position")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("photo"))
    def preview(self, obj: ToolPhoto) -> str:
        return format_html('<img src="{}" alt="{}" style="height:60px">', obj.thumbnail.url, obj.alt_text)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The managed category list (site superusers). Organizers may open a category
    read-only: a tool's page links to its category."""

    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    def has_view_permission(self, request, obj=None) -> bool:
        return bool(request.user.is_active and request.user.is_staff) or super().has_view_permission(request, obj)


@admin.register(Tool)
class ToolAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Organizers may pause or retire a tool of their community (e.g. after a damage report)."""

    community_path = "community"
    list_display = (
        "title",
        "owner_name",
        "community",
        "category",
        "status",
        "is_hidden",
        when_column("created_at", gettext_lazy("created")),
    )
    list_filter = ("status", "is_hidden", "category", ("community", ScopedCommunityFilter))
    search_fields = ("title", "description", "owner__profile__display_name")
    list_select_related = ("owner__profile", "community", "category")
    raw_id_fields = ("owner",)
    inlines = [PhotoInline]
    actions = ["hide_listings", "restore_listings"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ("is_hidden", "hidden_at")
        return tuple(f.name for f in Tool._meta.fields if f.name != "status")

    def save_model(self, request, obj, form, change):
        """An organizer's status change goes through the service (resuming offers freed
        windows to the waitlist); superusers' other edits are saved as usual."""
        status = form.cleaned_data.get("status")
        if change and "status" in form.changed_data:
            obj.status = Tool.objects.values_list("status", flat=True).get(pk=obj.pk)
            if request.user.is_superuser:
                super().save_model(request, obj, form, change)
            change_status = services.tool_set_status_by_organizer
            apply_or_report(self, request, obj, lambda: change_status(tool=obj, actor=request.user, status=status))
            obj.refresh_from_db()
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("Hide the selected listings (moderation)"))
    def hide_listings(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Hide listings"),
            action="hide_listings",
            apply=lambda tool, reason: moderation.content_hide(target=tool, actor=request.user, reason=reason),
            done=_("Hid {count} listing(s)."),
        )

    @admin.action(description=gettext_lazy("Restore the selected hidden listings"))
    def restore_listings(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Restore listings"),
            action="restore_listings",
            apply=lambda tool, reason: moderation.content_restore(target=tool, actor=request.user, reason=reason),
            done=_("Restored {count} listing(s)."),
        )

    @admin.display(description=gettext_lazy("owner"), ordering="owner__profile__display_name")
    def owner_name(self, obj: Tool) -> str:
        return obj.owner.public_name


class EventInline(admin.TabularInline):
    model = ReservationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "from_status", "to_status", "note")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReportInline(admin.TabularInline):
    model = ConditionReport
    extra = 0
    can_delete = False
    fields = ("created_at", "stage", "author", "condition", "damage", "note", "photo", "flag")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Loans change only through their transitions (the services), never by editing."""

    community_path = "tool__community"
    list_display = (
        "tool",
        "borrower_name",
        when_column("starts_at", gettext_lazy("starts")),
        when_column("ends_at", gettext_lazy("ends")),
        "status",
        "fee_total",
    )
    list_filter = ("status", ("tool__community", ScopedCommunityFilter))
    search_fields = ("tool__title", "borrower__profile__display_name")
    list_select_related = ("tool", "borrower__profile")
    date_hierarchy = "starts_at"
    readonly_fields = ("fee_per_day", "fee_total")  # fixed at request; shown, never edited
    inlines = [EventInline, ReportInline]

    @admin.display(description=gettext_lazy("borrower"), ordering="borrower__profile__display_name")
    def borrower_name(self, obj: Reservation) -> str:
        return obj.borrower.public_name


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """The line for taken windows, to answer "why didn't I get it?"; changed only by members and the beat task."""

    community_path = "tool__community"
    list_display = (
        "tool",
        "member_name",
        when_column("starts_at", gettext_lazy("starts")),
        when_column("ends_at", gettext_lazy("ends")),
        "status",
        when_column("created_at", gettext_lazy("created")),
        when_column("offer_expires_at", gettext_lazy("offer expires")),
    )
    list_filter = ("status", ("tool__community", ScopedCommunityFilter))
    search_fields = ("tool__title", "member__profile__display_name")
    list_select_related = ("tool", "member__profile")

    @admin.display(description=gettext_lazy("member"), ordering="member__profile__display_name")
    def member_name(self, obj: WaitlistEntry) -> str:
        return obj.member.public_name
