"""REST API of the provable ledger (issue 19): a community's log, its checkpoints, and proofs.

- ``GET ledger/logs/{community}/``: the log's name (origin), public key and newest checkpoint;
- ``GET ledger/logs/{community}/checkpoints/`` and ``.../checkpoints/{number}/``: every checkpoint;
- ``GET ledger/logs/{community}/consistency/?first=&second=``: the proof that the checkpoint of
  ``second`` entries extends the one of ``first`` (RFC 9162 2.1.4);
- ``GET ledger/logs/{community}/inclusion/?seq=&size=``: the proof that entry ``seq`` is in the
  checkpoint of ``size`` entries (RFC 9162 2.1.3), with the entry's canonical text;
- ``GET ledger/logs/{community}/leaves/?start=&end=``: the entries' canonical texts, so an app can
  fetch the log and rebuild the tree itself.

Who may call what: the log, checkpoints and consistency proofs reveal only names, keys, sizes and
hashes, so they are public (anyone may watch a log for a split view, as a witness does). Inclusion
proofs and leaves carry the entries themselves (amounts, account ids, memos), so they are for those
who may audit the community's ledger (``selectors.may_audit``), answered like ``ledger/verify/``:
401 unsigned, 403 signed in but not a member, 404 for an unknown community.

Proofs end in a signed root: ``size``/``first``/``second`` must each be the size of a checkpoint,
never an arbitrary size, so every proof a client gets can be checked against a signature (a proof
to an unsigned root proves nothing). They are computed from the stored subtrees (``apps.ledger.log``),
one query each, whatever the log's size.

C2SP tlog-tiles are out of scope: ``leaves`` serves the same data (canonical texts in order) in
pages of at most ``MAX_LEAVES``, which is enough for an app or ``scripts/verify_log.py``.
"""

from __future__ import annotations

import base64

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.peers.models import Community
from p2pcommons.api.schema import FIELD_ERRORS, FORBIDDEN, NOT_FOUND
from scripts.verify_log import CONSISTENCY_FORMAT, INCLUSION_FORMAT  # the formats the offline verifier reads

from . import log, merkle, selectors
from .chain import _entries
from .checkpoint import MAX_TREE_SIZE
from .models import Checkpoint

TAGS = ["ledger"]
# Leaves per call: about 450 bytes each, so at most ~0.5 MB per answer.
MAX_LEAVES = 1000


def b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode("ascii")


# --- Serializers (typed, so openapi.yaml stays a schema a client generator takes) ------------------


class CheckpointSerializer(serializers.Serializer):
    """A signed checkpoint: the log's size and root at one moment, with the co-signatures of the
    witnesses that checked it extends every earlier checkpoint they saw."""

    number = serializers.IntegerField(help_text="1 for the community's first checkpoint.")
    size = serializers.IntegerField(help_text="How many entries it covers (seq 1 to size).")
    root = serializers.CharField(help_text="The RFC 9162 root hash of those entries, base64.")
    note = serializers.CharField(
        help_text="The C2SP signed note: the checkpoint, then the log's signature line and the witnesses' lines."
    )
    created_at = serializers.DateTimeField()
    cosigned_by = serializers.ListField(
        child=serializers.CharField(), help_text="The names of the witnesses whose signature lines the note carries."
    )


class LogSerializer(serializers.Serializer):
    """A community's log: its name and key (to check signatures with), and its newest checkpoint."""

    community = serializers.IntegerField()
    origin = serializers.CharField(help_text="The log's name: the first line of each of its checkpoints.")
    public_key = serializers.CharField(help_text="The log's Ed25519 public key as a C2SP verifier key string.")
    latest = CheckpointSerializer(allow_null=True, help_text="Null while no checkpoint has been signed yet.")


class InclusionQuerySerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=1, max_value=MAX_TREE_SIZE, help_text="The entry's line number.")
    size = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TREE_SIZE,
        required=False,
        help_text="A checkpoint's size; default the newest checkpoint's.",
    )


class ProofCheckpointSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    size = serializers.IntegerField()
    note = serializers.CharField(help_text="The signed note (log's signature first, then witnesses').")


class InclusionProofSerializer(serializers.Serializer):
    """What ``scripts/verify_log.py inclusion`` reads: the entry, its audit path, and the
    signed checkpoint whose root the path ends in."""

    format = serializers.CharField(help_text=f'"{INCLUSION_FORMAT}"')
    origin = serializers.CharField()
    seq = serializers.IntegerField()
    leaf_index = serializers.IntegerField(help_text="seq - 1")
    tree_size = serializers.IntegerField()
    leaf = serializers.CharField(help_text="The entry's canonical text (the bytes hashed, UTF-8).")
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || leaf), base64.")
    proof = serializers.ListField(child=serializers.CharField(), help_text="The audit path, base64 hashes.")
    checkpoint = ProofCheckpointSerializer()


class ConsistencyQuerySerializer(serializers.Serializer):
    first = serializers.IntegerField(min_value=1, max_value=MAX_TREE_SIZE, help_text="A checkpoint's size.")
    second = serializers.IntegerField(min_value=1, max_value=MAX_TREE_SIZE, help_text="A later checkpoint's size.")

    def validate(self, attrs: dict) -> dict:
        if attrs["first"] > attrs["second"]:
            raise DRFValidationError({"second": [_("Give a size at least as large as the first one.")]})
        return attrs


class ConsistencyProofSerializer(serializers.Serializer):
    """What ``scripts/verify_log.py consistency`` reads: two signed checkpoints and the proof
    that the later one extends the earlier (nothing rewritten, only added)."""

    format = serializers.CharField(help_text=f'"{CONSISTENCY_FORMAT}"')
    origin = serializers.CharField()
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    first_note = serializers.CharField()
    second_note = serializers.CharField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="Base64 hashes; empty when equal.")


class LeavesQuerySerializer(serializers.Serializer):
    start = serializers.IntegerField(min_value=0, max_value=MAX_TREE_SIZE, help_text="First leaf index (seq - 1).")
    end = serializers.IntegerField(
        min_value=1, max_value=MAX_TREE_SIZE, help_text=f"One past the last leaf index; at most {MAX_LEAVES} leaves."
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["end"] <= attrs["start"]:
            raise DRFValidationError({"end": [_("Give an end larger than the start.")]})
        if attrs["end"] - attrs["start"] > MAX_LEAVES:
            message = _("At most %(n)s leaves per request: ask again from where this one ends.") % {"n": MAX_LEAVES}
            raise DRFValidationError({"end": [message]})
        return attrs


class LeavesSerializer(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    leaves = serializers.ListField(
        child=serializers.CharField(), help_text="The canonical texts of leaves start to end - 1, in order."
    )


# --- Reading ---------------------------------------------------------------------------------------


def _checkpoints(community: Community):
    """The community's checkpoints with their co-signatures (one query more, however many)."""
    return log.with_cosignatures(Checkpoint.objects.filter(community=community))


def checkpoint_data(checkpoint: Checkpoint) -> dict:
    cosignatures = list(checkpoint.cosignatures.all())
    return {
        "number": checkpoint.number,
        "size": checkpoint.size,
        "root": b64(checkpoint.root),
        "note": log.signed_note(checkpoint),
        "created_at": checkpoint.created_at,
        "cosigned_by": [c.witness_name for c in cosignatures],
    }


def _community(community_pk: int) -> Community:
    return get_object_or_404(Community, pk=community_pk)


def _auditable(request, community_pk: int) -> Community:
    """The community, for those who may audit its ledger; the others are answered as
    ``ledger/verify/`` answers them (403 signed in, 401 not)."""
    community = _community(community_pk)
    if not selectors.may_audit(user=request.user, community=community):
        raise PermissionDenied(_("Only members of this community can audit its ledger."))
    return community


def _query(serializer_class, request) -> dict:
    payload = serializer_class(data=request.query_params)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _checkpoint_of_size(community: Community, size: int, field: str) -> Checkpoint:
    checkpoint = _checkpoints(community).filter(size=size).first()
    if checkpoint is None:
        message = _("No checkpoint covers exactly %(size)s entries: give the size of a signed checkpoint.")
        raise DRFValidationError({field: [message % {"size": size}]})
    return checkpoint


def leaves(community: Community, *, first: int, last: int) -> list[bytes]:
    """The leaves of entries ``first`` to ``last`` (seq, inclusive), in order, in one query:
    the very documents their chain links and leaf hashes cover (``chain._entries``)."""
    return [log.leaf_bytes(doc) for doc in _entries(community, upto=last, since=first)]


def _origin(checkpoint: Checkpoint) -> str:
    """The log's name as the checkpoint states it (its first line): the one its signature covers."""
    return checkpoint.note.split("\n", 1)[0]


COMMUNITY = OpenApiParameter("community_pk", int, OpenApiParameter.PATH, description="The community's id.")


class LogView(APIView):
    """The community's log: who signs it, with which key, and its newest checkpoint."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="A community's signed ledger log (public)",
        tags=TAGS,
        auth=[],
        parameters=[COMMUNITY],
        responses={200: LogSerializer, 404: NOT_FOUND},
    )
    def get(self, request, community_pk: int):
        community = _community(community_pk)
        origin, vkey = log.log_identity(community)
        latest = _checkpoints(community).order_by("-size").first()
        data = {
            "community": community.pk,
            "origin": origin,
            "public_key": vkey,
            "latest": checkpoint_data(latest) if latest else None,
        }
        return Response(LogSerializer(data).data)


class CheckpointListView(ListAPIView):
    """Every checkpoint of the community's log, newest first (all are kept)."""

    permission_classes = [AllowAny]
    serializer_class = CheckpointSerializer
    queryset = Checkpoint.objects.none()

    @extend_schema(
        summary="A community's signed checkpoints, newest first (public)",
        tags=TAGS,
        auth=[],
        parameters=[COMMUNITY],
        responses={200: CheckpointSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Checkpoint.objects.none()
        return _checkpoints(_community(self.kwargs["community_pk"])).order_by("-size")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CheckpointSerializer([checkpoint_data(c) for c in page], many=True).data)


class CheckpointDetailView(APIView):
    """One checkpoint, by its number."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="One signed checkpoint of a community (public)",
        tags=TAGS,
        auth=[],
        parameters=[
            COMMUNITY,
            OpenApiParameter("number", int, OpenApiParameter.PATH, description="1 for the first."),
        ],
        responses={200: CheckpointSerializer, 404: NOT_FOUND},
    )
    def get(self, request, community_pk: int, number: int):
        checkpoint = get_object_or_404(_checkpoints(_community(community_pk)), number=number)
        return Response(CheckpointSerializer(checkpoint_data(checkpoint)).data)


class ConsistencyView(APIView):
    """The proof that a later checkpoint extends an earlier one: nothing of the first was
    changed or removed, entries were only added. Public: it holds only hashes."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Proof that one checkpoint extends an earlier one (public)",
        tags=TAGS,
        auth=[],
        parameters=[COMMUNITY, ConsistencyQuerySerializer],
        responses={200: ConsistencyProofSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND},
    )
    def get(self, request, community_pk: int):
        community = _community(community_pk)
        query = _query(ConsistencyQuerySerializer, request)
        first = _checkpoint_of_size(community, query["first"], "first")
        second = _checkpoint_of_size(community, query["second"], "second")
        proof = log.consistency_proof(community_id=community.pk, size1=first.size, size2=second.size)
        data = {
            "format": CONSISTENCY_FORMAT,
            "origin": _origin(first),
            "first": first.size,
            "second": second.size,
            "first_note": log.signed_note(first),
            "second_note": log.signed_note(second),
            "proof": [b64(h) for h in proof],
        }
        return Response(ConsistencyProofSerializer(data).data)


class InclusionView(APIView):
    """The proof that entry ``seq`` is in a signed checkpoint, with the entry itself."""

    @extend_schema(
        summary="Proof that an entry is in a signed checkpoint (members)",
        tags=TAGS,
        parameters=[COMMUNITY, InclusionQuerySerializer],
        responses={200: InclusionProofSerializer, 400: FIELD_ERRORS, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, community_pk: int):
        community = _auditable(request, community_pk)
        query = _query(InclusionQuerySerializer, request)
        seq = query["seq"]
        if "size" in query:
            checkpoint = _checkpoint_of_size(community, query["size"], "size")
        else:
            checkpoint = _checkpoints(community).order_by("-size").first()
            if checkpoint is None:
                raise DRFValidationError(
                    {"seq": [_("No checkpoint is signed yet: the first one is signed within a few minutes.")]}
                )
        if seq > checkpoint.size:
            raise DRFValidationError(
                {
                    "seq": [
                        _("Checkpoint %(number)s covers entries 1 to %(size)s; this one will be in a later checkpoint.")
                        % {"number": checkpoint.number, "size": checkpoint.size}
                    ]
                }
            )
        found = leaves(community, first=seq, last=seq)
        if not found:  # the chain lost an entry the log signed: say so, never a 500
            raise DRFValidationError({"seq": [_("This entry is missing from the ledger. Please tell an organizer.")]})
        leaf = found[0]
        proof = log.inclusion_proof(community_id=community.pk, seq=seq, size=checkpoint.size)
        data = {
            "format": INCLUSION_FORMAT,
            "origin": _origin(checkpoint),
            "seq": seq,
            "leaf_index": seq - 1,
            "tree_size": checkpoint.size,
            "leaf": leaf.decode("utf-8"),
            "leaf_hash": b64(merkle.leaf_hash(leaf)),
            "proof": [b64(h) for h in proof],
            "checkpoint": {"number": checkpoint.number, "size": checkpoint.size, "note": log.signed_note(checkpoint)},
        }
        return Response(InclusionProofSerializer(data).data)


class LeavesView(APIView):
    """Leaves ``start`` to ``end - 1`` (leaf index = seq - 1) as canonical texts, up to the newest
    checkpoint: how an app fetches the log to rebuild the tree (C2SP tiles are out of scope)."""

    @extend_schema(
        summary="The log's entries as canonical texts, a page at a time (members)",
        tags=TAGS,
        parameters=[COMMUNITY, LeavesQuerySerializer],
        responses={200: LeavesSerializer, 400: FIELD_ERRORS, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, community_pk: int):
        community = _auditable(request, community_pk)
        query = _query(LeavesQuerySerializer, request)
        start, end = query["start"], query["end"]
        signed = Checkpoint.objects.filter(community=community).order_by("-size").values_list("size", flat=True).first()
        if end > (signed or 0):
            raise DRFValidationError(
                {"end": [_("The newest checkpoint covers %(size)s entries: ask for no more.") % {"size": signed or 0}]}
            )
        texts = [leaf.decode("utf-8") for leaf in leaves(community, first=start + 1, last=end)]
        return Response(LeavesSerializer({"start": start, "end": end, "leaves": texts}).data)


def routes() -> list:
    """The routes, for ``p2pcommons/api/urls.py``: built when it is read, after ``p2pcommons/urls.py``
    registers the ``id`` converter (so this module imports anywhere, tests included)."""
    base = "ledger/logs/<id:community_pk>/"
    return [
        path(base, LogView.as_view(), name="ledger-log"),
        path(f"{base}checkpoints/", CheckpointListView.as_view(), name="ledger-log-checkpoints"),
        path(f"{base}checkpoints/<id:number>/", CheckpointDetailView.as_view(), name="ledger-log-checkpoint"),
        path(f"{base}inclusion/", InclusionView.as_view(), name="ledger-log-inclusion"),
        path(f"{base}consistency/", ConsistencyView.as_view(), name="ledger-log-consistency"),
        path(f"{base}leaves/", LeavesView.as_view(), name="ledger-log-leaves"),
    ]
