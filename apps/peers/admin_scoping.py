"""One reusable rule for the admin: an organizer sees and edits only their communities.

Every app's ModelAdmin that holds community data mixes in ``CommunityScopedAdminMixin``
and names the path from its model to ``Community`` in ``community_path``:

    @admin.register(Tool)
    class ToolAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
        community_path = "community"

Site superusers see everything. A staff user who is an active organizer of some
communities sees only rows whose community is one of them; they may view and change
those rows (no Django model permission needed: organizing is the permission), and add
or delete only where ``organizer_can_add`` / ``organizer_can_delete`` say so. A direct
URL to another community's row answers 404 like a missing one, and community choices
in forms are limited to their own.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import dateformat, timezone

from p2pcommons.humanize import format_when_short

from .models import Community
from .selectors import organized_community_ids


class CommunityScopedAdminMixin:
    community_path: str = "community"
    organizer_can_add: bool = False
    organizer_can_delete: bool = False

    # --- scope ----------------------------------------------------------------
    def _organized_ids(self, request: HttpRequest) -> list[int]:
        cached = getattr(request, "_p2p_organized_ids", None)
        if cached is None:
            cached = organized_community_ids(user=request.user)
            request._p2p_organized_ids = cached  # type: ignore[attr-defined]
        return cached

    def _is_organizer(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff and self._organized_ids(request))

    def _lookup(self) -> str:
        return f"{self.community_path}__in" if self.community_path else "pk__in"

    def _community_id_of(self, obj: Model) -> int | None:
        if not self.community_path:
            return obj.pk
        target = obj
        for part in self.community_path.split("__"):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target.pk

    def in_scope(self, request: HttpRequest, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        if not self._is_organizer(request):
            return False
        return obj is None or self._community_id_of(obj) in self._organized_ids(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self._lookup(): self._organized_ids(request)})

    # --- permissions ----------------------------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._is_organizer(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)  # type: ignore[misc]
        return self.in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)  # type: ignore[misc]
        return self.in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        if request.user.is_superuser:
            return super().has_add_permission(request, *args)  # type: ignore[misc]
        return self.organizer_can_add and self._is_organizer(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)  # type: ignore[misc]
        return self.organizer_can_delete and self.in_scope(request, obj)

    # --- forms ----------------------------------------------------------------
    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.related_model is Community and not request.user.is_superuser:
            kwargs["queryset"] = Community.objects.filter(pk__in=self._organized_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class ScopedCommunityFilter(admin.RelatedFieldListFilter):
    """A community filter that lists only the communities the organizer may see."""

    def field_choices(self, field, request, model_admin):
        if request.user.is_superuser:
            return super().field_choices(field, request, model_admin)
        ids = organized_community_ids(user=request.user)
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": ids})


class ReadOnlyAdminMixin:
    """Records nobody adds, changes or deletes in the admin, superusers included
    (ledger entries, reviews, audit logs). Admin actions that call services still work.
    """

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """History shown beside its row (a slot's events, a challenge's phases), never added
    to or edited there."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_view_permission(self, request, obj=None) -> bool:
        # Shown on the page of a row the viewer may see (the parent admin scoped that);
        # organizers hold no Django model permissions, so the default would hide it.
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def apply_or_report(model_admin, request: HttpRequest, obj: Model, call) -> bool:
    """Run ``call()`` (a service) for ``obj``; show a refusal (RuleViolation or
    ValidationError) as an error message on the admin page instead of an error page."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError

    from p2pcommons.errors import RuleViolation

    try:
        call()
    except (RuleViolation, ValidationError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        model_admin.message_user(request, f"{obj}: {text}", messages.ERROR)
        return False
    return True


def confirm_and_apply(
    model_admin, request: HttpRequest, queryset: QuerySet, *, form_class, title: str, action: str, apply, done: str
):
    """An admin action with an intermediate form (e.g. a reason): show the form for the
    selected rows; on "apply", call ``apply(obj, **cleaned_data)`` for each (a service),
    report each refusal (RuleViolation / ValidationError) by row, and return to the list.
    """
    from django.contrib import messages
    from django.shortcuts import render

    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        count = 0
        for obj in queryset:
            count += apply_or_report(model_admin, request, obj, lambda obj=obj: apply(obj, **form.cleaned_data))
        if count:
            model_admin.message_user(request, done.format(count=count), messages.SUCCESS)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": queryset,
        "action": action,
        "opts": model_admin.model._meta,
    }
    return render(request, "admin/confirm_action.html", context)


# --- dates as the site writes them ----------------------------------------------------
def when_column(field: str, description: str):
    """A list column showing the moment ``field`` as the site's pages write it, in local
    time ("Tue 24 Nov, 10:00", with the year when it is not this year), sortable. Here,
    with the other admin helpers, so every app's admin can use it."""

    @admin.display(description=description, ordering=field)
    def column(obj: Model) -> str:
        moment = getattr(obj, field)
        if moment is None:
            return "-"
        if timezone.localtime(moment).year != timezone.localtime().year:
            return dateformat.format(timezone.localtime(moment), "D j M Y, H:i")
        return format_when_short(moment)

    column.__name__ = field
    return column
