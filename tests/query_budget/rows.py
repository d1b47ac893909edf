"""Row makers: ``make(world, n)`` adds ``n`` rows the entry's persona sees, each with its
own owner or counterparty (a new neighbour), in the persona's community.

Rows are written with the factories or the services, whichever is shortest while still
giving every column a page reads (profiles, communities, related rows) a real value.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.codesign.factories import ChallengeFactory, CommentFactory, IdeaFactory, ProposalFactory, TaskFactory
from apps.codesign.models import Challenge, Project
from apps.ledger import services as ledger
from apps.moderation.services import flag_create
from apps.notifications.services import notify
from apps.peers.factories import CommunityFactory, MembershipFactory, UserFactory
from apps.peers.services import join_request_create
from apps.reputation.factories import ReviewFactory
from apps.skills.factories import OfferFactory, RequestFactory, SeatFactory, SessionFactory, SkillCategoryFactory
from apps.skills.models import Match
from apps.solar import services as solar
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import SLOT, Meter, MeterReading, Order, Slot, StandingOrder, Trade
from apps.tools.factories import CategoryFactory, ReservationFactory, ToolFactory
from apps.tools.models import WaitlistEntry
from tests.exchanges.factories import ExchangeFactory

from .world import World


def none(world: World, n: int) -> None:
    """A page whose cost has no rows to grow with (a form, a fixed page): still pinned."""


def communities(world: World, n: int) -> None:
    for _ in range(n):
        MembershipFactory(user=world.member, community=CommunityFactory())


def members(world: World, n: int) -> None:
    for _ in range(n):
        world.neighbour()


def join_requests(world: World, n: int) -> None:
    world.community.join_policy = "approval"
    world.community.save(update_fields=["join_policy"])
    for _ in range(n):
        join_request_create(community=world.community, user=UserFactory(), message="Hello, I live at number 3.")


def reviews_of_member(world: World, n: int) -> None:
    for _ in range(n):
        provider, receiver = world.neighbour(), world.neighbour()
        ReviewFactory(exchange=ExchangeFactory(community=world.community, provider=provider, receiver=receiver),
                      subject=world.member)  # fmt: skip


def accounts(world: World, n: int) -> None:
    for _ in range(n):
        ledger.account_for(user=world.neighbour(), community=world.community, currency="HOUR")


def transfers_to_member(world: World, n: int) -> None:
    target = ledger.account_for(user=world.member, community=world.community, currency="HOUR")
    for _ in range(n):
        source = ledger.account_for(user=world.neighbour(), community=world.community, currency="HOUR")
        ledger.transfer_create(source=source, target=target, amount="0.10", idempotency_key=f"budget-{world.next()}")


def notifications(world: World, n: int) -> None:
    for _ in range(n):
        notify(recipients=[world.member], kind="ledger.received", text="A neighbour sent you credits",
               actor=world.neighbour())  # fmt: skip


def flags(world: World, n: int) -> None:
    for _ in range(n):
        flag_create(reporter=world.neighbour(), target=world.neighbour(), reason="scam", community=world.community)


# --- tools -------------------------------------------------------------------------------
def tool_categories(world: World, n: int) -> None:
    for _ in range(n):
        CategoryFactory()


def tools(world: World, n: int) -> None:
    for _ in range(n):
        ToolFactory(owner=world.neighbour(), community=world.community)


def my_tools(world: World, n: int) -> None:
    for _ in range(n):
        ToolFactory(owner=world.member, community=world.community)


def loans_of_member(world: World, n: int) -> None:
    """The member borrows a tool of a different neighbour each time."""
    for _ in range(n):
        tool = ToolFactory(owner=world.neighbour(), community=world.community)
        ReservationFactory(tool=tool, borrower=world.member, starts_at=timezone.now() + timedelta(days=world.next()))


def requests_to_member(world: World, n: int) -> None:
    """Different neighbours ask to borrow the member's tools."""
    for _ in range(n):
        tool = ToolFactory(owner=world.member, community=world.community)
        ReservationFactory(tool=tool, borrower=world.neighbour())


def waitlist_of_member(world: World, n: int) -> None:
    for _ in range(n):
        tool = ToolFactory(owner=world.neighbour(), community=world.community)
        start = timezone.now() + timedelta(days=2)
        WaitlistEntry.objects.create(tool=tool, member=world.member, starts_at=start, ends_at=start + timedelta(days=1))


def reservations_of_tool(world: World, n: int) -> None:
    """Bookings of the subject tool by different neighbours (its calendar)."""
    for _ in range(n):
        start = timezone.now() + timedelta(days=3 * world.next())
        ReservationFactory(tool=world.subject, borrower=world.neighbour(), starts_at=start)


# --- skills ------------------------------------------------------------------------------
def skill_categories(world: World, n: int) -> None:
    for _ in range(n):
        SkillCategoryFactory()


def offers(world: World, n: int) -> None:
    for _ in range(n):
        OfferFactory(member=world.neighbour(), community=world.community)


def skill_requests(world: World, n: int) -> None:
    for _ in range(n):
        RequestFactory(member=world.neighbour(), community=world.community)


def my_listings(world: World, n: int) -> None:
    for _ in range(n):
        OfferFactory(member=world.member, community=world.community)
        RequestFactory(member=world.member, community=world.community)


def matches_of_member(world: World, n: int) -> None:
    """The member's request matched by offers of different neighbours."""
    request = world.extra.get("request") or RequestFactory(member=world.member, community=world.community)
    world.extra["request"] = request
    for _ in range(n):
        offer = OfferFactory(member=world.neighbour(), community=world.community)
        Match.objects.create(request=request, offer=offer, score=Decimal("0.5"), reasons=["Near you"])


def sessions_of_member(world: World, n: int) -> None:
    """Different neighbours help the member."""
    for _ in range(n):
        session = SessionFactory(helper=world.neighbour(), community=world.community)
        SeatFactory(session=session, learner=world.member)


def seats_of_session(world: World, n: int) -> None:
    for _ in range(n):
        SeatFactory(session=world.subject, learner=world.neighbour())


# --- solar -------------------------------------------------------------------------------
def _meter(world: World, owner, kind: str = Meter.Kind.PRODUCER) -> Meter:
    return MeterFactory(owner=owner, community=world.community, kind=kind, peak_capacity_w=8000)


def _slot_start(world: World):
    return next_slot_start(timezone.now(), ahead=world.next() + 1)


def my_meters(world: World, n: int) -> None:
    for _ in range(n):
        meter = _meter(world, world.member)
        MeterReading.objects.create(meter=meter, interval_start=next_slot_start(timezone.now()) - 4 * SLOT,
                                    imported_wh=0, exported_wh=10, source="form")  # fmt: skip


def my_readings(world: World, n: int) -> None:
    meter = world.extra.get("meter") or _meter(world, world.member)
    world.extra["meter"] = meter
    for _ in range(n):
        start = next_slot_start(timezone.now()) - SLOT * (world.next() + 2)
        MeterReading.objects.create(meter=meter, interval_start=start, imported_wh=1, exported_wh=10, source="form")


def my_orders(world: World, n: int) -> None:
    meter = world.extra.get("meter") or _meter(world, world.member)
    world.extra["meter"] = meter
    for _ in range(n):
        solar.order_place(member=world.member, meter=meter, slot_start=_slot_start(world), side="sell",
                          quantity_wh=100, limit_price=Decimal("0.2"))  # fmt: skip


def my_standing_orders(world: World, n: int) -> None:
    meter = world.extra.get("meter") or _meter(world, world.member)
    world.extra["meter"] = meter
    for _ in range(n):
        StandingOrder.objects.create(member=world.member, meter=meter, side="sell", quantity_wh=100,
                                     limit_price=Decimal("0.2"), from_time="10:00", until_time="12:00")  # fmt: skip


def open_slots(world: World, n: int) -> None:
    """Upcoming quarter hours, each with a sell order of a different neighbour."""
    for _ in range(n):
        seller = world.neighbour()
        solar.order_place(member=seller, meter=_meter(world, seller), slot_start=_slot_start(world), side="sell",
                          quantity_wh=100, limit_price=Decimal("0.2"))  # fmt: skip


def book_of_slot(world: World, n: int) -> None:
    """Sell orders of different neighbours in the subject slot."""
    for _ in range(n):
        seller = world.neighbour()
        solar.order_place(member=seller, meter=_meter(world, seller), slot_start=world.subject.start, side="sell",
                          quantity_wh=100, limit_price=Decimal("0.2"))  # fmt: skip


def trades_of_member(world: World, n: int) -> None:
    """Settled trades in past quarter hours: the member sells to a different neighbour each time."""
    meter = world.extra.get("meter") or _meter(world, world.member)
    world.extra["meter"] = meter
    for _ in range(n):
        buyer = world.neighbour()
        home = _meter(world, buyer, Meter.Kind.CONSUMER)
        start = next_slot_start(timezone.now()) - SLOT * (world.next() + 2)
        slot = Slot.objects.create(community=world.community, start=start, status=Slot.Status.SETTLED,
                                   clearing_price=Decimal("0.25"), volume_wh=300, buy_orders=1, sell_orders=1,
                                   cleared_at=start - timedelta(minutes=5))  # fmt: skip
        sell = Order.objects.create(slot=slot, member=world.member, meter=meter, side="sell", quantity_wh=300,
                                    limit_price=Decimal("0.2"), status=Order.Status.FILLED, filled_wh=300)  # fmt: skip
        buy = Order.objects.create(slot=slot, member=buyer, meter=home, side="buy", quantity_wh=300,
                                   limit_price=Decimal("0.3"), status=Order.Status.FILLED, filled_wh=300)  # fmt: skip
        Trade.objects.create(slot=slot, seq=1, buy_order=buy, sell_order=sell, buyer=buyer, seller=world.member,
                             quantity_wh=300, price=Decimal("0.25"), status=Trade.Status.SETTLED, delivered_wh=300,
                             amount=Decimal("0.08"), settled_at=start + SLOT)  # fmt: skip


def tokens_of_meter(world: World, n: int) -> None:
    for _ in range(n):
        solar.device_token_create(meter=world.subject, actor=world.member, label="Pi")
        world.subject.device_tokens.update(revoked_at=timezone.now())  # at most 5 live tokens per meter


# --- co-design ---------------------------------------------------------------------------
def challenges(world: World, n: int) -> None:
    for _ in range(n):
        ChallengeFactory(community=world.community)


def proposals_of_challenge(world: World, n: int) -> None:
    for _ in range(n):
        ProposalFactory(challenge=world.subject)


def ideas_of_challenge(world: World, n: int) -> None:
    for _ in range(n):
        IdeaFactory(challenge=world.subject)


def comments_of_challenge(world: World, n: int) -> None:
    for _ in range(n):
        CommentFactory(challenge=world.subject, proposal=None)


def comments_of_proposal(world: World, n: int) -> None:
    for _ in range(n):
        CommentFactory(challenge=world.subject.challenge, proposal=world.subject)


def tasks_of_project(world: World, n: int) -> None:
    for _ in range(n):
        TaskFactory(project=Project.objects.get(challenge=world.subject))


def challenge(world: World, phase: str = Challenge.Phase.IDEAS) -> Challenge:
    return ChallengeFactory(community=world.community, phase=phase)
