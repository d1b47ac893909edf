"""Done when: two real instances on loopback (own settings, databases, ports, workers)
federate a tool listing from A to B, B's member books it (Offer -> Accept), the pickup
and the return run, the fee crosses through the clearing accounts, both ledgers verify
with opposite clearing balances, and both reputations show the reviews. Every signed
request of the exchange is checked by an independent implementation
(tests/federation/independent_sig.py), every inbox POST and every clearing GET was
signed, and neither member (neither opted in) appears in any payload either side sent or
served."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.federation import independent_sig
from tests.federation.instances import InstancePair, wait_for

SETUP_A = """
import json
from decimal import Decimal
from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory
from apps.tools.factories import ToolFactory
from apps.federation import services
community = CommunityFactory(slug="oakfield", name="Oakfield Commons")
organizer = OrganizerMembershipFactory(community=community, user__email="orin@a.example",
                                       user__profile__display_name="Orin Organizer").user
owner = MembershipFactory(community=community, user__email="olga.lender@a.example",
                          user__profile__display_name="Olga Lendersecret").user
tool = ToolFactory(owner=owner, community=community, title="Tile cutter", fee_per_day=Decimal("3.00"))
local = services.federation_enable(community=community, actor=organizer)
print(json.dumps({"handle": local.handle, "uri": local.uri, "tool": tool.pk}))
"""

SETUP_B = """
import json
from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory
from apps.federation import services
community = CommunityFactory(slug="willowbrook", name="Willowbrook Street")
organizer = OrganizerMembershipFactory(community=community, user__email="wes@b.example",
                                       user__profile__display_name="Wes Organizer").user
MembershipFactory(community=community, user__email="wanda.private@b.example",
                  user__profile__display_name="Wanda Borrowersecret")
local = services.federation_enable(community=community, actor=organizer)
follow = services.follow_request(community=community, handle=HANDLE, actor=organizer)
print(json.dumps({"uri": local.uri, "follow": follow.state}))
"""

IN_A = """
import json
from decimal import Decimal
from apps.federation.models import Follow, RemoteExchange
from apps.peers.models import User
from apps.tools.models import Reservation
owner = User.objects.get(email="olga.lender@a.example")
organizer = User.objects.get(email="orin@a.example")
"""

IN_B = """
import json
from apps.federation.models import Follow, RemoteExchange, RemoteListing
from apps.peers.models import User
borrower = User.objects.get(email="wanda.private@b.example")
"""

SECRETS = ("Wanda Borrowersecret", "wanda.private@b.example", "Olga Lendersecret", "olga.lender@a.example")


def until(instance, code: str, *, timeout: float = 40.0):
    """Wait until ``code`` (run in ``instance``) prints a true JSON value; return it."""
    seen = {}

    def check():
        seen["value"] = instance.run_python(code)
        return seen["value"]

    assert wait_for(check, timeout=timeout, interval=0.3), f"waited for:\n{code}\n{instance.logs()}"
    return seen["value"]


def test_a_tool_lent_across_two_instances_settles_through_clearing_and_both_sides_verify(
    two_instances: InstancePair,
) -> None:
    a, b = two_instances
    a.clear_recorded()
    b.clear_recorded()
    setup_a = a.run_python(SETUP_A)
    setup_b = b.run_python(SETUP_B.replace("HANDLE", repr(setup_a["handle"])))
    a_uri, b_uri = setup_a["uri"], setup_b["uri"]
    assert setup_b["follow"] == "pending"

    # A's organizers accept B's follow; B receives A's public listing as a Proposal.
    until(a, IN_A + "print(json.dumps(Follow.objects.filter(direction='in', state='pending').count()))")
    a.run_python(
        IN_A + "from apps.federation import services\n"
        "from apps.federation.models import RemoteActor\n"
        "follow = Follow.objects.get(direction='in', state='pending')\n"
        "services.follow_decide(follow=follow, actor=organizer, accept=True)\n"
        "services.clearing_limit_set(community=follow.local.community, peer=follow.remote, currency='CREDIT',\n"
        "                            limit=Decimal('-100'), actor=organizer)\n"
        "print(json.dumps(True))"
    )
    listing = until(
        b,
        IN_B + "l = RemoteListing.objects.filter(deleted_at__isnull=True, name='Tile cutter').first()\n"
        "print(json.dumps(l and {'pk': l.pk, 'fee': str(l.fee_amount), 'follow': Follow.objects.get().state}))",
    )
    assert listing["fee"] == "3.00" and listing["follow"] == "accepted"

    # B's member asks to borrow it for a day: an Offer; A's owner approves the real reservation.
    b.run_python(
        IN_B + "from datetime import timedelta\nfrom django.utils import timezone\n"
        "from apps.federation import services\n"
        f"listing = RemoteListing.objects.get(pk={listing['pk']})\n"
        "start = timezone.now() + timedelta(hours=1)\n"
        "x = services.remote_borrow_request(listing=listing, borrower=borrower, starts_at=start,\n"
        "                                   ends_at=start + timedelta(days=1), message='For the bathroom')\n"
        "print(json.dumps(x.status))"
    )
    requested = until(
        a,
        IN_A + "r = Reservation.objects.filter(status='requested').first()\n"
        "print(json.dumps(r and {'pk': r.pk, 'fee': str(r.fee_total), 'member': r.borrower.memberships.count()}))",
    )
    assert requested == {"pk": requested["pk"], "fee": "3.00", "member": 0}
    a.run_python(
        IN_A + "from apps.tools.services import reservation_approve\n"
        f"reservation_approve(reservation=Reservation.objects.get(pk={requested['pk']}), actor=owner)\n"
        "print(json.dumps(True))"
    )
    until(b, IN_B + "print(json.dumps(RemoteExchange.objects.get().status == 'accepted'))")

    # Pickup, recorded by the borrower at home: the fee goes member -> clearing(A) at B,
    # then clearing(B) -> owner at A.
    b.run_python(
        IN_B + "from apps.federation import services\n"
        "services.remote_exchange_pickup(exchange=RemoteExchange.objects.get(), actor=borrower)\n"
        "print(json.dumps(True))"
    )
    until(
        a,
        IN_A + "x = RemoteExchange.objects.get()\n"
        "print(json.dumps(x.payment_state == 'settled' and x.local_object.status == 'picked_up'))",
    )
    # The owner records the return at A; B mirrors it and its member may review.
    a.run_python(
        IN_A + "from apps.tools.services import reservation_return\n"
        f"reservation_return(reservation=Reservation.objects.get(pk={requested['pk']}), actor=owner)\n"
        "print(json.dumps(True))"
    )
    until(b, IN_B + "print(json.dumps(RemoteExchange.objects.get().status == 'returned'))")

    # Reviews on both sides; each lands in the other's reputation too.
    a.run_python(
        IN_A + "from apps.reputation.services import review_create\n"
        f"review_create(author=owner, exchange=Reservation.objects.get(pk={requested['pk']}), rating=5,\n"
        "              comment='Brought it back clean')\nprint(json.dumps(True))"
    )
    b.run_python(
        IN_B + "from apps.reputation.services import review_create\n"
        "review_create(author=borrower, exchange=RemoteExchange.objects.get(), rating=4,\n"
        "              comment='Sharp blade, kind lender')\nprint(json.dumps(True))"
    )
    review_code = (
        "import json\nfrom apps.reputation.models import Review\nfrom apps.peers.models import User\n"
        "me = User.objects.get(email={email!r})\n"
        "r = Review.objects.filter(subject=me, revealed_at__isnull=False).first()\n"
        "print(json.dumps(r and {{'comment': r.comment, 'rating': r.rating}}))"
    )
    assert until(b, review_code.format(email="wanda.private@b.example")) == {
        "comment": "Brought it back clean",
        "rating": 5,
    }
    assert until(a, review_code.format(email="olga.lender@a.example")) == {
        "comment": "Sharp blade, kind lender",
        "rating": 4,
    }

    # Both ledgers verify; the clearing accounts are opposite (A owes B's member nothing: it
    # paid its owner from its account for B, which B's account for A mirrors).
    balance_code = (
        "import json\nfrom apps.ledger.models import Account\n"
        "a = Account.objects.get(peer={peer!r}, currency='CREDIT')\nprint(json.dumps(str(a.balance)))"
    )
    assert Decimal(a.run_python(balance_code.format(peer=b_uri))) == Decimal("-3.00")
    assert Decimal(b.run_python(balance_code.format(peer=a_uri))) == Decimal("3.00")
    for instance in (a, b):
        output = instance.manage("verify_ledger")
        assert "OK" in output or "ok" in output.lower(), output

    # The periodic reconciliation, once, from A: a signed GET of B's statement; they agree.
    check = a.run_python(
        "import json\nfrom apps.federation.models import LocalActor, RemoteActor\n"
        "from apps.federation.services import clearing_reconcile_with\n"
        f"c = clearing_reconcile_with(local=LocalActor.objects.get(), peer=RemoteActor.objects.get(uri={b_uri!r}),\n"
        "                             currency='CREDIT')\nprint(json.dumps(c.ok))"
    )
    assert check is True

    # Every signature, checked independently; every inbox POST and clearing GET was signed.
    keys = {}
    for uri, home in ((a_uri, a), (b_uri, b)):
        status, actor = home.api("GET", uri, headers={"Accept": "application/activity+json"})
        assert status == 200
        keys[actor["publicKey"]["id"]] = actor["publicKey"]["publicKeyPem"]
    checked = 0
    requests = [*a.recorded(), *b.recorded()]
    for request in requests:
        must_sign = (request.method == "POST" and "/inbox" in request.path) or "/clearing" in request.path
        if must_sign:
            assert independent_sig.is_signed(request.headers), f"unsigned {request.method} {request.url}"
        if independent_sig.is_signed(request.headers):
            key_id = independent_sig.key_id_of(request.headers)
            independent_sig.check(
                method=request.method,
                url=request.url,
                headers=request.headers,
                body=request.body,
                public_pem=keys[key_id],
            )
            checked += 1
    inbox_posts = [r for r in requests if r.method == "POST" and "/inbox" in r.path]
    kinds = {r.json()["type"] for r in inbox_posts}
    assert {"Follow", "Accept", "Announce", "Offer", "Update", "Create"} <= kinds, kinds
    assert all(r.status == 202 for r in inbox_posts), [(r.path, r.status) for r in inbox_posts]
    assert checked >= len(inbox_posts) + 1

    # Neither member opted in: their names and emails are in no payload sent or served.
    delivered = "".join(
        instance.run_python(
            "import json\nfrom apps.federation.models import Delivery\n"
            "print(json.dumps(json.dumps([d.payload for d in Delivery.objects.all()])))"
        )
        for instance in (a, b)
    )
    served = "".join(r.body.decode(errors="replace") + r.response_body.decode(errors="replace") for r in requests)
    for secret in SECRETS:
        assert secret not in delivered, secret
        assert not re.search(re.escape(secret), served), secret
    assert "A neighbour of Willowbrook Street" in delivered
