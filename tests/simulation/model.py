"""The engine of the randomized simulation: a seeded walk of neighbors through the services.

Every step is one thing a neighbor, an organizer, a worker or the clock does, taken
through the services (``apps/*/services``) or the Celery tasks (``apps/*/tasks.py``)
exactly as the web, the API and the workers call them, inside a savepoint (one request,
one transaction). After every step every invariant of ``invariants.py`` is checked.

Realism of failure, on top of what neighbors do:
- **retries**: the same call again at once (a client that did not hear the answer);
- **duplicates**: a call that succeeded, submitted again later (a form sent twice);
- **out-of-order delivery**: what services enqueue on commit is not run; it goes into
  this engine's queue, from which the walk delivers a random message (not the oldest),
  sometimes twice (a redelivery after a worker died) and sometimes never (lost with the
  broker: the periodic sweeps must make up for it); and tasks are also called directly
  on rows in any state (a settlement before its clearing, a match for a deleted
  request, reminders after the return);
- **time** moves in jumps (time-machine, a clock that never ticks by itself).

Determinism: the walk draws only from its own ``random.Random(seed)``, picks rows from
queries ordered by id, and runs on a fixed clock, so a seed replays the same walk on the
same database engine.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.ledger.models import Transfer
from p2pcommons.errors import RuleViolation

from . import invariants

START = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # a Monday morning, summer time in the site's zone
DEFAULT_SEED = 1818
HISTORY = 20  # actions printed with a failure


class SimulationFailure(AssertionError):
    """An invariant broke, or a step raised what no service should (a crash, not a refusal)."""


@dataclass
class Call:
    """One exact call of a service or a task, kept so that it can be made again."""

    kind: str
    label: str
    run: Callable[[], Any]
    # A periodic sweep acts on whatever is due when it runs: run again later it may
    # rightly do more, so it is never "submitted again" as a duplicate.
    sweep: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a call ended: ``ok`` (it acted), ``noop`` (a task with nothing to do),
    ``refused`` (a rule said no, with its code) or ``invalid`` (bad input, by field)."""

    status: str
    code: str = ""

    def __str__(self) -> str:
        return f"{self.status}:{self.code}" if self.code else self.status


@dataclass
class Pending:
    """A task message the services enqueued on commit, waiting in the simulated broker."""

    task: Any
    args: tuple
    label: str


@dataclass
class Stats:
    ops: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    retries: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    redelivered: int = 0
    lost: int = 0
    invariant_checks: int = 0

    def line(self, *, steps: int, vendor: str) -> str:
        ops = "{" + ", ".join(f"{kind}: {n}" for kind, n in sorted(self.ops.items())) + "}"
        acted = sum(n for (_kind, status), n in self.outcomes.items() if status == "ok")
        refused = sum(n for (_kind, status), n in self.outcomes.items() if status in ("refused", "invalid"))
        return (
            f"db={vendor} steps={steps} ops={ops} acted={acted} "
            f"refused={refused} retries={self.retries} duplicates={self.duplicates} "
            f"out_of_order={self.out_of_order} redelivered={self.redelivered} lost={self.lost} "
            f"invariant_checks={self.invariant_checks} invariants=ok"
        )


def attempt(run: Callable[[], Any]) -> tuple[Outcome, Any]:
    """Make one call in its own savepoint (a request's transaction); a refusal or bad
    input rolls it back, as the web and the API do. Anything else propagates: a crash."""
    try:
        with transaction.atomic():
            result = run()
    except RuleViolation as refusal:
        return Outcome("refused", refusal.code), None
    except ValidationError as invalid:
        fields = sorted(invalid.message_dict) if hasattr(invalid, "error_dict") else []
        return Outcome("invalid", ",".join(fields)), None
    if result is None or result is False or result == 0 or result == []:
        return Outcome("noop"), result
    return Outcome("ok"), result


class Engine:
    """The walk's bookkeeping: its random source, the simulated broker, the history of
    calls for retries and duplicates, the counts and the failure report."""

    def __init__(self, *, seed: int, steps: int, traveller) -> None:
        self.seed = seed
        self.steps = steps
        self.rng = random.Random(seed)
        self.traveller = traveller
        self.step = 0
        self.queue: list[Pending] = []
        self.history: deque[str] = deque(maxlen=HISTORY)
        self.journal: list[tuple[str, str]] = []  # (kind, outcome) of every step: the walk's fingerprint
        self.succeeded: list[Call] = []  # calls that acted, for duplicates later
        self.last: tuple[Call, Outcome] | None = None
        self.stats = Stats()
        self.bite_line = ""  # what the final breakages showed (test_simulation)
        self.caught: set[str] = set()
        self._mark = len(transaction.get_connection().run_on_commit)

    # --- the simulated broker ----------------------------------------------------------
    def collect_enqueued(self) -> None:
        """Take what the last step queued on commit: task messages go to the queue (not
        run), other callbacks (cache generations, file clean-up) run now, as after a commit."""
        connection = transaction.get_connection()
        callbacks = [entry[1] for entry in connection.run_on_commit[self._mark :]]
        del connection.run_on_commit[self._mark :]
        for callback in callbacks:
            message = _task_message(callback)
            if message is None:
                callback()
            else:
                self.queue.append(message)

    def deliver(self) -> None:
        """Workers take one to four messages, each a random one (not the oldest: out of
        order), and run them; now and then a message stays to be delivered again (the
        worker died before its late acknowledgement), or is lost (the broker lost it)."""
        for _message in range(self.rng.randint(1, 4)):
            self._deliver_one()

    def _deliver_one(self) -> None:
        if not self.queue:
            self.stats.ops["deliver"] += 1
            self.record("deliver", "nothing queued", Outcome("noop"))
            return
        index = self.rng.randrange(len(self.queue))
        if index:
            self.stats.out_of_order += 1
        roll = self.rng.random()
        if roll < 0.05:
            lost = self.queue.pop(index)
            self.stats.lost += 1
            self.stats.ops["deliver"] += 1
            self.record("deliver", f"lost {lost.label}", Outcome("noop"))
            return
        message = self.queue[index] if roll < 0.20 else self.queue.pop(index)
        if roll < 0.20:
            self.stats.redelivered += 1
        self.perform(Call("deliver", message.label, lambda: message.task(*message.args)))

    # --- calls ---------------------------------------------------------------------------
    def perform(self, call: Call, *, replay: bool = False) -> Outcome:
        """Make ``call``; a replay (retry or duplicate) of a call that acted must move no
        credit, and a retry of a refused call is refused the same way."""
        transfers_before = Transfer.objects.count() if replay else 0
        outcome, _result = attempt(call.run)
        self.stats.ops[call.kind] += 1
        self.stats.outcomes[(call.kind, outcome.status)] += 1
        self.record(call.kind, call.label, outcome)
        if replay and Transfer.objects.count() != transfers_before:
            self.fail(f"replaying a call that already acted moved credit again: {call.label}")
        if not replay:
            self.last = (call, outcome)
            if outcome.status == "ok" and not call.sweep:
                self.succeeded.append(call)
        return outcome

    def retry(self) -> None:
        """The same call again, at once, as a client that lost the answer sends it."""
        if self.last is None:
            self.record("retry", "nothing to retry yet", Outcome("idle"))
            return
        call, first = self.last
        self.stats.retries += 1
        outcome = self.perform(Call(call.kind, f"retry of {call.label}", call.run), replay=first.status == "ok")
        if first.status in ("refused", "invalid") and outcome != first:
            self.fail(f"a refused call, retried at once, ended {outcome} instead of {first}: {call.label}")

    def duplicate(self) -> None:
        """A call that acted, submitted again later (the same form sent twice)."""
        if not self.succeeded:
            self.record("duplicate", "nothing to submit again yet", Outcome("idle"))
            return
        call = self.rng.choice(self.succeeded[-50:])
        self.stats.duplicates += 1
        self.perform(Call(call.kind, f"duplicate of {call.label}", call.run), replay=True)

    def record(self, kind: str, label: str, outcome: Outcome) -> None:
        from django.utils import timezone

        self.history.append(f"#{self.step} {timezone.now():%m-%d %H:%M} {kind}: {label} -> {outcome}")
        self.journal.append((kind, str(outcome)))

    # --- checking -----------------------------------------------------------------------
    def check(self) -> None:
        problems = invariants.check_all()
        self.stats.invariant_checks += len(invariants.ALL)
        if problems:
            lines = [f"{name}: {p}" for name, found in problems.items() for p in found[:5]]
            self.fail("invariants broken:\n  " + "\n  ".join(lines))

    def fail(self, what: str) -> None:
        raise SimulationFailure(self.report(what))

    def report(self, what: str) -> str:
        return (
            f"\nSimulation failed at step {self.step} of {self.steps} (seed {self.seed}): {what}\n"
            f"Last {len(self.history)} actions:\n  " + "\n  ".join(self.history) + "\n"
            f"Reproduce (with the same DATABASE_URL, or none for SQLite): SIM_SEED={self.seed} "
            f"SIM_STEPS={min(self.step, self.steps)} .venv/bin/pytest tests/simulation -k random_walk -s\n"
        )


def _task_message(callback) -> Pending | None:
    """The task and arguments a callback queued on commit would publish, or None when it
    is not a task message. ``enqueue_on_commit`` closes over ``task`` and ``args``; the
    notifications' outbox over ``ids`` (``deliver_notifications``)."""
    names = callback.__code__.co_freevars
    cells = dict(zip(names, (cell.cell_contents for cell in callback.__closure__ or ()), strict=True))
    if "task" in cells and "args" in cells:
        task, args = cells["task"], tuple(cells["args"])
        return Pending(task, args, f"task {task.name.rsplit('.', 1)[-1]}{_short(args)}")
    if callback.__module__ == "apps.notifications.services" and "ids" in cells:
        from apps.notifications.tasks import deliver_notifications

        return Pending(deliver_notifications, (cells["ids"],), f"task deliver_notifications({len(cells['ids'])})")
    return None


def _short(args: tuple) -> str:
    text = repr(args)
    return text if len(text) < 40 else text[:37] + "...)"
