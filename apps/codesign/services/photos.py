"""Pictures of a challenge's space (before, and after the build) and of proposals.

Every picture goes through the site's one pipeline (``p2pcommons.images``): checked with
Pillow, re-encoded as JPEG without its metadata (no camera GPS position), resized, saved
under a random name. The same way tools photos are added
(``apps.tools.services.catalog.photo_add``): the parent row is locked while the photos
are counted, so two uploads at once can't pass the limit.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.peers.guards import require_organizer
from apps.peers.models import User
from p2pcommons import images
from p2pcommons.errors import RuleViolation

from ..models import Challenge, ChallengePhoto, Proposal, ProposalPhoto

PH = Challenge.Phase


def _alt_text(alt_text: str) -> str:
    alt_text = (alt_text or "").strip()
    if len(alt_text) > 200:
        raise ValidationError({"alt_text": _("At most 200 characters.")})
    return alt_text


@transaction.atomic
def challenge_photo_add(*, challenge: Challenge, actor: User, upload, kind: str, alt_text: str = "") -> ChallengePhoto:
    """An organizer adds a picture of the space: "before" at any time, "after" once the
    build is under way or done (it shows the result). At most ``MAX_PER_KIND`` of each."""
    require_organizer(user=actor, community_id=challenge.community_id, doing="add pictures of the space")
    if kind not in ChallengePhoto.Kind.values:
        raise ValidationError({"kind": _("Choose before or after.")})
    alt_text = _alt_text(alt_text)
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    if kind == ChallengePhoto.Kind.AFTER and challenge.phase not in (PH.BUILDING, PH.DONE):
        raise RuleViolation(_("Pictures of the result are added once the build has started."), code="wrong_phase")
    if ChallengePhoto.objects.filter(challenge=challenge, kind=kind).count() >= ChallengePhoto.MAX_PER_KIND:
        raise ValidationError(
            {
                "image": _("A challenge can have at most %(most)s “%(kind)s” pictures.")
                % {"most": ChallengePhoto.MAX_PER_KIND, "kind": kind}
            }
        )
    full, _thumbnail = images.process_upload(upload, field="image", thumbnail=False)
    default = "The space before" if kind == ChallengePhoto.Kind.BEFORE else "The space after the build"
    photo = ChallengePhoto(challenge=challenge, kind=kind, alt_text=alt_text or f"{default}: {challenge.space}"[:200])
    photo.image.save("photo.jpg", full, save=False)
    photo.save()
    return photo


@transaction.atomic
def proposal_photo_add(*, proposal: Proposal, actor: User, upload, alt_text: str = "") -> ProposalPhoto:
    """An author (or co-author) adds a sketch or photo to their proposal while it can be
    edited (a draft or submitted one, during proposals). At most ``MAX_PER_PROPOSAL``."""
    alt_text = _alt_text(alt_text)
    proposal = Proposal.objects.select_for_update().select_related("challenge").get(pk=proposal.pk)
    if actor.pk != proposal.author_id and not proposal.coauthors.filter(pk=actor.pk).exists():
        raise RuleViolation(_("Only its authors can add pictures to a proposal."), code="forbidden")
    if proposal.status not in (Proposal.Status.DRAFT, Proposal.Status.SUBMITTED):
        raise RuleViolation(_("This proposal can no longer be changed."), code="illegal_transition")
    if proposal.challenge.phase != PH.PROPOSALS:
        raise RuleViolation(_("Pictures are added while the challenge takes proposals."), code="wrong_phase")
    if ProposalPhoto.objects.filter(proposal=proposal).count() >= ProposalPhoto.MAX_PER_PROPOSAL:
        raise ValidationError(
            {"image": _("A proposal can have at most %(most)s pictures.") % {"most": ProposalPhoto.MAX_PER_PROPOSAL}}
        )
    full, _thumbnail = images.process_upload(upload, field="image", thumbnail=False)
    photo = ProposalPhoto(proposal=proposal, alt_text=alt_text or proposal.title[:200])
    photo.image.save("photo.jpg", full, save=False)
    photo.save()
    return photo
