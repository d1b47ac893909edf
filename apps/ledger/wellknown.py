"""The public log protocol of a community's ledger, for witnesses and auditors on other servers.

Mounted at ``/.well-known/p2pcommons-log/<slug>/``, no sign-in, no cookies (a machine protocol).
It reveals only what a checkpoint already publishes: the log's name and key, sizes, hashes, and the
names and keys of its witnesses; never an entry, an account or a person.

- ``GET <slug>/``: where everything is (JSON);
- ``GET <slug>/checkpoint``: the newest signed checkpoint with its co-signatures (text);
- ``GET <slug>/consistency/<first>/<second>``: proof that the log of ``second`` entries extends
  the log of ``first`` (both checkpoint sizes), one base64 hash a line (text);
- ``POST <slug>/cosignature``: a witness hands back the checkpoint with its signature line added.
"""

from __future__ import annotations

import base64
import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.peers.models import Community

from . import checkpoint as notes
from . import log
from .models import Checkpoint, LogWitness

MAX_BODY = 64 * 1024
"""Largest co-signed note accepted (a checkpoint with 100 signature lines is about 10 KiB)."""

_SIZE = re.compile(r"[1-9][0-9]{0,18}")

app_name = "ledger-log"


def _text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _community(slug: str) -> Community | None:
    return Community.objects.filter(slug=slug).first()


@require_GET
@never_cache
def discovery(request: HttpRequest, slug: str) -> HttpResponse:
    """Where a witness or an auditor finds the log's checkpoint, proofs and co-signature inbox."""
    community = _community(slug)
    if community is None:
        return JsonResponse({"detail": "No such ledger."}, status=404)
    origin, vkey = log.log_identity(community)
    here = request.build_absolute_uri(reverse("ledger-log:discovery", args=[slug]))
    witnesses = LogWitness.objects.filter(community=community).order_by("name").values_list("name", "vkey")
    return JsonResponse(
        {
            "origin": origin,
            "public_key": vkey,
            "checkpoint": f"{here}checkpoint",
            "consistency": f"{here}consistency/{{first}}/{{second}}",
            "cosignature": f"{here}cosignature",
            "witnesses": [{"name": name, "public_key": key} for name, key in witnesses],
            "witness_key": log.witness_signer(community).verifier.vkey,
        }
    )


@require_GET
@never_cache
def latest(request: HttpRequest, slug: str) -> HttpResponse:
    community = _community(slug)
    newest = log.latest_checkpoint(community) if community else None
    if newest is None:
        return _text("No checkpoint yet.\n", status=404)
    return _text(log.signed_note(newest))


@require_GET
def consistency(request: HttpRequest, slug: str, first: str, second: str) -> HttpResponse:
    community = _community(slug)
    if community is None:
        return _text("No such ledger.\n", status=404)
    if not (_SIZE.fullmatch(first) and _SIZE.fullmatch(second)):
        return _text("Sizes are whole numbers from 1.\n", status=400)
    size1, size2 = int(first), int(second)
    if size1 > size2 or size2 > notes.MAX_TREE_SIZE:
        return _text("The first size must not be above the second.\n", status=400)
    sizes = set(Checkpoint.objects.filter(community=community, size__in=[size1, size2]).values_list("size", flat=True))
    if sizes != {size1, size2}:
        return _text("Both sizes must be sizes of published checkpoints.\n", status=400)
    proof = log.consistency_proof(community_id=community.pk, size1=size1, size2=size2)
    return _text("".join(base64.b64encode(digest).decode("ascii") + "\n" for digest in proof))


@csrf_exempt
@require_POST
def cosignature(request: HttpRequest, slug: str) -> HttpResponse:
    """Keep a known witness's signature line on one of our checkpoints."""
    community = _community(slug)
    if community is None:
        return _text("No such ledger.\n", status=404)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _text("Bad Content-Length.\n", status=400)
    if declared > MAX_BODY:
        return _text("Too large.\n", status=413)
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _text("Too large.\n", status=413)
    try:
        text, _ = notes.split_note(body)
        head = notes.parse_checkpoint(text)
    except notes.NoteError:
        return _text("Not a signed checkpoint.\n", status=400)
    origin, _ = log.log_identity(community)
    if head.origin != origin:
        return _text("No such checkpoint.\n", status=404)
    found = Checkpoint.objects.filter(community=community, size=head.size, root=head.root_hash).first()
    if found is None:
        return _text("No such checkpoint.\n", status=404)
    created = 0
    signed = 0
    note = body.decode("utf-8")
    for witness in LogWitness.objects.filter(community=community).order_by("pk"):
        try:
            verifier = notes.Verifier.from_vkey(witness.vkey)
            opened = notes.open_note(note, [verifier])
        except notes.NoteError:
            continue  # not signed by this witness (or its line does not verify)
        if not any(sig.name == verifier.name for sig in opened.sigs):
            continue
        try:
            kept = log.add_cosignature(checkpoint=found, name=witness.name, vkey=witness.vkey, cosigned_note=note)
        except notes.NoteError:
            continue
        signed += 1
        created += kept is not None
    if not signed:
        return _text("No witness this ledger knows signed it.\n", status=403)
    return _text("Co-signature kept.\n" if created else "Already kept.\n", status=201 if created else 200)


urlpatterns = [
    path("<slug:slug>/", discovery, name="discovery"),
    path("<slug:slug>/checkpoint", latest, name="checkpoint"),
    path("<slug:slug>/consistency/<str:first>/<str:second>", consistency, name="consistency"),
    path("<slug:slug>/cosignature", cosignature, name="cosignature"),
]
