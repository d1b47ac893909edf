"""Admin for identity and communities. Organizers see only their own communities."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from p2pcommons.errors import RuleViolation
from p2pcommons.params import parse_id

from . import services
from .admin_scoping import CommunityScopedAdminMixin, ScopedCommunityFilter, confirm_and_apply, when_column
from .blueprints import all_blueprints, keys_in_use
from .models import Community, JoinRequest, Membership, Profile, User


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ("display_name", "bio", "avatar", "neighborhood", "approx_latitude", "approx_longitude")
    # A new avatar only comes through the member's own profile page (the picture pipeline).
    readonly_fields = ("avatar",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts: site superusers only (organizers manage memberships, not accounts)."""

    ordering = ("email",)
    list_display = (
        "email",
        "display_name",
        "is_active",
        "is_staff",
        when_column("date_joined", gettext_lazy("joined")),
        when_column("last_login", gettext_lazy("last signed in")),
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "profile__display_name")
    list_select_related = ("profile",)
    inlines = [ProfileInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (gettext_lazy("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    @admin.display(description=gettext_lazy("display name"), ordering="profile__display_name")
    def display_name(self, obj: User) -> str:
        return obj.public_name

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Links to a person across the admin (a member, a reporter, an author) point here;
        organizers may not open accounts, so they are sent to the person's profile page,
        which they see when they share a community."""
        if not request.user.is_superuser:
            user_id = parse_id(object_id)
            if user_id is not None:
                return redirect("peers:profile", user_id=user_id)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("display_name", "user", "neighborhood", when_column("updated_at", gettext_lazy("updated")))
    search_fields = ("display_name", "user__email", "neighborhood")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("avatar",)


@admin.register(Community)
class CommunityAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Organizers may edit their own communities' description and limits."""

    community_path = ""
    list_display = (
        "name",
        "slug",
        "member_count",
        "join_policy",
        "radius_km",
        "default_hour_limit",
        "default_credit_limit",
    )
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "created_at"
    # Organizers set their community's own rules, but not the floors under every member's
    # limits, nor its name and address: only a site superuser changes those.
    superuser_only_fields = ("name", "slug", "hour_limit_floor", "credit_limit_floor")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "time_zone":  # every IANA zone, as a list to choose from
            from django import forms

            from p2pcommons.i18n import timezone_choices

            kwargs["widget"] = forms.Select(choices=[("", _("The site's time zone")), *timezone_choices()])
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_prepopulated_fields(self, request, obj=None):
        # Prepopulating needs the fields to be editable: only for superusers.
        return super().get_prepopulated_fields(request, obj) if request.user.is_superuser else {}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_member_count=Count("memberships"))

    @admin.display(description=gettext_lazy("members"), ordering="_member_count")
    def member_count(self, obj: Community) -> int:
        return obj._member_count

    def get_readonly_fields(self, request, obj=None):
        shown = ("exchanges_in_use",)
        return shown if request.user.is_superuser else (*self.superuser_only_fields, *shown)

    @admin.display(description=gettext_lazy("exchanges in use"))
    def exchanges_in_use(self, obj: Community) -> str:
        """Which exchanges the community uses; organizers start and stop them on each
        blueprint's page ("Use this blueprint"), where the defaults are set."""
        if obj.pk is None:
            return _("All four, until an organizer stops one on its blueprint's page.")
        used = keys_in_use(community_id=obj.pk)
        names = [bp.title for bp in all_blueprints() if bp.key in used]
        return ", ".join(str(name) for name in names) or _("None yet: start one on its blueprint's page.")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:  # a new community uses every exchange, as community_create does
            from .exchanges import exchanges_start_all

            exchanges_start_all(community=obj)


@admin.register(Membership)
class MembershipAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Organizers see and manage the memberships of their own communities only.

    Status changes (suspend, reinstate) and warnings go through moderation's actions, so
    each asks for a reason, is logged and is sent to the member.
    """

    community_path = "community"
    list_display = (
        "member",
        "user_email",
        "community",
        "role",
        "status",
        "status_reason",
        when_column("joined_at", gettext_lazy("joined")),
    )
    list_filter = ("role", "status", ("community", ScopedCommunityFilter))
    search_fields = ("user__email", "user__profile__display_name", "community__name")
    list_select_related = ("user__profile", "community")
    raw_id_fields = ("user",)
    date_hierarchy = "joined_at"
    actions = ["promote_to_organizer", "demote_to_member"]  # and moderation's, in get_actions

    def get_actions(self, request):
        """Ours, then moderation's warn, suspend and reinstate (each asks for a reason)."""
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        # Imported here, not at the top: apps.moderation imports apps.peers at module level
        # (its services act on memberships), so a top-level import would make the cycle
        # peers -> moderation -> peers.
        from apps.moderation.admin import reinstate_members, suspend_members, warn_members

        for func in (warn_members, suspend_members, reinstate_members):
            action = self.get_action(func)
            actions[action[1]] = action
        return actions

    def get_readonly_fields(self, request, obj=None):
        # Roles and statuses change through the actions so the rules in services apply
        # (and suspensions are logged with their reason).
        return ("member", "community", "role", "status", "status_reason", "joined_at") if obj else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "community", "role")
        return ("member", "community", "role", "status", "status_reason", "joined_at")

    def get_list_display(self, request):
        # Email is private (DESIGN invariant 5): only site superusers see it here.
        shown = super().get_list_display(request)
        return shown if request.user.is_superuser else tuple(f for f in shown if f != "user_email")

    def get_search_fields(self, request):
        shown = super().get_search_fields(request)
        return shown if request.user.is_superuser else tuple(f for f in shown if f != "user__email")

    @admin.display(description=gettext_lazy("member"), ordering="user__profile__display_name")
    def member(self, obj: Membership) -> str:
        return obj.user.public_name

    @admin.display(description=gettext_lazy("email"), ordering="user__email")
    def user_email(self, obj: Membership) -> str:
        return obj.user.email

    def _change_roles(self, request, queryset, *, service, done: str) -> None:
        """Apply a role service to each selected membership; a refusal is shown by name and
        leaves the others going ahead."""
        changed = 0
        for membership in queryset:
            try:
                service(membership=membership, actor=request.user)
            except RuleViolation as exc:
                self.message_user(request, f"{membership.user.public_name}: {exc}", messages.ERROR)
            else:
                changed += 1
        if changed:
            self.message_user(request, done.format(count=changed), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Promote selected members to organizer"))
    def promote_to_organizer(self, request, queryset):
        self._change_roles(
            request, queryset, service=services.membership_promote, done=_("Promoted {count} member(s) to organizer.")
        )

    @admin.action(description=gettext_lazy("Make selected organizers plain members"))
    def demote_to_member(self, request, queryset):
        self._change_roles(
            request, queryset, service=services.membership_demote, done=_("{count} organizer(s) are now plain members.")
        )


class _ConfirmForm(forms.Form):
    """Nothing to fill in: the page lists the requests and asks to confirm."""


@admin.register(JoinRequest)
class JoinRequestAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Requests to join communities that approve each newcomer. Organizers see their own
    communities' requests and answer them with the actions (each asks to confirm)."""

    community_path = "community"
    list_display = (
        "person",
        "community",
        "message",
        "status",
        when_column("created_at", gettext_lazy("created")),
        "decided_by_name",
        when_column("decided_at", gettext_lazy("decided")),
    )
    list_filter = ("status", ("community", ScopedCommunityFilter))
    search_fields = ("user__profile__display_name", "community__name", "message")
    list_select_related = ("user__profile", "community", "decided_by__profile")
    date_hierarchy = "created_at"
    actions = ["approve_requests", "decline_requests"]
    fields = ("person", "community", "message", "status", "created_at", "decided_by_name", "decided_at")
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        # People ask on the community page or through the API, never in the admin.
        return False

    def has_change_permission(self, request, obj=None):
        # Read-only rows; the decisions go through the actions (and services).
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=gettext_lazy("person"), ordering="user__profile__display_name")
    def person(self, obj: JoinRequest) -> str:
        return obj.user.public_name

    @admin.display(description=gettext_lazy("decided by"))
    def decided_by_name(self, obj: JoinRequest) -> str:
        return obj.decided_by.public_name if obj.decided_by else ""

    @admin.action(description=gettext_lazy("Approve selected requests to join"))
    def approve_requests(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=_ConfirmForm,
            title=_("Approve these requests to join?"),
            action="approve_requests",
            apply=lambda obj: services.join_request_approve(join_request=obj, actor=request.user),
            done=_("Approved {count} request(s); the new members are told."),
        )

    @admin.action(description=gettext_lazy("Decline selected requests to join"))
    def decline_requests(self, request, queryset):
        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=_ConfirmForm,
            title=_("Decline these requests to join?"),
            action="decline_requests",
            apply=lambda obj: services.join_request_decline(join_request=obj, actor=request.user),
            done=_("Declined {count} request(s); the people who asked are told."),
        )
