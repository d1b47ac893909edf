"""Admin for reviews and trust scores: read-only, since reviews are never edited.

Organizers see the reviews of their own communities only. Nobody, superusers included,
sees the rating or comment of a review that is still hidden: blindness holds in the
admin too (an organizer may be the other party).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from apps.moderation.admin import ModeratableAdminMixin
from apps.peers.admin_scoping import CommunityScopedAdminMixin, ReadOnlyAdminMixin, ScopedCommunityFilter, when_column

from .models import Review, TrustScore

HIDDEN = gettext_lazy("hidden until both reviewed or the window closes")


class RevealedFilter(admin.SimpleListFilter):
    title = gettext_lazy("revealed")
    parameter_name = "revealed"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("Revealed")), ("no", gettext_lazy("Hidden"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(revealed_at__isnull=self.value() == "no")
        return queryset


@admin.register(Review)
class ReviewAdmin(ModeratableAdminMixin, ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Reviews, with moderation's hide / restore actions (each asks for a reason)."""

    community_path = "community"
    list_display = (
        "id",
        "author_name",
        "subject_name",
        "shown_rating",
        "domain",
        "community",
        when_column("created_at", gettext_lazy("created")),
        when_column("revealed_at", gettext_lazy("revealed")),
        "hidden",
    )
    list_filter = (RevealedFilter, "is_hidden", "domain", ("community", ScopedCommunityFilter))
    search_fields = ("author__profile__display_name", "subject__profile__display_name", "comment")
    list_select_related = ("author__profile", "subject__profile", "community")
    date_hierarchy = "created_at"
    fields = (
        "author_name",
        "subject_name",
        "community",
        "domain",
        "exchange_label",
        "shown_rating",
        "shown_comment",
        "created_at",
        "window_closes_at",
        "revealed_at",
        "is_hidden",
        "hidden_at",
    )
    readonly_fields = fields

    def get_search_fields(self, request):
        # Searching comments would let anyone probe the text of hidden reviews.
        return tuple(f for f in super().get_search_fields(request) if f != "comment")

    def get_queryset(self, request):
        # list_select_related is ignored once the queryset has a select_related: name all.
        return super().get_queryset(request).select_related("content_type", *self.list_select_related)

    def lookup_allowed(self, lookup, value, request=None):
        # Blindness holds in URL filters too: ?rating=1 or ?comment__icontains= would
        # reveal a hidden review's content by counting rows.
        if lookup.split("__")[0] in ("rating", "comment"):
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description=gettext_lazy("author"), ordering="author__profile__display_name")
    def author_name(self, obj: Review) -> str:
        return obj.author.public_name

    @admin.display(description=gettext_lazy("about"), ordering="subject__profile__display_name")
    def subject_name(self, obj: Review) -> str:
        return obj.subject.public_name

    @admin.display(description=gettext_lazy("rating"))  # not sortable: the order would leak hidden ratings
    def shown_rating(self, obj: Review) -> str:
        return f"{obj.rating}/5" if obj.is_revealed else HIDDEN

    @admin.display(description=gettext_lazy("comment"))
    def shown_comment(self, obj: Review) -> str:
        return obj.comment if obj.is_revealed else HIDDEN

    @admin.display(description=gettext_lazy("exchange"))
    def exchange_label(self, obj: Review) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model} #{obj.object_id}"


@admin.register(TrustScore)
class TrustScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Site superusers only: scores are computed, never entered."""

    list_display = ("member", "score", "rating_count", "tools_count", "skills_count", "solar_count", "codesign_count")
    search_fields = ("user__profile__display_name",)
    list_select_related = ("user__profile",)
    ordering = ("-score",)
    readonly_fields = (
        "member",
        "score",
        "rating_count",
        "tools_count",
        "skills_count",
        "solar_count",
        "codesign_count",
        "updated_at",
    )
    fields = readonly_fields

    @admin.display(description=gettext_lazy("member"), ordering="user__profile__display_name")
    def member(self, obj: TrustScore) -> str:
        return obj.user.public_name
