"""What members may do with an exchange's objects, and when: declared once, as data.

Each exchange declares, per kind of object, a ``Machine``: its state field and a list
of ``Action``s. An action names who may take it (``who`` checks), in which states
(``source``), the other conditions (``when`` checks: times, limits), the state it leads
to (``target``, or None when it changes something else, like confirming hours), and its
words (label, a one-line help for the button, whether it takes a note).

From that one declaration come:

- the service's check: ``machine.check("approve", obj, user)`` raises the first refusal
  as a ``RuleViolation`` with its code (``forbidden``, ``illegal_transition``, or the
  code of the ``when`` check that failed), in that order: who, state, when;
- the state change: ``machine.apply("approve", obj, user, ...)`` runs the check, then a
  conditional UPDATE (``WHERE status IN source``, so two clicks or two workers can't
  both succeed) and records the event row (who, from, to, note) when the machine has an
  event recorder; side effects (ledger, notifications) stay in the service after it;
- the buttons a page shows and the API's ``actions`` list: ``machine.allowed(obj,
  user)``, the actions whose check passes now;
- the API's ``POST /{id}/<action>/`` endpoints (``p2pcommons.api.transitions``).

The checks take ``(obj, user, now)`` and return a ``RuleViolation`` or None, so a rule
exists once and the page, the API and the service ask the same function. Row locks are
the service's: it locks (SELECT FOR UPDATE) before it checks when the check reads rows
another request could change at the same moment.

Why our own module and not django-fsm-2 or ``rules``: django-fsm's transitions save the
whole object (``obj.save()``) rather than a conditional UPDATE, and protect the state
field by refusing direct writes, which our bulk tasks (expiry, reminders) rely on;
``rules`` gives predicates but no states, events or endpoints. What we need fits in
this one module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from p2pcommons.errors import RuleViolation

Check = Callable[[Any, Any, datetime], RuleViolation | None]
"""``(obj, user, now) -> RuleViolation | None``: why ``user`` may not act now, or None."""


def only(predicate: Callable[[Any, Any], bool], who: str, *, code: str = "forbidden", message: str = "") -> Check:
    """A ``who`` check: ``only(is_owner, "the tool's owner")`` refuses everyone else with
    "Only the tool's owner can do that." (code ``forbidden``), or with ``message``."""

    def check(obj, user, now):
        if user is None or not getattr(user, "is_authenticated", False) or not predicate(obj, user):
            return RuleViolation(message or _("Only %(who)s can do that.") % {"who": who}, code=code)
        return None

    check.__name__ = f"only_{getattr(predicate, '__name__', 'who')}"
    check.code = code
    return check


def refuse_if(predicate: Callable[[Any, Any, datetime], bool], message: str | Callable[..., str], code: str) -> Check:
    """A ``when`` check from a condition and its refusal: ``refuse_if(started, "It has
    started.", "started")``; ``message`` may be a function of ``(obj, user, now)``."""

    def check(obj, user, now):
        if predicate(obj, user, now):
            text = message(obj, user, now) if callable(message) else message
            return RuleViolation(text, code=code)
        return None

    check.__name__ = f"refuse_if_{getattr(predicate, '__name__', 'rule')}"
    check.code = code
    return check


@dataclass(frozen=True)
class Action:
    """One thing a member may do with an object (see the module docstring)."""

    name: str
    label: str
    source: tuple[str, ...]
    target: str | None = None
    who: tuple[Check, ...] = ()
    when: tuple[Check, ...] = ()
    help: str | Callable[[Any, Any], str] = ""
    takes_note: bool = False
    style: str = ""  # the button's look on pages: "", "secondary", "secondary outline"
    label_for: Callable[[Any, Any], str] | None = None  # a label that depends on the object
    state_message: str | Callable[[Any], str] = ""  # the refusal in a wrong state, if not the machine's
    system: bool = False  # taken by the platform (a task), never offered to a member

    def label_of(self, obj, user) -> str:
        return self.label_for(obj, user) if self.label_for else self.label

    def help_of(self, obj, user) -> str:
        return self.help(obj, user) if callable(self.help) else self.help


@dataclass(frozen=True)
class Button:
    """An allowed action as a page shows it."""

    name: str
    label: str
    style: str = ""
    help: str = ""
    takes_note: bool = False


class Machine:
    """The actions on one model (see the module docstring)."""

    def __init__(
        self,
        *,
        model: type[models.Model],
        actions: list[Action],
        field: str = "status",
        noun: str = "",
        record: Callable[..., Any] | None = None,
    ) -> None:
        self.model = model
        self.actions = actions
        self.field = field
        # "This reservation is approved; ...": lazy, so it is read in the reader's language.
        self.noun = noun or model._meta.verbose_name
        self.record = record  # record(obj=, actor=, source=, target=, note=): the event row
        self.by_name = {action.name: action for action in actions}
        assert len(self.by_name) == len(actions), "action names must be unique"
        states = {value for value, _ in model._meta.get_field(field).choices}
        for action in actions:
            unknown = (set(action.source) | ({action.target} if action.target else set())) - states
            assert not unknown, f"{model.__name__}.{action.name}: unknown states {unknown}"
        MACHINES[model._meta.label_lower] = self

    @property
    def names(self) -> list[str]:
        return [action.name for action in self.actions]

    def state_label(self, value: str | None) -> str:
        choices = dict(self.model._meta.get_field(self.field).choices)
        return str(choices.get(value, pgettext("state", "gone"))).lower()

    def refusal(self, name: str, obj, user, *, now: datetime | None = None) -> RuleViolation | None:
        """Why ``user`` may not take action ``name`` on ``obj`` now, or None."""
        action = self.by_name[name]
        now = now or timezone.now()
        for check in action.who:
            refusal = check(obj, user, now)
            if refusal is not None:
                return refusal
        state = getattr(obj, self.field)
        if state not in action.source:
            message = action.state_message
            text = (message(obj) if callable(message) else message) or self._wrong_state(action, state)
            return RuleViolation(text, code="illegal_transition")
        for check in action.when:
            refusal = check(obj, user, now)
            if refusal is not None:
                return refusal
        return None

    def check(self, name: str, obj, user, *, now: datetime | None = None) -> None:
        refusal = self.refusal(name, obj, user, now=now)
        if refusal is not None:
            raise refusal

    def allowed(self, obj, user, *, now: datetime | None = None, names: Iterable[str] | None = None) -> list[Action]:
        """The actions ``user`` may take on ``obj`` now, in declaration order (only those
        in ``names`` when given)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return []
        now = now or timezone.now()
        wanted = set(names) if names is not None else None
        return [
            action
            for action in self.actions
            if not action.system
            and (wanted is None or action.name in wanted)
            and self.refusal(action.name, obj, user, now=now) is None
        ]

    def allowed_names(self, obj, user, *, now: datetime | None = None) -> list[str]:
        return [action.name for action in self.allowed(obj, user, now=now)]

    def buttons(self, obj, user, *, names: Iterable[str] | None = None, now: datetime | None = None) -> list[Button]:
        """What a page shows for the actions ``user`` may take now: one form per button."""
        return [
            Button(
                name=action.name,
                label=action.label_of(obj, user),
                style=action.style,
                help=action.help_of(obj, user),
                takes_note=action.takes_note,
            )
            for action in self.allowed(obj, user, now=now, names=names)
        ]

    def step_between(self, source: str, target: str) -> str | None:
        """The member action that moves an object from ``source`` to ``target``, if any
        (for an edit that sets the state field directly, like a PATCH of ``status``)."""
        for action in self.actions:
            if not action.system and action.target == target and source in action.source:
                return action.name
        return None

    def codes(self, name: str) -> set[str]:
        """The refusal codes action ``name`` can answer with (the API documents them):
        ``illegal_transition`` for a wrong state, and each check's ``code`` (a check
        written by hand declares it as an attribute: ``check.code = "forbidden"``)."""
        action = self.by_name[name]
        return {"illegal_transition"} | {check.code for check in (*action.who, *action.when)}

    @property
    def member_actions(self) -> list[str]:
        """The names of the actions a member can be offered (the API's ``actions`` enum)."""
        return [action.name for action in self.actions if not action.system]

    @property
    def member_choices(self) -> list[tuple[str, str]]:
        return [(action.name, action.label) for action in self.actions if not action.system]

    def apply(
        self,
        name: str,
        obj,
        actor,
        *,
        note: str = "",
        now: datetime | None = None,
        checked: bool = False,
        **stamps,
    ):
        """Check (unless the caller just did: ``checked=True``), then move ``obj`` to the
        action's target with a conditional UPDATE, record the event and return ``obj``
        fresh from the database. Call it inside the service's transaction."""
        action = self.by_name[name]
        assert action.target is not None, f"{name} changes no state; the service does its work itself"
        if not checked:
            self.check(name, obj, actor, now=now)
        # Only from the state that was checked: if another request moved the object since,
        # this changes nothing and says so.
        source = getattr(obj, self.field)
        if source not in action.source:
            raise RuleViolation(self._wrong_state(action, source), code="illegal_transition")
        changed = self.model._default_manager.filter(pk=obj.pk, **{self.field: source}).update(
            **{self.field: action.target}, **stamps
        )
        if changed != 1:
            current = self.model._default_manager.filter(pk=obj.pk).values_list(self.field, flat=True).first()
            raise RuleViolation(self._wrong_state(action, current), code="illegal_transition")
        if self.record is not None:
            self.record(obj=obj, actor=actor, source=source, target=action.target, note=note)
        obj.refresh_from_db()
        return obj

    def _wrong_state(self, action: Action, state: str | None) -> str:
        if action.target is None:
            return _("This %(noun)s is %(state)s; that can't be done now.") % {
                "noun": self.noun,
                "state": self.state_label(state),
            }
        return _("This %(noun)s is %(state)s; it can't become %(target)s now.") % {
            "noun": self.noun,
            "state": self.state_label(state),
            "target": self.state_label(action.target),
        }


MACHINES: dict[str, Machine] = {}
"""Every declared machine by model label ("tools.reservation"), for tests that walk them all."""


def machines() -> Iterable[Machine]:
    return MACHINES.values()
