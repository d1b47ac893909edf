"""The neighbourhood every cell of the permission matrix is visited in: built once per
module (it is large), then each visit runs in a savepoint rolled back after it.

Two communities, ``sunnyside`` (A, where every subject lives) and ``riverside`` (B, the
same kinds of rows, so a list that leaks another community's rows shows it). The
personas, in the order of every rule string in rules.py:

anonymous, stranger (an account, no membership), outsider (member of B only), suspended
(a suspended member of A), owner and counterpart (the two parties of each subject in A:
lender and borrower, helper and learner, seller and buyer, proposer and volunteer...),
member (a bystander member of A), other_organizer (organizer of B), organizer (of A),
superuser (a site superuser, member of nothing).

Every account carries private data that must never reach anyone else: an email, a phone
and an exact address with its id in them (``secret-email-<pk>@private.invalid``...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time as dt_time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.utils import timezone

from apps.codesign import services as codesign
from apps.codesign.models import Challenge, Project, Proposal
from apps.ledger import services as ledger
from apps.moderation.services import flag_create, member_warn
from apps.notifications.services import notify
from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.models import Community, Membership, User
from apps.peers.services import join_request_create
from apps.privacy.export import export_request
from apps.reputation.factories import ReviewFactory
from apps.skills.factories import OfferFactory, RequestFactory, SeatFactory, SessionFactory, SkillFactory
from apps.skills.models import Match
from apps.solar import services as solar
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import SLOT, MeterReading, Slot, TradingSuspension
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import Reservation, WaitlistEntry
from tests.exchanges.factories import ExchangeFactory
from tests.tools.images import png_upload

PERSONAS = (
    "anonymous",
    "stranger",
    "outsider",
    "suspended",
    "owner",
    "counterpart",
    "member",
    "other_organizer",
    "organizer",
    "superuser",
)


def secret_email(pk: int) -> str:
    return f"secret-email-{pk}@private.invalid"


def secret_phone(pk: int) -> str:
    return f"+31 6 7{pk:07d}"


def secret_address(pk: int) -> str:
    return f"Verborgenstraat {pk} huis 9{pk}"


def secrets_of(user: User) -> tuple[str, str, str]:
    """What of ``user`` nobody else may read: the strings a response body is scanned for."""
    return secret_email(user.pk), secret_phone(user.pk), secret_address(user.pk)


def _privatize(user: User) -> User:
    """Give the account its distinctive private data, now that it has an id."""
    email = secret_email(user.pk)
    User.objects.filter(pk=user.pk).update(email=email)
    EmailAddress.objects.filter(user=user).update(email=email)
    user.email = email
    user.profile.phone = secret_phone(user.pk)
    user.profile.exact_address = secret_address(user.pk)
    user.profile.save(update_fields=["phone", "exact_address"])
    return user


@dataclass
class Side:
    """The rows of one community, by kind: ``subjects`` name the object a cell acts on."""

    community: Community
    subjects: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    people: dict[str, User | None]
    a: Side
    b: Side
    users: list[User]

    def subject(self, key: str) -> Any:
        return self.a.subjects[key]


def build() -> World:
    """Both communities with their people and rows; returns the world."""
    a = CommunityFactory(slug="sunnyside", name="Sunnyside Commons", join_policy="approval")
    b = CommunityFactory(slug="riverside", name="Riverside Neighbors")

    def member(community: Community, name: str, **extra) -> User:
        return MembershipFactory(community=community, user__profile__display_name=name, **extra).user

    people: dict[str, User | None] = {
        "anonymous": None,
        "stranger": UserFactory(profile__display_name="Sam Stranger"),
        "outsider": member(b, "Rita Riverside"),
        "suspended": member(a, "Sue Suspended", status=Membership.Status.SUSPENDED, status_reason="Spam."),
        "owner": member(a, "Olive Owner"),
        "counterpart": member(a, "Carl Counterpart"),
        "member": member(a, "Max Member"),
        "other_organizer": OrganizerMembershipFactory(community=b, user__profile__display_name="Otto Other").user,
        "organizer": OrganizerMembershipFactory(community=a, user__profile__display_name="Orla Organizer").user,
        "superuser": UserFactory(is_staff=True, is_superuser=True, profile__display_name="Sid Super"),
    }
    bob = member(b, "Bob Borrower")
    applicant = UserFactory(profile__display_name="Anna Applicant")
    side_a = _populate(a, owner=people["owner"], counterpart=people["counterpart"], organizer=people["organizer"])
    side_b = _populate(b, owner=people["outsider"], counterpart=bob, organizer=people["other_organizer"])
    side_a.subjects["join_request"] = join_request_create(community=a, user=applicant, message="I live at 3.")
    side_a.subjects["export"] = export_request(user=people["owner"])
    side_a.subjects.update(_federation(a, borrower=people["counterpart"]))
    users = [*(u for u in people.values() if u is not None), bob, applicant]
    users += list(User.objects.exclude(pk__in=[u.pk for u in users]))
    for user in users:
        _privatize(user)
    return World(people=people, a=side_a, b=side_b, users=users)


def _populate(community: Community, *, owner: User, counterpart: User, organizer: User) -> Side:
    """One community's rows: the owner lends, helps, sells and proposes; the counterpart
    borrows, learns, buys and volunteers."""
    side = Side(community=community)
    s = side.subjects
    s["community"] = community
    s["membership"] = Membership.objects.get(user=counterpart, community=community)
    now = timezone.now()
    # --- tools: a tool with a photo, loans in three states, a waitlist entry offered a slot.
    tool = ToolFactory(owner=owner, community=community)
    from apps.tools import services as tools

    s["photo"] = tools.photo_add(tool=tool, actor=owner, upload=png_upload(size=(64, 48)))
    s["tool"] = tool
    for day, status in enumerate(("requested", "approved", "picked_up")):
        start = now + timedelta(days=3 + 2 * day) if status != "picked_up" else now - timedelta(hours=2)
        s[f"loan_{status}"] = ReservationFactory(
            tool=tool, borrower=counterpart, status=status, starts_at=start, ends_at=start + timedelta(days=1)
        )
    start = s["loan_approved"].starts_at
    s["waitlist"] = WaitlistEntry.objects.create(
        tool=tool, member=counterpart, starts_at=start, ends_at=start + timedelta(hours=5)
    )
    # --- skills: an offer of the owner's, a request of the counterpart's, their match, a
    # one-to-one session the owner helps the counterpart in, a group session with room.
    skill = SkillFactory(slug=f"repair-{community.slug}")
    s["offer"] = OfferFactory(member=owner, community=community, skills=[skill])
    s["request"] = RequestFactory(member=counterpart, community=community, skills=[skill])
    s["match"] = Match.objects.create(request=s["request"], offer=s["offer"], score="0.8", parts={}, reasons=["x"])
    s["session"] = SessionFactory(helper=owner, community=community)
    s["seat"] = SeatFactory(session=s["session"], learner=counterpart)
    s["group"] = SessionFactory(helper=owner, community=community, capacity=5)
    # --- solar: meters, a device token, a cleared slot with a trade, an open order, a
    # standing order, a reading.
    panels = MeterFactory(owner=owner, community=community, kind="both", peak_capacity_w=4000)
    home = MeterFactory(owner=counterpart, community=community, kind="consumer", peak_capacity_w=8000)
    s["meter"], s["home_meter"] = panels, home
    s["token"] = solar.device_token_create(meter=panels, actor=owner, label="Pi")[0]
    s["reading"] = MeterReading.objects.create(
        meter=panels, interval_start=next_slot_start(now) - 4 * SLOT, imported_wh=0, exported_wh=10, source="form"
    )
    cleared = next_slot_start(now)
    solar.order_place(member=owner, meter=panels, slot_start=cleared, side="sell", quantity_wh=300, limit_price="0.2")
    solar.order_place(member=counterpart, meter=home, slot_start=cleared, side="buy", quantity_wh=200,
                      limit_price="0.3")  # fmt: skip
    slot = Slot.objects.get(community=community, start=cleared)
    solar.slot_clear(slot_id=slot.pk, now=cleared - timedelta(minutes=4))
    s["cleared_slot"] = slot
    s["trade"] = slot.trades.get()
    s["order"] = solar.order_place(member=owner, meter=panels, slot_start=next_slot_start(now, ahead=4), side="sell",
                                   quantity_wh=100, limit_price="0.25")  # fmt: skip
    s["slot"] = s["order"].slot
    s["standing"] = solar.standing_create(member=owner, meter=panels, side="sell", quantity_wh=100,
                                          limit_price="0.2", from_time=dt_time(10), until_time=dt_time(16))  # fmt: skip
    # --- ledger: accounts with a transfer from the owner to the counterpart.
    source = ledger.account_for(user=owner, community=community, currency="HOUR")
    target = ledger.account_for(user=counterpart, community=community, currency="HOUR")
    ledger.account_set_limit(account=source, actor=organizer, limit="-20", reason="Room to lend.")
    s["account"] = source
    s["transfer"] = ledger.transfer_create(source=source, target=target, amount="1.00",
                                           idempotency_key=f"perm-{community.slug}", memo="Thanks")  # fmt: skip
    # --- core: a notification to the owner, a report by the counterpart, a review.
    s["notification"] = notify(recipients=[owner], kind="ledger.received", text="A neighbour sent you credits",
                               actor=counterpart)[0]  # fmt: skip
    s["flag"] = flag_create(reporter=counterpart, target=tool, reason="scam")
    s["review"] = ReviewFactory(
        exchange=ExchangeFactory(community=community, provider=owner, receiver=counterpart),
        author=counterpart,
        subject=owner,
    )
    _codesign(side, owner=owner, counterpart=counterpart, organizer=organizer)
    # --- rows only the admin shows: a warning, a local skill, a trading suspension.
    s["warning"] = member_warn(membership=s["membership"], actor=organizer, reason="Be kind.")
    s["local_skill"] = SkillFactory(slug=f"local-{community.slug}", community=community)
    s["suspension"] = TradingSuspension.objects.create(community=community, member=counterpart, reason="Test.",
                                                       created_by=organizer)  # fmt: skip
    return side


def _codesign(side: Side, *, owner: User, counterpart: User, organizer: User) -> None:
    """A challenge in each phase, walked there through the services (the phase dates must
    stay in order): ideas (an idea of the counterpart's), proposals (a draft and a
    submitted proposal of the owner's, a comment), voting (an accepted proposal), building
    (a task the counterpart volunteered for)."""
    s, community = side.subjects, side.community
    now = timezone.now()

    def challenge(title: str, *steps: str) -> Challenge:
        made = codesign.challenge_create(
            community=community, actor=organizer, title=title, brief="A **bench**.", space="The yard",
            ideas_until=now + timedelta(days=3), proposals_until=now + timedelta(days=6),
            voting_until=now + timedelta(days=9), budget=Decimal("300"),
        )  # fmt: skip
        for step in steps:
            made = codesign.challenge_step(challenge=made, actor=organizer, step=step)
        return made

    def proposal(on: Challenge, *, submit: bool = True, accept: bool = False) -> Proposal:
        made = codesign.proposal_create(challenge=on, author=owner, title="Bench", description="Oak.",
                                        cost=Decimal("100"), submit=submit)  # fmt: skip
        if accept:
            codesign.proposal_answer(proposal=made, actor=organizer, accept=True, publish=True)
        return made

    s["challenge"] = challenge("Ideas for the yard")
    s["idea"] = codesign.idea_post(challenge=s["challenge"], author=counterpart, text="A swing.")
    s["proposals_challenge"] = challenge("A bench", "open_proposals")
    s["draft"] = proposal(s["proposals_challenge"], submit=False)
    s["proposal"] = proposal(s["proposals_challenge"])
    s["comment"] = codesign.comment_post(challenge=s["proposals_challenge"], author=counterpart, text="Nice.",
                                         proposal=s["proposal"])  # fmt: skip
    voting = challenge("A table", "open_proposals")
    s["ballot_proposal"] = proposal(voting, accept=True)
    s["voting_challenge"] = codesign.challenge_step(challenge=voting, actor=organizer, step="open_voting")
    building = challenge("A planter", "open_proposals")
    winner = proposal(building, accept=True)
    building = codesign.challenge_step(challenge=building, actor=organizer, step="open_voting")
    codesign.vote_set(proposal=winner, voter=counterpart, dots=1)
    building = codesign.challenge_step(challenge=building, actor=organizer, step="close_voting")
    s["building_challenge"] = building
    project = Project.objects.get(proposal=winner)
    s["project"] = project
    s["task"] = codesign.task_create(project=project, actor=organizer, title="Dig", hours=Decimal("1"), places=3)
    s["volunteer"] = codesign.task_join(task=s["task"], member=counterpart)
    fund = codesign.fund(challenge=building, currency="HOUR")
    ledger.account_set_limit(account=fund, actor=organizer, limit="-40", reason="The fund pays volunteers.")


def loans(world: World) -> list[Reservation]:
    return [world.subject(f"loan_{status}") for status in ("requested", "approved", "picked_up")]


def _federation(community: Community, *, borrower: User) -> dict[str, Any]:
    """Community A opened to neighbours on other servers: it follows Harbour Street (whose
    tool listing it received), Harbour Street asks to follow it, the counterpart asked to
    borrow Harbour's ladder; an activity received and one waiting to be sent."""
    from apps.federation import activities
    from apps.federation.keys import generate_rsa_keypair
    from apps.federation.models import (
        Delivery,
        Follow,
        InboxItem,
        LocalActor,
        RemoteActor,
        RemoteExchange,
        RemoteListing,
    )

    private_pem, public_pem = generate_rsa_keypair()
    now = timezone.now()
    local = LocalActor.objects.create(
        community=community, enabled=True, uri=activities.actor_uri_for(community.slug),
        private_key_pem=private_pem, public_key_pem=public_pem, enabled_at=now,
    )  # fmt: skip
    home = "https://harbour.example/federation/c/harbour"
    harbour = RemoteActor.objects.create(
        uri=home, kind=RemoteActor.Kind.GROUP, handle="harbour@harbour.example", name="Harbour Street",
        inbox=f"{home}/inbox", key_id=f"{home}#main-key", fetched_at=now,
    )  # fmt: skip
    out = Follow.objects.create(local=local, remote=harbour, direction="out", state="accepted",
                                activity_uri=f"{local.uri}/follows/1", decided_at=now)  # fmt: skip
    asks = Follow.objects.create(local=local, remote=harbour, direction="in", state="pending",
                                 activity_uri=f"{home}/follows/9")  # fmt: skip
    ladder = RemoteListing.objects.create(
        uri=f"{home}/listings/tool/3", origin=harbour, kind="tool", name="Long ladder", summary="Seven metres.",
        category="Ladders", url="https://harbour.example/tools/3/", fee_amount=Decimal("2.00"), fee_unit="CREDIT",
        published_at=now, updated_at=now,
    )  # fmt: skip
    lender = RemoteActor.objects.create(uri=f"{home}/x/1#lender", kind=RemoteActor.Kind.PERSON,
                                        name="A neighbour of Harbour Street", home=harbour)  # fmt: skip
    start = now + timedelta(days=4)
    exchange = RemoteExchange.objects.create(
        uri=f"{local.uri}/agreements/1", side=RemoteExchange.Side.BORROWER, local=local, peer=harbour,
        listing=ladder, listing_uri=ladder.uri, member=borrower, remote_person=lender, starts_at=start,
        ends_at=start + timedelta(days=1), fee_total=Decimal("2.00"), currency="CREDIT", status="offered",
    )  # fmt: skip
    received = InboxItem.objects.create(activity_uri=f"{home}/activities/7", local=local, actor_uri=home,
                                        kind="Follow", payload={"type": "Follow"}, state="done")  # fmt: skip
    waiting = Delivery.objects.create(activity_uri=f"{local.uri}/activities/1", local=local, inbox=f"{home}/inbox",
                                      kind="Follow", payload={"type": "Follow"})  # fmt: skip
    return {
        "local_actor": local,
        "remote_group": harbour,
        "follow_out": out,
        "follow_in": asks,
        "remote_listing": ladder,
        "remote_exchange": exchange,
        "inbox_item": received,
        "delivery": waiting,
    }
