"""What apps/codesign holds about a member, for their data download (apps.privacy): the
challenges they posted (with their pictures), what they follow, their ideas and +1s,
the proposals they wrote or co-wrote (earlier versions and pictures too), their comments,
their own ballots (never anyone else's), their volunteering, and the phase changes they made.

An organizer's answer to a proposal is included once it is published, as on the page."""

from __future__ import annotations

from django.db.models import Q

from apps.privacy.export import rows
from apps.privacy.registry import register_exporter

from .models import (
    Ballot,
    BallotEntry,
    Challenge,
    ChallengePhoto,
    Comment,
    Follow,
    Idea,
    PhaseEvent,
    PlusOne,
    Proposal,
    ProposalPhoto,
    ProposalVersion,
    Volunteer,
)


def _proposals(user) -> list[dict]:
    proposals = Proposal.objects.filter(Q(author=user) | Q(coauthors=user)).distinct()
    out = rows(
        proposals,
        {
            "id": "id",
            "challenge_id": "challenge_id",
            "challenge": "challenge__title",
            "author_id": "author_id",
            "title": "title",
            "description": "description",
            "cost": "cost",
            "hours": "hours",
            "tools_text": "tools_text",
            "status": "status",
            "answer_reason": "answer_reason",
            "answer_published_at": "answer_published_at",
            "created_at": "created_at",
            "submitted_at": "submitted_at",
            "updated_at": "updated_at",
            "is_hidden": "is_hidden",
        },
    )
    for row in out:
        row["role"] = "author" if row.pop("author_id") == user.pk else "coauthor"
        if not row["answer_published_at"]:
            row["answer_reason"] = ""
    return out


def export(user) -> dict[str, list[dict]]:
    mine = Q(proposal__author=user) | Q(proposal__coauthors=user)
    return {
        "design_challenges_posted": rows(
            Challenge.objects.filter(created_by=user),
            ["id", "community_id", "title", "brief", "space", "constraints", "budget", "phase", "method", "created_at"],
        ),
        "design_challenge_photos": rows(
            ChallengePhoto.objects.filter(challenge__created_by=user),
            {
                "id": "id",
                "challenge_id": "challenge_id",
                "kind": "kind",
                "image_file": "image",
                "alt_text": "alt_text",
                "created_at": "created_at",
            },
        ),
        "design_follows": rows(
            Follow.objects.filter(member=user),
            {"id": "id", "challenge_id": "challenge_id", "challenge": "challenge__title", "created_at": "created_at"},
        ),
        "design_ideas": rows(
            Idea.objects.filter(author=user),
            ["id", "challenge_id", "text", "plus_ones", "created_at", "is_hidden"],
        ),
        "design_plus_ones": rows(PlusOne.objects.filter(member=user), ["id", "idea_id"]),
        "design_proposals": _proposals(user),
        "design_proposal_versions": rows(
            ProposalVersion.objects.filter(mine).distinct(), ["id", "proposal_id", "title", "description", "created_at"]
        ),
        "design_proposal_photos": rows(
            ProposalPhoto.objects.filter(mine).distinct(),
            {
                "id": "id",
                "proposal_id": "proposal_id",
                "image_file": "image",
                "alt_text": "alt_text",
                "created_at": "created_at",
            },
        ),
        "design_comments": rows(
            Comment.objects.filter(author=user),
            ["id", "challenge_id", "proposal_id", "parent_id", "text", "created_at", "is_hidden"],
        ),
        "design_ballots": rows(
            Ballot.objects.filter(voter=user),
            {"id": "id", "challenge_id": "challenge_id", "challenge": "challenge__title", "updated_at": "updated_at"},
        ),
        "design_ballot_entries": rows(
            BallotEntry.objects.filter(ballot__voter=user),
            {
                "id": "id",
                "ballot_id": "ballot_id",
                "proposal_id": "proposal_id",
                "proposal": "proposal__title",
                "dots": "dots",
            },
        ),
        "design_volunteering": rows(
            Volunteer.objects.filter(member=user),
            {
                "id": "id",
                "task_id": "task_id",
                "task": "task__title",
                "hours": "task__hours",
                "status": "status",
                "confirmed_at": "confirmed_at",
                "transfer_id": "transfer_id",
                "created_at": "created_at",
            },
        ),
        "design_phase_changes": rows(
            PhaseEvent.objects.filter(actor=user), ["id", "challenge_id", "source", "target", "note", "created_at"]
        ),
    }


register_exporter("codesign", export)
