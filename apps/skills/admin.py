"""The skill swap in the admin: the taxonomy, and organizers' view of their communities'
listings and sessions, where they settle disputes."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy

from apps.peers.admin_scoping import (
    CommunityScopedAdminMixin,
    ReadOnlyAdminMixin,
    ScopedCommunityFilter,
    apply_or_report,
    confirm_and_apply,
    when_column,
)

from . import services
from .models import MAX_HOURS, Offer, Request, Seat, Session, SessionEvent, Skill, SkillCategory


@admin.register(SkillCategory)
class SkillCategoryAdmin(admin.ModelAdmin):
    """The taxonomy's branches (site superusers)."""

    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class SkillForm(forms.ModelForm):
    class Meta:
        model = Skill
        fields = ("category", "community", "name", "slug", "is_active")

    def __init__(self, *args, require_community: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if require_community:
            self.fields["community"].required = True
            self.fields["community"].help_text = gettext_lazy("Skills you add are offered in your community.")


@admin.register(Skill)
class SkillAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Site-wide skills (superusers) and each community's own, which its organizers add,
    rename or retire (``is_active``)."""

    form = SkillForm
    community_path = "community"
    organizer_can_add = True
    list_display = ("name", "category", "community", "is_active")
    list_filter = ("is_active", "category", ("community", ScopedCommunityFilter))
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        require = not request.user.is_superuser

        class Scoped(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, require_community=require, **kw)

        return Scoped


class ListingAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Organizers may close a listing (e.g. after a report); members write the rest."""

    community_path = "community"
    list_display = (
        "title",
        "member_name",
        "community",
        "status",
        "is_hidden",
        when_column("expires_at", gettext_lazy("expires")),
        when_column("updated_at", gettext_lazy("updated")),
    )
    list_filter = ("status", "is_hidden", ("community", ScopedCommunityFilter))
    search_fields = ("title", "description", "member__profile__display_name")
    list_select_related = ("member__profile", "community")
    raw_id_fields = ("member",)

    def get_readonly_fields(self, request, obj=None):
        editable = {"status"}
        return tuple(f.name for f in self.model._meta.get_fields() if f.concrete and f.name not in editable)

    @admin.display(description=gettext_lazy("member"), ordering="member__profile__display_name")
    def member_name(self, obj) -> str:
        return obj.member.public_name

    def save_model(self, request, obj, form, change):
        """The status goes through the service (closing drops matches, reopening rematches)."""
        if change and "status" in form.changed_data:
            status = obj.status
            change_status = services.listing_set_status_by_organizer
            apply_or_report(self, request, obj, lambda: change_status(listing=obj, actor=request.user, status=status))
            obj.refresh_from_db()
            return
        super().save_model(request, obj, form, change)


@admin.register(Offer)
class OfferAdmin(ListingAdmin):
    pass


@admin.register(Request)
class RequestAdmin(ListingAdmin):
    pass


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    can_delete = False
    fields = ("learner", "status", "learner_hours", "helper_hours", "hours", "transfer", "dispute_reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class SessionEventInline(admin.TabularInline):
    """The session's timeline: each change of its state, by whom (empty: the platform)."""

    model = SessionEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "actor", "from_status", "to_status", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Session)
class SessionAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Sessions change only through their services; disputes are settled on the seats."""

    community_path = "community"
    list_display = (
        "title",
        "helper_name",
        "community",
        when_column("starts_at", gettext_lazy("starts")),
        "planned_hours",
        "capacity",
        "status",
        "is_hidden",
    )
    list_filter = ("status", "is_hidden", ("community", ScopedCommunityFilter))
    search_fields = ("title", "helper__profile__display_name")
    list_select_related = ("helper__profile", "community")
    date_hierarchy = "starts_at"
    inlines = [SeatInline, SessionEventInline]

    @admin.display(description=gettext_lazy("helper"), ordering="helper__profile__display_name")
    def helper_name(self, obj: Session) -> str:
        return obj.helper.public_name


class SettleForm(forms.Form):
    hours = forms.DecimalField(
        min_value=Decimal(0),
        max_value=MAX_HOURS,
        decimal_places=2,
        help_text=gettext_lazy("The hours that should move (0: none)."),
    )
    reason = forms.CharField(max_length=200, help_text=gettext_lazy("Sent to both and recorded with the transfer."))


@admin.register(Seat)
class SeatAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Each learner at a session and the hours that moved. Disputed ones are settled
    here: hours that already moved are reversed, then the settled hours move once."""

    community_path = "session__community"
    list_display = ("session", "learner_name", "status", "learner_hours", "helper_hours", "hours", "dispute_reason")
    list_filter = ("status", ("session__community", ScopedCommunityFilter))
    search_fields = ("session__title", "learner__profile__display_name")
    list_select_related = ("session", "learner__profile")
    actions = ["settle_disputes"]

    @admin.display(description=gettext_lazy("learner"), ordering="learner__profile__display_name")
    def learner_name(self, obj: Seat) -> str:
        return obj.learner.public_name

    @admin.action(description=gettext_lazy("Settle the selected disputed sessions"))
    def settle_disputes(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=SettleForm,
            title=gettext_lazy("Settle disputed sessions"),
            action="settle_disputes",
            apply=lambda seat, hours, reason: services.dispute_settle(
                seat=seat, actor=request.user, hours=hours, reason=reason
            ),
            done=gettext_lazy("Settled {count} session(s)."),
        )
