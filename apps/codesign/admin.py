"""Co-design challenges in the admin: organizers create and run their communities'
challenges, and only theirs.

What organizers do goes through the services, as on the site: "add" posts a challenge
(``services.challenge_create``, never a direct save), and actions move a challenge to
its next phase (``challenge_step``, recorded as a phase event), answer proposals
(accepted for voting, or not feasible with a reason asked on an intermediate page;
``proposal_answer``), publish answers (``proposal_publish_answer``) and confirm
volunteers (``volunteer_confirm``, which pays their hours once). Every row with a rule
is read-only here, superusers included: an edit would skip the checks and the records
the services keep.

Ballots are secret until voting closes, so they are not in the admin at all (not for
superusers either): no page shows who voted what, and no column shows totals.
Drafts are their authors' own: an organizer's list starts at submitted proposals.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.peers.admin_scoping import (
    CommunityScopedAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ScopedCommunityFilter,
    apply_or_report,
    confirm_and_apply,
    when_column,
)
from p2pcommons.errors import RuleViolation

from . import services
from .models import Challenge, ChallengePhoto, Comment, Idea, PhaseEvent, Project, Proposal, Task, Volunteer
from .transitions import NEXT_STEP

PH = Challenge.Phase
# The step that leaves each phase, the last one (building -> done) included.
STEP_FROM = {**NEXT_STEP, PH.BUILDING: "finish"}


def _name(path: str, description: str):
    """A list column (a method of the ModelAdmin) with the display name of the person at
    ``path``, never the email."""

    @admin.display(description=description, ordering=f"{path}__profile__display_name")
    def column(model_admin, obj) -> str:
        person = obj
        for part in path.split("__"):
            person = getattr(person, part)
        return person.public_name if person is not None else ""

    column.__name__ = f"{path.replace('__', '_')}_name"
    return column


# --- challenges -------------------------------------------------------------------------
class ChallengeForm(forms.ModelForm):
    """What an organizer fills in to post a challenge; saved by ``challenge_create``."""

    class Meta:
        model = Challenge
        fields = (
            "community",
            "title",
            "brief",
            "space",
            "constraints",
            "budget",
            "ideas_until",
            "proposals_until",
            "voting_until",
            "method",
            "dots",
            "max_dots_per_proposal",
            "live_totals",
        )
        widgets = {"brief": forms.Textarea(attrs={"rows": 6, "cols": 70})}
        help_texts = {
            "ideas_until": gettext_lazy(
                "Ideas are posted until then; proposals until the next date, votes until the last."
            ),
        }

    refusal: RuleViolation | ValidationError | None = None

    def clean(self):
        cleaned = super().clean()
        refusal = self.refusal
        if isinstance(refusal, ValidationError) and hasattr(refusal, "error_dict"):
            for field, errors in refusal.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        elif refusal is not None:
            self.add_error(None, "; ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal))
        return cleaned


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy(
            "Optional: why now. The followers are told of the new phase; it is kept in the timeline."
        ),
    )


class PhaseEventInline(ReadOnlyInline):
    """The challenge's timeline: who moved it (empty: the beat, when a date passed)."""

    model = PhaseEvent
    fields = ("created_at", "actor", "source", "target", "note")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor__profile")


class PhotoInline(ReadOnlyInline):
    model = ChallengePhoto
    fields = ("kind", "image", "alt_text", "created_at")


@admin.register(Challenge)
class ChallengeAdmin(CommunityScopedAdminMixin, admin.ModelAdmin):
    """Organizers post challenges ("add", through ``challenge_create``) and move them to
    their next phase (the action, through ``challenge_step``: the planned dates adjust,
    followers are told, closing the vote counts it). A posted challenge is read-only."""

    community_path = "community"
    organizer_can_add = True
    form = ChallengeForm
    list_display = (
        "title",
        "community",
        "phase",
        "budget",
        "spent",
        "created_by_name",
        when_column("ideas_until", gettext_lazy("ideas until")),
        when_column("proposals_until", gettext_lazy("proposals until")),
        when_column("voting_until", gettext_lazy("voting until")),
    )
    list_filter = ("phase", "method", ("community", ScopedCommunityFilter))
    search_fields = ("title", "space")
    list_select_related = ("community", "created_by__profile")
    inlines = [PhaseEventInline, PhotoInline]
    actions = ["move_to_next_phase"]
    created_by_name = _name("created_by", gettext_lazy("posted by"))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ChallengeForm.Meta.fields
        return (
            "title",
            "community",
            "phase",
            "brief",
            "space",
            "constraints",
            "budget",
            "spent",
            "ideas_until",
            "proposals_until",
            "voting_until",
            "method",
            "dots",
            "max_dots_per_proposal",
            "live_totals",
            "created_by",
            "created_at",
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None) -> bool:
        # Rows are read-only; the changelist keeps its actions.
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_codesign_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"refusal": refusal})

    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        extra_context = {"title": _("Post a design challenge"), **(extra_context or {})}
        try:
            return super().add_view(request, form_url, extra_context)
        except (RuleViolation, ValidationError) as refusal:
            # The service refused inside the admin's transaction (rolled back): show the
            # form again with what was typed and the refusal beside its field.
            request._codesign_refusal = refusal  # type: ignore[attr-defined]
            return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj: Challenge, form, change) -> None:
        """Never saves the row itself: ``challenge_create`` checks and creates it (and
        its author follows it). A refusal propagates to ``add_view``."""
        if change:
            return
        data = form.cleaned_data
        made = services.challenge_create(
            community=data["community"],
            actor=request.user,
            title=data["title"],
            brief=data["brief"],
            space=data["space"],
            constraints=data.get("constraints") or "",
            budget=data.get("budget"),
            ideas_until=data["ideas_until"],
            proposals_until=data["proposals_until"],
            voting_until=data["voting_until"],
            method=data["method"],
            dots=data["dots"],
            max_dots_per_proposal=data["max_dots_per_proposal"],
            live_totals=data.get("live_totals", False),
        )
        obj.pk, obj.created_by, obj.created_at = made.pk, made.created_by, made.created_at

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related to save beside the service."""

    @admin.action(description=gettext_lazy("Move the selected challenges to their next phase"))
    def move_to_next_phase(self, request, queryset):
        def step(challenge: Challenge, note: str):
            name = STEP_FROM.get(challenge.phase)
            if name is None:
                raise RuleViolation(_("It is done: there is no next phase."), code="illegal_transition")
            return services.challenge_step(challenge=challenge, actor=request.user, step=name, note=note)

        return confirm_and_apply(
            self,
            request,
            queryset,
            form_class=NoteForm,
            title=_("Move these challenges to their next phase"),
            action="move_to_next_phase",
            apply=step,
            done=_("Moved {count} challenge(s) to their next phase; their followers are told."),
        )


# --- ideas, proposals, comments ---------------------------------------------------------
@admin.register(Idea)
class IdeaAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Neighbors' ideas, seen here; hiding one is the moderation queue's work."""

    community_path = "challenge__community"
    list_display = (
        "text",
        "challenge",
        "author_name",
        "plus_ones",
        "is_hidden",
        when_column("created_at", gettext_lazy("posted")),
    )
    list_filter = ("is_hidden", ("challenge__community", ScopedCommunityFilter))
    search_fields = ("text", "author__profile__display_name")
    list_select_related = ("challenge", "author__profile")
    fields = ("challenge", "author", "text", "plus_ones", "is_hidden", "created_at")
    author_name = _name("author", gettext_lazy("by"))


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("The authors read it once the answer is published."),
    )
    publish = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Publish the answer now (the authors are told)")
    )


class AcceptForm(forms.Form):
    publish = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Publish the answer now (the authors are told)")
    )


class AnsweredFilter(admin.SimpleListFilter):
    title = gettext_lazy("answer")
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return (("waiting", _("Waiting for an answer")), ("unpublished", _("Answered, not published")))

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(status=Proposal.Status.SUBMITTED)
        if self.value() == "unpublished":
            return queryset.filter(
                status__in=(Proposal.Status.ACCEPTED, Proposal.Status.NOT_FEASIBLE), answer_published_at__isnull=True
            )
        return queryset


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Submitted proposals; organizers answer them with the actions (``proposal_answer``)
    and publish the answers. No votes here: totals are for the results page, after the
    close."""

    community_path = "challenge__community"
    list_display = (
        "title",
        "challenge",
        "author_name",
        "status",
        "cost",
        "hours",
        when_column("submitted_at", gettext_lazy("submitted")),
        when_column("answer_published_at", gettext_lazy("answer published")),
    )
    list_filter = ("status", AnsweredFilter, ("challenge__community", ScopedCommunityFilter))
    search_fields = ("title", "author__profile__display_name")
    list_select_related = ("challenge", "author__profile")
    fields = (
        "challenge",
        "title",
        "author",
        "description",
        "cost",
        "hours",
        "tools_text",
        "status",
        "answer_reason",
        "answered_by",
        "answer_published_at",
        "is_hidden",
        "created_at",
        "submitted_at",
        "updated_at",
    )
    actions = ["accept_for_voting", "not_feasible", "publish_answers"]
    author_name = _name("author", gettext_lazy("by"))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.exclude(status=Proposal.Status.DRAFT)

    def _answer(self, request, queryset, *, accept: bool, form_class, title: str, action: str, done: str):
        def apply(proposal: Proposal, publish: bool, reason: str = ""):
            return services.proposal_answer(
                proposal=proposal, actor=request.user, accept=accept, reason=reason, publish=publish
            )

        return confirm_and_apply(
            self, request, queryset, form_class=form_class, title=title, action=action, apply=apply, done=done
        )

    @admin.action(description=gettext_lazy("Accept the selected proposals for voting"))
    def accept_for_voting(self, request, queryset):
        return self._answer(
            request,
            queryset,
            accept=True,
            form_class=AcceptForm,
            title=_("Accept these proposals for voting"),
            action="accept_for_voting",
            done=_("Accepted {count} proposal(s) for voting."),
        )

    @admin.action(description=gettext_lazy("Answer the selected proposals: not feasible (say why)"))
    def not_feasible(self, request, queryset):
        return self._answer(
            request,
            queryset,
            accept=False,
            form_class=ReasonForm,
            title=_("These proposals are not feasible"),
            action="not_feasible",
            done=_("Answered {count} proposal(s): not feasible."),
        )

    @admin.action(description=gettext_lazy("Publish the answers of the selected proposals"))
    def publish_answers(self, request, queryset):
        published = 0
        for proposal in queryset.select_related("challenge"):
            call = lambda p=proposal: services.proposal_publish_answer(proposal=p, actor=request.user)  # noqa: E731
            published += apply_or_report(self, request, proposal, call)
        if published:
            self.message_user(
                request,
                _("Published %(count)s answer(s); the authors are told.") % {"count": published},
                messages.SUCCESS,
            )


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Comments, seen here; reports and hiding go through the moderation queue."""

    community_path = "challenge__community"
    list_display = (
        "short_text",
        "challenge",
        "proposal",
        "author_name",
        "is_hidden",
        when_column("created_at", gettext_lazy("posted")),
    )
    list_filter = ("is_hidden", ("challenge__community", ScopedCommunityFilter))
    search_fields = ("text", "author__profile__display_name")
    list_select_related = ("challenge", "proposal", "author__profile")
    fields = ("challenge", "proposal", "parent", "author", "text", "is_hidden", "created_at")
    author_name = _name("author", gettext_lazy("by"))

    @admin.display(description=gettext_lazy("comment"), ordering="text")
    def short_text(self, obj: Comment) -> str:
        return obj.text[:80]


# --- the build --------------------------------------------------------------------------
class TaskInline(ReadOnlyInline):
    model = Task
    fields = ("title", "hours", "date", "places", "status")


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """The winners being built (made when voting closes), with their tasks."""

    community_path = "challenge__community"
    list_display = ("proposal", "challenge", "votes", when_column("created_at", gettext_lazy("started")))
    list_filter = (("challenge__community", ScopedCommunityFilter),)
    list_select_related = ("proposal", "challenge")
    fields = ("challenge", "proposal", "votes", "created_at")
    inlines = [TaskInline]


class VolunteerInline(ReadOnlyInline):
    model = Volunteer
    fields = ("member", "status", "confirmed_by", "confirmed_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member__profile", "confirmed_by__profile")


@admin.register(Task)
class TaskAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """The build's tasks (added on the project board, ``task_create``), with who joined."""

    community_path = "project__challenge__community"
    list_display = ("title", "project", "hours", "date", "places", "status")
    list_filter = ("status", ("project__challenge__community", ScopedCommunityFilter))
    search_fields = ("title",)
    list_select_related = ("project__proposal",)
    fields = ("project", "title", "skill", "tool", "hours", "date", "places", "status", "created_at")
    inlines = [VolunteerInline]


@admin.register(Volunteer)
class VolunteerAdmin(ReadOnlyAdminMixin, CommunityScopedAdminMixin, admin.ModelAdmin):
    """Who is on which task. Confirming one done (the action, ``volunteer_confirm``)
    pays their hours from the co-design fund, once; refusals (your own hours, the fund
    at its limit, the build over) are shown as messages."""

    community_path = "task__project__challenge__community"
    list_display = (
        "member_name",
        "task",
        "task_hours",
        "status",
        "confirmed_by_name",
        when_column("confirmed_at", gettext_lazy("confirmed")),
        when_column("created_at", gettext_lazy("joined")),
    )
    list_filter = ("status", ("task__project__challenge__community", ScopedCommunityFilter))
    search_fields = ("member__profile__display_name", "task__title")
    list_select_related = ("member__profile", "confirmed_by__profile", "task")
    fields = ("task", "member", "status", "confirmed_by", "confirmed_at", "transfer", "created_at")
    actions = ["confirm_done"]
    member_name = _name("member", gettext_lazy("volunteer"))

    @admin.display(description=gettext_lazy("confirmed by"), ordering="confirmed_by__profile__display_name")
    def confirmed_by_name(self, obj: Volunteer) -> str:
        return obj.confirmed_by.public_name if obj.confirmed_by_id else ""

    @admin.display(description=gettext_lazy("hours"), ordering="task__hours")
    def task_hours(self, obj: Volunteer):
        return obj.task.hours

    @admin.action(description=gettext_lazy("Confirm the selected volunteers did their task (pays their hours)"))
    def confirm_done(self, request, queryset):
        confirmed = 0
        for volunteer in queryset.select_related("member__profile", "task"):
            label = _("%(name)s on “%(task)s”") % {"name": volunteer.member.public_name, "task": volunteer.task}
            try:
                services.volunteer_confirm(volunteer=volunteer, actor=request.user)
            except (RuleViolation, ValidationError) as refusal:
                text = "; ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
                self.message_user(request, f"{label}: {text}", messages.ERROR)
            else:
                confirmed += 1
        if confirmed:
            self.message_user(
                request,
                _("Confirmed %(count)s volunteer(s); their hours are paid from the co-design fund.")
                % {"count": confirmed},
                messages.SUCCESS,
            )
