"""Demo data for co-design: in the first demo community, one challenge in each phase, as
if the neighbors had been at it for a few months.

- **ideas**: a mural for the stairwell, with a picture of the grey wall, ideas and +1s;
- **proposals**: bike racks by the corner shop, ideas from its first phase, proposals
  with sketches, one accepted for voting, comments and a reply;
- **voting**: raised beds for the corner garden, proposals accepted (one not feasible,
  with the reason published) and the ballots cast so far, secret until it closes;
- **building**: a bench for the courtyard, voted on, its project board with tasks,
  neighbors on them, the past ones confirmed (their hours paid from the co-design fund),
  materials paid from the budget, and pictures of the bare courtyard;
- **done**: the bench by the playground repainted, with its before and after pictures.

Everything goes through the services as the clicks and the beat would have. Time: the
services that take ``now`` get the moment it would have happened; what the others
stamp with the real clock (ideas, proposals, comments, tasks, volunteers, follows,
phase events, notifications) is moved back with queryset updates right after each
call. Ledger transfers keep their real time (they are chained). The co-design fund's
HOUR account gets room to pay volunteers (``account_set_limit``, within the community's
floor), and its CREDIT account room for the budgets, as an organizer would set them.

The pictures are drawn here with Pillow (shapes and colors, no downloads) and stored
through the same pipeline as a neighbor's upload (``services.photos``).

Idempotent: a community that already has the demo challenges is left as it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from apps.ledger.models import Currency
from apps.ledger.services import account_set_limit, community_account
from apps.notifications.models import Notification
from apps.peers.models import Community, Membership, User
from apps.peers.selectors import organizers_of

from . import services
from .demo_pictures import picture
from .models import (
    FUND_NAME,
    Challenge,
    ChallengePhoto,
    Comment,
    Follow,
    Idea,
    PhaseEvent,
    Project,
    Proposal,
    Task,
    Volunteer,
)
from .services import photos

PH = Challenge.Phase
DEMO_EMAIL_DOMAIN = "@example.org"
READ_AFTER = timedelta(days=1)  # older demo notifications count as read (and were never emailed)
HOUR_FUND_LIMIT = Decimal("-40")  # the co-design fund may pay up to 40 hours of volunteering
CREDIT_FUND_LIMIT = Decimal("-400")  # and spend up to 400 credits on the budgets


@dataclass(frozen=True)
class Plan:
    """One demo challenge: what it is, and (in days from now) when it was posted and when
    its phases end. A phase that ended was moved on by the organizer at its end."""

    title: str
    brief: str
    space: str
    constraints: str
    budget: Decimal | None
    posted: int
    ends: tuple[int, int, int]  # ideas, proposals, voting
    phase: str
    method: str = Challenge.Method.DOTS


@dataclass(frozen=True)
class Design:
    title: str
    description: str
    cost: Decimal
    hours: Decimal
    drawing: str  # the sketch: a key of DRAWINGS


MURAL = Plan(
    "A mural for the stairwell",
    "The stairwell of number 8 is grey from top to bottom and everyone hurries through it. "
    "What could make it a place you like to walk through? Post your ideas: colors, a theme, "
    "something the kids could paint.",
    "The stairwell of Weesperzijde 8, ground floor to the third",
    "Washable paint only; nothing on the handrails; the fire signs stay visible.",
    Decimal("150.00"),
    posted=-4,
    ends=(10, 24, 31),
    phase=PH.IDEAS,
    method=Challenge.Method.APPROVAL,
)
RACKS = Plan(
    "Bike racks by the corner shop",
    "Bikes lean against the shop window and block the pavement. We can place racks on the wide "
    "part of the pavement by the corner shop: how many, what kind, and how do they look?",
    "The pavement by the corner shop, Tweede Boerhaavestraat",
    "At least 1.5 m of pavement stays free; the city allows racks bolted to the paving only.",
    Decimal("400.00"),
    posted=-15,
    ends=(-6, 8, 15),
    phase=PH.PROPOSALS,
)
BEDS = Plan(
    "Raised beds for the corner garden",
    "The corner garden is mostly weeds and broken tiles. Let's build raised beds that "
    "neighbors can look after together: vegetables, herbs, flowers for the bees.",
    "The corner garden at the end of the Blasiusstraat",
    "Untreated wood or stone; a wheelchair reaches at least one bed; the tap stays reachable.",
    Decimal("350.00"),
    posted=-28,
    ends=(-20, -3, 6),
    phase=PH.VOTING,
)
BENCH = Plan(
    "A bench for the courtyard",
    "The courtyard behind number 12 has nowhere to sit. A bench in the afternoon sun, "
    "built together, would make it a place to meet.",
    "The courtyard behind Weesperzijde 12",
    "Nothing fixed to the house walls; the bins must still get through.",
    Decimal("300.00"),
    posted=-50,
    ends=(-40, -26, -14),
    phase=PH.BUILDING,
)
REPAINT = Plan(
    "Repaint the bench by the playground",
    "The old bench by the playground is peeling and grey. Sand it, repair the loose plank and "
    "give it a color the kids choose.",
    "The bench by the playground in the Oosterpark corner",
    "Paint safe for children; the bench stays where it is.",
    Decimal("80.00"),
    posted=-110,
    ends=(-100, -88, -80),
    phase=PH.DONE,
)
PLANS = [MURAL, RACKS, BEDS, BENCH, REPAINT]
TITLES = [plan.title for plan in PLANS]

IDEAS = {
    MURAL.title: [
        "A canal scene with houseboats, all the way up.",
        "Let the kids of the building each paint one tile.",
        "A different color on every floor, so you know where you are.",
        "Birds of the Oosterpark, life size.",
        "A climbing plant painted along the handrail.",
    ],
    RACKS.title: [
        "Racks for cargo bikes too, not only the narrow ones.",
        "Plant boxes between the racks.",
        "Racks painted in the shop's colors.",
    ],
    BEDS.title: ["Herbs anyone may pick.", "One bed at wheelchair height."],
    BENCH.title: ["A bench along the south wall, where the sun is in the afternoon."],
    REPAINT.title: ["Let the kids choose the color."],
}
DESIGNS = {
    RACKS.title: [
        Design(
            "Six steel hoops in a row",
            "Six **galvanized hoops**, bolted to the paving, room for twelve bikes.\n\n"
            "- simple and sturdy\n- the city's own model, so the permit is quick",
            Decimal("360.00"),
            Decimal("6.00"),
            "racks",
        ),
        Design(
            "Racks with a planter at each end",
            "Four hoops between two **wooden planters** with grasses: the bikes stand in a little garden.",
            Decimal("390.00"),
            Decimal("10.00"),
            "racks_planters",
        ),
        Design(
            "One long rack for cargo bikes",
            "A low rail along the kerb where **cargo bikes** and bikes with child seats fit.",
            Decimal("280.00"),
            Decimal("5.00"),
            "racks",
        ),
    ],
    BEDS.title: [
        Design(
            "Three beds in a row",
            "Three raised beds of **untreated larch**, 60 cm high, one of them 75 cm for a wheelchair.",
            Decimal("320.00"),
            Decimal("12.00"),
            "beds",
        ),
        Design(
            "A herb spiral and two beds",
            "A **stone herb spiral** in the middle, two low beds for vegetables on either side.",
            Decimal("290.00"),
            Decimal("14.00"),
            "beds_spiral",
        ),
        Design(
            "Beds from old pallets",
            "Beds built from **pallets** the shop gives away: almost free, and quick to build.",
            Decimal("60.00"),
            Decimal("8.00"),
            "beds",
        ),
        Design(
            "A greenhouse",
            "A small greenhouse for tomatoes all year.",
            Decimal("900.00"),
            Decimal("20.00"),
            "beds",
        ),
    ],
    BENCH.title: [
        Design(
            "Oak bench along the south wall",
            "A solid **oak** bench for six, on two steel legs, oiled.",
            Decimal("250.00"),
            Decimal("9.00"),
            "bench_plan",
        ),
        Design(
            "Planter seats",
            "Four wooden planters with a seat on top.",
            Decimal("120.00"),
            Decimal("6.00"),
            "beds",
        ),
    ],
    REPAINT.title: [
        Design(
            "Sand it and paint it green",
            "Sand it down, replace the loose plank and paint it **park green**.",
            Decimal("45.00"),
            Decimal("7.00"),
            "bench_plan",
        ),
        Design(
            "Paint it and add a mosaic",
            "Paint it blue and set a small mosaic on the backrest.",
            Decimal("70.00"),
            Decimal("12.00"),
            "bench_plan",
        ),
    ],
}
COMMENTS = [
    "Love this. Would it still leave room for the prams?",
    "I can lend my drill and a spirit level for this.",
    "How would it look in winter?",
    "My kids would help paint it.",
]
REPLIES = ["Good point, I'll add the measurements.", "Yes, there is about two meters left."]
NOT_FEASIBLE = "A greenhouse needs a permit from the city that takes a year; and it is well over the budget."
# The build's tasks: (title, hours, days from now, places, volunteers, confirmed).
TASKS = {
    BENCH.title: [
        ("Fetch the oak planks from the timber yard", Decimal("3.00"), -8, 2, 2, 2),
        ("Sand and oil the planks", Decimal("2.00"), -3, 3, 3, 2),
        ("Assemble the bench", Decimal("4.00"), 3, 3, 2, 0),
        ("Plant lavender around the bench", Decimal("1.50"), 10, 4, 1, 0),
    ],
    REPAINT.title: [
        ("Sand the bench and fix the loose plank", Decimal("2.00"), -76, 2, 2, 2),
        ("Paint two coats", Decimal("1.50"), -72, 3, 3, 3),
    ],
}
SPENT = {
    BENCH.title: (Decimal("180.00"), "Oak planks from the timber yard"),
    REPAINT.title: (Decimal("42.50"), "Outdoor paint and sandpaper"),
}


@dataclass
class _Counts:
    challenges: int = 0
    ideas: int = 0
    proposals: int = 0
    comments: int = 0
    ballots: int = 0
    tasks: int = 0
    volunteers: int = 0
    confirmed: int = 0
    photos: int = 0


def seed(*, communities: list[Community], rng: random.Random, log: Callable[[str], object]) -> None:
    """The five demo challenges in the first community (see the module docstring)."""
    if not communities:
        return
    community = communities[0]
    if Challenge.objects.filter(community=community, title__in=TITLES).exists():
        log("  nothing new (the demo challenges are there)")
        return
    organizers = [u for u in organizers_of(community_id=community.pk) if u.email.endswith(DEMO_EMAIL_DOMAIN)]
    neighbors = list(
        User.objects.filter(
            memberships__community=community,
            memberships__status=Membership.Status.ACTIVE,
            email__endswith=DEMO_EMAIL_DOMAIN,
            is_staff=False,
        )
        .select_related("profile")
        .order_by("pk")
    )
    if not organizers or len(neighbors) < 8:
        log("  skipped: the first community needs a demo organizer and 8 neighbors")
        return
    demo = _Demo(community=community, organizer=organizers[0], neighbors=neighbors, rng=rng, now=timezone.now())
    demo.run()
    c = demo.counts
    log(
        f"  {c.challenges} challenges (one in each phase), {c.ideas} ideas, {c.proposals} proposals, "
        f"{c.comments} comments, {c.ballots} ballots, {c.tasks} tasks with {c.volunteers} volunteers "
        f"({c.confirmed} confirmed and paid), {c.photos} pictures"
    )


class _Demo:
    def __init__(self, *, community: Community, organizer: User, neighbors: list[User], rng: random.Random, now):
        self.community = community
        self.organizer = organizer
        self.neighbors = neighbors
        self.rng = rng
        self.now = now
        self.counts = _Counts()

    # --- time ---------------------------------------------------------------------------
    def day(self, days: float, hour: int = 0) -> datetime:
        """``days`` from now (at ``hour`` o'clock local time when given)."""
        moment = self.now + timedelta(days=days)
        if hour:
            moment = timezone.localtime(moment).replace(hour=hour, minute=self.rng.choice((0, 10, 25, 40, 55)))
        return min(moment, self.now)

    @contextmanager
    def at(self, when: datetime) -> Iterator[None]:
        """Notifications the services send inside get ``when`` as their time."""
        mark = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        yield
        Notification.objects.filter(pk__gt=mark).update(created_at=when)

    def people(self, count: int, *, besides: tuple[User, ...] = ()) -> list[User]:
        pool = [n for n in self.neighbors if n not in besides]
        return self.rng.sample(pool, min(count, len(pool)))

    # --- the story ----------------------------------------------------------------------
    def run(self) -> None:
        started = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
        self.make_room()
        for plan in PLANS:
            self.challenge(plan)
        # Older notifications have been read, and were never emailed from the demo.
        Notification.objects.filter(
            pk__gt=started, kind__startswith="codesign.", created_at__lt=self.now - READ_AFTER
        ).update(read_at=self.now, delivered_at=self.now, email=Notification.Email.SKIPPED)

    def make_room(self) -> None:
        """The organizer gives the co-design fund room to pay volunteers and budgets."""
        for currency, limit, reason in (
            (Currency.HOUR, HOUR_FUND_LIMIT, "The co-design fund pays the hours neighbors give to a build."),
            (Currency.CREDIT, CREDIT_FUND_LIMIT, "The co-design fund pays the materials of the builds."),
        ):
            account = community_account(community=self.community, currency=currency, name=FUND_NAME)
            floor = self.community.hour_limit_floor if currency == Currency.HOUR else self.community.credit_limit_floor
            account_set_limit(account=account, actor=self.organizer, limit=max(limit, floor), reason=reason)

    def challenge(self, plan: Plan) -> Challenge:
        posted = self.day(plan.posted, hour=20)
        ideas_until, proposals_until, voting_until = (self.now + timedelta(days=d) for d in plan.ends)
        with self.at(posted):
            challenge = services.challenge_create(
                community=self.community, actor=self.organizer, title=plan.title, brief=plan.brief,
                space=plan.space, constraints=plan.constraints, budget=plan.budget, method=plan.method,
                ideas_until=ideas_until, proposals_until=proposals_until, voting_until=voting_until,
                latitude=self.community.center_latitude, longitude=self.community.center_longitude, now=posted,
            )  # fmt: skip
        Follow.objects.filter(challenge=challenge).update(created_at=posted)
        self.counts.challenges += 1
        self.before_photos(challenge, plan)
        followers = self.people(6)
        for n, member in enumerate(followers):
            services.challenge_follow(challenge=challenge, member=member)
            Follow.objects.filter(challenge=challenge, member=member).update(created_at=self.day(plan.posted + 1 + n))

        order = [PH.IDEAS, PH.PROPOSALS, PH.VOTING, PH.BUILDING, PH.DONE]
        last = order.index(plan.phase)
        self.ideas(challenge, plan, until=min(ideas_until, self.now))
        if last >= 1:
            challenge = self.step(challenge, "open_proposals", ideas_until)
            proposals = self.proposals(challenge, plan, since=ideas_until, until=min(proposals_until, self.now))
            if last >= 2:
                challenge = self.step(challenge, "open_voting", proposals_until)
                self.ballots(challenge, proposals, since=proposals_until, until=min(voting_until, self.now))
            if last >= 3:
                challenge = self.step(challenge, "close_voting", voting_until)
                Project.objects.filter(challenge=challenge).update(created_at=voting_until)
                self.build(challenge, plan)
            if last >= 4:
                finished = self.day(min(t[2] for t in TASKS[plan.title]) + 10, hour=18)
                challenge = self.step(challenge, "finish", finished, note="Painted, dry and back in use.")
                self.after_photos(challenge, finished)
        return challenge

    def step(self, challenge: Challenge, step: str, when: datetime, note: str = "") -> Challenge:
        with self.at(when):
            challenge = services.challenge_step(
                challenge=challenge, actor=self.organizer, step=step, note=note, now=when
            )
        PhaseEvent.objects.filter(challenge=challenge, target=challenge.phase).update(created_at=when)
        return challenge

    def ideas(self, challenge: Challenge, plan: Plan, *, until: datetime) -> None:
        posted = challenge.created_at
        span = (until - posted).total_seconds()
        for n, text in enumerate(IDEAS[plan.title]):
            author = self.neighbors[(n * 3 + len(plan.title)) % len(self.neighbors)]
            when = posted + timedelta(seconds=span * (n + 1) / (len(IDEAS[plan.title]) + 2))
            idea = services.idea_post(challenge=challenge, author=author, text=text)
            Idea.objects.filter(pk=idea.pk).update(created_at=when)
            for fan in self.people(self.rng.randint(0, 5), besides=(author,)):
                services.idea_plus_one(idea=idea, member=fan)
            self.counts.ideas += 1

    def proposals(self, challenge: Challenge, plan: Plan, *, since: datetime, until: datetime) -> list[Proposal]:
        designs = DESIGNS.get(plan.title, [])
        open_now = plan.phase == PH.PROPOSALS
        span = (until - since).total_seconds()
        authors = self.people(len(designs))
        made = []
        for n, (design, author) in enumerate(zip(designs, authors, strict=False)):
            written = since + timedelta(seconds=span * (n + 0.5) / (len(designs) + 1))
            proposal = services.proposal_create(
                challenge=challenge, author=author, title=design.title, description=design.description,
                cost=design.cost, hours=design.hours,
            )  # fmt: skip
            Proposal.objects.filter(pk=proposal.pk).update(created_at=written, updated_at=written)
            self.proposal_photo(proposal, author, design)
            with self.at(written):
                proposal = services.proposal_submit(proposal=proposal, actor=author, now=written)
            self.counts.proposals += 1
            self.discuss(challenge, proposal, after=written, until=until)
            answered = written + (until - written) / 2
            if open_now and n:
                made.append(proposal)  # still waiting for the organizers' answer
                continue
            accept = design.title != "A greenhouse"
            proposal = services.proposal_answer(
                proposal=proposal, actor=self.organizer, accept=accept, reason="" if accept else NOT_FEASIBLE
            )
            with self.at(answered):
                proposal = services.proposal_publish_answer(proposal=proposal, actor=self.organizer, now=answered)
            made.append(proposal)
        return made

    def discuss(self, challenge: Challenge, proposal: Proposal, *, after: datetime, until: datetime) -> None:
        """A comment or two on a proposal, and the author's reply to the first."""
        first = None
        for n in range(self.rng.randint(1, 2)):
            author = self.people(1, besides=(proposal.author,))[0]
            when = after + (until - after) * (n + 1) / 4
            with self.at(when):
                comment = services.comment_post(
                    challenge=challenge, author=author, text=self.rng.choice(COMMENTS), proposal=proposal
                )
            Comment.objects.filter(pk=comment.pk).update(created_at=when)
            first = first or (comment, when)
            self.counts.comments += 1
        comment, when = first
        when = when + (until - when) / 3
        with self.at(when):
            reply = services.comment_post(
                challenge=challenge, author=proposal.author, text=self.rng.choice(REPLIES), proposal=proposal,
                parent=comment,
            )  # fmt: skip
        Comment.objects.filter(pk=reply.pk).update(created_at=when)
        self.counts.comments += 1

    def ballots(self, challenge: Challenge, proposals: list[Proposal], *, since: datetime, until: datetime) -> None:
        """Neighbors spread their dots; the favorite (the first) gets the most."""
        on_ballot = [p for p in proposals if p.status == Proposal.Status.ACCEPTED]
        voters = self.people(7)
        for n, voter in enumerate(voters):
            when = since + (until - since) * (n + 1) / (len(voters) + 1)
            left = challenge.dots
            for proposal in on_ballot if n % 2 == 0 else on_ballot[::-1]:
                favorite = proposal == on_ballot[0]
                dots = min(left, challenge.max_dots_per_proposal if favorite else self.rng.randint(0, 2))
                if dots:
                    services.vote_set(proposal=proposal, voter=voter, dots=dots, now=when)
                    left -= dots
            self.counts.ballots += 1

    def build(self, challenge: Challenge, plan: Plan) -> None:
        project = Project.objects.filter(challenge=challenge).select_related("proposal").first()
        if project is None:
            return
        for title, hours, days, places, joining, confirmed in TASKS[plan.title]:
            added = challenge.voting_until + timedelta(days=1)
            task = services.task_create(
                project=project, actor=self.organizer, title=title, hours=hours,
                when=timezone.localdate(self.now + timedelta(days=days)), places=places,
            )  # fmt: skip
            Task.objects.filter(pk=task.pk).update(created_at=added)
            self.counts.tasks += 1
            for n, member in enumerate(self.people(joining)):
                volunteer = services.task_join(task=task, member=member)
                joined = min(added + timedelta(hours=3 + 5 * n), self.now)
                Volunteer.objects.filter(pk=volunteer.pk).update(created_at=joined)
                self.counts.volunteers += 1
                if n < confirmed:
                    done = self.day(days + 1, hour=10)
                    with self.at(done):
                        services.volunteer_confirm(volunteer=volunteer, actor=self.organizer, now=done)
                    self.counts.confirmed += 1
        amount, memo = SPENT[plan.title]
        services.budget_spend(
            challenge=challenge, actor=self.organizer, amount=amount, recipient=project.proposal.author, memo=memo,
            idempotency_key=f"codesign-demo-budget-{challenge.pk}",
        )  # fmt: skip

    # --- pictures -----------------------------------------------------------------------
    def before_photos(self, challenge: Challenge, plan: Plan) -> None:
        scene = {MURAL.title: "stairwell", RACKS.title: "pavement", BEDS.title: "garden"}.get(plan.title, "bench_old")
        if plan.title == BENCH.title:
            scene = "courtyard"
        self.challenge_photo(challenge, scene, ChallengePhoto.Kind.BEFORE, f"Before: {plan.space}")
        if plan.phase in (PH.BUILDING, PH.DONE):
            self.challenge_photo(challenge, scene, ChallengePhoto.Kind.BEFORE, "Seen from the other side", mirror=True)

    def after_photos(self, challenge: Challenge, when: datetime) -> None:
        self.challenge_photo(challenge, "bench_new", ChallengePhoto.Kind.AFTER, "After: the bench in park green",
                             when=when)  # fmt: skip
        self.challenge_photo(challenge, "bench_new", ChallengePhoto.Kind.AFTER, "After: kids trying it out",
                             when=when, mirror=True)  # fmt: skip

    def challenge_photo(
        self, challenge, scene: str, kind: str, alt_text: str, *, when: datetime | None = None, mirror: bool = False
    ) -> None:
        photo = photos.challenge_photo_add(
            challenge=challenge, actor=self.organizer, upload=picture(scene, mirror=mirror), kind=kind,
            alt_text=alt_text,
        )  # fmt: skip
        ChallengePhoto.objects.filter(pk=photo.pk).update(created_at=when or challenge.created_at)
        self.counts.photos += 1

    def proposal_photo(self, proposal: Proposal, author: User, design: Design) -> None:
        photos.proposal_photo_add(
            proposal=proposal, actor=author, upload=picture(design.drawing), alt_text=f"Sketch: {design.title}"
        )
        self.counts.photos += 1
