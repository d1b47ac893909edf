"""Download my data: one zip of everything the platform holds about a member.

    job = export_request(user=member)   # queued, or the job already queued or running
    export_build(job.pk)                # the Celery task: builds the zip, tells the member
    export_expire()                     # hourly (beat): deletes the files of expired links

What goes in is declared by each app in its ``personal_data.py``
(``register_exporter(app, export)``, ``export(user) -> {table: [row, ...]}``); the zip
holds ``data.json`` (format ``p2pcommons.personal-data``, version ``FORMAT_VERSION``,
described by ``apps/privacy/export_schema.json`` and docs/data-export.md), one CSV per
table, the member's photos, their ledger entries per community (checkable with
``scripts/verify_ledger_export.py --entries``), the same in the open vocabulary
(``actor.json`` and ``outbox.json``, ActivityStreams + ValueFlows JSON-LD, see
``export_jsonld.py``; another instance imports them, ``move_house.py``) and a README.

A row's value under a key ending in ``_file`` is a name in the file storage: the file is
copied into the zip under ``photos/`` and the value becomes its path in the zip.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import uuid
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from p2pcommons.enqueue import current_task_id
from p2pcommons.i18n import Message, When

from .export_jsonld import jsonld_documents
from .models import ExportJob
from .registry import Rows, exporters

logger = logging.getLogger(__name__)

FORMAT = "p2pcommons.personal-data"
FORMAT_VERSION = 1
OPEN = (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
# A job queued this long ago and never started is sent to the broker again by the sweep
# (the broker was down when it was asked for); one running this long died with its worker.
REQUEUE_AFTER = dt.timedelta(minutes=10)
STUCK_AFTER = dt.timedelta(hours=1)

# The words a page shows for each step the task reports (``ExportJob.step`` holds the key).
STEP_LABELS = {
    "": _("Waiting for a free worker"),
    "start": _("Starting"),
    "peers": _("Your profile and communities"),
    "ledger": _("Your ledger history"),
    "reputation": _("Your reviews"),
    "notifications": _("Your notifications"),
    "moderation": _("Your reports"),
    "tools": _("Your tools and loans"),
    "skills": _("Your skill offers, requests and sessions"),
    "solar": _("Your meters, readings and trades"),
    "codesign": _("Your ideas, proposals, comments and ballots"),
    "front": _("Your suggestions"),
    "photos": _("Your photos"),
    "zip": _("Packing the zip file"),
    "done": _("Done"),
}


def step_label(step: str) -> str:
    """The words for a step key (an app without a label of its own: its name)."""
    return str(STEP_LABELS.get(step, step))


# --- plain values, for exporters ------------------------------------------------------
def plain(value: Any) -> Any:
    """A value as JSON holds it: ISO 8601 for moments (UTC), dates and times, strings for
    decimals, ids and names for the rest; lists and dicts element by element."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, Model):
        return value.pk
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return str(value)


def rows(queryset: QuerySet, fields: dict[str, str] | Iterable[str]) -> list[dict]:
    """The rows of ``queryset`` as plain dicts: ``fields`` maps each output column to
    its lookup (``{"community": "community__slug"}``), or is a list of names used as both."""
    mapping = fields if isinstance(fields, dict) else {name: name for name in fields}
    lookups = list(dict.fromkeys(mapping.values()))
    out = []
    for values in queryset.order_by("pk").values(*lookups):
        out.append({column: plain(values[lookup]) for column, lookup in mapping.items()})
    return out


# --- requesting -----------------------------------------------------------------------
def export_request(*, user) -> ExportJob:
    """A new export job for ``user``, queued; or the job already queued or running (the
    partial unique constraint ``privacy_one_open_export_per_user`` settles two requests
    at once). The build is handed to a worker after commit."""
    open_job = ExportJob.objects.filter(user=user, status__in=OPEN).first()
    if open_job is not None:
        return open_job
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(user=user)
    except IntegrityError:
        return ExportJob.objects.get(user=user, status__in=OPEN)
    _enqueue_on_commit(job.pk)
    return job


def _enqueue_on_commit(job_id: int) -> None:
    from p2pcommons.enqueue import enqueue_now

    from .tasks import build_export

    transaction.on_commit(lambda: enqueue_now(build_export, job_id, waits_for="the hourly export sweep"))


def latest_job(*, user) -> ExportJob | None:
    """The member's most recent export job (any status), or None."""
    return ExportJob.objects.filter(user=user).order_by("-created_at", "-id").first()


def downloadable_job(*, user, token: str) -> tuple[ExportJob | None, bool]:
    """The job ``token`` names if it is ``user``'s (else ``(None, False)``), and whether
    its file may be downloaded now (ready, not expired, the file still there)."""
    job = ExportJob.objects.filter(user=user, token=token).first()
    if job is None:
        return None, False
    ok = (
        job.status == ExportJob.Status.READY
        and job.expires_at is not None
        and job.expires_at > timezone.now()
        and bool(job.file)
        and export_path(job).is_file()
    )
    return job, ok


def export_path(job: ExportJob) -> Path:
    return Path(settings.EXPORT_ROOT) / job.file


# --- building -------------------------------------------------------------------------
# How long a build's claim holds without news from it: each progress step renews it. A
# claim older than this belongs to a build that died (or hangs) and may be taken over.
LEASE = dt.timedelta(minutes=10)


def _claim(job_id: int, *, task_id: str | None, now: dt.datetime) -> str | None:
    """Take job ``job_id`` for this build with one conditional UPDATE: a queued job; a
    running job whose claim is this same task's (a redelivery: the worker that held it
    died); or a running job whose lease ran out. The UPDATE re-reads the row it waits
    for, so of two builds racing for it only one matches. The first claim's start time
    stays, so a job whose builds keep dying is failed by the sweep after ``STUCK_AFTER``
    instead of being taken over forever. Returns the claim, or None."""
    claim = f"{task_id or 'direct'}/{uuid.uuid4().hex}"
    takeable = Q(status=ExportJob.Status.QUEUED) | Q(status=ExportJob.Status.RUNNING, lease_until__lt=now)
    if task_id:
        takeable |= Q(status=ExportJob.Status.RUNNING, claimed_by__startswith=f"{task_id}/")
    taken = ExportJob.objects.filter(takeable, pk=job_id).update(
        status=ExportJob.Status.RUNNING,
        started_at=Coalesce(F("started_at"), Value(now)),  # a takeover keeps it: STUCK_AFTER bounds the whole job
        progress=1,
        step="start",
        claimed_by=claim,
        lease_until=now + LEASE,
    )
    return claim if taken else None


def remove_stray_files(job: ExportJob) -> int:
    """Delete the zip and partial files an earlier build of ``job`` left in its folder
    (a worker killed mid-zip leaves a ``.part``; one killed between the rename and the
    database update, a ``.zip`` no job names), keeping the file a ready job offers.
    Returns how many were deleted."""
    folder = Path(settings.EXPORT_ROOT) / str(job.user_id)
    keep = PurePosixPath(job.file).name if job.status == ExportJob.Status.READY and job.file else None
    removed = 0
    for stray in folder.glob(f"{job.pk}-*"):
        if stray.name != keep and stray.suffix in (".part", ".zip") and stray.is_file():
            stray.unlink(missing_ok=True)
            removed += 1
    return removed


def _progress(job_id: int, percent: int, step: str, claim: str) -> None:
    """Report a step and renew the lease, while this build still holds the job."""
    ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING, claimed_by=claim).update(
        progress=min(percent, 99), step=step, lease_until=timezone.now() + LEASE
    )


def export_build(job_id: int) -> bool:
    """Build job ``job_id``'s zip, once. The job is claimed by a conditional UPDATE (see
    ``_claim``): a duplicated task finds it taken and does nothing, while the redelivery
    of a task whose worker died mid-build, or a build arriving after the lease ran out,
    takes it over, deletes the files the dead build left and starts again. The zip is
    written under a temporary name and renamed when complete, and every later write is
    conditional on still holding the claim, so a partial file is never offered and a
    build that lost its claim changes nothing. A failure leaves no file and the job
    ``failed`` with the reason. Returns whether this call built it."""
    claim = _claim(job_id, task_id=current_task_id(), now=timezone.now())
    if claim is None:
        return False
    job = ExportJob.objects.select_related("user__profile").get(pk=job_id)
    remove_stray_files(job)
    root = Path(settings.EXPORT_ROOT)
    relative = f"{job.user_id}/{job.pk}-{uuid.uuid4().hex}.zip"
    final = root / relative
    partial = final.with_suffix(".part")
    held = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING, claimed_by=claim)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        _write_zip(job, partial, claim=claim)
        size = partial.stat().st_size
        os.replace(partial, final)
    except Exception as exc:  # any failure: no file, the job says why
        logger.exception("Export job %s failed", job_id)
        partial.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
        held.update(
            status=ExportJob.Status.FAILED,
            finished_at=timezone.now(),
            error=f"Something went wrong while preparing the download ({type(exc).__name__}).",
            step="",
            lease_until=None,
        )
        return False
    finished = timezone.now()
    expires = finished + dt.timedelta(hours=settings.EXPORT_LINK_HOURS)
    with transaction.atomic():
        done = held.update(
            status=ExportJob.Status.READY,
            progress=100,
            step="done",
            file=relative,
            size=size,
            finished_at=finished,
            expires_at=expires,
            lease_until=None,
        )
        if done:
            _notify_ready(job, expires)
    if not done:  # another build took the job over meanwhile: its file is the one offered
        final.unlink(missing_ok=True)
    return bool(done)


def _notify_ready(job: ExportJob, expires: dt.datetime) -> None:
    from apps.notifications.services import notify

    notify(
        recipients=[job.user],
        kind="privacy.export_ready",
        text=Message("Your data download is ready. The link works until {when}.", when=When(expires)),
        url=reverse("privacy:page"),
    )


def collect(user, *, on_step=None) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Every registered exporter's tables for ``user`` (one flat namespace: a table name
    used by two apps is a programming error), and the member's ledger entries per
    community slug. ``on_step(app, index, total)`` is told before each app."""
    from apps.ledger.personal_data import ledger_documents

    tables: dict[str, list[dict]] = {}
    owners: dict[str, str] = {}
    found = exporters()
    for index, exporter in enumerate(found):
        if on_step:
            on_step(exporter.app, index, len(found))
        result: Rows = exporter.export(user)
        for name, table in result.items():
            if name in owners:
                raise ValueError(f"table {name!r} is exported by both {owners[name]} and {exporter.app}")
            owners[name] = exporter.app
            tables[name] = table
    return tables, ledger_documents(user)


def _write_zip(job: ExportJob, path: Path, *, claim: str) -> None:
    user = job.user

    def on_step(app: str, index: int, total: int) -> None:
        _progress(job.pk, 5 + int(75 * index / max(total, 1)), app, claim)

    tables, ledgers = collect(user, on_step=on_step)
    _progress(job.pk, 80, "photos", claim)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _copy_files(archive, tables)
        _progress(job.pk, 90, "zip", claim)
        generated_at = plain(timezone.now())
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generated_at": generated_at,
            "member": {"id": user.pk, "display_name": user.public_name, "email": user.email},
            "tables": tables,
        }
        archive.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=1))
        for name, doc in jsonld_documents(user=user, tables=tables).items():
            archive.writestr(name, json.dumps(doc, ensure_ascii=False, indent=1))
        for name, table in tables.items():
            archive.writestr(f"csv/{name}.csv", table_csv(table))
        for slug, ledger in ledgers.items():
            archive.writestr(f"ledger/{slug}.json", json.dumps(ledger, ensure_ascii=False, indent=1))
        archive.writestr("README.txt", readme(user=user, tables=tables, ledgers=ledgers, generated_at=generated_at))


def _copy_files(archive: zipfile.ZipFile, tables: dict[str, list[dict]]) -> None:
    """Copy each ``*_file`` value's file into ``photos/<table>/`` and point the row at it;
    a file missing from storage is left out (the value becomes empty)."""
    for name, table in tables.items():
        for row in table:
            for key, value in list(row.items()):
                if not key.endswith("_file") or not value:
                    continue
                target = f"photos/{name}/{row.get('id', 'x')}-{key[:-5]}-{PurePosixPath(value).name}"
                try:
                    with default_storage.open(value, "rb") as source:
                        archive.writestr(target, source.read())
                except (OSError, FileNotFoundError, ValueError):
                    row[key] = ""
                    continue
                row[key] = target


def cell(value: Any) -> str:
    """A JSON value as a CSV cell: empty for null, true/false, lists and objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def table_csv(table: list[dict]) -> str:
    """One table as CSV: a header of the columns, one line per row (UTF-8, RFC 4180)."""
    columns: list[str] = []
    for row in table:
        for key in row:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in table:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()


README = """Your data from p2pcommons
=========================

Prepared for {name} on {generated_at} (UTC).

What is in this file
--------------------
data.json        Everything the platform holds about you, in one JSON document
                 (format "p2pcommons.personal-data", version {version}). Its tables
                 and fields are described in the project's docs/data-export.md and,
                 as a JSON Schema, in apps/privacy/export_schema.json.
csv/             The same tables, one CSV file each (UTF-8, comma separated, a
                 header line; empty means none, lists are written as JSON).
photos/          The photos you uploaded: your avatar, your tools, your condition
                 reports, your proposals and your challenges. The tables name them.
ledger/          Your ledger history, one file per community, each entry with its
                 sequence number and hash, so you can check it against the
                 community's chain.
actor.json       Your public profile, and outbox.json your listings still on offer,
outbox.json      your ledger transfers and the reviews you wrote, in the open
                 vocabulary of the fediverse (JSON-LD: ActivityStreams 2.0 with
                 ValueFlows, as in FEP-0837 and FEP-6fcd). Another p2pcommons
                 server can read this zip to list your tools and skills there
                 ("Move house" under /me/data/).
README.txt       This file.

Tables
------
{tables}

Checking your ledger history
----------------------------
Each ledger/<community>.json lists your entries exactly as the community's hash
chain holds them. To check them:

1. Download the community's whole ledger: /api/v1/ledger/export/?community=<id>
   (or the "Download" link on the community's ledger page), say as community.json.
2. Get the verifier, scripts/verify_ledger_export.py from the p2pcommons source
   (it needs only Python 3.11).
3. Run:  python3 verify_ledger_export.py community.json --entries ledger/<community>.json

It checks the community's whole chain, then that each of your entries hashes to
its "hash" and is the entry the chain holds at its "seq". It prints OK, or the
first entry that does not match.

What is not in it
-----------------
Other members' private details (email, phone, address) and their ballots are never
included; where a row names another member it uses their public display name.
Ballots are yours only. Reviews about you appear once they are revealed.
"""


def readme(*, user, tables: dict[str, list[dict]], ledgers: dict[str, dict], generated_at: str) -> str:
    lines = [f"{name:<32} {len(table)} row(s)" for name, table in sorted(tables.items())]
    lines += [f"ledger/{slug}.json{'':<14} {len(doc['entries'])} entries" for slug, doc in sorted(ledgers.items())]
    return README.format(
        name=user.public_name, generated_at=generated_at, version=FORMAT_VERSION, tables="\n".join(lines)
    )


# --- expiry ---------------------------------------------------------------------------
def export_expire() -> int:
    """Hourly (beat): delete the files of ready jobs whose link expired and mark them
    expired; send jobs the broker never got to a worker again, and running jobs whose
    build stopped renewing its lease (its worker died and the broker has not delivered
    the task again yet: the new build takes the job over); fail jobs still not done after
    ``STUCK_AFTER`` (so the member can ask again), deleting what their builds left.
    Returns how many expired."""
    now = timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.READY, expires_at__lte=now):
        if job.file:
            export_path(job).unlink(missing_ok=True)
        expired += ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.READY).update(
            status=ExportJob.Status.EXPIRED, file="", size=0
        )
    running = ExportJob.objects.filter(status=ExportJob.Status.RUNNING)
    for job in running.filter(started_at__lte=now - STUCK_AFTER):
        failed = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING, claimed_by=job.claimed_by).update(
            status=ExportJob.Status.FAILED,
            finished_at=now,
            error="The download took too long to prepare and was stopped.",
            lease_until=None,
        )
        if failed:
            remove_stray_files(job)
    lapsed = running.filter(started_at__gt=now - STUCK_AFTER, lease_until__lt=now)
    stale = ExportJob.objects.filter(status=ExportJob.Status.QUEUED, created_at__lte=now - REQUEUE_AFTER)
    for job_id in [*stale.values_list("pk", flat=True), *lapsed.values_list("pk", flat=True)]:
        _enqueue_on_commit(job_id)
    return expired
