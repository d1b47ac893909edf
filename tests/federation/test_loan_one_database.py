"""The federation between two communities of one server, through the real protocol views:
follow, listings announced, the whole cross-community loan with its fee across the
clearing accounts, reviews on both sides, and what never leaves a community."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.federation import services
from apps.federation.models import (
    Delivery,
    FederatedMember,
    Follow,
    InboxItem,
    RemoteActor,
    RemoteExchange,
    RemoteListing,
)
from apps.ledger.models import Account
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory
from apps.peers.selectors import active_members_in, neighbor_profiles
from apps.reputation.models import Review
from apps.reputation.services import review_create
from apps.tools.factories import ToolFactory
from apps.tools.models import Reservation
from apps.tools.services import reservation_approve, reservation_return, tool_update
from tests.federation.helpers import committed, pump

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def world(community, other_community, owner, organizer, client):
    """A: Sunnyside (lends a drill with a fee); B: Riverside (its member borrows). B follows A."""
    b_organizer = OrganizerMembershipFactory(
        community=other_community, user__email="rio@example.org", user__profile__display_name="Rio Organizer"
    ).user
    borrower = MembershipFactory(
        community=other_community,
        user__email="bella.secret@example.org",
        user__profile__display_name="Bella Hidden-Name",
    ).user
    tool = ToolFactory(owner=owner, community=community, title="Orbital sander", fee_per_day=Decimal("2.00"))
    a = services.federation_enable(community=community, actor=organizer)
    b = services.federation_enable(community=other_community, actor=b_organizer)
    follow = committed(services.follow_request, community=other_community, handle=a.uri, actor=b_organizer)
    pump(client)
    incoming = Follow.objects.get(local=a, direction="in")
    committed(services.follow_decide, follow=incoming, actor=organizer, accept=True)
    pump(client)
    follow.refresh_from_db()
    return {
        "a": a,
        "b": b,
        "tool": tool,
        "borrower": borrower,
        "b_organizer": b_organizer,
        "follow": follow,
    }


def _listing(world) -> RemoteListing:
    return RemoteListing.objects.get(origin__uri=world["a"].uri, deleted_at__isnull=True)


def test_a_follow_accepted_by_the_organizers_brings_the_public_listings(world, organizer):
    assert Notification.objects.filter(recipient=organizer, kind="federation.follow").exists()
    assert world["follow"].state == Follow.State.ACCEPTED
    listing = _listing(world)
    assert listing.name == "Orbital sander"
    assert listing.fee_amount == Decimal("2.00")
    assert listing.kind == "tool"


def test_a_paused_listing_is_withdrawn_from_the_followers(world, owner, client):
    committed(tool_update, tool=world["tool"], actor=owner, status="paused")
    pump(client)
    assert not RemoteListing.objects.filter(origin__uri=world["a"].uri, deleted_at__isnull=True).exists()


def _borrow(world, client, *, approve: bool = True) -> tuple[RemoteExchange, Reservation]:
    starts = timezone.now() + timedelta(hours=1)
    exchange = committed(
        services.remote_borrow_request,
        listing=_listing(world),
        borrower=world["borrower"],
        starts_at=starts,
        ends_at=starts + timedelta(days=1),
        message="For the deck, please",
    )
    pump(client)
    reservation = Reservation.objects.get(tool=world["tool"])
    if approve:
        reservation_approve(reservation=reservation, actor=world["tool"].owner)
        pump(client)
    exchange.refresh_from_db()
    return exchange, reservation


def test_a_remote_request_is_a_real_reservation_for_a_stand_in_without_membership(world, client):
    exchange, reservation = _borrow(world, client, approve=False)
    stand_in = reservation.borrower
    assert stand_in.remote_actor.kind == RemoteActor.Kind.PERSON
    assert not stand_in.is_active and not stand_in.has_usable_password()
    assert not stand_in.memberships.exists()
    assert reservation.status == Reservation.Status.REQUESTED
    # Never listed among neighbours or members, never told anything (no mail, no digest).
    reservation_approve(reservation=reservation, actor=world["tool"].owner)
    owner = world["tool"].owner
    assert stand_in.pk not in {p.user_id for p in neighbor_profiles(viewer=owner)}
    assert stand_in not in active_members_in(community_ids=[world["tool"].community_id])
    assert not Notification.objects.filter(recipient=stand_in).exists()
    assert reservation.fee_total == Decimal("2.00")
    assert exchange.status == RemoteExchange.Status.OFFERED


def test_the_whole_loan_pays_the_fee_across_clearing_accounts_and_reviews_land_on_both_sides(
    world, client, owner, community, other_community, organizer
):
    a, b = world["a"], world["b"]
    services.clearing_limit_set(
        community=community,
        peer=RemoteActor.objects.get(uri=b.uri),
        currency="CREDIT",
        limit=Decimal("-50"),
        actor=organizer,
    )
    exchange, reservation = _borrow(world, client)
    assert exchange.status == RemoteExchange.Status.ACCEPTED
    assert exchange.fee_total == Decimal("2.00")
    told = Notification.objects.get(recipient=world["borrower"], kind="federation.exchange")
    assert "Sunnyside Commons accepted your request for Orbital sander" in str(told.text)

    services.remote_exchange_pickup(exchange=exchange, actor=world["borrower"])
    pump(client)
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.PICKED_UP
    clearing_at_a = Account.objects.get(community=community, peer=b.uri, currency="CREDIT")
    clearing_at_b = Account.objects.get(community=other_community, peer=a.uri, currency="CREDIT")
    assert clearing_at_a.balance == Decimal("-2.00")
    assert clearing_at_b.balance == Decimal("2.00")
    lender_side = RemoteExchange.objects.get(uri=exchange.uri, side="lender")
    assert lender_side.payment_state == "settled"

    reservation_return(reservation=reservation, actor=owner)
    pump(client)
    exchange.refresh_from_db()
    assert exchange.status == RemoteExchange.Status.RETURNED and exchange.completed_at

    # The borrower's review form at home names the lender as the exchange did: a neighbour.
    from django.test import Client
    from django.urls import reverse

    browser = Client()
    browser.force_login(world["borrower"])
    form = browser.get(reverse("reputation:review-create", args=["federation.remoteexchange", exchange.pk]))
    assert form.status_code == 200
    assert "A neighbour of Sunnyside Commons" in form.content.decode()
    assert "Olive Owner" not in form.content.decode()

    review_create(author=owner, exchange=reservation, rating=5, comment="Careful borrower")
    review_create(author=world["borrower"], exchange=exchange, rating=4, comment="Great sander")
    pump(client)
    # B: the borrower's reputation shows the owner's review, revealed (both wrote theirs).
    about_borrower = Review.objects.get(subject=world["borrower"])
    assert about_borrower.comment == "Careful borrower" and about_borrower.revealed_at is not None
    # A: the owner's reputation shows the borrower's review.
    about_owner = Review.objects.get(subject=owner)
    assert about_owner.comment == "Great sander" and about_owner.revealed_at is not None
    # Every activity of the exchange speaks the vocabulary of the vendored contexts.
    from apps.federation.jsonld import unknown_terms

    for delivery in Delivery.objects.all():
        assert unknown_terms(delivery.payload) == [], delivery.kind


def test_a_pickup_beyond_the_neighbours_limit_is_refused_and_the_fee_comes_back(world, client, other_community):
    exchange, reservation = _borrow(world, client)
    services.remote_exchange_pickup(exchange=exchange, actor=world["borrower"])
    pump(client)
    exchange.refresh_from_db()
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.APPROVED
    assert exchange.status == RemoteExchange.Status.ACCEPTED and exchange.payment_state == "reversed"
    clearing_at_b = Account.objects.get(community=other_community, peer=world["a"].uri, currency="CREDIT")
    assert clearing_at_b.balance == Decimal("0.00")


def test_a_member_who_did_not_opt_in_never_appears_in_any_outgoing_payload(world, client, owner):
    exchange, reservation = _borrow(world, client)
    services.remote_exchange_cancel(exchange=exchange, actor=world["borrower"])
    pump(client)
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.CANCELLED
    payloads = json.dumps([d.payload for d in Delivery.objects.all()])
    for secret in ("Bella Hidden-Name", "bella.secret@example.org", "Olive Owner", "owner@example.org"):
        assert secret not in payloads
    assert "A neighbour of Riverside Neighbors" in payloads


def test_an_opted_in_member_appears_with_their_public_name_only(world, client):
    services.member_opt_in(user=world["borrower"], opt_in=True)
    _borrow(world, client, approve=False)
    offer = Delivery.objects.get(kind="Offer").payload
    assert offer["object"]["p2p:borrower"]["name"] == "Bella Hidden-Name"
    assert "bella.secret@example.org" not in json.dumps(offer)
    response = client.get(
        offer["object"]["p2p:borrower"]["id"].replace("http://127.0.0.1:8000", ""),
        HTTP_ACCEPT="application/activity+json",
        HTTP_HOST="127.0.0.1:8000",
    )
    assert response.json() == {**response.json(), "type": "Person", "name": "Bella Hidden-Name"}
    assert set(response.json()) == {"@context", "id", "type", "name"}


def test_the_same_activity_delivered_twice_is_stored_once_and_changes_nothing(world, client):
    exchange, reservation = _borrow(world, client, approve=False)
    # The lender's approval reaches the borrower twice; the second changes nothing.
    reservation_approve(reservation=reservation, actor=world["tool"].owner)
    accept = Delivery.objects.get(kind="Accept", payload__object__type="Offer")
    pump(client)
    items = InboxItem.objects.filter(kind="Accept").count()
    from tests.federation.helpers import post_signed

    exchange.refresh_from_db()
    changed_at = exchange.status_changed_at
    # Delivered again later (a retry after a lost answer): a fresh signature, the same activity.
    response = post_signed(
        client,
        url=accept.inbox,
        activity=accept.payload,
        local=accept.local,
        now=timezone.now() + timedelta(seconds=3),
    )
    assert response.status_code == 202 and response.json()["detail"] == "already received"
    assert InboxItem.objects.filter(kind="Accept").count() == items
    exchange.refresh_from_db()
    assert exchange.status == RemoteExchange.Status.ACCEPTED and exchange.status_changed_at == changed_at


def test_a_status_moving_backwards_is_ignored_with_its_reason(world, client, owner):
    from tests.federation.helpers import post_signed

    exchange, _reservation = _borrow(world, client)
    a = world["a"]
    stale = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{a.uri}/activities/stale-1",
        "type": "Update",
        "actor": a.uri,
        "object": {"id": exchange.uri, "type": "Agreement", "p2p:status": "offered"},
    }
    response = post_signed(client, url=world["b"].inbox_url, activity=stale, local=a)
    assert response.status_code == 202
    item = InboxItem.objects.get(activity_uri=stale["id"])
    assert item.state == InboxItem.State.IGNORED
    exchange.refresh_from_db()
    assert exchange.status == RemoteExchange.Status.ACCEPTED


def test_an_update_about_an_unknown_exchange_is_kept_until_its_offer_arrives(world, client):
    from tests.federation.helpers import post_signed

    a, b = world["a"], world["b"]
    agreement_uri = f"{b.uri.rsplit('/federation/', 1)[0]}/federation/x/early-bird"
    early = {
        "id": f"{b.uri}/activities/early-1",
        "type": "Update",
        "actor": b.uri,
        "object": {"id": agreement_uri, "type": "Agreement", "p2p:status": "cancelled"},
    }
    assert post_signed(client, url=a.inbox_url, activity=early, local=b).status_code == 202
    item = InboxItem.objects.get(activity_uri=early["id"])
    assert item.state == InboxItem.State.DEFERRED
    starts = timezone.now() + timedelta(hours=1)
    offer = {
        "id": f"{b.uri}/activities/offer-early",
        "type": "Offer",
        "actor": b.uri,
        "object": {
            "id": agreement_uri,
            "type": "Agreement",
            "p2p:proposal": _listing(world).uri,
            "startTime": starts.isoformat(),
            "endTime": (starts + timedelta(days=1)).isoformat(),
            "p2p:borrower": {"type": "Person", "id": f"{agreement_uri}#borrower", "name": "A neighbour"},
            "p2p:feePerDay": "2.00",
        },
    }
    assert post_signed(client, url=a.inbox_url, activity=offer, local=b).status_code == 202
    item.refresh_from_db()
    assert item.state == InboxItem.State.DONE
    assert Reservation.objects.get(tool=world["tool"]).status == Reservation.Status.CANCELLED


def test_skill_offers_and_requests_reach_the_followers_as_proposals_and_leave_when_closed(world, client, owner):
    from apps.skills.factories import OfferFactory, RequestFactory, SkillFactory

    skill = SkillFactory(community=world["a"].community, slug="tiling")
    offer = committed(
        OfferFactory, member=owner, community=world["a"].community, title="I fix bike brakes", skills=[skill]
    )
    committed(RequestFactory, member=owner, community=world["a"].community, title="Help moving a piano", skills=[skill])
    pump(client)
    kinds = dict(RemoteListing.objects.filter(deleted_at__isnull=True).values_list("name", "kind"))
    assert kinds["I fix bike brakes"] == "skill_offer" and kinds["Help moving a piano"] == "skill_request"
    offer.status = "closed"
    committed(offer.save)
    pump(client)
    assert RemoteListing.objects.get(name="I fix bike brakes").deleted_at is not None


def test_deleting_an_account_calls_off_its_remote_borrowing_and_the_lender_hears_of_it(world, client):
    from apps.peers.factories import DEFAULT_PASSWORD
    from apps.privacy.deletion import account_delete

    exchange, reservation = _borrow(world, client)
    services.member_opt_in(user=world["borrower"], opt_in=True)
    committed(
        account_delete,
        user=world["borrower"],
        actor=world["borrower"],
        confirm_negative=True,
        password=DEFAULT_PASSWORD,
    )
    pump(client)
    exchange.refresh_from_db()
    reservation.refresh_from_db()
    assert exchange.status == RemoteExchange.Status.CANCELLED and exchange.message == ""
    assert reservation.status == Reservation.Status.CANCELLED
    assert not FederatedMember.objects.filter(user=world["borrower"]).exists()


def test_an_offer_from_a_community_we_did_not_accept_is_rejected_and_leaves_no_stand_in(world, client):
    from tests.federation.helpers import post_signed

    a, b = world["a"], world["b"]
    Follow.objects.filter(local=a, direction="in").update(state=Follow.State.REJECTED)
    starts = timezone.now() + timedelta(hours=1)
    agreement_uri = f"{b.uri.rsplit('/federation/', 1)[0]}/federation/x/uninvited"
    offer = {
        "id": f"{b.uri}/activities/offer-uninvited",
        "type": "Offer",
        "actor": b.uri,
        "object": {
            "id": agreement_uri,
            "type": "Agreement",
            "p2p:proposal": _listing(world).uri,
            "startTime": starts.isoformat(),
            "endTime": (starts + timedelta(days=1)).isoformat(),
            "p2p:borrower": {"type": "Person", "id": f"{agreement_uri}#borrower", "name": "Uninvited"},
        },
    }
    people = RemoteActor.objects.filter(kind="Person").count()
    assert post_signed(client, url=a.inbox_url, activity=offer, local=b).status_code == 202
    assert RemoteActor.objects.filter(kind="Person").count() == people
    assert not Reservation.objects.exists()
    assert Delivery.objects.get(kind="Reject", local=a).payload["object"]["id"] == offer["id"]


def test_a_listing_hidden_by_the_organizers_is_withdrawn_and_comes_back_when_shown(world, client, organizer):
    from apps.moderation.services import content_hide, content_restore

    committed(content_hide, target=world["tool"], actor=organizer, reason="Looks unsafe")
    pump(client)
    assert not RemoteListing.objects.filter(deleted_at__isnull=True).exists()
    world["tool"].refresh_from_db()
    committed(content_restore, target=world["tool"], actor=organizer, reason="Checked, fine")
    pump(client)
    assert _listing(world).name == "Orbital sander"
