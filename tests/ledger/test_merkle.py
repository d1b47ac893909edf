"""The RFC 9162 Merkle tree (apps/ledger/merkle.py): held to an independent implementation's published
vectors (tests/ledger/merkle_vectors/, from transparency-dev/merkle), then to properties over random
logs of up to 10,000 entries. Needs no database."""

from __future__ import annotations

import base64
import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ledger import merkle
from apps.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    SubtreeStore,
    consistency_proof,
    consistency_proof_from_subtrees,
    inclusion_proof,
    inclusion_proof_from_subtrees,
    leaf_hash,
    node_hash,
    root,
    root_from_subtrees,
    verify_consistency,
    verify_inclusion,
)
from tests import reliability

VECTORS = Path(__file__).parent / "merkle_vectors"
REFERENCE = json.loads((VECTORS / "reference_tree.json").read_text())
REFERENCE_LEAVES = [bytes.fromhex(h) for h in REFERENCE["leaf_inputs_hex"]]
INCLUSION_PROBES = json.loads((VECTORS / "inclusion_probes.json").read_text())
CONSISTENCY_PROBES = json.loads((VECTORS / "consistency_probes.json").read_text())

# The one published probe we answer differently, on purpose: Go accepts equal sizes with equal roots
# of any length (here 12 bytes, "don't care 2"); we refuse any root that is not a 32-byte hash.
STRICTER_THAN_GO = {"testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}

FIGURES: Counter[str] = Counter()

reliability_line = reliability.summary_fixture(
    "merkle-rfc9162",
    lambda: (
        f"vectors={FIGURES['vectors']} logs={FIGURES['logs']} largest_log={FIGURES['largest_log']} "
        f"inclusion_verified={FIGURES['inclusion']} consistency_verified={FIGURES['consistency']} "
        f"tamperings_refused={FIGURES['refused']} incremental_roots_checked={FIGURES['roots']} invariants=ok"
    ),
)


def _b64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _log(size: int, seed: int) -> list[bytes]:
    """Distinct leaves (each starts with its position), so swapping two of them changes the tree."""
    rng = random.Random(seed)
    return [b"%d:" % i + rng.randbytes(rng.randrange(0, 40)) for i in range(size)]


def _build(leaves: list[bytes]) -> tuple[CompactRange, SubtreeStore, list[bytes]]:
    """Append every leaf as the ledger will; return the edge, the stored subtrees and the root after
    each append (roots[s] is the root of the first s leaves)."""
    compact, store, roots = CompactRange(), SubtreeStore(), [EMPTY_ROOT]
    for leaf in leaves:
        store.add(compact.append(leaf_hash(leaf)))
        roots.append(compact.root())
    FIGURES["logs"] += 1
    FIGURES["largest_log"] = max(FIGURES["largest_log"], len(leaves))
    return compact, store, roots


def _max_proof(size: int) -> int:
    return math.ceil(math.log2(size)) if size > 1 else 0


def _flip(value: bytes, position: int) -> bytes:
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


def _refused_inclusion(*args) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(*args)
    FIGURES["refused"] += 1


def _refused_consistency(*args) -> None:
    with pytest.raises(ProofError):
        verify_consistency(*args)
    FIGURES["refused"] += 1


# --- Known answers (transparency-dev/merkle) ---------------------------------------------------------


def test_leaf_node_and_empty_hashes_match_the_reference_hasher():
    for case in REFERENCE["hasher"]:
        if case["kind"] == "empty_root":
            got = EMPTY_ROOT
        elif case["kind"] == "leaf":
            got = leaf_hash(bytes.fromhex(case["input_hex"]))
        else:
            got = node_hash(bytes.fromhex(case["left_hex"]), bytes.fromhex(case["right_hex"]))
        assert got.hex() == case["want_hex"], case["desc"]
    FIGURES["vectors"] += len(REFERENCE["hasher"])


def test_the_root_of_every_reference_size_matches_recomputed_incremental_and_stored():
    _, store, roots = _build(REFERENCE_LEAVES)
    for size, want in enumerate(REFERENCE["root_hashes_hex_by_size"]):
        assert root(REFERENCE_LEAVES[:size]).hex() == want, size
        assert roots[size].hex() == want, size
        assert root_from_subtrees(size, store).hex() == want, size
    FIGURES["vectors"] += len(REFERENCE["root_hashes_hex_by_size"])


def test_appending_the_reference_leaves_stores_exactly_the_reference_subtree_hashes():
    _, store, _ = _build(REFERENCE_LEAVES)
    want = {
        (level, index): bytes.fromhex(h)
        for level, row in enumerate(REFERENCE["node_hashes_hex"])
        for index, h in enumerate(row)
    }
    assert {key: store(*key) for key in want} == want
    assert len(store) == len(want)  # nothing else is stored: 8 leaves make 15 perfect subtrees
    FIGURES["vectors"] += len(want)


@pytest.mark.parametrize("probe", INCLUSION_PROBES, ids=lambda p: p["source"].removeprefix("testdata/"))
def test_every_published_inclusion_probe_gets_the_published_verdict(probe):
    args = (probe["leafIdx"], probe["treeSize"], _b64(probe["leafHash"]), [_b64(p) for p in probe["proof"] or []])
    if probe["wantErr"]:
        _refused_inclusion(*args, _b64(probe["root"]))
    else:
        assert verify_inclusion(*args, _b64(probe["root"])) is True
    FIGURES["vectors"] += 1


@pytest.mark.parametrize("probe", CONSISTENCY_PROBES, ids=lambda p: p["source"].removeprefix("testdata/"))
def test_every_published_consistency_probe_gets_the_published_verdict(probe):
    args = (probe["size1"], probe["size2"], _b64(probe["root1"]), _b64(probe["root2"]))
    proof = [_b64(p) for p in probe["proof"] or []]
    if probe["wantErr"] or probe["source"] in STRICTER_THAN_GO:
        _refused_consistency(*args, proof)
    else:
        assert verify_consistency(*args, proof) is True
    FIGURES["vectors"] += 1


def test_the_proofs_we_make_for_the_reference_leaves_are_the_published_ones():
    _, store, _ = _build(REFERENCE_LEAVES)
    checked = 0
    for probe in INCLUSION_PROBES:
        if probe["desc"] == "happy path":
            want = [_b64(p) for p in probe["proof"] or []]
            index, size = probe["leafIdx"], probe["treeSize"]
            assert inclusion_proof(index, size, REFERENCE_LEAVES) == want, probe["source"]
            assert inclusion_proof_from_subtrees(index, size, store) == want, probe["source"]
            checked += 1
    for probe in CONSISTENCY_PROBES:
        if probe["desc"] == "happy path":
            want = [_b64(p) for p in probe["proof"] or []]
            size1, size2 = probe["size1"], probe["size2"]
            assert consistency_proof(size1, size2, REFERENCE_LEAVES) == want, probe["source"]
            assert consistency_proof_from_subtrees(size1, size2, store) == want, probe["source"]
            checked += 1
    assert checked == 10  # 5 inclusion and 5 consistency happy paths in the published data
    FIGURES["vectors"] += checked


# --- Properties over random logs ---------------------------------------------------------------------

SEEDS = st.integers(0, 2**32)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 150), seed=SEEDS)
def test_the_incremental_root_equals_the_recomputed_root_after_every_append(size, seed):
    leaves = _log(size, seed)
    compact, store, roots = _build(leaves)
    for s in range(size + 1):
        assert roots[s] == root(leaves[:s]), s
        assert root_from_subtrees(s, store) == roots[s], s
        resumed = CompactRange.from_subtrees(s, store)
        assert len(resumed.hashes) == bin(s).count("1") <= s.bit_length()
        assert resumed.root() == roots[s]
    FIGURES["roots"] += size
    # A log resumed from the store grows exactly like the one that never stopped.
    middle = size // 2
    resumed = CompactRange.from_subtrees(middle, store)
    for leaf in leaves[middle:]:
        resumed.append(leaf_hash(leaf))
    assert resumed.root() == compact.root() and resumed.size == size


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 200), seed=SEEDS)
def test_every_inclusion_proof_verifies_is_short_and_is_the_same_from_stored_subtrees(size, seed):
    leaves = _log(size, seed)
    _, store, roots = _build(leaves)
    rng = random.Random(seed)
    older = rng.randint(1, size)  # also prove against an older checkpoint of the same log
    for tree_size in {size, older}:
        for index in range(tree_size):
            proof = inclusion_proof_from_subtrees(index, tree_size, store)
            assert proof == inclusion_proof(index, tree_size, leaves)
            assert len(proof) <= _max_proof(tree_size)
            assert verify_inclusion(index, tree_size, leaf_hash(leaves[index]), proof, roots[tree_size])
            FIGURES["inclusion"] += 1


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 200), seed=SEEDS)
def test_every_consistency_proof_between_sizes_verifies_and_is_the_same_from_stored_subtrees(size, seed):
    leaves = _log(size, seed)
    _, store, roots = _build(leaves)
    rng = random.Random(seed)
    if size <= 40:
        pairs = [(a, b) for b in range(1, size + 1) for a in range(1, b + 1)]
    else:
        pairs = [tuple(sorted((rng.randint(1, size), rng.randint(1, size)))) for _ in range(60)]
    for size1, size2 in pairs:
        proof = consistency_proof_from_subtrees(size1, size2, store)
        assert proof == consistency_proof(size1, size2, leaves)
        assert len(proof) <= _max_proof(size2) + 1
        assert verify_consistency(size1, size2, roots[size1], roots[size2], proof)
        FIGURES["consistency"] += 1


def test_a_proof_longer_than_the_path_is_refused_for_that_reason_not_by_luck():
    """RFC 9162 steps 2.1.3.2/4 and 2.1.4.2/6 stop as soon as the path is used up (sn = 0), rather
    than hashing the extra elements and relying on the root comparison."""
    leaves = _log(6, 3)
    proof = inclusion_proof(5, 6, leaves)
    with pytest.raises(ProofError, match="longer than the path"):
        verify_inclusion(5, 6, leaf_hash(leaves[5]), [*proof, proof[0]], root(leaves))
    proof = consistency_proof(3, 6, leaves)
    with pytest.raises(ProofError, match="longer than the path"):
        verify_consistency(3, 6, root(leaves[:3]), root(leaves), [*proof, proof[0]])


def test_a_root_alone_does_not_fix_the_tree_size_so_a_checkpoint_must_sign_the_size():
    """A caveat for the callers, not a bug: the same proof and root check for leaf 0 of a tree of 3
    claimed as a tree of 4 (both shapes are node(node(l0, l1), x)). The size must come from the
    signed checkpoint, never from whoever hands over the proof."""
    leaves = _log(3, 4)
    proof = inclusion_proof(0, 3, leaves)
    assert verify_inclusion(0, 3, leaf_hash(leaves[0]), proof, root(leaves))
    assert verify_inclusion(0, 4, leaf_hash(leaves[0]), proof, root(leaves))


def test_a_consistency_proof_can_need_one_hash_more_than_ceil_log2_n():
    """RFC 9162 itself: PROOF(3, D[4]) = [leaf 2, leaf 3, MTH(D[0:2])], so the issue's "at most
    ceil(log2 n) hashes" holds for inclusion proofs only; consistency proofs are bounded by one more."""
    leaves = _log(4, 0)
    proof = consistency_proof(3, 4, leaves)
    hashes = [leaf_hash(leaf) for leaf in leaves]
    assert proof == [hashes[2], hashes[3], node_hash(hashes[0], hashes[1])]
    assert len(proof) == _max_proof(4) + 1
    assert verify_consistency(3, 4, root(leaves[:3]), root(leaves), proof)


@settings(max_examples=100, deadline=None)
@given(size=st.integers(1, 120), seed=SEEDS, data=st.data())
def test_a_tampered_inclusion_proof_is_refused(size, seed, data):
    leaves = _log(size, seed)
    _, store, roots = _build(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf, good_root = leaf_hash(leaves[index]), roots[size]
    proof = inclusion_proof_from_subtrees(index, size, store)
    assert verify_inclusion(index, size, leaf, proof, good_root)
    byte = data.draw(st.integers(0, 31), label="byte")
    for i in range(len(proof)):
        _refused_inclusion(index, size, leaf, [*proof[:i], _flip(proof[i], byte), *proof[i + 1 :]], good_root)
        _refused_inclusion(index, size, leaf, proof[:i] + proof[i + 1 :], good_root)  # an element dropped
    _refused_inclusion(index, size, _flip(leaf, byte), proof, good_root)
    _refused_inclusion(index, size, leaf, proof, _flip(good_root, byte))
    _refused_inclusion(index, size, leaf, [*proof, proof[-1] if proof else leaf], good_root)  # one too many
    _refused_inclusion(index, size, leaf, [good_root, *proof], good_root)
    if len(proof) > 1:
        _refused_inclusion(index, size, leaf, proof[::-1], good_root)
    for other in range(size):  # the same proof does not place the leaf anywhere else in this tree
        if other != index:
            _refused_inclusion(other, size, leaf, proof, good_root)
    if size > 1:  # reordered log: another leaf swapped into this one's place
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
        swapped = list(leaves)
        swapped[index], swapped[other] = swapped[other], swapped[index]
        _refused_inclusion(index, size, leaf, proof, root(swapped))
        _refused_inclusion(index, size, leaf, inclusion_proof(index, size, swapped), good_root)


@settings(max_examples=100, deadline=None)
@given(size=st.integers(2, 120), seed=SEEDS, data=st.data())
def test_a_tampered_consistency_proof_is_refused(size, seed, data):
    leaves = _log(size, seed)
    _, store, roots = _build(leaves)
    size1 = data.draw(st.integers(1, size - 1), label="size1")
    root1, root2 = roots[size1], roots[size]
    proof = consistency_proof_from_subtrees(size1, size, store)
    assert verify_consistency(size1, size, root1, root2, proof)
    byte = data.draw(st.integers(0, 31), label="byte")
    for i in range(len(proof)):
        _refused_consistency(size1, size, root1, root2, [*proof[:i], _flip(proof[i], byte), *proof[i + 1 :]])
        _refused_consistency(size1, size, root1, root2, proof[:i] + proof[i + 1 :])
    _refused_consistency(size1, size, _flip(root1, byte), root2, proof)
    _refused_consistency(size1, size, root1, _flip(root2, byte), proof)
    _refused_consistency(size1, size, root2, root1, proof)
    _refused_consistency(size1, size, root1, root2, [*proof, proof[-1]])
    _refused_consistency(size1, size, root1, root2, [root1, *proof])
    _refused_consistency(size, size1, root2, root1, proof)  # a log never shrinks
    if len(proof) > 1:
        _refused_consistency(size1, size, root1, root2, proof[::-1])


@settings(max_examples=100, deadline=None)
@given(size=st.integers(2, 150), seed=SEEDS, data=st.data())
def test_a_rewritten_history_cannot_prove_itself_consistent_with_an_old_checkpoint(size, seed, data):
    """An operator drops, reorders or edits an entry already in a checkpoint, then keeps appending:
    nothing they can compute from the new log convinces a holder of the old checkpoint."""
    leaves = _log(size, seed)
    size1 = data.draw(st.integers(1, size - 1), label="size1")
    old_root = root(leaves[:size1])
    victim = data.draw(st.integers(0, size1 - 1), label="victim")
    dropped = leaves[:victim] + leaves[victim + 1 :] + [b"appended later"]
    edited = [*leaves[:victim], _flip(leaves[victim] + b"x", 0), *leaves[victim + 1 :]]
    rewrites = {"dropped": dropped, "edited": edited}
    if size1 > 1:
        other = data.draw(st.integers(0, size1 - 1).filter(lambda i: i != victim), label="other")
        reordered = list(leaves)
        reordered[victim], reordered[other] = reordered[other], reordered[victim]
        rewrites["reordered"] = reordered
    for name, new in rewrites.items():
        _, store, roots = _build(new)
        proof = consistency_proof_from_subtrees(size1, len(new), store)
        with pytest.raises(ProofError):
            verify_consistency(size1, len(new), old_root, roots[len(new)], proof)
        FIGURES["refused"] += 1
        assert root(new[:size1]) != old_root, name


@pytest.mark.parametrize("size", [1, 2, 3, 1024, 1025, 4097, 8191, 10_000])
def test_large_logs_every_inclusion_proof_and_random_consistency_proofs_verify(size):
    leaves = _log(size, size)
    compact, store, roots = _build(leaves)
    assert compact.root() == root(leaves)
    for s in {2**k + d for k in range(size.bit_length()) for d in (-1, 0, 1)} & set(range(size + 1)):
        assert roots[s] == root(leaves[:s]), s  # the incremental root at the edges of every power of two
        FIGURES["roots"] += 1
    assert len(compact.hashes) <= math.floor(math.log2(size)) + 1
    for index in range(size):
        proof = inclusion_proof_from_subtrees(index, size, store)
        assert len(proof) <= _max_proof(size)
        assert verify_inclusion(index, size, leaf_hash(leaves[index]), proof, roots[size])
    FIGURES["inclusion"] += size
    rng = random.Random(size)
    for index in rng.sample(range(size), min(5, size)):  # the leaf-list way agrees (it is O(n) per proof)
        assert inclusion_proof(index, size, leaves) == inclusion_proof_from_subtrees(index, size, store)
    for _ in range(200):
        size1, size2 = sorted((rng.randint(1, size), rng.randint(1, size)))
        proof = consistency_proof_from_subtrees(size1, size2, store)
        assert len(proof) <= _max_proof(size2) + 1
        assert verify_consistency(size1, size2, roots[size1], roots[size2], proof)
        FIGURES["consistency"] += 1
    size1 = rng.randint(1, size)
    assert consistency_proof(size1, size, leaves) == consistency_proof_from_subtrees(size1, size, store)


def test_proofs_read_only_a_logarithmic_number_of_stored_subtrees():
    """What makes a database table of subtrees serve proofs cheaply: reads grow with log n, not n."""
    size = 10_000
    _, store, roots = _build(_log(size, 7))
    reads: list[tuple[int, int]] = []

    def counting(level: int, index: int) -> bytes:
        reads.append((level, index))
        return store(level, index)

    bound = 2 * math.ceil(math.log2(size)) + 2
    for index in (0, 1, 4095, 8191, 9998, 9999):
        reads.clear()
        inclusion_proof_from_subtrees(index, size, counting)
        assert len(reads) <= bound, (index, len(reads))
    for size1 in (1, 3, 4096, 5000, 9999):
        reads.clear()
        consistency_proof_from_subtrees(size1, size, counting)
        assert len(reads) <= bound, (size1, len(reads))
    reads.clear()
    assert root_from_subtrees(size, counting) == roots[size]
    assert len(reads) == bin(size).count("1")


# --- Malformed input ----------------------------------------------------------------------------------


def test_malformed_verification_arguments_are_refused_not_crashed_on():
    leaves = _log(5, 1)
    good_root, leaf = root(leaves), leaf_hash(leaves[2])
    proof = inclusion_proof(2, 5, leaves)
    verify_inclusion(2, 5, leaf, proof, good_root)
    for bad in (
        (0, True, leaf_hash(leaves[0]), [], leaf_hash(leaves[0])),  # a bool is not a size
        (-1, 5, leaf, proof, good_root),
        (2, 5.0, leaf, proof, good_root),
        (2, 5, leaf[:31], proof, good_root),
        (2, 5, leaf, proof, good_root + b"\x00"),
        (2, 5, leaf, b"".join(proof), good_root),  # bytes are a sequence too: not a proof
        (2, 5, leaf, [p.hex() for p in proof], good_root),
        (2, 5, leaf, [bytearray(p) for p in proof], good_root),
        (5, 5, leaf, proof, good_root),
        (0, 0, leaf, [], EMPTY_ROOT),  # nothing is in the empty log
    ):
        _refused_inclusion(*bad)
    proof = consistency_proof(2, 5, leaves)
    root2 = root(leaves[:2])
    verify_consistency(2, 5, root2, good_root, proof)
    for bad in (
        (0, 5, EMPTY_ROOT, good_root, []),  # from the empty log proves nothing
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, []),
        (2, 5, root2, good_root, []),
        (5, 5, good_root, good_root, proof),
        (5, 5, good_root, root2, []),
        (2, 5, root2[:16], good_root, proof),
        (2, 5, root2, good_root, tuple(p.hex() for p in proof)),
        (True, True, root(leaves[:1]), root(leaves[:1]), []),
    ):
        _refused_consistency(*bad)
    assert verify_consistency(5, 5, good_root, good_root, []) is True
    assert verify_inclusion(0, 1, leaf_hash(leaves[0]), [], leaf_hash(leaves[0])) is True
    with pytest.raises(ProofError, match="shrank"):
        verify_consistency(5, 2, good_root, root2, proof)


def test_asking_for_an_impossible_proof_is_an_error_not_an_empty_proof():
    leaves = _log(5, 2)
    _, store, _ = _build(leaves)
    for call in (
        lambda: inclusion_proof(5, 5, leaves),
        lambda: inclusion_proof(0, 6, leaves),  # more leaves asked than given
        lambda: inclusion_proof_from_subtrees(5, 5, store),
        lambda: consistency_proof(0, 5, leaves),
        lambda: consistency_proof(4, 3, leaves),
        lambda: consistency_proof_from_subtrees(0, 5, store),
        lambda: merkle.right_edge(-1),
        lambda: CompactRange().append(b"not a hash"),
    ):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(KeyError):  # a store missing a subtree says so, it does not invent one
        inclusion_proof_from_subtrees(0, 6, store)
    with pytest.raises(ValueError):  # nor does it accept a corrupt row
        root_from_subtrees(4, lambda level, index: b"short")
