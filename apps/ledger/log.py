"""The community's Merkle log: kept with the hash chain, signed in checkpoints, proven on demand.

Every ledger entry is also a leaf of an RFC 9162 Merkle tree (``apps.ledger.merkle``), in seq
order: leaf ``seq - 1`` is the entry's canonical text (the very text its chain link hashes). The
tree is stored as its perfect subtrees (``LogNode``), written by ``append`` inside the transaction
that writes the entries, with O(log n) work and one read of the right edge. From those rows any
root and any proof costs one query of O(log n) rows.

A checkpoint (``publish_checkpoint``) signs the log's origin, size and root with the community's
log key, in the C2SP signed-note format (``apps.ledger.checkpoint``). The private key is never
stored: it is derived from ``settings.LEDGER_LOG_SECRET`` and the log's origin (HKDF-SHA256), so
each community has its own key, and an operator backs up one secret. The public key is recorded on
the chain at the first checkpoint; a secret that no longer gives that key stops signing (loudly)
rather than sign with a key nobody knows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Prefetch, Q

from apps.peers.models import Community
from scripts.verify_ledger_export import canonical

from . import checkpoint as notes
from . import merkle
from .models import Chain, Checkpoint, Cosignature, LogNode

log = logging.getLogger(__name__)

_LOG_KEY_SALT = b"p2pcommons ledger log key v1"
_WITNESS_KEY_SALT = b"p2pcommons ledger witness key v1"


class LogKeyMismatch(ImproperlyConfigured):
    """LEDGER_LOG_SECRET gives another key than the one this log already published."""


# --- Leaves and stored subtrees --------------------------------------------------------------------


def leaf_bytes(document: dict) -> bytes:
    """A leaf: the entry's canonical text (canonical form v2), UTF-8."""
    return canonical(document).encode("utf-8")


def _hashes(community_id: int, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The stored subtree hashes named in ``wanted``, in one query."""
    wanted = set(wanted)
    if not wanted:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, index in wanted:
        by_level.setdefault(level, []).append(index)
    # The community in every branch: SQLite then reads the unique index per branch, where
    # one community filter outside the ORs made it scan all of the community's rows.
    where = Q()
    for level, indexes in by_level.items():
        where |= Q(community_id=community_id, level=level, index__in=indexes)
    rows = LogNode.objects.filter(where).values_list("level", "index", "hash")
    return {(level, index): bytes(digest) for level, index, digest in rows}


def _with_subtrees(community_id: int, compute):
    """Run ``compute(subtree)`` with the subtrees it needs read in one query: a first pass with
    placeholder hashes records which (level, index) pairs it asks for, a second pass gets them."""
    asked: list[tuple[int, int]] = []

    def recorder(level: int, index: int) -> bytes:
        asked.append((level, index))
        return b"\0" * merkle.HASH_SIZE

    compute(recorder)
    found = _hashes(community_id, asked)

    def stored(level: int, index: int) -> bytes:
        try:
            return found[(level, index)]
        except KeyError:
            raise LookupError(f"subtree {level}/{index} of community {community_id} is not stored") from None

    return compute(stored)


def append(*, community_id: int, size: int, documents: Iterable[dict]) -> int:
    """Add the entries' leaves to a log of ``size`` leaves; return the new size.

    Call it in the entries' transaction, under the chain head's lock (``ledger.services``
    does), so two appends never interleave. Reads the right edge (one query), writes the new
    subtrees (one insert)."""
    edge = merkle.right_edge(size)
    found = _hashes(community_id, edge)
    compact = merkle.CompactRange.from_subtrees(size, lambda level, index: found[(level, index)])
    created: list[merkle.SubtreeNode] = []
    for document in documents:
        created.extend(compact.append(merkle.leaf_hash(leaf_bytes(document))))
    LogNode.objects.bulk_create(
        LogNode(community_id=community_id, level=node.level, index=node.index, hash=node.hash) for node in created
    )
    return compact.size


def root(*, community_id: int, size: int) -> bytes:
    """MTH of the first ``size`` leaves."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _with_subtrees(community_id, lambda subtree: merkle.root_from_subtrees(size, subtree))


def inclusion_proof(*, community_id: int, seq: int, size: int) -> list[bytes]:
    """The audit path of entry ``seq`` (leaf ``seq - 1``) in the tree of ``size`` leaves."""
    return _with_subtrees(community_id, lambda subtree: merkle.inclusion_proof_from_subtrees(seq - 1, size, subtree))


def consistency_proof(*, community_id: int, size1: int, size2: int) -> list[bytes]:
    """The proof that the tree of ``size2`` leaves extends the tree of ``size1``."""
    return _with_subtrees(community_id, lambda subtree: merkle.consistency_proof_from_subtrees(size1, size2, subtree))


def rebuild(*, community_id: int, documents: Iterator[dict]) -> int:
    """Store the whole tree of a chain that has entries but no subtrees yet (the migration
    that introduced the log, and ``manage.py ledger_log rebuild``). Returns the size."""
    compact = merkle.CompactRange()
    batch: list[LogNode] = []
    for document in documents:
        for node in compact.append(merkle.leaf_hash(leaf_bytes(document))):
            batch.append(LogNode(community_id=community_id, level=node.level, index=node.index, hash=node.hash))
        if len(batch) >= 5000:
            LogNode.objects.bulk_create(batch)
            batch = []
    LogNode.objects.bulk_create(batch)
    return compact.size


# --- Names and keys --------------------------------------------------------------------------------


def _host() -> str:
    return settings.LEDGER_LOG_HOST or urlsplit(settings.SITE_URL).netloc or "localhost"


def default_origin(community: Community) -> str:
    """The log's name in its checkpoints: ``<host>/ledger/<slug>``; fixed at the first checkpoint."""
    return f"{_host()}/ledger/{community.slug}"


def witness_name(community: Community) -> str:
    """The name of a community's witness key: ``<host>/witness/<slug>``."""
    return f"{_host()}/witness/{community.slug}"


def _secret() -> bytes:
    secret = settings.LEDGER_LOG_SECRET or settings.SECRET_KEY
    return secret.encode("utf-8")


def _seed(salt: bytes, name: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=name.encode("utf-8")).derive(_secret())


def log_signer(origin: str) -> notes.Signer:
    """The signing key of the log named ``origin`` (derived, never stored)."""
    return notes.Signer.from_seed(origin, _seed(_LOG_KEY_SALT, origin))


def witness_signer(community: Community) -> notes.Signer:
    """The community's witness key: a key of its own, not its log key (C2SP asks for separate ones)."""
    name = witness_name(community)
    return notes.Signer.from_seed(name, _seed(_WITNESS_KEY_SALT, name))


def log_identity(community: Community) -> tuple[str, str]:
    """(origin, public key) of the community's log: as recorded, or as it will be at the first checkpoint."""
    chain = Chain.objects.filter(community=community).values_list("origin", "log_vkey").first()
    if chain and chain[0]:
        return chain[0], chain[1]
    origin = default_origin(community)
    return origin, log_signer(origin).verifier.vkey


def _signer_for(chain: Chain) -> notes.Signer:
    """The chain's signer, fixing origin and key on first use; refuses a changed secret."""
    if not chain.origin:
        chain.origin = default_origin(chain.community)
        chain.log_vkey = log_signer(chain.origin).verifier.vkey
        Chain.objects.filter(pk=chain.pk).update(origin=chain.origin, log_vkey=chain.log_vkey)
    signer = log_signer(chain.origin)
    if signer.verifier.vkey != chain.log_vkey:
        raise LogKeyMismatch(
            f"LEDGER_LOG_SECRET no longer gives the published key of {chain.origin}; restore the secret "
            "it was published with (the log can't sign with a key its members and witnesses don't know)."
        )
    return signer


# --- Checkpoints -----------------------------------------------------------------------------------


def latest_checkpoint(community: Community | int) -> Checkpoint | None:
    community_id = community if isinstance(community, int) else community.pk
    return Checkpoint.objects.filter(community_id=community_id).order_by("-size").first()


@transaction.atomic
def publish_checkpoint(*, community: Community) -> Checkpoint | None:
    """Sign the log's current head, unless the newest checkpoint already covers it (or the
    log is empty). Under the chain head's lock, so it is exactly the head that is signed."""
    chain = Chain.objects.select_for_update().select_related("community").filter(community=community).first()
    if chain is None or chain.last_seq == 0:
        return None
    last = latest_checkpoint(community)
    if last is not None and last.size >= chain.last_seq:
        return None
    signer = _signer_for(chain)
    size = chain.last_seq
    digest = root(community_id=community.pk, size=size)
    note = notes.sign_checkpoint(notes.Checkpoint(chain.origin, size, digest), [signer])
    return Checkpoint.objects.create(
        community=community, number=(last.number + 1) if last else 1, size=size, root=digest, note=note
    )


def communities_due() -> list[int]:
    """Communities whose log grew since their newest checkpoint."""
    due = []
    for community_id, size in Chain.objects.filter(last_seq__gt=0).values_list("community_id", "last_seq"):
        last = Checkpoint.objects.filter(community_id=community_id).order_by("-size").values_list("size").first()
        if last is None or last[0] < size:
            due.append(community_id)
    return due


def with_cosignatures(checkpoints):
    """Checkpoints with their co-signatures in arrival order, in one more query however many."""
    return checkpoints.prefetch_related(Prefetch("cosignatures", queryset=Cosignature.objects.order_by("id")))


def covering_checkpoint(*, community_id: int, seq: int) -> Checkpoint | None:
    """The first checkpoint that contains entry ``seq``, with its co-signatures."""
    found = Checkpoint.objects.filter(community_id=community_id, size__gte=seq).order_by("size")
    return with_cosignatures(found).first()


def signed_note(checkpoint: Checkpoint) -> str:
    """The checkpoint's note with every co-signature received so far (the log's line first);
    no query when they were prefetched (``with_cosignatures``)."""
    return checkpoint.note + "".join(c.line for c in checkpoint.cosignatures.all())


def add_cosignature(*, checkpoint: Checkpoint, name: str, vkey: str, cosigned_note: str) -> Cosignature | None:
    """Keep the witness ``name``'s signature line from ``cosigned_note`` (the checkpoint with it
    added) after checking it with ``vkey``; None when it was already kept. Raises ``NoteError``
    when the note is not this checkpoint or the witness's line does not verify."""
    verifier = notes.Verifier.from_vkey(vkey)
    opened = notes.open_note(cosigned_note, [verifier])
    if opened.text != notes.split_note(checkpoint.note)[0]:
        raise notes.CheckpointError("the co-signed note is not this checkpoint")
    line = next(sig for sig in opened.sigs if sig.name == verifier.name)
    created = False
    with transaction.atomic():
        cosignature, created = Cosignature.objects.get_or_create(
            checkpoint=checkpoint,
            witness_name=verifier.name,
            key_id=line.key_id,
            defaults={"line": line.line},
        )
    return cosignature if created else None
