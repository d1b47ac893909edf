"""A member with rows in every app, and a neighbor whose private details must never
leak into that member's data download (used by the tests of "Download my data")."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from apps.codesign.factories import ChallengeFactory, CommentFactory, IdeaFactory, ProposalFactory
from apps.codesign.models import Ballot, BallotEntry, Challenge, Follow, PlusOne, ProposalPhoto
from apps.front.models import Suggestion
from apps.ledger.models import Currency
from apps.ledger.services import account_for, transfer_create
from apps.moderation.models import Flag, Reason
from apps.notifications.models import Notification, Preference
from apps.peers.factories import MembershipFactory
from apps.reputation.factories import ReviewFactory, TrustScoreFactory
from apps.skills.factories import OfferFactory, RequestFactory, SeatFactory, SessionFactory
from apps.skills.models import AvailabilityWindow
from apps.solar.factories import MeterFactory
from apps.solar.models import MeterReading, Order, Slot, Trade
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import ConditionReport, Reservation, ReservationEvent, ToolPhoto, WaitlistEntry

OTHER_EMAIL = "otto.secret@example.net"
OTHER_ADDRESS = "99 Hidden Lane, Flat 7"
OTHER_PHONE = "+31 6 98765432"


def jpeg(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, "JPEG")
    return out.getvalue()


@dataclass
class World:
    me: Any
    other: Any
    community: Any
    expected: dict[str, set] = field(default_factory=dict)
    other_ballot: Any = None
    other_ballot_entry: Any = None


def build_world(community) -> World:
    now = timezone.now()
    me = MembershipFactory(
        community=community,
        user__email="mia@example.org",
        user__profile__display_name="Mia Member",
        user__profile__exact_address="1 My Street",
        user__profile__phone="+31 6 11112222",
    ).user
    other = MembershipFactory(
        community=community,
        user__email=OTHER_EMAIL,
        user__profile__display_name="Otto Other",
        user__profile__exact_address=OTHER_ADDRESS,
        user__profile__phone=OTHER_PHONE,
    ).user
    me.profile.avatar.save("me.jpg", ContentFile(jpeg("blue")), save=True)
    other.profile.avatar.save("other.jpg", ContentFile(jpeg("green")), save=True)
    w = World(me=me, other=other, community=community)
    ex = w.expected

    # tools: my tool with a photo, loans both ways, an event, a condition report, a waitlist place
    my_tool = ToolFactory(owner=me, community=community)
    their_tool = ToolFactory(owner=other, community=community)
    photo = ToolPhoto(tool=my_tool, alt_text="The drill")
    photo.image.save("p.jpg", ContentFile(jpeg()), save=False)
    photo.thumbnail.save("t.jpg", ContentFile(jpeg()), save=False)
    photo.width = photo.height = 8
    photo.save()
    lent = ReservationFactory(
        tool=my_tool,
        borrower=other,
        status=Reservation.Status.RETURNED,
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=2),
        blocked_until=now - timedelta(days=2),
        returned_at=now - timedelta(days=2),
    )
    borrowed = ReservationFactory(tool=their_tool, borrower=me, message="Can I pick it up at 9?")
    event = ReservationEvent.objects.create(reservation=borrowed, actor=me, from_status="", to_status="requested")
    report = ConditionReport(reservation=lent, stage="return", author=me, condition="good", note="Fine")
    report.photo.save("r.jpg", ContentFile(jpeg("yellow")), save=False)
    report.save()
    wait = WaitlistEntry.objects.create(
        tool=their_tool, member=me, starts_at=now + timedelta(days=5), ends_at=now + timedelta(days=6)
    )
    ex.update(
        tools={my_tool.pk},
        tool_photos={photo.pk},
        loans_lent={lent.pk},
        loans_borrowed={borrowed.pk},
        loan_events={event.pk},
        loan_condition_reports={report.pk},
        loan_condition_photos={report.pk},
        tool_waitlist={wait.pk},
    )

    # reputation: a review written and one received, about the returned loan
    written = ReviewFactory(exchange=lent, author=me)
    received = ReviewFactory(exchange=lent, author=other, comment="Mia lent me a great drill")
    TrustScoreFactory(user=me)
    ex.update(reviews_written={written.pk}, reviews_received={received.pk})

    # skills: an offer, a request, a session I give (other learns), a seat at theirs
    offer = OfferFactory(member=me, community=community)
    window = AvailabilityWindow.objects.create(offer=offer, weekday=2, start="18:00", end="20:00")
    request = RequestFactory(member=me, community=community)
    my_session = SessionFactory(helper=me, community=community, offer=offer)
    their_seat = SeatFactory(session=my_session, learner=other)
    their_session = SessionFactory(helper=other, community=community, title="Bread baking")
    my_seat = SeatFactory(session=their_session, learner=me)
    ex.update(
        skill_offers={offer.pk},
        skill_offer_availability={window.pk},
        skill_requests={request.pk},
        skill_sessions={my_session.pk, their_session.pk},
        skill_session_seats={their_seat.pk, my_seat.pk},
    )

    # ledger: hours both ways and a transfer I am not part of
    third = MembershipFactory(community=community).user
    my_hours = account_for(user=me, community=community, currency=Currency.HOUR)
    their_hours = account_for(user=other, community=community, currency=Currency.HOUR)
    third_hours = account_for(user=third, community=community, currency=Currency.HOUR)
    transfer_create(source=my_hours, target=their_hours, amount="2.00", idempotency_key="p-t1", memo="Bike repair")
    transfer_create(source=their_hours, target=third_hours, amount="1.00", idempotency_key="p-t2")
    transfer_create(source=their_hours, target=my_hours, amount="0.50", idempotency_key="p-t3", memo="Thanks")

    # solar: a meter with readings, a buy order, a settled trade (paid through the ledger)
    meter = MeterFactory(owner=me, community=community)
    their_meter = MeterFactory(owner=other, community=community)
    start = (now - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    readings = {
        MeterReading.objects.create(
            meter=meter, interval_start=start + timedelta(minutes=15 * i), imported_wh=500, exported_wh=0, source="form"
        ).pk
        for i in range(2)
    }
    slot = Slot.objects.create(
        community=community, start=start, status=Slot.Status.SETTLED, clearing_price=Decimal("0.2000")
    )
    buy = Order.objects.create(
        slot=slot, member=me, meter=meter, side="buy", quantity_wh=500, limit_price=Decimal("0.25"), status="filled",
        filled_wh=500,
    )  # fmt: skip
    sell = Order.objects.create(
        slot=slot, member=other, meter=their_meter, side="sell", quantity_wh=500, limit_price=Decimal("0.15"),
        status="filled", filled_wh=500,
    )  # fmt: skip
    trade = Trade.objects.create(
        slot=slot, seq=1, buy_order=buy, sell_order=sell, buyer=me, seller=other, quantity_wh=500,
        price=Decimal("0.2000"), status=Trade.Status.SETTLED, delivered_wh=500, amount=Decimal("0.10"),
        settled_at=now,
    )  # fmt: skip
    paid = transfer_create(
        source=account_for(user=me, community=community, currency=Currency.CREDIT),
        target=account_for(user=other, community=community, currency=Currency.CREDIT),
        amount="0.10",
        idempotency_key=f"solar-trade-{trade.pk}",
        kind="exchange",
        related=trade,
    )
    Trade.objects.filter(pk=trade.pk).update(transfer=paid)
    ex.update(solar_meters={meter.pk}, solar_readings=readings, solar_orders={buy.pk}, solar_purchases={trade.pk})

    # codesign: an idea, a proposal with a picture, a comment, my ballot; and their ballot
    challenge = ChallengeFactory(community=community, phase=Challenge.Phase.VOTING)
    idea = IdeaFactory(challenge=challenge, author=me)
    their_idea = IdeaFactory(challenge=challenge, author=other)
    plus = PlusOne.objects.create(idea=their_idea, member=me)
    follow = Follow.objects.create(challenge=challenge, member=me)
    proposal = ProposalFactory(challenge=challenge, author=me)
    picture = ProposalPhoto(proposal=proposal, alt_text="Sketch")
    picture.image.save("s.jpg", ContentFile(jpeg("white")), save=False)
    picture.save()
    their_proposal = ProposalFactory(challenge=challenge, author=other)
    comment = CommentFactory(challenge=challenge, proposal=their_proposal, author=me)
    ballot = Ballot.objects.create(challenge=challenge, voter=me)
    entry = BallotEntry.objects.create(ballot=ballot, proposal=their_proposal, dots=2)
    w.other_ballot = Ballot.objects.create(challenge=challenge, voter=other)
    w.other_ballot_entry = BallotEntry.objects.create(ballot=w.other_ballot, proposal=proposal, dots=3)
    ex.update(
        design_ideas={idea.pk},
        design_plus_ones={plus.pk},
        design_follows={follow.pk},
        design_proposals={proposal.pk},
        design_proposal_photos={picture.pk},
        design_comments={comment.pk},
        design_ballots={ballot.pk},
        design_ballot_entries={entry.pk},
    )

    # neighbouring communities on other servers: appearing there, a loan from one
    from apps.federation.models import FederatedMember
    from tests.federation.test_pages import exchange, local_actor, neighbour_listing

    opt_in = FederatedMember.objects.create(user=me)
    local = local_actor(community)
    remote_loan = exchange(local, me, neighbour_listing(local))
    ex.update(federation_opt_in={opt_in.pk}, federation_exchanges={remote_loan.pk})

    # notifications, moderation, suggestions
    note = Notification.objects.create(recipient=me, kind="tools.requested", text="Otto Other asked to borrow")
    Notification.objects.create(recipient=other, kind="tools.requested", text=f"Private to Otto {OTHER_EMAIL}")
    pref = Preference.objects.create(user=me, kind="tools.requested", delivery="digest")
    flag = Flag.objects.create(
        reporter=me, community=community, content_type=ContentType.objects.get_for_model(their_idea),
        object_id=their_idea.pk, target_author=other, target_label="an idea", reason=Reason.SPAM,
    )  # fmt: skip
    suggestion = Suggestion.objects.create(
        user=me, pair="skill_request_tools", title="A drill", reason="Otto lends one", url="/tools/1/",
        source_key=f"skills.request:{request.pk}", target_key=f"tools.tool:{their_tool.pk}",
    )  # fmt: skip
    ex.update(
        notifications={note.pk},
        notification_preferences={pref.pk},
        reports_made={flag.pk},
        suggestions={suggestion.pk},
        memberships={me.memberships.get().pk},
        profile={me.profile.pk},
        account={me.pk},
    )
    return w


@pytest.fixture
def world(community, settings, tmp_path) -> World:
    settings.EXPORT_ROOT = tmp_path / "exports"
    return build_world(community)
