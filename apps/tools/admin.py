"""Tool sharing in the admin: organizers see their communities' tools and loans only."""

from django.contrib import admin

from apps.peers.admin_scoping import CommunityScopedAdminMixin, ReadOnlyAdminMixin, ScopedCommunityFilter

from .models import Category, Reservation, ReservationEvent, Tool


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The managed category list (site superusers)."""

    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tool)
class ToolAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Organizers may pause or retire a tool of their community (e.g. after a damage report)."""

    community_path = "community"
    list_display = ("title", "owner_name", "community", "category", "status", "created_at")
    list_filter = ("status", "category", ("community", ScopedCommunityFilter))
    search_fields = ("title", "description", "owner__profile__display_name")
    list_select_related = ("owner__profile", "community", "category")
    raw_id_fields = ("owner",)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        return tuple(f.name for f in Tool._meta.fields if f.name != "status")

    @admin.display(description="owner", ordering="owner__profile__display_name")
    def owner_name(self, obj: Tool) -> str:
        return obj.owner.public_name


class EventInline(admin.TabularInline):
    model = ReservationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "from_status", "to_status", "note")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Loans change only through their transitions (the services), never by editing."""

    community_path = "tool__community"
    list_display = ("tool", "borrower_name", "starts_at", "ends_at", "status")
    list_filter = ("status", ("tool__community", ScopedCommunityFilter))
    search_fields = ("tool__title", "borrower__profile__display_name")
    list_select_related = ("tool", "borrower__profile")
    date_hierarchy = "starts_at"
    inlines = [EventInline]

    @admin.display(description="borrower", ordering="borrower__profile__display_name")
    def borrower_name(self, obj: Reservation) -> str:
        return obj.borrower.public_name
