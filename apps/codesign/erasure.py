"""What deleting an account does in co-design (found by ``apps.privacy`` at start-up).

Cancelled: the member's ballots in votes still open (under the challenge's lock, as a
vote change takes it), their places on tasks being built (``volunteer_leave``; the
organizers are told), their proposals not yet on a ballot (withdrawn) and drafts. Erased:
drafts, ideas and comments nobody answered (deleted); ideas others +1'd, comments others
replied to and proposals others voted on, commented or built keep their place and read
"removed by its author"; their co-authorships and follows. Ballots counted in closed
votes, projects, tasks done and the hours paid stay.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from apps.notifications.services import notify
from apps.peers.selectors import organizers_of
from apps.privacy.deletion import REMOVED_BY_AUTHOR, attempt, delete_files_on_commit, file_fields_of, register_preview
from apps.privacy.registry import register_eraser
from p2pcommons.i18n import Message

from .models import (
    Ballot,
    BallotEntry,
    Challenge,
    Comment,
    Follow,
    Idea,
    PlusOne,
    Project,
    Proposal,
    ProposalPhoto,
    ProposalVersion,
    Volunteer,
)

P = Proposal.Status


def _open_ballots(user):
    return Ballot.objects.filter(voter=user, challenge__phase=Challenge.Phase.VOTING)


def _joined(user):
    return Volunteer.objects.filter(member=user, status=Volunteer.Status.JOINED).select_related(
        "task__project__challenge"
    )


def cancel(user) -> int:
    from . import services

    done = 0
    for ballot in _open_ballots(user):
        with transaction.atomic():
            Challenge.objects.select_for_update(no_key=True).filter(pk=ballot.challenge_id).first()
            BallotEntry.objects.filter(ballot=ballot).delete()
            Ballot.objects.filter(pk=ballot.pk).delete()
        done += 1
    for volunteer in _joined(user):
        if attempt(lambda v=volunteer: services.volunteer_leave(volunteer=v, actor=user)):
            done += 1
            challenge = volunteer.task.project.challenge
            notify(
                recipients=organizers_of(community_id=challenge.community_id),
                kind="privacy.partner_left",
                target=challenge,
                text=Message(
                    "A volunteer on \u201c{task}\u201d deleted their account; the task has a free place again.",
                    task=volunteer.task.title,
                ),
            )
    for proposal in Proposal.objects.filter(author=user, status__in=(P.SUBMITTED, P.ACCEPTED)):
        done += attempt(lambda p=proposal: services.proposal_withdraw(proposal=p, actor=user))
    done += Proposal.objects.filter(author=user, status=P.DRAFT).count()
    return done


def _others_voted(proposals):
    return proposals.filter(
        Exists(BallotEntry.objects.filter(proposal=OuterRef("pk")))
        | Exists(Project.objects.filter(proposal=OuterRef("pk")))
        | Exists(Comment.objects.filter(proposal=OuterRef("pk")))
    )


def erase(user, pseudonym: str) -> None:
    mine = Proposal.objects.filter(author=user)
    answered = _others_voted(mine.exclude(status=P.DRAFT))
    kept_ids = list(answered.values_list("pk", flat=True))
    photos = ProposalPhoto.objects.filter(proposal__author=user)
    storage, names = file_fields_of(photos, "image")
    delete_files_on_commit(storage, names)
    photos.delete()
    ProposalVersion.objects.filter(proposal__author=user).delete()
    mine.exclude(pk__in=kept_ids).delete()
    Proposal.objects.filter(pk__in=kept_ids).update(description=REMOVED_BY_AUTHOR, tools_text="")
    Proposal.coauthors.through.objects.filter(user_id=user.pk).delete()

    liked = Exists(PlusOne.objects.filter(idea=OuterRef("pk")).exclude(member=user))
    Idea.objects.filter(author=user).filter(liked).update(text=REMOVED_BY_AUTHOR)
    Idea.objects.filter(author=user).exclude(liked).delete()

    replied = Exists(Comment.objects.filter(parent=OuterRef("pk")).exclude(author=user))
    Comment.objects.filter(author=user).filter(replied).update(text=REMOVED_BY_AUTHOR)
    Comment.objects.filter(author=user).exclude(replied).delete()

    Follow.objects.filter(member=user).delete()


def preview(user) -> dict[str, list[str]]:
    cancelled, kept = [], []
    for ballot in _open_ballots(user).select_related("challenge"):
        cancelled.append(_("Your ballot in the vote on \u201c%(title)s\u201d") % {"title": ballot.challenge.title})
    for volunteer in _joined(user):
        cancelled.append(_("Your place on the task \u201c%(title)s\u201d") % {"title": volunteer.task.title})
    drafts = Proposal.objects.filter(author=user, status=P.DRAFT).count()
    if drafts:
        cancelled.append(_("Your draft proposals (%(n)s)") % {"n": drafts})
    confirmed = Volunteer.objects.filter(member=user, status=Volunteer.Status.CONFIRMED).count()
    if confirmed:
        kept.append(_("Build tasks you did (%(n)s) and the hours paid") % {"n": confirmed})
    replied = Comment.objects.filter(author=user).filter(
        Exists(Comment.objects.filter(parent=OuterRef("pk")).exclude(author=user))
    )
    if replied.exists():
        kept.append(_("Comments others replied to stay in place and read \u201cremoved by its author\u201d"))
    return {"cancelled": cancelled, "kept": kept}


register_eraser("codesign", cancel=cancel, erase=erase, order=50)
register_preview("codesign", preview)
