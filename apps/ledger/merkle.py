"""The Merkle tree of RFC 9162 section 2.1 (Certificate Transparency 2.0): tree hash, proofs, checks.

Why: a member must be able to check one transfer with O(log n) hashes, and a neighbour must be able to
check that a community's log only ever grew (no rewritten history, no split view), without trusting
the server. These are the standard algorithms, so any RFC 6962/9162 tool checks our proofs and we
check theirs; tests/ledger/test_merkle.py holds them to an independent implementation's vectors.

Standard library only and no Django import: the offline verifier in scripts/ imports this file as is.

Words used below. A *leaf* is an entry's canonical bytes; D[lo:hi] is the list of leaves lo..hi-1.
The *perfect subtree* (level, index) covers the 2**level leaves starting at index * 2**level; its
hash is MTH of those leaves, and level 0 holds the leaf hashes. Every tree and proof of RFC 9162 is
made of such subtrees, so a store of them (a table of (level, index, hash) rows, about 2n rows for
n leaves) serves any root or proof with O(log n) reads: see the ``*_from_subtrees`` functions.

Errors: bad arguments when *making* a proof raise ``ValueError``; a proof that does not check raises
``ProofError`` (a ``ValueError``) saying why, in developer English: callers that face members turn
it into their own translated sentence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, NamedTuple

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() (RFC 9162 2.1.1): the root of the empty log."""

SubtreeGetter = Callable[[int, int], bytes]
"""``subtree(level, index) -> hash`` of a stored perfect subtree; raises if it is not stored."""


class ProofError(ValueError):
    """A proof was refused: it is malformed, or it does not lead to the claimed root(s)."""


class SubtreeNode(NamedTuple):
    """One perfect subtree hash to store: covers leaves [index * 2**level, (index + 1) * 2**level)."""

    level: int
    index: int
    hash: bytes


# --- Hashing (RFC 9162 2.1.1) ---------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """MTH({d0}) = HASH(0x00 || d0). The 0x00/0x01 prefixes keep a leaf from passing for a node."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right): an interior node (RFC 9162 2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): where RFC 9162 2.1.1 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1, over leaf hashes already computed; the literal recursive definition."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1 over the leaves' bytes, recomputed from scratch (O(n)): the reference
    the incremental ``CompactRange`` and the stored subtrees are checked against."""
    return _mth([leaf_hash(leaf) for leaf in leaves])


# --- Argument checks ------------------------------------------------------------------------------


def _check_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


def _check_hash(name: str, value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes")
    return value


def _check_proof(proof: object) -> list[bytes]:
    if isinstance(proof, (bytes, bytearray, str)) or not isinstance(proof, Sequence):
        raise ProofError("the proof must be a list of hashes")
    return [_check_hash(f"proof element {i}", p) for i, p in enumerate(proof)]


def _check_sizes(name: str, value: object) -> int:
    try:
        return _check_int(name, value)
    except ValueError as error:
        raise ProofError(str(error)) from None


# --- Proof generation (RFC 9162 2.1.3.1 and 2.1.4.1) ----------------------------------------------

RangeHash = Callable[[int, int], bytes]


def _path(index: int, lo: int, hi: int, range_hash: RangeHash) -> list[bytes]:
    """PATH(m, D[lo:hi]) of RFC 9162 2.1.3.1, with m = index - lo; ``range_hash(a, b)`` is MTH(D[a:b])."""
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if index - lo < k:
        return [*_path(index, lo, lo + k, range_hash), range_hash(lo + k, hi)]
    return [*_path(index, lo + k, hi, range_hash), range_hash(lo, lo + k)]


def _subproof(m: int, lo: int, hi: int, complete: bool, range_hash: RangeHash) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b) of RFC 9162 2.1.4.1 (``complete`` is b: D[lo:lo+m] is a whole tree
    the verifier already has the root of)."""
    n = hi - lo
    if m == n:
        return [] if complete else [range_hash(lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, lo, lo + k, complete, range_hash), range_hash(lo + k, hi)]
    return [*_subproof(m - k, lo + k, hi, False, range_hash), range_hash(lo, lo + k)]


def _check_inclusion_args(index: int, size: int) -> None:
    _check_int("index", index)
    _check_int("size", size)
    if index >= size:
        raise ValueError(f"index {index} is not in a log of {size} entries")


def _check_consistency_args(size1: int, size2: int) -> None:
    _check_int("size1", size1)
    _check_int("size2", size2)
    if size1 == 0 or size1 > size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2} (needs 0 < size1 <= size2)")


def _leaf_range_hash(leaves: Sequence[bytes], size: int) -> RangeHash:
    if len(leaves) < size:
        raise ValueError(f"{len(leaves)} leaves given for a tree of {size}")
    hashes = [leaf_hash(leaf) for leaf in leaves[:size]]
    return lambda lo, hi: _mth(hashes[lo:hi])


def inclusion_proof(index: int, size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 2.1.3.1 from the leaves' bytes (``leaves`` may be longer: the
    proof is for the tree of the first ``size``). O(size); ``inclusion_proof_from_subtrees`` is the
    O(log n) way for a stored log."""
    _check_inclusion_args(index, size)
    return _path(index, 0, size, _leaf_range_hash(leaves, size))


def consistency_proof(size1: int, size2: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 9162 2.1.4.1 from the leaves' bytes; empty when the sizes are equal.
    A proof from the empty log would prove nothing, so size1 = 0 is refused."""
    _check_consistency_args(size1, size2)
    return _subproof(size1, 0, size2, True, _leaf_range_hash(leaves, size2))


# --- Stored perfect subtrees: O(log n) roots and proofs -------------------------------------------


def right_edge(size: int) -> list[tuple[int, int]]:
    """The (level, index) of the perfect subtrees that make up D[0:size], biggest first: one per set bit
    of ``size``, so at most log2(size) + 1 of them. Their hashes are a ``CompactRange``."""
    _check_int("size", size)
    nodes, offset = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            nodes.append((level, offset >> level))
            offset += 1 << level
    return nodes


def _get(subtree: SubtreeGetter, level: int, index: int) -> bytes:
    value = subtree(level, index)
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"the store gave a malformed hash for subtree ({level}, {index})")
    return value


def _fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of D[lo:hi] from its perfect subtrees, biggest first: they nest to the right (RFC 9162 2.1.1
    splits off the largest power of two each time), so hash from the right end."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _subtree_range_hash(subtree: SubtreeGetter) -> RangeHash:
    def range_hash(lo: int, hi: int) -> bytes:
        # PATH and SUBPROOF only ask for ranges whose start is a multiple of 2**ceil(log2(hi - lo)),
        # so the pieces of D[lo:hi] are the perfect subtrees of right_edge(hi - lo), shifted by lo.
        pieces, offset = [], lo
        for level in reversed(range((hi - lo).bit_length())):
            if (hi - lo) >> level & 1:
                pieces.append(_get(subtree, level, offset >> level))
                offset += 1 << level
        return _fold(pieces)

    return range_hash


def root_from_subtrees(size: int, subtree: SubtreeGetter) -> bytes:
    """MTH(D[size]) from at most log2(size) + 1 stored subtrees: the root of any past tree size."""
    if _check_int("size", size) == 0:
        return EMPTY_ROOT
    return _fold([_get(subtree, level, index) for level, index in right_edge(size)])


def inclusion_proof_from_subtrees(index: int, size: int, subtree: SubtreeGetter) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 2.1.3.1 with O(log n) reads: every sibling on the path is a
    perfect subtree except at most one on the right edge, itself made of at most log2(n) of them."""
    _check_inclusion_args(index, size)
    return _path(index, 0, size, _subtree_range_hash(subtree))


def consistency_proof_from_subtrees(size1: int, size2: int, subtree: SubtreeGetter) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 9162 2.1.4.1 with O(log n) reads (same argument as for inclusion)."""
    _check_consistency_args(size1, size2)
    return _subproof(size1, 0, size2, True, _subtree_range_hash(subtree))


class SubtreeStore:
    """Perfect subtree hashes in memory, keyed by (level, index): what a database table of
    (level, index, hash) rows will be, for the offline verifier, benchmarks and tests."""

    def __init__(self) -> None:
        self._hashes: dict[tuple[int, int], bytes] = {}

    def add(self, nodes: Iterable[SubtreeNode]) -> None:
        for node in nodes:
            self._hashes[(node.level, node.index)] = node.hash

    def __call__(self, level: int, index: int) -> bytes:
        return self._hashes[(level, index)]

    def __len__(self) -> int:
        return len(self._hashes)


class CompactRange:
    """The log's right edge: the hashes of the perfect subtrees of ``right_edge(size)`` (at most
    log2(size) + 1 of them), which is all an append needs (the "compact range" [0, size) of
    Trillian/transparency-dev). ``append`` costs O(log n) hashes, amortized O(1), and returns the new
    perfect subtrees to store, so the root after every append and every later proof come without
    recomputing the tree."""

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_subtrees(cls, size: int, subtree: SubtreeGetter) -> CompactRange:
        """Resume a stored log of ``size`` entries with at most log2(size) + 1 reads."""
        compact = cls()
        compact._hashes = [_get(subtree, level, index) for level, index in right_edge(size)]
        compact._size = size
        return compact

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The right-edge subtree hashes, biggest (leftmost) first, as ``right_edge(size)`` names them."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[SubtreeNode]:
        """Add one entry's leaf hash (``leaf_hash(data)``); return the perfect subtrees it completes,
        the leaf itself first. Two equal-sized neighbours on the edge merge, like a binary carry."""
        _check_hash("leaf hash", leaf)
        index, node, level = self._size, leaf, 0
        created = [SubtreeNode(0, index, leaf)]
        while index >> level & 1:
            node = node_hash(self._hashes.pop(), node)
            level += 1
            created.append(SubtreeNode(level, index >> level, node))
        self._hashes.append(node)
        self._size += 1
        return created

    def root(self) -> bytes:
        """MTH(D[size]) in O(log n) hashes (RFC 9162 2.1.1)."""
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT


# --- Verification (RFC 9162 2.1.3.2 and 2.1.4.2) --------------------------------------------------


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    """ "Right-shift both fn and sn equally until either LSB(fn) is set or fn is 0"."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> Literal[True]:
    """The inclusion proof verification of RFC 9162 2.1.3.2, step by step. Returns True or raises
    ProofError. Every hash must be 32 bytes; the proof must have exactly the path's length.

    The root does not commit to the tree size: the size comes from the signed checkpoint, never
    from whoever hands over the proof."""
    index, size = _check_sizes("index", index), _check_sizes("size", size)
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    path = _check_proof(proof)
    # 1. leaf_index >= tree_size fails.
    if index >= size:
        raise ProofError(f"index {index} is not in a log of {size} entries")
    # 2., 3.
    fn, sn, r = index, size - 1, leaf_hash
    # 4.
    for p in path:
        if sn == 0:
            raise ProofError("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    # 5.
    if sn != 0:
        raise ProofError("the proof is shorter than the path to the root")
    if r != root:
        raise ProofError("the proof does not lead to this root")
    return True


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> Literal[True]:
    """The consistency proof verification of RFC 9162 2.1.4.2, step by step: the tree of size2 with
    root2 extends the tree of size1 with root1. Returns True or raises ProofError.

    Outside the RFC's 0 < size1 < size2: equal sizes need an empty proof and equal roots, as
    PROOF(m, D[m]) is empty; size1 = 0 is refused (any log extends the empty one, so such a "proof"
    says nothing: a witness handles its first checkpoint without one)."""
    size1, size2 = _check_sizes("size1", size1), _check_sizes("size2", size2)
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    path = _check_proof(proof)
    if size1 > size2:
        raise ProofError(f"the log shrank from {size1} to {size2} entries")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty log proves nothing")
    if size1 == size2:
        if path:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("two different roots for the same size")
        return True
    # 1.
    if not path:
        raise ProofError("empty proof")
    # 2.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3.
    fn, sn = size1 - 1, size2 - 1
    # 4.
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    # 7.
    if sn != 0:
        raise ProofError("the proof is shorter than the path to the root")
    if fr != root1:
        raise ProofError("the proof does not lead to the first root")
    if sr != root2:
        raise ProofError("the proof does not lead to the second root")
    return True
