"""Co-design challenges in every phase (part of the scale seed, bench/scale/__init__.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from .base import Ctx, next_id, reset_sequences, write
from .people import _spot

PHASES = ("ideas", "proposals", "voting", "building", "done")
PHASE_DAYS = {  # (ideas_until, proposals_until, voting_until) in days from now, per phase
    "ideas": (7, 21, 28),
    "proposals": (-7, 7, 14),
    "voting": (-14, -7, 7),
    "building": (-40, -30, -20),
    "done": (-90, -80, -70),
}
SPACES = ("the courtyard", "the playground", "the corner lot", "the community garden", "the bike shed", "the square")


@dataclass
class _Codesign:
    """The co-design rows being built, per table, with the next id of each."""

    ids: dict[str, int]
    rows: dict[str, list] = field(default_factory=lambda: {k: [] for k in CODESIGN_COLUMNS})

    def add(self, table: str, *values) -> int:
        pk = self.ids[table]
        self.ids[table] += 1
        self.rows[table].append((pk, *values))
        return pk


CODESIGN_COLUMNS = {
    "challenge": [
        "id",
        "community_id",
        "created_by_id",
        "title",
        "brief",
        "space",
        "approx_latitude",
        "approx_longitude",
        "budget",
        "phase",
        "ideas_until",
        "proposals_until",
        "voting_until",
        "created_at",
    ],
    "idea": ["id", "challenge_id", "author_id", "text", "plus_ones", "created_at"],
    "plusone": ["id", "idea_id", "member_id"],
    "proposal": [
        "id",
        "challenge_id",
        "author_id",
        "title",
        "description",
        "cost",
        "hours",
        "status",
        "answer_reason",
        "answered_by_id",
        "answer_published_at",
        "created_at",
        "submitted_at",
        "updated_at",
    ],
    "comment": ["id", "challenge_id", "author_id", "text", "created_at"],
    "ballot": ["id", "challenge_id", "voter_id", "updated_at"],
    "ballotentry": ["id", "ballot_id", "proposal_id", "dots"],
    "project": ["id", "challenge_id", "proposal_id", "votes", "created_at"],
    "task": ["id", "project_id", "title", "hours", "places", "status", "created_at"],
}


def seed_codesign(ctx: Ctx) -> dict[str, int]:
    """Challenges in every phase (in turn) with ideas and their +1s, proposals, comments,
    dot-vote ballots within the challenge's caps, and for built ones the winning
    proposal's project with its tasks."""
    from apps.codesign import models as m

    models_of = {
        "challenge": m.Challenge,
        "idea": m.Idea,
        "plusone": m.PlusOne,
        "proposal": m.Proposal,
        "comment": m.Comment,
        "ballot": m.Ballot,
        "ballotentry": m.BallotEntry,
        "project": m.Project,
        "task": m.Task,
    }
    built = _Codesign(ids={k: next_id(model) for k, model in models_of.items()})
    n = 0
    for index, count in enumerate(ctx.split(ctx.total("challenges", minimum=len(PHASES)))):
        for _ in range(count):
            _challenge(ctx, built, index, PHASES[n % len(PHASES)])
            n += 1
    for key, model in models_of.items():
        write(model, CODESIGN_COLUMNS[key], built.rows[key])
    reset_sequences(list(models_of.values()))
    return {"challenges": n, **{f"{k}s": len(built.rows[k]) for k in ("proposal", "ballot", "comment", "task")}}


def _challenge(ctx: Ctx, built: _Codesign, index: int, phase: str) -> None:
    rng, now = ctx.rng, ctx.now
    people = ctx.members[index]
    lat, lng = _spot(rng)
    ideas_until, proposals_until, voting_until = (now + timedelta(days=d) for d in PHASE_DAYS[phase])
    created = ideas_until - timedelta(days=21)
    space = rng.choice(SPACES)
    challenge = built.add(
        "challenge",
        ctx.communities[index].pk,
        ctx.organizer_id,
        f"What shall we do with {space}?",
        f"Ideas and designs for {space}, chosen together.",
        space.removeprefix("the "),
        lat,
        lng,
        Decimal(rng.randint(5, 50) * 100),
        phase,
        ideas_until,
        proposals_until,
        voting_until,
        created,
    )
    for _ in range(rng.randint(3, 6)):
        fans = rng.sample(people, min(len(people), rng.randint(0, 4)))
        idea = built.add(
            "idea",
            challenge,
            rng.choice(people),
            f"Maybe {rng.choice(('benches', 'trees', 'a mural', 'planters', 'a table tennis table'))}?",
            len(fans),
            created + timedelta(days=1),
        )
        for fan in fans:
            built.add("plusone", idea, fan)
    for _ in range(rng.randint(2, 6)):
        built.add(
            "comment", challenge, rng.choice(people), "Count me in for the building day.", created + timedelta(days=2)
        )
    if phase == "ideas":
        return
    answered = phase != "proposals"
    proposals = []
    for k in range(rng.randint(2, 4)):
        feasible = not answered or k > 0 or rng.random() < 0.7
        status = "submitted" if not answered else ("accepted" if feasible else "not_feasible")
        proposals.append(
            (
                built.add(
                    "proposal",
                    challenge,
                    rng.choice(people),
                    f"Design {k + 1} for {space}",
                    "**Plan**\n\nWhat we build, with whom and when.",
                    Decimal(rng.randint(1, 40) * 50),
                    Decimal(rng.randint(4, 40)),
                    status,
                    "" if feasible else "Too expensive for the budget.",
                    ctx.organizer_id if answered else None,
                    ideas_until + timedelta(days=2) if answered else None,
                    ideas_until,
                    ideas_until,
                    ideas_until,
                ),
                status,
            )
        )
    accepted = [pk for pk, status in proposals if status == "accepted"]
    if phase == "proposals" or not accepted:
        return
    votes = dict.fromkeys(accepted, 0)
    for voter in rng.sample(people, min(len(people), rng.randint(3, 15))):
        ballot = built.add("ballot", challenge, voter, proposals_until + timedelta(days=1))
        left = 5  # the challenge's dots (model default), at most 3 on one proposal
        for proposal in rng.sample(accepted, len(accepted)):
            dots = min(left, rng.randint(1, 3))
            if dots:
                built.add("ballotentry", ballot, proposal, dots)
                votes[proposal] += dots
                left -= dots
    if phase in ("building", "done"):
        winner = max(accepted, key=lambda pk: (votes[pk], -pk))
        project = built.add("project", challenge, winner, votes[winner], voting_until)
        for t in range(rng.randint(2, 4)):
            built.add(
                "task",
                project,
                f"Building day {t + 1}",
                Decimal(rng.randint(2, 8)),
                2,
                "open" if phase == "building" else "done",
                voting_until,
            )
