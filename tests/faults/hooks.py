"""Test-only code loaded into the worker processes the fault tests start.

Imported by the worker through ``CELERY_IMPORTS`` (tests/faults/worker_settings.py), after
Django is set up. Two things live here, never in apps/:

- **Pause points.** With ``FAULTS_HOOK_DIR`` set, each function in ``PAUSE_POINTS`` is
  wrapped. A test *arms* one by writing ``<dir>/<point>.armed`` (the number of calls to
  let through first, usually 0). The wrapped call that finds it armed takes the file
  (an atomic rename, so it fires once), writes ``<dir>/<point>.reached`` and sleeps, inside
  whatever transaction its caller has open, until the test kills the process. Unarmed,
  the wrapper only calls through, so a restarted worker does the work normally.
- **Test-only tasks**: ``confirm_volunteer`` runs the co-design credit service in a worker
  (the apps credit volunteers from a request, not a task), and ``beat_tick`` is the
  harmless periodic task the beat tests count.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from pathlib import Path

from celery import shared_task

# point name -> (module, function looked up as a global of that module by its caller)
PAUSE_POINTS: dict[str, tuple[str, str]] = {
    # slot_clear, after its claim, before the trades are written
    "solar.clear": ("apps.solar.services.market", "clear_book"),
    # slot_settle's payments, one ledger transfer per trade, in the settlement's transaction
    "solar.settle": ("apps.solar.services.market", "transfer_create"),
    # deliver(): one email per notification, after the notification is claimed
    "notifications.send": ("apps.notifications.services", "_send_now"),
    # match_request(): telling both sides, after the matches are saved, in its transaction
    "skills.match": ("apps.skills.services.matching", "notify"),
    # export_build(): copying photos into the zip, halfway through writing it
    "privacy.export": ("apps.privacy.export", "_copy_files"),
    # volunteer_confirm(): thanking the volunteer, after the ledger transfer, in its transaction
    "codesign.credit": ("apps.codesign.services.building", "notify"),
}
PAUSE_SECONDS = 600


def _hook_dir() -> Path | None:
    value = os.environ.get("FAULTS_HOOK_DIR")
    return Path(value) if value else None


def _pause_if_armed(point: str, hook_dir: Path) -> None:
    armed = hook_dir / f"{point}.armed"
    try:
        let_through = int(armed.read_text() or "0")
    except (FileNotFoundError, ValueError):
        return
    if let_through > 0:
        armed.write_text(str(let_through - 1))
        return
    try:
        armed.rename(hook_dir / f"{point}.fired")  # only one call takes it
    except FileNotFoundError:
        return
    (hook_dir / f"{point}.reached").write_text(str(os.getpid()))
    time.sleep(PAUSE_SECONDS)  # the test kills the process here


def _wrap(point: str, module_name: str, attribute: str, hook_dir: Path) -> None:
    module = importlib.import_module(module_name)
    original = getattr(module, attribute)
    if getattr(original, "__fault_point__", None):
        return

    @functools.wraps(original)
    def paused(*args, **kwargs):
        _pause_if_armed(point, hook_dir)
        return original(*args, **kwargs)

    paused.__fault_point__ = point
    setattr(module, attribute, paused)


def install() -> None:
    """Wrap every pause point (only in processes the harness started with a hook dir)."""
    hook_dir = _hook_dir()
    if hook_dir is None:
        return
    for point, (module_name, attribute) in PAUSE_POINTS.items():
        _wrap(point, module_name, attribute, hook_dir)


install()


@shared_task(name="tests.faults.hooks.confirm_volunteer")
def confirm_volunteer(volunteer_id: int, actor_id: int) -> bool:
    """An organizer's confirmation, run by a worker: the co-design credit service as any
    door would call it. Already confirmed (a redelivery after the work committed) is done."""
    from apps.codesign.models import Volunteer
    from apps.codesign.services import volunteer_confirm
    from apps.peers.models import User

    volunteer = Volunteer.objects.get(pk=volunteer_id)
    if volunteer.status == Volunteer.Status.CONFIRMED:
        return False
    volunteer_confirm(volunteer=volunteer, actor=User.objects.get(pk=actor_id))
    return True


@shared_task(name="tests.faults.hooks.beat_tick", ignore_result=True)
def beat_tick(label: str) -> None:
    """Appends when it ran, one line per run, to ``<hook dir>/ticks-<label>``."""
    hook_dir = _hook_dir()
    if hook_dir is not None:
        with (hook_dir / f"ticks-{label}").open("a") as ticks:
            ticks.write(f"{time.time():.3f}\n")
