"""Browser pages of the provable ledger: one entry and the signed checkpoint that proves it.

A member who sent or received credits reaches, from their history or the community ledger,
"this line is proven in checkpoint N, signed on <date>, co-signed by <neighbours>", and can
download the proof and check it on their own computer (``scripts/verify_log.py``), without
trusting this server.
"""

from __future__ import annotations

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from apps.peers.models import Community
from p2pcommons.i18n import activate_community_zone

from . import log, selectors
from .models import Checkpoint, Entry, LogWitness


def _witness_names(community: Community, checkpoint: Checkpoint) -> list[str]:
    """Who co-signed, in words a neighbour reads: a community on this site by its name, any
    other witness by its key's name (one query for the names)."""
    names = [c.witness_name for c in checkpoint.cosignatures.all()]
    known = dict(
        LogWitness.objects.filter(community=community, name__in=names, witness__isnull=False).values_list(
            "name", "witness__name"
        )
    )
    return [known.get(name, name) for name in names]


@login_required
def entry_proof(request: HttpRequest, slug: str, seq: int) -> HttpResponse:
    """One line of the community's ledger and the checkpoint that proves it (members who may
    audit the ledger; the others are answered as on the community ledger page)."""
    community = get_object_or_404(Community, slug=slug)
    activate_community_zone(community)
    if not selectors.may_audit(user=request.user, community=community):
        messages.info(request, _("Join the community to see and audit its ledger."))
        return redirect(community)
    entry = (
        Entry.objects.filter(community=community, seq=seq).select_related("transfer", "account__owner__profile").first()
    )
    if entry is None:
        raise Http404
    checkpoint = log.covering_checkpoint(community_id=community.pk, seq=seq)
    origin, vkey = log.log_identity(community)
    context = {
        "community": community,
        "entry": entry,
        "checkpoint": checkpoint,
        "origin": origin,
        "vkey": vkey,
        "witnesses": _witness_names(community, checkpoint) if checkpoint else [],
    }
    if checkpoint:
        api = reverse("ledger-log-inclusion", kwargs={"community_pk": community.pk})
        context["proof_url"] = f"{api}?{urlencode({'seq': seq, 'size': checkpoint.size})}"
        context["root"] = base64.b64encode(bytes(checkpoint.root)).decode("ascii")
    return render(request, "ledger/entry_proof.html", context)
