"""``Moderatable``: the one place where hidden content disappears for everyone else.

Every model of user-generated content inherits it and uses its queryset:

    class Review(Moderatable, models.Model):
        objects = ModeratableQuerySet.as_manager()

and every list, detail page, search, API endpoint and notification that shows such
content reads it through ``.visible_to(viewer)``. Hidden content stays visible to its
author (who is told it is hidden), to the organizers of its community (who moderate it)
and to site superusers. The author and community paths come from the moderation
registry (``apps.moderation.registry``), so the filter is one SQL condition with one
subquery for the viewer's organized communities: no per-row checks, no extra query.
Only ``apps.moderation.services`` hides and restores.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy


class ModeratableQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> QuerySet:
        """Rows ``user`` may see: not hidden, or theirs, or in a community they organize."""
        visible = Q(is_hidden=False)
        if user is not None and user.is_authenticated:
            from apps.peers.selectors import organizer_scope

            from .registry import moderatable_type_of

            organized = organizer_scope(user=user)
            if organized is None:  # a site superuser organizes every community
                return self
            kind = moderatable_type_of(self.model)
            visible |= Q(**{kind.author: user.pk}) | Q(**{f"{kind.community}__in": organized})
        return self.filter(visible)

    def not_hidden_by_decision(self) -> QuerySet:
        """Rows not hidden, or hidden only automatically (by reports from members in good
        standing) and still waiting for an organizer: what may keep counting, e.g. in a
        trust score, until an organizer upholds a report or hides it themselves.

        The state is read from the audit log: the last hide/restore entry about the row
        says who hid it. One correlated subquery, no extra query.
        """
        from django.contrib.contenttypes.models import ContentType

        from .models import ModerationAction

        Kind = ModerationAction.Kind
        last_visibility_change = (
            ModerationAction.objects.filter(
                content_type=ContentType.objects.get_for_model(self.model), object_id=OuterRef("pk")
            )
            .filter(action__in=[Kind.AUTO_HIDE, Kind.HIDE, Kind.RESTORE])
            .order_by("-pk")
            .values("action")[:1]
        )
        return self.alias(_last_visibility_change=Subquery(last_visibility_change)).filter(
            Q(is_hidden=False) | Q(_last_visibility_change=Kind.AUTO_HIDE)
        )


class Moderatable(models.Model):
    """Content that members can report and organizers can hide (see the module docstring)."""

    is_hidden = models.BooleanField(
        default=False,
        editable=False,
        help_text=gettext_lazy("Hidden by moderation: only its author and organizers see it."),
    )
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True
