"""The neighbouring-communities pages: the organizers' page, appearing on other servers,
a remote listing and asking to borrow it, my exchanges with other communities, and the
remote listings inside tools browse, the skill directory and unified search.

Remote communities and their listings are rows made here directly (what the inbox would
have stored); the protocol has its own tests.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.federation.models import (
    FederatedMember,
    Follow,
    LocalActor,
    RemoteActor,
    RemoteExchange,
    RemoteListing,
)
from apps.ledger.models import Account, ClearingCheck
from apps.peers.factories import MembershipFactory
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db

_seq = itertools.count(1)
HOME = "https://harbour.example"


# --- rows the inbox would have stored ----------------------------------------------------
def local_actor(community, *, enabled: bool = True) -> LocalActor:
    return LocalActor.objects.create(
        community=community,
        enabled=enabled,
        uri=f"https://testserver/federation/c/{community.slug}",
        private_key_pem="-----BEGIN PRIVATE KEY-----\nnot used here\n-----END PRIVATE KEY-----\n",
        public_key_pem="-----BEGIN PUBLIC KEY-----\nnot used here\n-----END PUBLIC KEY-----\n",
        enabled_at=timezone.now() if enabled else None,
    )


def remote_group(name: str = "Harbour Street", slug: str = "harbour", host: str = "harbour.example") -> RemoteActor:
    return RemoteActor.objects.create(
        uri=f"https://{host}/federation/c/{slug}",
        kind=RemoteActor.Kind.GROUP,
        handle=f"{slug}@{host}",
        name=name,
        inbox=f"https://{host}/federation/c/{slug}/inbox",
        key_id=f"https://{host}/federation/c/{slug}#main-key",
        fetched_at=timezone.now(),
    )


def follow(local: LocalActor, remote: RemoteActor, *, direction="out", state="accepted") -> Follow:
    return Follow.objects.create(
        local=local,
        remote=remote,
        direction=direction,
        state=state,
        activity_uri=f"{local.uri}/activities/{next(_seq)}",
        decided_at=timezone.now() if state != "pending" else None,
    )


def listing(origin: RemoteActor, *, kind="tool", name="Long ladder", **extra) -> RemoteListing:
    n = next(_seq)
    values = {
        "uri": f"{origin.uri}/listings/{n}",
        "origin": origin,
        "kind": kind,
        "name": name,
        "summary": "Seven metres, aluminium.",
        "category": "Ladders",
        "url": f"https://{origin.host}/tools/{n}/",
        "fee_amount": Decimal("2.00"),
        "fee_unit": "CREDIT",
        "published_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    values.update(extra)
    return RemoteListing.objects.create(**values)


def neighbour_listing(local: LocalActor, **extra) -> RemoteListing:
    """A listing of yet another community that ``local`` follows (distinct origins)."""
    k = next(_seq)
    group = remote_group(f"Street {k}", f"s{k}", f"s{k}.example")
    follow(local, group)
    return listing(group, **extra)


def remote_person(home: RemoteActor) -> RemoteActor:
    n = next(_seq)
    return RemoteActor.objects.create(
        uri=f"{home.uri.rsplit('/federation/', 1)[0]}/federation/x/{n}#lender",
        kind=RemoteActor.Kind.PERSON,
        name=f"A neighbour of {home.name}",
        home=home,
    )


def exchange(local: LocalActor, member, item: RemoteListing, *, status="offered", days=3) -> RemoteExchange:
    start = timezone.now() + timedelta(days=days)
    return RemoteExchange.objects.create(
        uri=f"{local.uri}/agreements/{next(_seq)}",
        side=RemoteExchange.Side.BORROWER,
        local=local,
        peer=item.origin,
        listing=item,
        listing_uri=item.uri,
        member=member,
        remote_person=remote_person(item.origin),
        starts_at=start,
        ends_at=start + timedelta(days=1),
        fee_total=Decimal("4.00"),
        currency="CREDIT",
        status=status,
    )


def make_federated(community) -> tuple[LocalActor, RemoteActor]:
    """Sunnyside is open to neighbours and follows Harbour Street (on harbour.example)."""
    local = local_actor(community)
    harbour = remote_group()
    follow(local, harbour)
    return local, harbour


def make_outsider(other_community):
    """A member of another community of this server, which follows nobody."""
    return MembershipFactory(
        community=other_community, user__email="outsider@example.org", user__profile__display_name="Otto Outsider"
    ).user


@pytest.fixture
def federated(community):
    return make_federated(community)


@pytest.fixture
def outsider(other_community):
    return make_outsider(other_community)


def window(*, days: int, hours: int) -> dict:
    """The booking form's two fields: ``days`` from now, lasting ``hours`` (negative: ends first)."""
    start = timezone.localtime() + timedelta(days=days)
    return {"starts_at": f"{start:%Y-%m-%dT%H:%M}", "ends_at": f"{start + timedelta(hours=hours):%Y-%m-%dT%H:%M}"}


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the organizers' page ----------------------------------------------------------------
class TestOrganizerPage:
    def url(self, community):
        return reverse("federation:community", args=[community.slug])

    def test_the_organizer_sees_the_handle_to_give_to_neighbours(self, web_as, organizer, community, federated):
        html = page(web_as(organizer), self.url(community))
        assert "sunnyside@testserver" in html
        assert "Harbour Street" in html

    @pytest.mark.parametrize("who", ["member", "stranger", "outsider"])
    def test_nobody_but_its_organizers_learns_the_page_exists(self, request, client, community, federated, who):
        client.force_login(request.getfixturevalue(who))
        assert client.get(self.url(community)).status_code == 404

    def test_a_visitor_is_sent_to_sign_in(self, client, community):
        response = client.get(self.url(community))
        assert response.status_code == 302 and "/login" in response["Location"]

    def test_a_community_never_opened_offers_the_switch_and_no_follow_form(self, web_as, organizer, community):
        html = page(web_as(organizer), self.url(community))
        assert "Open to neighbours" in html
        assert reverse("federation:follow", args=[community.slug]) not in html

    def test_opening_the_community_makes_it_a_neighbour_with_a_handle(self, web_as, organizer, community):
        client = web_as(organizer)
        response = client.post(reverse("federation:on", args=[community.slug]), follow=True)
        actor = LocalActor.objects.get(community=community)
        assert actor.enabled
        assert actor.handle in response.content.decode()

    def test_a_member_cannot_open_the_community(self, web_as, member, community):
        response = web_as(member).post(reverse("federation:on", args=[community.slug]))
        assert response.status_code == 404
        assert not LocalActor.objects.filter(community=community, enabled=True).exists()

    def test_closing_asks_first_then_closes(self, web_as, organizer, community, federated):
        client = web_as(organizer)
        url = reverse("federation:off", args=[community.slug])
        assert "Yes, close it" in page(client, url)
        assert LocalActor.objects.get(community=community).enabled
        client.post(url)
        assert not LocalActor.objects.get(community=community).enabled

    def test_a_handle_that_is_not_an_address_is_shown_again_with_the_reason(
        self, web_as, organizer, community, federated
    ):
        response = web_as(organizer).post(
            reverse("federation:follow", args=[community.slug]), {"handle": "just some words"}
        )
        assert response.status_code == 200
        assert "name@server" in response.content.decode()
        assert Follow.objects.filter(direction="out").count() == 1

    def test_a_server_that_cannot_be_reached_is_said_on_the_form(self, web_as, organizer, community, federated):
        # A private address: the client refuses it before any connection (no network here).
        response = web_as(organizer).post(
            reverse("federation:follow", args=[community.slug]), {"handle": "garden@127.0.0.1:9"}
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert 'role="alert"' in html
        assert Follow.objects.filter(direction="out").count() == 1

    def test_a_request_to_follow_is_listed_and_accepted(self, web_as, organizer, community, federated):
        local, _harbour = federated
        garden = remote_group("Garden Row", "garden", "garden.example")
        incoming = follow(local, garden, direction="in", state="pending")
        client = web_as(organizer)
        assert "Garden Row" in page(client, self.url(community))
        client.post(reverse("federation:follow-accept", args=[community.slug, incoming.pk]))
        incoming.refresh_from_db()
        assert incoming.state == Follow.State.ACCEPTED

    def test_a_request_to_follow_can_be_declined(self, web_as, organizer, community, federated):
        local, _harbour = federated
        incoming = follow(
            local, remote_group("Garden Row", "garden", "garden.example"), direction="in", state="pending"
        )
        web_as(organizer).post(reverse("federation:follow-reject", args=[community.slug, incoming.pk]))
        incoming.refresh_from_db()
        assert incoming.state == Follow.State.REJECTED

    def test_a_follow_of_another_community_cannot_be_answered_from_this_one(
        self, web_as, organizer, community, other_community, federated
    ):
        theirs = follow(
            local_actor(other_community),
            remote_group("Garden Row", "garden", "garden.example"),
            direction="in",
            state="pending",
        )
        response = web_as(organizer).post(reverse("federation:follow-accept", args=[community.slug, theirs.pk]))
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.state == Follow.State.PENDING

    def test_ending_a_follow_asks_first_then_ends_it(self, web_as, organizer, community, federated):
        local, harbour = federated
        row = Follow.objects.get(local=local, remote=harbour)
        client = web_as(organizer)
        url = reverse("federation:follow-end", args=[community.slug, row.pk])
        assert "Stop following Harbour Street?" in page(client, url)
        client.post(url)
        row.refresh_from_db()
        assert row.state == Follow.State.ENDED


class TestClearingOnTheOrganizerPage:
    def url(self, community):
        return reverse("federation:community", args=[community.slug])

    def test_each_neighbour_gets_a_row_per_currency_with_a_limit_form(self, web_as, organizer, community, federated):
        html = page(web_as(organizer), self.url(community))
        assert html.count('name="amount"') == 2
        assert "They may not owe us anything yet" in html

    def test_the_organizer_sets_how_much_a_neighbour_may_owe(self, web_as, organizer, community, federated):
        _local, harbour = federated
        data = {"peer": harbour.uri, "currency": "CREDIT", "amount": "50"}
        response = web_as(organizer).post(reverse("federation:limit", args=[community.slug]), data, follow=True)
        account = Account.objects.get(community=community, peer=harbour.uri, currency="CREDIT")
        assert account.limit == Decimal("-50")
        assert "up to 50" in response.content.decode()

    def test_a_negative_amount_comes_back_with_its_error(self, web_as, organizer, community, federated):
        _local, harbour = federated
        data = {"peer": harbour.uri, "currency": "CREDIT", "amount": "-5"}
        response = web_as(organizer).post(reverse("federation:limit", args=[community.slug]), data)
        assert response.status_code == 200
        assert 'aria-invalid="true"' in response.content.decode()
        assert not Account.objects.filter(community=community, peer=harbour.uri, limit__lt=0).exists()

    def test_a_server_that_is_not_a_neighbour_gets_no_limit(self, web_as, organizer, community, federated):
        data = {"peer": "https://evil.example/federation/c/x", "currency": "CREDIT", "amount": "50"}
        response = web_as(organizer).post(reverse("federation:limit", args=[community.slug]), data)
        assert response.status_code == 200
        assert not Account.objects.filter(peer="https://evil.example/federation/c/x").exists()

    def test_a_member_cannot_set_a_limit(self, web_as, member, community, federated):
        _local, harbour = federated
        data = {"peer": harbour.uri, "currency": "CREDIT", "amount": "50"}
        assert web_as(member).post(reverse("federation:limit", args=[community.slug]), data).status_code == 404
        assert not Account.objects.filter(community=community, peer=harbour.uri, limit__lt=0).exists()

    def test_the_latest_comparison_of_the_ledgers_is_said_in_words(self, web_as, organizer, community, federated):
        _local, harbour = federated
        Account.objects.create(
            community=community, currency="CREDIT", owner=None, peer=harbour.uri, peer_name="Harbour Street", limit=0
        )
        earlier = timezone.now() - timedelta(hours=2)
        ClearingCheck.objects.create(
            community=community, peer=harbour.uri, currency="CREDIT", ok=True, our_balance=0, their_balance=0,
            checked_at=earlier,
        )  # fmt: skip
        ClearingCheck.objects.create(
            community=community, peer=harbour.uri, currency="CREDIT", ok=False, our_balance=Decimal("-4"),
            their_balance=Decimal("3"), detail={"problems": [{"code": "balance", "ours": "-4", "theirs": "3"}]},
        )  # fmt: skip
        html = page(web_as(organizer), self.url(community))
        assert "the two ledgers do not match" in html
        assert "they should be opposite" in html
        assert "both ledgers agree" not in html

    def test_the_page_costs_the_same_with_many_neighbours(self, web_as, organizer, community, federated):
        local, _harbour = federated
        client = web_as(organizer)

        def add(n):
            for _ in range(n):
                k = next(_seq)
                follow(local, remote_group(f"Street {k}", f"s{k}", f"s{k}.example"), direction="in", state="pending")

        assert_queries_do_not_grow(lambda: client.get(self.url(community)), add, small=1, large=8)


# --- appearing on other servers -----------------------------------------------------------
class TestOptIn:
    url = "/neighbours/me/"

    def test_it_says_exactly_what_is_shared_and_what_never_is(self, web_as, member):
        html = page(web_as(member), self.url)
        assert "Max Member" in html
        assert "never shared" in html
        assert "email address" in html

    def test_a_member_opts_in_and_out(self, web_as, member):
        client = web_as(member)
        client.post(self.url, {"opt_in": "1"})
        assert FederatedMember.objects.filter(user=member).exists()
        client.post(self.url, {"opt_in": "0"})
        assert not FederatedMember.objects.filter(user=member).exists()

    def test_a_nonsense_answer_changes_nothing(self, web_as, member):
        web_as(member).post(self.url, {"opt_in": "maybe"})
        assert not FederatedMember.objects.filter(user=member).exists()

    def test_a_visitor_is_sent_to_sign_in(self, client):
        assert client.get(self.url).status_code == 302


# --- a remote listing -----------------------------------------------------------------------
class TestListingDetail:
    def test_a_member_sees_what_it_is_where_from_and_the_way_home(self, web_as, member, federated):
        _local, harbour = federated
        item = listing(harbour)
        html = page(web_as(member), reverse("federation:listing", args=[item.pk]))
        assert "Long ladder" in html and "Harbour Street" in html and "harbour.example" in html
        assert item.url in html
        assert "Ask to borrow" in html

    @pytest.mark.parametrize("who", ["stranger", "outsider"])
    def test_who_is_not_in_a_following_community_gets_404(self, request, client, federated, who):
        _local, harbour = federated
        client.force_login(request.getfixturevalue(who))
        assert client.get(reverse("federation:listing", args=[listing(harbour).pk])).status_code == 404

    def test_a_listing_of_a_community_no_longer_followed_is_gone(self, web_as, member, federated):
        local, harbour = federated
        item = listing(harbour)
        Follow.objects.filter(local=local, remote=harbour).update(state=Follow.State.ENDED)
        assert web_as(member).get(reverse("federation:listing", args=[item.pk])).status_code == 404

    def test_a_home_address_that_is_not_a_web_page_is_not_linked(self, web_as, member, federated):
        _local, harbour = federated
        item = listing(harbour, url="javascript:alert(1)")
        html = page(web_as(member), reverse("federation:listing", args=[item.pk]))
        assert "javascript:" not in html

    def test_a_skill_shows_the_way_home_and_no_borrow_button(self, web_as, member, federated):
        _local, harbour = federated
        item = listing(harbour, kind="skill_offer", name="Bike repair")
        html = page(web_as(member), reverse("federation:listing", args=[item.pk]))
        assert "Bike repair" in html and item.url in html
        assert "Ask to borrow" not in html

    def test_bad_dates_come_back_on_the_form_and_nothing_is_asked(self, web_as, member, federated):
        _local, harbour = federated
        item = listing(harbour)
        start = timezone.localtime() + timedelta(days=3)
        data = {
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        }
        response = web_as(member).post(reverse("federation:listing-borrow", args=[item.pk]), data)
        assert response.status_code == 200
        assert "The end must be after the start." in response.content.decode()
        assert not RemoteExchange.objects.exists()

    def test_a_skill_cannot_be_borrowed(self, web_as, member, federated):
        _local, harbour = federated
        item = listing(harbour, kind="skill_offer")
        start = timezone.localtime() + timedelta(days=3)
        data = {
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        }
        web_as(member).post(reverse("federation:listing-borrow", args=[item.pk]), data)
        assert not RemoteExchange.objects.exists()

    def test_asking_to_borrow_sends_the_request_and_shows_it_in_my_exchanges(self, web_as, member, federated):
        _local, harbour = federated
        item = listing(harbour)
        data = {**window(days=3, hours=24), "message": "For the gutter."}
        response = web_as(member).post(reverse("federation:listing-borrow", args=[item.pk]), data, follow=True)
        made = RemoteExchange.objects.get(member=member)
        assert made.listing == item and made.status == RemoteExchange.Status.OFFERED
        assert "waiting for the owner" in response.content.decode()


# --- my exchanges with other communities ----------------------------------------------------
class TestExchanges:
    url = "/neighbours/exchanges/"

    def test_my_exchanges_say_where_they_stand_in_words(self, web_as, member, federated):
        local, harbour = federated
        exchange(local, member, listing(harbour), status="accepted")
        html = page(web_as(member), self.url)
        assert "Long ladder" in html and "Harbour Street" in html
        assert "Accepted: pick it up" in html
        assert "Cancel the request" in html

    def test_someone_else_sees_none_of_mine(self, web_as, owner, member, federated):
        local, harbour = federated
        mine = exchange(local, member, listing(harbour))
        client = web_as(owner)
        assert "Long ladder" not in page(client, self.url)
        assert client.get(reverse("federation:exchange-cancel", args=[mine.pk])).status_code == 404

    def test_cancelling_asks_first_then_cancels(self, web_as, member, federated):
        local, harbour = federated
        mine = exchange(local, member, listing(harbour))
        client = web_as(member)
        url = reverse("federation:exchange-cancel", args=[mine.pk])
        assert "Yes, cancel it" in page(client, url)
        client.post(url)
        mine.refresh_from_db()
        assert mine.status == RemoteExchange.Status.CANCELLED

    def test_a_returned_loan_offers_no_cancel(self, web_as, member, federated):
        local, harbour = federated
        exchange(local, member, listing(harbour), status="returned")
        assert "Cancel the request" not in page(web_as(member), self.url)

    def test_the_list_costs_the_same_with_many_exchanges(self, web_as, member, federated):
        local, _harbour = federated
        client = web_as(member)

        def add(n):
            for _ in range(n):
                k = next(_seq)
                exchange(local, member, listing(remote_group(f"Street {k}", f"s{k}", f"s{k}.example")))

        assert_queries_do_not_grow(lambda: client.get(self.url), add, small=1, large=12)


# --- browse and search ------------------------------------------------------------------------
class TestBrowse:
    def test_tools_browse_shows_neighbouring_tools_marked_with_their_home(self, web_as, member, federated):
        _local, harbour = federated
        listing(harbour)
        html = page(web_as(member), reverse("tools:list"))
        assert "From neighbouring communities" in html
        assert "From Harbour Street" in html and "Long ladder" in html

    def test_an_outsider_sees_no_neighbouring_tools(self, web_as, outsider, federated):
        _local, harbour = federated
        listing(harbour)
        html = page(web_as(outsider), reverse("tools:list"))
        assert "Long ladder" not in html

    def test_words_narrow_the_neighbouring_tools_too(self, web_as, member, federated):
        _local, harbour = federated
        listing(harbour)
        listing(harbour, name="Hedge trimmer", summary="", category="Garden")
        html = page(web_as(member), reverse("tools:list") + "?q=ladder")
        assert "Long ladder" in html and "Hedge trimmer" not in html

    def test_many_neighbouring_tools_lead_to_all_of_them(self, web_as, member, federated):
        _local, harbour = federated
        for n in range(8):
            listing(harbour, name=f"Ladder {n}")
        client = web_as(member)
        html = page(client, reverse("tools:list"))
        more = reverse("federation:listings") + "?kind=tool"
        assert more in html
        everything = page(client, more)
        assert all(f"Ladder {n}" in everything for n in range(8))

    def test_tools_browse_costs_the_same_with_many_neighbouring_tools(self, web_as, member, federated):
        local, _harbour = federated
        client = web_as(member)
        assert_queries_do_not_grow(
            lambda: client.get(reverse("tools:list")),
            lambda n: [neighbour_listing(local) for _ in range(n)],
            small=1,
            large=10,
        )

    def test_the_skill_directory_shows_neighbouring_offers_and_requests(self, web_as, member, federated):
        _local, harbour = federated
        listing(harbour, kind="skill_offer", name="Bike repair")
        listing(harbour, kind="skill_request", name="Help with a wall")
        client = web_as(member)
        offers = page(client, reverse("skills:directory"))
        assert "Bike repair" in offers and "Help with a wall" not in offers
        requests = page(client, reverse("skills:directory") + "?show=requests")
        assert "Help with a wall" in requests and "From Harbour Street" in requests

    def test_unified_search_finds_neighbouring_listings_marked(self, web_as, member, federated):
        _local, harbour = federated
        listing(harbour)
        html = page(web_as(member), reverse("front:search") + "?q=ladder")
        assert "Long ladder" in html
        assert "Tool from a neighbouring community" in html
        assert reverse("federation:listing", args=[RemoteListing.objects.get().pk]) in html

    def test_unified_search_keeps_to_the_kinds_asked_for(self, web_as, member, federated):
        _local, harbour = federated
        listing(harbour)
        html = page(web_as(member), reverse("front:search") + "?q=ladder&kind=member")
        assert "Long ladder" not in html

    def test_the_neighbouring_listings_page_costs_the_same_with_many_rows(self, web_as, member, federated):
        local, _harbour = federated
        client = web_as(member)
        assert_queries_do_not_grow(
            lambda: client.get(reverse("federation:listings")),
            lambda n: [neighbour_listing(local) for _ in range(n)],
            small=1,
            large=10,
        )

    def test_unified_search_costs_the_same_with_many_neighbouring_hits(self, web_as, member, federated):
        local, _harbour = federated
        client = web_as(member)
        assert_queries_do_not_grow(
            lambda: client.get(reverse("front:search") + "?q=ladder"),
            lambda n: [neighbour_listing(local) for _ in range(n)],
            small=1,
            large=10,
        )
