"""A community witnesses its neighbours' ledgers: it co-signs a log's checkpoint only after checking
that it extends every checkpoint it (and every other witness on this site) saw before.

Why: a log's own signature proves what the log said, not that it said the same to everybody. A log
could show one history to some members and another to others (a split view) or rewrite its past.
Witnesses remember what they were shown, compare notes, and co-sign only one consistent history;
two validly signed checkpoints that can't both be true are proof of misbehaviour, kept as a
``LogAlarm`` and told to the organizers concerned.

The protocol spoken with a remote log is the one ``apps.ledger.wellknown`` serves:
``GET {url}/checkpoint``, ``GET {url}/consistency/{first}/{second}``, ``POST {url}/cosignature``.
Fetching is careful: https only (unless LEDGER_WITNESS_ALLOW_HTTP), no redirects, a total deadline,
a size cap, and error texts that never echo what the server sent (organizers read them).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.notifications.services import notify
from apps.peers.models import Community
from apps.peers.selectors import organizers_of
from p2pcommons.i18n import Message

from . import checkpoint as notes
from . import log, merkle
from .models import Chain, Checkpoint, LogAlarm, LogWitness, WitnessedLog, WitnessView

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
"""Largest answer read from a log (a checkpoint with 100 co-signatures is about 10 KiB)."""

TIMEOUT = 10.0
"""Seconds for a whole request: connecting, and reading every byte (a slow server is cut off)."""

ALARM_KIND = "ledger.log_alarm"


class Outcome(StrEnum):
    COSIGNED = "cosigned"  # a new checkpoint, checked and co-signed
    UNCHANGED = "unchanged"  # the checkpoint co-signed last time (co-signature delivered again)
    OLD = "old"  # an older checkpoint than the last co-signed one: ignored
    ALARM = "alarm"  # a contradiction: alarm raised, nothing co-signed
    ERROR = "error"  # unreachable, garbage or a bad signature: recorded in last_error


class FetchError(Exception):
    """The log could not be asked, or answered something unusable. ``refused`` is True when the
    log answered with a 4xx: it says it can't give what was asked."""

    def __init__(self, why: str, *, refused: bool = False) -> None:
        super().__init__(why)
        self.refused = refused


@dataclass
class _Seen:
    """A checkpoint this witness was shown: the note as received, and its parsed head."""

    note: str
    size: int
    root: bytes


# --- Talking to a remote log ------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: it could point the witness at an internal address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener() -> urllib.request.OpenerDirector:
    # Only http(s) handlers: urllib would otherwise also open file:, ftp: and data: addresses.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirect(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def allowed_url(url: str) -> bool:
    """https, or http where LEDGER_WITNESS_ALLOW_HTTP says so (development, tests)."""
    lowered = url.lower()
    return lowered.startswith("https://") or (settings.LEDGER_WITNESS_ALLOW_HTTP and lowered.startswith("http://"))


def _request(url: str, *, witness: Community, data: bytes | None = None) -> tuple[int, bytes]:
    """(status, body) of one request, or FetchError. The deadline covers the whole exchange."""
    if not allowed_url(url):
        raise FetchError("the log's address must start with https://")
    headers = {"User-Agent": f"p2pcommons-witness/{log.witness_name(witness)}", "Accept": "text/plain"}
    if data is not None:
        headers["Content-Type"] = "text/plain; charset=utf-8"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")  # noqa: S310 - http(s) only, checked above and by _opener
    deadline = time.monotonic() + TIMEOUT
    try:
        with _opener().open(request, timeout=TIMEOUT) as response:
            status = response.status
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchError("the log answered too slowly")
                chunk = response.read1(8192) if hasattr(response, "read1") else response.read(8192)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BODY:
                    raise FetchError("the log's answer is too large")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            raise FetchError(f"the log redirected ({exc.code}); redirects are not followed") from None
        raise FetchError(f"the log answered {exc.code}", refused=400 <= exc.code < 500) from None
    except FetchError:
        raise
    except (OSError, ValueError) as exc:  # URLError, timeouts, resets, bad URLs
        raise FetchError(f"the log could not be reached ({type(exc).__name__})") from None
    return status, b"".join(chunks)


def _remote_checkpoint(witnessed: WitnessedLog) -> str:
    _, body = _request(f"{witnessed.url.rstrip('/')}/checkpoint", witness=witnessed.witness)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise FetchError("the log's checkpoint is not text") from None


def parse_proof(body: bytes) -> list[bytes]:
    """One base64 hash a line (the transparency-dev style); refuses anything else."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise FetchError("the consistency proof is not text") from None
    proof = []
    for line in text.splitlines():
        if not line:
            continue
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise FetchError("the consistency proof is malformed") from None
        if len(digest) != merkle.HASH_SIZE:
            raise FetchError("the consistency proof is malformed")
        proof.append(digest)
        if len(proof) > 130:  # two hashes a level of a 2**63 tree, at most
            raise FetchError("the consistency proof is too long")
    return proof


# --- The log, wherever it is ------------------------------------------------------------------------


def _local_chain(witnessed: WitnessedLog) -> Chain | None:
    """The log's chain when it is a community of this site (no url)."""
    if witnessed.url:
        return None
    return Chain.objects.select_related("community").filter(origin=witnessed.origin).first()


def _fetch_checkpoint(witnessed: WitnessedLog) -> str:
    if witnessed.url:
        return _remote_checkpoint(witnessed)
    chain = _local_chain(witnessed)
    latest = log.latest_checkpoint(chain.community_id) if chain else None
    if latest is None:
        raise FetchError("no community on this site publishes this ledger yet")
    return log.signed_note(latest)


def _consistency(witnessed: WitnessedLog, first: int, second: int) -> list[bytes]:
    if witnessed.url:
        _, body = _request(f"{witnessed.url.rstrip('/')}/consistency/{first}/{second}", witness=witnessed.witness)
        return parse_proof(body)
    chain = _local_chain(witnessed)
    if chain is None:
        raise FetchError("no community on this site publishes this ledger")
    try:
        return log.consistency_proof(community_id=chain.community_id, size1=first, size2=second)
    except (LookupError, ValueError):
        raise FetchError("the log can't prove that", refused=True) from None


def _one_history(witnessed: WitnessedLog, older: _Seen, newer: _Seen) -> str:
    """'' when ``newer`` extends ``older`` (proof from the log, checked here); else why not.
    Network trouble raises FetchError (no alarm for a log that is merely down)."""
    if older.size == newer.size:
        return "" if older.root == newer.root else "two different roots for one size"
    try:
        proof = _consistency(witnessed, older.size, newer.size)
    except FetchError as exc:
        if exc.refused:
            return "the log refused to prove that its two checkpoints are one history"
        raise
    try:
        merkle.verify_consistency(older.size, newer.size, older.root, newer.root, proof)
    except merkle.ProofError:
        return "the log's proof does not join its two checkpoints"
    return ""


# --- Alarms -----------------------------------------------------------------------------------------


def _log_name(witnessed: WitnessedLog) -> str:
    """The log in plain words: the community's name when it is on this site, else its address."""
    chain = Chain.objects.select_related("community").filter(origin=witnessed.origin).first()
    return chain.community.name if chain else witnessed.origin


def _raise_alarm(
    witnessed: WitnessedLog,
    kind: str,
    *,
    size: int,
    seen_note: str,
    new_note: str,
    detail: str,
    also: tuple[int, ...] = (),
) -> LogAlarm | None:
    """Record the evidence once per (log, kind, size) and tell the organizers concerned."""
    if LogAlarm.objects.filter(witnessed_log=witnessed, kind=kind, size=size).exists():
        return None
    alarm = LogAlarm.objects.create(
        witnessed_log=witnessed, kind=kind, size=size, seen_note=seen_note, new_note=new_note, detail=detail[:300]
    )
    name = _log_name(witnessed)
    if kind == LogAlarm.Kind.SPLIT_VIEW:
        text = Message(
            "{name}'s ledger showed two different versions of its history to its witnesses; "
            "do not trust its balances until its organizers explain.",
            name=name,
        )
    else:
        text = Message(
            "{name}'s ledger changed entries it had already published; "
            "do not trust its balances until its organizers explain.",
            name=name,
        )
    communities = [witnessed.witness_id, *also]
    chain = Chain.objects.filter(origin=witnessed.origin).first()
    log_community = chain.community_id if chain and not witnessed.url else None
    recipients = {}
    for community_id in dict.fromkeys(communities):
        for user in organizers_of(community_id=community_id):
            recipients.setdefault(user.pk, user)
    notify(recipients=recipients.values(), kind=ALARM_KIND, text=text, url=reverse("admin:ledger_logalarm_changelist"))
    if log_community is not None:
        others = [u for u in organizers_of(community_id=log_community) if u.pk not in recipients]
        community = Community.objects.get(pk=log_community)
        notify(recipients=others, kind=ALARM_KIND, text=text, url=reverse("ledger:community", args=[community.slug]))
    logger.warning("ledger log alarm %s on %s at size %s: %s", kind, witnessed.origin, size, detail)
    return alarm


# --- Witnessing -------------------------------------------------------------------------------------


def _record_error(witnessed: WitnessedLog, why: str) -> None:
    WitnessedLog.objects.filter(pk=witnessed.pk).update(last_error=why[:300], checked_at=timezone.now())


def _gossip(witnessed: WitnessedLog, new: _Seen) -> tuple[str, WitnessView | None]:
    """Compare ``new`` with what the other witnesses on this site co-signed of the same log: their
    views are re-checked with this witness's own key for the log, so a community that configured
    a wrong key can't make us raise a false alarm. Returns (why, their view) on a contradiction."""
    others = WitnessedLog.objects.filter(origin=witnessed.origin, log_vkey=witnessed.log_vkey).exclude(pk=witnessed.pk)
    for other in others:
        views = list(other.views.filter(size=new.size)[:1]) or list(other.views.order_by("-size")[:1])
        for view in views:
            try:
                head, _ = notes.open_checkpoint(view.note, [witnessed.log_vkey], origin=witnessed.origin)
            except notes.NoteError:
                continue
            theirs = _Seen(view.note, head.size, head.root_hash)
            older, newer = (theirs, new) if theirs.size <= new.size else (new, theirs)
            why = _one_history(witnessed, older, newer)
            if why:
                return why, view
    return "", None


def _deliver(witnessed: WitnessedLog, cosigned: str, seen: _Seen) -> str:
    """Hand the co-signed note to the log; '' or what went wrong."""
    if witnessed.url:
        try:
            _request(
                f"{witnessed.url.rstrip('/')}/cosignature", witness=witnessed.witness, data=cosigned.encode("utf-8")
            )
        except FetchError as exc:
            return f"co-signature not delivered: {exc}"
        return ""
    chain = _local_chain(witnessed)
    found = (
        Checkpoint.objects.filter(community_id=chain.community_id, size=seen.size, root=seen.root).first()
        if chain
        else None
    )
    if found is None:
        return "co-signature not delivered: the log no longer has this checkpoint"
    signer = log.witness_signer(witnessed.witness)
    accepted, _ = LogWitness.objects.get_or_create(
        community_id=chain.community_id,
        name=signer.name,
        defaults={"vkey": signer.verifier.vkey, "witness": witnessed.witness},
    )
    try:
        log.add_cosignature(checkpoint=found, name=accepted.name, vkey=accepted.vkey, cosigned_note=cosigned)
    except (notes.NoteError, StopIteration):
        return "co-signature not delivered: the log knows this witness by another key"
    return ""


def witness_once(witnessed: WitnessedLog) -> Outcome:
    """Check the log's newest checkpoint and co-sign it if it is consistent with everything seen."""
    try:
        note = _fetch_checkpoint(witnessed)
    except FetchError as exc:
        _record_error(witnessed, str(exc))
        return Outcome.ERROR
    try:
        head, _ = notes.open_checkpoint(note, [witnessed.log_vkey], origin=witnessed.origin)
    except notes.NoteError as exc:
        # Anybody can send garbage: only two validly signed checkpoints make an alarm.
        _record_error(witnessed, f"the log's checkpoint was refused: {exc}")
        return Outcome.ERROR
    new = _Seen(note, head.size, head.root_hash)
    try:
        with transaction.atomic():
            outcome, cosigned = _judge(witnessed, new)
    except FetchError as exc:
        _record_error(witnessed, str(exc))
        return Outcome.ERROR
    if cosigned is not None:
        problem = _deliver(witnessed, cosigned, new)
        WitnessedLog.objects.filter(pk=witnessed.pk).update(last_error=problem[:300])
    return outcome


def _judge(witnessed: WitnessedLog, new: _Seen) -> tuple[Outcome, str | None]:
    """Under the witnessed log's row lock: compare, alarm or co-sign. Returns the outcome and the
    co-signed note to deliver (None when there is nothing to deliver)."""
    locked = WitnessedLog.objects.select_for_update().select_related("witness").get(pk=witnessed.pk)
    same = locked.views.filter(size=new.size).first()
    if same is not None and bytes(same.root) != new.root:
        _raise_alarm(
            locked,
            LogAlarm.Kind.SPLIT_VIEW,
            size=new.size,
            seen_note=same.note,
            new_note=new.note,
            detail="the log signed two different roots for one size",
        )
        _touch(locked, "")
        return Outcome.ALARM, None
    last = locked.views.order_by("-size").first()
    if last is not None and new.size < last.size:
        _touch(locked, "")
        return Outcome.OLD, None
    if same is not None:
        _touch(locked, "")
        return Outcome.UNCHANGED, same.note  # delivered again: the last delivery may have failed
    if last is not None:
        why = _one_history(locked, _Seen(last.note, last.size, bytes(last.root)), new)
        if why:
            _raise_alarm(
                locked,
                LogAlarm.Kind.NOT_EXTENDING,
                size=new.size,
                seen_note=last.note,
                new_note=new.note,
                detail=why,
            )
            _touch(locked, "")
            return Outcome.ALARM, None
    why, theirs = _gossip(locked, new)
    if why:
        kind = LogAlarm.Kind.SPLIT_VIEW if theirs.size == new.size else LogAlarm.Kind.NOT_EXTENDING
        _raise_alarm(
            locked,
            kind,
            size=new.size,
            seen_note=theirs.note,
            new_note=new.note,
            detail=f"another witness on this site was shown another history: {why}",
            also=(theirs.witnessed_log.witness_id,),
        )
        _touch(locked, "")
        return Outcome.ALARM, None
    cosigned = notes.cosign_note(new.note, [log.witness_signer(locked.witness)], [locked.log_vkey])
    WitnessView.objects.create(witnessed_log=locked, size=new.size, root=new.root, note=cosigned)
    WitnessedLog.objects.filter(pk=locked.pk).update(
        last_size=new.size, last_root=new.root, checked_at=timezone.now(), last_error=""
    )
    return Outcome.COSIGNED, cosigned


def _touch(witnessed: WitnessedLog, error: str) -> None:
    WitnessedLog.objects.filter(pk=witnessed.pk).update(checked_at=timezone.now(), last_error=error)


def witness_all() -> dict[str, int]:
    """Every active witnessed log once (the beat task): one log failing never stops the others.
    Returns how many logs ended with each outcome."""
    counts: dict[str, int] = {}
    for pk in WitnessedLog.objects.filter(active=True).order_by("pk").values_list("pk", flat=True):
        witnessed = WitnessedLog.objects.select_related("witness").filter(pk=pk, active=True).first()
        if witnessed is None:
            continue
        try:
            outcome = witness_once(witnessed)
        except Exception:  # one broken log must not stop the sweep
            logger.exception("witnessing %s failed", witnessed.origin)
            _record_error(witnessed, "the check failed unexpectedly; see the server's log")
            outcome = Outcome.ERROR
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
