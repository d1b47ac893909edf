"""Moderation in the admin: the queue, reports, the audit log, and reusable actions.

Everything is scoped with ``CommunityScopedAdminMixin``: an organizer sees and acts on
the reports, content, members and log entries of the communities they organize only;
site superusers see everything. Nobody edits reports or the log by hand: every change
goes through an action that calls a service, asks for a reason and is logged.

The queue and the reports show what was reported as organizers need to judge it: the
content's title, the start of its text and a link to the page where it is shown
(``_content_summary``). The admin home counts the open reports the visitor can act on.
``when_column`` writes a moment in a list as the site does ("Tue 24 Nov, 10:00").

Content admins of other apps mix in ``ModeratableAdminMixin`` (a "hidden" column and
hide / restore actions); ``MembershipAdmin`` uses ``warn_members``, ``suspend_members``
and ``reinstate_members``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.admin_scoping import (
    CommunityScopedAdminMixin,
    ReadOnlyAdminMixin,
    ScopedCommunityFilter,
    confirm_and_apply,
    when_column,
)

from . import registry, selectors, services
from .models import TEXT_MAX_LENGTH, Flag, ModerationAction, ModerationQueueItem


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=TEXT_MAX_LENGTH,
        help_text=gettext_lazy("The member concerned sees it, and it is kept in the moderation log."),
    )


def _apply(model_admin, request, queryset, *, title: str, action: str, apply, done: str):
    return confirm_and_apply(
        model_admin,
        request,
        queryset,
        form_class=ReasonForm,
        title=title,
        action=action,
        apply=apply,
        done=done,
    )


# --- reusable actions -------------------------------------------------------------
class ModeratableAdminMixin:
    """For the admin of any ``Moderatable`` model: a "hidden" column and hide / restore."""

    actions = ["hide_content", "restore_content"]

    @admin.display(description=gettext_lazy("hidden"), boolean=True, ordering="is_hidden")
    def hidden(self, obj: Model) -> bool:
        return obj.is_hidden

    @admin.action(description=gettext_lazy("Hide selected (moderation)"))
    def hide_content(self, request, queryset):
        return _apply(
            self,
            request,
            queryset,
            title=_("Hide from everyone but the author and organizers"),
            action="hide_content",
            apply=lambda obj, reason: services.content_hide(target=obj, actor=request.user, reason=reason),
            done=_("Hid {count} item(s)."),
        )

    @admin.action(description=gettext_lazy("Restore selected (moderation)"))
    def restore_content(self, request, queryset):
        return _apply(
            self,
            request,
            queryset,
            title=_("Show to everyone again"),
            action="restore_content",
            apply=lambda obj, reason: services.content_restore(target=obj, actor=request.user, reason=reason),
            done=_("Restored {count} item(s)."),
        )


@admin.action(description=gettext_lazy("Warn selected members"))
def warn_members(model_admin, request, queryset):
    return _apply(
        model_admin,
        request,
        queryset,
        title=_("Warn members"),
        action="warn_members",
        apply=lambda m, reason: services.member_warn(membership=m, actor=request.user, reason=reason),
        done=_("Warned {count} member(s)."),
    )


@admin.action(description=gettext_lazy("Suspend selected memberships"))
def suspend_members(model_admin, request, queryset):
    return _apply(
        model_admin,
        request,
        queryset,
        title=_("Suspend memberships: they can't post, book or trade here, and see the reason"),
        action="suspend_members",
        apply=lambda m, reason: services.membership_suspend(membership=m, actor=request.user, reason=reason),
        done=_("Suspended {count} membership(s)."),
    )


@admin.action(description=gettext_lazy("Reinstate selected memberships"))
def reinstate_members(model_admin, request, queryset):
    return _apply(
        model_admin,
        request,
        queryset,
        title=_("Reinstate memberships"),
        action="reinstate_members",
        apply=lambda m, reason: services.membership_reinstate(membership=m, actor=request.user, reason=reason),
        done=_("Reinstated {count} membership(s)."),
    )


# --- what was reported ---------------------------------------------------------------
EXCERPT_WORDS = 30
EXCERPT_FIELDS = ("description", "comment", "bio", "place")


def _targets_prefetch() -> GenericPrefetch:
    """The reported things, one query per kind, with the people they are by and about
    (and their names), so titles, excerpts and links cost no query per row."""
    querysets = []
    for kind in registry.registered():
        paths = ["profile"] if kind.is_member else [f"{kind.author}__profile"]
        if kind.subject:
            paths.append(f"{kind.subject}__profile")
        querysets.append(kind.model._default_manager.select_related(*paths))
    return GenericPrefetch("target", querysets)


def _content_summary(flag: Flag) -> tuple[str, str, str]:
    """(title, excerpt, link) of what ``flag`` is about, as organizers need to judge it:
    the content's own title and the start of its text, and the page where it is shown
    (the member's profile for a member; the profile of the member a review is about)."""
    target = flag.target
    if target is None:
        return flag.target_label, "", ""
    kind = registry.moderatable_type_of(target)
    if kind.is_member:
        person = target
        profile = getattr(target, "profile", None)
        title = target.public_name
        excerpt = getattr(profile, "bio", "")
    else:
        person = registry._follow(target, kind.subject or kind.author)
        title = getattr(target, "title", "") or str(target)
        excerpt = next((getattr(target, f) for f in EXCERPT_FIELDS if getattr(target, f, "")), "")
    if hasattr(target, "get_absolute_url"):
        url = target.get_absolute_url()
    else:
        profile = getattr(person, "profile", None)
        url = profile.get_absolute_url() if profile is not None else ""
    return str(title), Truncator(excerpt).words(EXCERPT_WORDS), url


def _content_html(flag: Flag, *, extra: str = ""):
    title, excerpt, url = _content_summary(flag)
    noun = (
        flag.content_type.name if flag.target is None else services.noun_of(registry.moderatable_type_of(flag.target))
    )
    heading = (
        format_html('<a href="{}"><strong>{}</strong></a>', url, title)
        if url
        else format_html("<strong>{}</strong>", title)
    )
    quote = format_html('<br><q class="excerpt">{}</q>', excerpt) if excerpt else ""
    return format_html("{} <small>({})</small>{}{}", heading, noun, quote, extra)


# --- reports ------------------------------------------------------------------------
class TargetLookupsMixin:
    """Allow the queue's and notifications' links that filter on one target."""

    target_lookups = ("content_type__id__exact", "object_id", "object_id__exact", "community__id__exact")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup in self.target_lookups:
            return True
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]


def _flags_url(flag: Flag, **extra: str) -> str:
    query = f"content_type__id__exact={flag.content_type_id}&object_id={flag.object_id}"
    query += f"&community__id__exact={flag.community_id}"
    for key, value in extra.items():
        query += f"&{key}={value}"
    return f"{reverse('admin:moderation_flag_changelist')}?{query}"


@admin.register(Flag)
class FlagAdmin(TargetLookupsMixin, ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Every report, one per row. Organizers uphold or dismiss them with a reason.
    "Counts" says whether the reporter was in good standing, so the report counted toward
    the automatic hide; the others are shown all the same."""

    community_path = "community"
    list_display = (
        "reported",
        "reason",
        "reporter_name",
        "counted",
        "community",
        "status",
        when_column("created_at", gettext_lazy("reported on")),
        when_column("handled_at", gettext_lazy("handled")),
    )
    list_filter = ("status", "reason", "counts", ("community", ScopedCommunityFilter))
    list_select_related = ("reporter__profile", "community", "content_type")
    search_fields = ("target_label", "text")
    date_hierarchy = "created_at"
    actions = ["uphold", "dismiss"]
    fields = (
        "reported",
        "target_author_name",
        "community",
        "reporter_name",
        "counted",
        "reason",
        "text",
        "status",
        "created_at",
        "handled_by",
        "handled_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(_targets_prefetch())

    @admin.display(description=gettext_lazy("reported item"))
    def reported(self, obj: Flag):
        return _content_html(obj)

    @admin.display(description=gettext_lazy("reported by"), ordering="reporter__profile__display_name")
    def reporter_name(self, obj: Flag) -> str:
        return obj.reporter.public_name

    @admin.display(description=gettext_lazy("author / member"))
    def target_author_name(self, obj: Flag) -> str:
        return obj.target_author.public_name

    @admin.display(description=gettext_lazy("counts toward hiding"), boolean=True, ordering="counts")
    def counted(self, obj: Flag) -> bool:
        return obj.counts

    @admin.action(description=gettext_lazy("Uphold selected reports (hides the content)"))
    def uphold(self, request, queryset):
        return _apply(
            self,
            request,
            queryset,
            title=_("Uphold reports"),
            action="uphold",
            apply=lambda flag, reason: services.flag_uphold(flag=flag, actor=request.user, reason=reason),
            done=_("Upheld {count} report(s)."),
        )

    @admin.action(description=gettext_lazy("Dismiss selected reports"))
    def dismiss(self, request, queryset):
        return _apply(
            self,
            request,
            queryset,
            title=_("Dismiss reports"),
            action="dismiss",
            apply=lambda flag, reason: services.flag_dismiss(flag=flag, actor=request.user, reason=reason),
            done=_("Dismissed {count} report(s)."),
        )


@admin.register(ModerationQueueItem)
class ModerationQueueAdmin(TargetLookupsMixin, ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """The moderation queue: one row per reported item with open reports, most reported
    first, then oldest first, with bulk actions on the items themselves."""

    community_path = "community"
    list_display = ("reported", "community", "author", "report_count", "counting", "waiting", "state")
    list_display_links = None
    list_filter = (("community", ScopedCommunityFilter),)
    list_select_related = ("community", "content_type", "target_author__profile")
    actions = ["hide", "restore", "uphold_reports", "dismiss_reports"]

    def get_queryset(self, request):
        # Ordered by the selector (most reports, then oldest); the changelist keeps it.
        return selectors.moderation_queue(super().get_queryset(request)).prefetch_related(_targets_prefetch())

    @admin.display(description=gettext_lazy("reported item"))
    def reported(self, obj: Flag):
        reports = format_html('<br><a href="{}">Read the reports</a>', _flags_url(obj, status__exact="open"))
        return _content_html(obj, extra=reports)

    @admin.display(description=gettext_lazy("author / member"), ordering="target_author__profile__display_name")
    def author(self, obj: Flag) -> str:
        return obj.target_author.public_name

    @admin.display(description=gettext_lazy("open reports"), ordering="open_count")
    def report_count(self, obj: Flag) -> int:
        return obj.open_count

    @admin.display(description=gettext_lazy("from members in good standing"))
    def counting(self, obj: Flag) -> int:
        return obj.counting_count or 0

    @admin.display(description=gettext_lazy("waiting for"), ordering="created_at")
    def waiting(self, obj: Flag) -> str:
        return (
            timesince(obj.created_at, depth=1)
            if timezone.now() - obj.created_at >= timedelta(minutes=1)
            else _("a moment")
        )

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: Flag) -> str:
        target = obj.target
        if target is None:
            return _("deleted")
        if not hasattr(target, "is_hidden"):
            return _("member")
        return _("hidden") if target.is_hidden else _("visible")

    @admin.action(description=gettext_lazy("Hide the selected items (upholds their reports)"))
    def hide(self, request, queryset):
        return _apply(
            self,
            request,
            queryset,
            title=_("Hide reported items"),
            action="hide",
            apply=lambda flag, reason: services.queue_hide(flag=flag, actor=request.user, reason=reason),
            done=_("Hid {count} item(s)."),
        )

    @admin.action(description=gettext_lazy("Restore the selected items (dismisses their reports)"))
    def restore(self, request, queryset):
        return _apply(
            self,
            request,
            queryset,
            title=_("Restore reported items"),
            action="restore",
            apply=lambda flag, reason: services.queue_restore(flag=flag, actor=request.user, reason=reason),
            done=_("Restored {count} item(s)."),
        )

    @admin.action(description=gettext_lazy("Uphold all open reports of the selected items"))
    def uphold_reports(self, request, queryset):
        return _apply(
            self,
            request,
            queryset,
            title=_("Uphold reports"),
            action="uphold_reports",
            apply=lambda flag, reason: services.queue_resolve(
                flag=flag, actor=request.user, reason=reason, uphold=True
            ),
            done=_("Upheld the reports of {count} item(s)."),
        )

    @admin.action(description=gettext_lazy("Dismiss all open reports of the selected items"))
    def dismiss_reports(self, request, queryset):
        return _apply(
            self,
            request,
            queryset,
            title=_("Dismiss reports"),
            action="dismiss_reports",
            apply=lambda flag, reason: services.queue_resolve(
                flag=flag, actor=request.user, reason=reason, uphold=False
            ),
            done=_("Dismissed the reports of {count} item(s)."),
        )


@admin.register(ModerationAction)
class ModerationActionAdmin(TargetLookupsMixin, ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """The audit log: read-only for everyone, superusers included."""

    community_path = "community"
    list_display = (
        when_column("created_at", gettext_lazy("when")),
        "action",
        "target_label",
        "subject_name",
        "actor_name",
        "community",
        "reason",
    )
    list_filter = ("action", ("community", ScopedCommunityFilter))
    list_select_related = ("actor__profile", "subject__profile", "community")
    search_fields = ("target_label", "reason")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "action",
        "target_label",
        "subject_name",
        "actor_name",
        "community",
        "reason",
        "flag",
    )
    readonly_fields = fields

    def get_actions(self, request):
        return {}  # not even "delete selected"

    @admin.display(description=gettext_lazy("member concerned"), ordering="subject__profile__display_name")
    def subject_name(self, obj: ModerationAction) -> str:
        return obj.subject.public_name

    @admin.display(description=gettext_lazy("by"), ordering="actor__profile__display_name")
    def actor_name(self, obj: ModerationAction) -> str:
        return obj.actor.public_name if obj.actor_id else "automatic (report threshold)"


# --- the admin home -------------------------------------------------------------------
def _with_open_reports(index):
    """The admin home with the number of open reports the visitor can act on (an
    organizer: in the communities they organize) and a link to the queue."""

    @wraps(index)
    def view(request: HttpRequest, extra_context: dict | None = None):
        flag_admin = admin.site._registry.get(Flag)
        context = dict(extra_context or {})
        if flag_admin is not None and flag_admin.has_view_permission(request):
            context["open_reports"] = flag_admin.get_queryset(request).filter(status=Flag.Status.OPEN).count()
            context["moderation_queue_url"] = reverse("admin:moderation_moderationqueueitem_changelist")
        return index(request, extra_context=context)

    return view


admin.site.index = _with_open_reports(admin.site.index)
