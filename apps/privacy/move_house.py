"""Move house: a member brings their data download from another p2pcommons server (or
from this one) and lists their tools and skills again in a community here.

    report = move_house(user=member, community=c, upload=zip_file, paused=True, profile=True)

What moves is what the download's open-vocabulary files say (``actor.json``,
``outbox.json``, see ``export_jsonld.py``): the public profile (name, about me,
neighborhood; only what is not empty) and the listings still on offer: tools, skill
offers and requests. Each is created through its exchange's own services by the importer
the exchange registered (``registry.register_importer``), so every rule of the community
holds (an active member, the exchange in use, the field limits). Balances and reviews do
not move: the ledger and the reputation belong to the community where they were earned.

The file is untrusted: size caps before reading (the zip, and each document inside it
however it claims to be compressed), JSON-LD with vendored contexts only, every listing
through ``apps.federation.vocab.parse_proposal``. A file that fails any check is refused
before anything is written. Then everything happens in one transaction, the member's row
locked so two imports do not interleave: a listing the community's rules refuse (no such
category here, dates passed, too many open requests) is left out and reported, in a
savepoint of its own, and every other one is created. Each created listing is recorded
with its address on the old server (``MovedItem``): importing the same file again
creates nothing new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.federation.jsonld import ContextRefused, load_document
from apps.federation.vocab import (
    VocabError,
    amount,
    http_iri,
    parse_proposal,
    plain_text,
)
from apps.peers.guards import require_active_member
from p2pcommons.errors import RuleViolation

from .export_jsonld import ACTOR_FILE, OUTBOX_FILE
from .models import MovedItem
from .registry import ImportItem, importer_for

MAX_UPLOAD = 50 * 1024 * 1024  # the whole zip, photos included
MAX_DOCUMENT = 5 * 1024 * 1024  # actor.json and outbox.json each, uncompressed
MAX_ITEMS = 5000  # entries in the outbox (listings, transfers and reviews together)
MAX_REPORTED = 50  # left-out listings named in the report

NOT_A_DOWNLOAD = gettext_lazy(
    "This file is not a data download from p2pcommons. Upload the .zip file you downloaded "
    "from “Download my data” on your old server."
)
TOO_BIG = gettext_lazy("This file is too big (at most %(mb)s MB).")
UNREADABLE = gettext_lazy("Something in this file cannot be read (%(what)s), so nothing was moved.")


@dataclass(frozen=True)
class Container:
    """What a download holds that can move: the public profile and the listings."""

    actor: str
    name: str
    bio: str
    neighborhood: str
    items: list[ImportItem]


@dataclass
class MoveReport:
    """What an import did: listings created per kind, listings already moved before
    (this same file), and those the community's rules left out, with why."""

    created: dict[str, int] = field(default_factory=dict)
    already: int = 0
    left_out: list[tuple[str, str]] = field(default_factory=list)
    left_out_count: int = 0
    profile_updated: bool = False

    @property
    def created_total(self) -> int:
        return sum(self.created.values())


def _refuse(message: Any) -> ValidationError:
    return ValidationError({"file": [str(message)]})


def _read_json(archive: zipfile.ZipFile, name: str) -> dict:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _refuse(NOT_A_DOWNLOAD) from None
    if info.file_size > MAX_DOCUMENT:
        raise _refuse(TOO_BIG % {"mb": MAX_DOCUMENT // (1024 * 1024)})
    try:
        with archive.open(info) as handle:
            raw = handle.read(MAX_DOCUMENT + 1)  # never more, whatever the header says
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        raise _refuse(NOT_A_DOWNLOAD) from None
    if len(raw) > MAX_DOCUMENT:
        raise _refuse(TOO_BIG % {"mb": MAX_DOCUMENT // (1024 * 1024)})
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise _refuse(NOT_A_DOWNLOAD) from None
    if not isinstance(doc, dict):
        raise _refuse(NOT_A_DOWNLOAD)
    _check_contexts(doc.get("@context"))
    return doc


def _check_contexts(context: Any) -> None:
    """Every context the document names by URL is one we hold (nothing is fetched)."""
    contexts = context if isinstance(context, list) else [context]
    if context is None or len(contexts) > 10:
        raise _refuse(NOT_A_DOWNLOAD)
    for item in contexts:
        if isinstance(item, str):
            try:
                load_document(item)
            except ContextRefused:
                raise _refuse(NOT_A_DOWNLOAD) from None
        elif not isinstance(item, dict):
            raise _refuse(NOT_A_DOWNLOAD)


def _date(value: Any, *, what: str) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise VocabError(f"{what} is not a date")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise VocabError(f"{what} is not a date") from None


def _extra(obj: dict, kind: str) -> dict[str, Any]:
    """The p2pcommons terms of one listing, checked (VocabError on a wrong type)."""
    extra: dict[str, Any] = {}
    if kind == "tool":
        if obj.get("condition"):
            if obj["condition"] not in ("new", "good", "worn"):
                raise VocabError("condition is not one we know")
            extra["condition"] = obj["condition"]
        if obj.get("usageRules"):
            extra["usage_rules"] = plain_text(obj["usageRules"], limit=2000, what="usageRules")
        if obj.get("maxLoanDays") is not None:
            days = obj["maxLoanDays"]
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 90:
                raise VocabError("maxLoanDays is not a number of days")
            extra["max_loan_days"] = days
    else:
        if obj.get("remoteOk") is not None:
            if not isinstance(obj["remoteOk"], bool):
                raise VocabError("remoteOk is not true or false")
            extra["remote_ok"] = obj["remoteOk"]
    if kind == "skill_request":
        if obj.get("wantedFrom") is not None:
            extra["wanted_from"] = _date(obj["wantedFrom"], what="wantedFrom")
        if obj.get("wantedUntil") is not None:
            extra["wanted_until"] = _date(obj["wantedUntil"], what="wantedUntil")
        if obj.get("estimatedHours") is not None:
            extra["estimated_hours"] = amount(obj["estimatedHours"], what="estimatedHours")
    return extra


def read_container(upload) -> Container:
    """The profile and listings of an uploaded download (a zip), checked; a
    ``ValidationError`` on the ``file`` field for anything that is not one we can read
    whole. Reads nothing but ``actor.json`` and ``outbox.json``; writes nothing."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD:
        raise _refuse(TOO_BIG % {"mb": MAX_UPLOAD // (1024 * 1024)})
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _refuse(NOT_A_DOWNLOAD) from None
    with archive:
        person = _read_json(archive, ACTOR_FILE)
        outbox = _read_json(archive, OUTBOX_FILE)
    try:
        if person.get("type") != "Person" or outbox.get("type") != "OrderedCollection":
            raise VocabError("not an actor and its outbox")
        actor = http_iri(person.get("id"), what="actor id")
        name = plain_text(person.get("name"), limit=80, what="name")
        bio = plain_text(person.get("summary"), limit=2000, what="summary")
        neighborhood = plain_text(person.get("neighborhood"), limit=120, what="neighborhood")
        entries = outbox.get("orderedItems")
        if not isinstance(entries, list):
            raise VocabError("the outbox has no items")
        if len(entries) > MAX_ITEMS:
            raise VocabError("the outbox has too many items")
        items: list[ImportItem] = []
        seen: set[str] = set()
        for obj in entries:
            if not isinstance(obj, dict):
                raise VocabError("an item is not an object")
            if obj.get("type") != "Proposal":
                continue  # transfers and reviews stay where they were earned
            fields = parse_proposal(obj)
            if fields.attributed_to != actor:
                raise VocabError("a listing is someone else's")
            if fields.id in seen:
                continue
            seen.add(fields.id)
            items.append(ImportItem(source=fields.id, kind=fields.kind, fields=fields, extra=_extra(obj, fields.kind)))
    except VocabError as exc:
        raise _refuse(UNREADABLE % {"what": exc.reason}) from exc
    return Container(actor=actor, name=name, bio=bio, neighborhood=neighborhood, items=items)


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@transaction.atomic
def move_house(*, user, community, upload, paused: bool = True, profile: bool = True) -> MoveReport:
    """Create ``user``'s listings from the download ``upload`` in ``community`` (they
    must be an active member there): tools ``paused`` or active, skill offers and
    requests open; with ``profile``, their name, about-me and neighborhood from the file
    where it has them. Locks the member's row (one import at a time per member). Raises
    ``ValidationError`` (a bad file: nothing written) or ``RuleViolation`` (not a member);
    returns a ``MoveReport``."""
    from apps.peers.models import User
    from apps.peers.services import profile_update

    container = read_container(upload)
    require_active_member(user=user, community=community, doing="move your listings")
    User.objects.select_for_update().only("pk").get(pk=user.pk)
    report = MoveReport()
    if profile:
        changes = {
            name: value
            for name, value in (
                ("display_name", container.name),
                ("bio", container.bio),
                ("neighborhood", container.neighborhood),
            )
            if value and getattr(user.profile, name) != value
        }
        if changes:
            profile_update(profile=user.profile, actor=user, **changes)
            report.profile_updated = True
    done = set(
        MovedItem.objects.filter(
            user=user, community=community, source_hash__in=[_source_hash(i.source) for i in container.items]
        ).values_list("source_hash", flat=True)
    )
    for item in container.items:
        key = _source_hash(item.source)
        if key in done:
            report.already += 1
            continue
        importer = importer_for(item.kind)
        try:
            if importer is None:
                raise RuleViolation(_("Listings of this kind cannot be moved here."), code="not_importable")
            with transaction.atomic():  # a savepoint: a refused listing leaves nothing behind
                made = importer.create(user=user, community=community, item=item, paused=paused)
                MovedItem.objects.create(
                    user=user,
                    community=community,
                    source=item.source,
                    source_hash=key,
                    kind=item.kind,
                    content_type=ContentType.objects.get_for_model(made),
                    object_id=made.pk,
                )
        except (ValidationError, RuleViolation) as exc:
            report.left_out_count += 1
            if len(report.left_out) < MAX_REPORTED:
                report.left_out.append((item.fields.name, _why(exc)))
            continue
        done.add(key)
        report.created[item.kind] = report.created.get(item.kind, 0) + 1
    return report
