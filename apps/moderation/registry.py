"""The moderation registry: what members can report, who wrote it and where it lives.

Moderation is core and never imports the apps whose content it moderates. Each app
declares its user-generated content here, once, in its ``AppConfig.ready()``:

    from apps.moderation.registry import register_moderatable

    class ReputationConfig(AppConfig):
        def ready(self):
            from .models import Review

            register_moderatable(Review, author="author", community="community", noun="review")

Like the exchange registry, a declaration is made of *field paths*: the same path reads
one object (``review.author``) and filters many in one query (``.visible_to(user)``
in ``apps.moderation.moderatable``). Content models inherit ``Moderatable`` so they can
be hidden; members themselves are registered by this app as ``peers.user`` with no
community path: a flag about a member names the community it is made in.

Optional:
- ``subject`` is the path to the member a piece of content is *about*, when it is about
  someone other than its author (a review's subject). Organizers never moderate content
  written by them or about them.
- ``readable(queryset, user)`` narrows a queryset to what ``user`` may read at all
  (e.g. blind reviews); nobody can report what they can't see.
- ``on_visibility_change(obj)`` runs (inside the transaction) after ``obj`` was hidden
  or restored, e.g. to recompute a score the content counts towards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from apps.peers.models import Community, User


# The nouns the exchanges register their reportable things under, marked here so that
# moderation's refusals and notifications ("An organizer hid your {noun}") can name them
# in the reader's language whichever app registered them (``services.noun_of``).
NOUNS = (
    gettext_noop("member"),
    gettext_noop("review"),
    gettext_noop("tool"),
    gettext_noop("tool listing"),
    gettext_noop("reservation"),
    gettext_noop("waitlist entry"),
    gettext_noop("skill offer"),
    gettext_noop("skill request"),
    gettext_noop("skill session"),
    gettext_noop("session"),
    gettext_noop("place"),
    gettext_noop("offer"),
    gettext_noop("request"),
    gettext_noop("order"),
    gettext_noop("slot"),
    gettext_noop("meter"),
    gettext_noop("standing order"),
    gettext_noop("challenge"),
    gettext_noop("proposal"),
    gettext_noop("design proposal"),
    gettext_noop("place on the task"),
    gettext_noop("idea"),
    gettext_noop("comment"),
)


class UnknownModeratableType(LookupError):
    """A string or model instance that names nothing members can report."""


def _follow(obj: Any, path: str) -> Any:
    if not path:
        return obj
    for part in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class ModeratableType:
    """One registered kind of reportable thing: where its author and community are."""

    model: type[Model]
    author: str
    community: str
    noun: str
    readable: Callable[[QuerySet, Any], QuerySet] | None = None
    on_visibility_change: Callable[[Model], None] | None = None
    subject: str = ""

    @property
    def key(self) -> str:
        return self.model._meta.label_lower

    @property
    def is_member(self) -> bool:
        """A member (a person), not a piece of content: can't be hidden, only suspended."""
        return not self.community

    def author_of(self, obj: Model) -> User:
        return _follow(obj, self.author)

    def people_concerned_ids(self, obj: Model) -> set[int]:
        """The ids of the members ``obj`` is by or about: its author, its subject if it
        has one, or the member themselves."""
        if self.is_member:
            return {obj.pk}
        ids = {getattr(obj, f"{self.author}_id", None) or self.author_of(obj).pk}
        if self.subject:
            ids.add(getattr(obj, f"{self.subject}_id", None) or _follow(obj, self.subject).pk)
        return ids

    def community_of(self, obj: Model) -> Community | None:
        return _follow(obj, self.community) if self.community else None

    def readable_by(self, user: User) -> QuerySet:
        """What ``user`` may see of this type: not hidden (unless theirs or they moderate
        it) and, where the app says so, readable by them at all."""
        queryset = self.model._default_manager.all()
        if hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(user)
        return self.readable(queryset, user) if self.readable else queryset


_registry: dict[str, ModeratableType] = {}


def register_moderatable(
    model: type[Model],
    *,
    author: str,
    community: str,
    noun: str,
    readable: Callable[[QuerySet, Any], QuerySet] | None = None,
    on_visibility_change: Callable[[Model], None] | None = None,
    subject: str = "",
) -> ModeratableType:
    """Declare ``model`` reportable (see the module docstring). ``community=""`` only for members."""
    kind = ModeratableType(
        model=model,
        author=author,
        community=community,
        noun=noun,
        readable=readable,
        on_visibility_change=on_visibility_change,
        subject=subject,
    )
    if kind.key in _registry:
        raise ImproperlyConfigured(f"{kind.key} is already registered as moderatable.")
    if community and not any(f.name == "is_hidden" for f in model._meta.get_fields()):
        raise ImproperlyConfigured(f"{kind.key} must inherit apps.moderation.moderatable.Moderatable.")
    _registry[kind.key] = kind
    return kind


def moderatable_type_for(key: str) -> ModeratableType:
    """The registered type named ``"app_label.model"``; ``UnknownModeratableType`` otherwise."""
    try:
        return _registry[key.lower()]
    except (KeyError, AttributeError):
        raise UnknownModeratableType(_("%(key)r is not something that can be reported.") % {"key": key}) from None


def moderatable_type_of(obj: Model | type[Model]) -> ModeratableType:
    return moderatable_type_for(obj._meta.label_lower)


def registered() -> list[ModeratableType]:
    return list(_registry.values())
