"""The protocol endpoints: discovery (WebFinger, NodeInfo, the Group actor), and the inbox's
signature checks: a tampered body, a wrong key, a replay and a stale date are each a 401
that stores nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from apps.federation import services
from apps.federation.httpsig import generate_rsa_keypair, sign_request
from apps.federation.models import Delivery, Follow, InboxItem, RemoteActor, SeenSignature
from apps.peers.factories import OrganizerMembershipFactory
from tests.federation.helpers import as_meta, committed, post_signed, pump

HOST = "127.0.0.1:8000"
SITE = f"http://{HOST}"


@pytest.fixture
def pair(community, other_community, organizer):
    """Sunnyside and Riverside, both open to other servers."""
    rio = OrganizerMembershipFactory(community=other_community, user__email="rio@example.org").user
    a = services.federation_enable(community=community, actor=organizer)
    b = services.federation_enable(community=other_community, actor=rio)
    return a, b


def signed_get(client, url: str, local):
    """GET ``url`` (absolute, on this server) signed with ``local``'s key, as a neighbour's server would."""
    headers = sign_request(method="GET", url=url, body=None, key_id=local.key_id, private_key_pem=local.private_key_pem)
    return client.get(url.replace(SITE, ""), **as_meta(headers, url))


def _follow(a, b, n: int = 1) -> dict:
    return {"id": f"{b.uri}/activities/follow-{n}", "type": "Follow", "actor": b.uri, "object": a.uri}


def test_webfinger_finds_an_opted_in_community_from_any_origin(client, pair):
    a, _b = pair
    response = client.get("/.well-known/webfinger", {"resource": f"acct:sunnyside@{HOST}"}, HTTP_HOST=HOST)
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert body["subject"] == f"acct:sunnyside@{HOST}"
    assert {"rel": "self", "type": "application/activity+json", "href": a.uri} in body["links"]


def test_a_community_that_did_not_opt_in_or_turned_it_off_is_not_found(client, pair, community, organizer):
    assert client.get("/.well-known/webfinger", {"resource": f"acct:nowhere@{HOST}"}).status_code == 404
    services.federation_disable(community=community, actor=organizer)
    assert client.get("/.well-known/webfinger", {"resource": f"acct:sunnyside@{HOST}"}).status_code == 404
    response = client.get("/federation/c/sunnyside", HTTP_ACCEPT="application/activity+json")
    assert response.status_code == 404


def test_the_group_actor_has_its_endpoints_key_and_ledger_log(client, pair):
    a, _b = pair
    response = client.get("/federation/c/sunnyside", HTTP_ACCEPT="application/activity+json", HTTP_HOST=HOST)
    assert response["Content-Type"].startswith("application/activity+json")
    actor = response.json()
    assert actor["type"] == "Group" and actor["preferredUsername"] == "sunnyside"
    assert actor["inbox"] == f"{a.uri}/inbox" and actor["outbox"] == f"{a.uri}/outbox"
    assert actor["publicKey"] == {"id": a.key_id, "owner": a.uri, "publicKeyPem": a.public_key_pem}
    assert actor["p2p:logOrigin"].endswith("/ledger/sunnyside") and actor["p2p:logKey"]
    assert "PRIVATE" not in json.dumps(actor)


def test_a_browser_asking_for_the_actor_is_sent_to_the_community_page(client, pair, community):
    response = client.get("/federation/c/sunnyside", HTTP_ACCEPT="text/html")
    assert response.status_code == 302 and response["Location"] == community.get_absolute_url()


def test_nodeinfo_names_the_software_and_counts_without_naming_anyone(client, pair, owner):
    index = client.get("/.well-known/nodeinfo").json()
    assert index["links"][0]["href"].endswith("/nodeinfo/2.1")
    info = client.get("/nodeinfo/2.1").json()
    assert info["software"]["name"] == "p2pcommons" and info["protocols"] == ["activitypub"]
    assert info["usage"]["users"]["total"] >= 1
    assert "Olive Owner" not in json.dumps(info) and "owner@example.org" not in json.dumps(info)


def test_a_signed_follow_is_accepted_and_stored_once(client, pair):
    a, b = pair
    response = post_signed(client, url=a.inbox_url, activity=_follow(a, b), local=b)
    assert response.status_code == 202
    assert InboxItem.objects.filter(activity_uri=f"{b.uri}/activities/follow-1").count() == 1


def _refused(response, reason: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["reason"] == reason
    assert not InboxItem.objects.exists()


def test_a_tampered_body_is_refused_and_nothing_is_stored(client, pair):
    a, b = pair
    body = json.dumps(_follow(a, b)).encode()
    headers = sign_request(
        method="POST", url=a.inbox_url, body=body, key_id=b.key_id, private_key_pem=b.private_key_pem
    )
    tampered = body.replace(b"follow-1", b"follow-2")
    extra = as_meta(headers, a.inbox_url)
    response = client.post(
        "/federation/c/sunnyside/inbox",
        data=tampered,
        content_type="application/activity+json",
        **extra,
    )
    _refused(response, "digest_mismatch")


def test_a_signature_by_another_key_is_refused(client, pair):
    a, b = pair
    wrong_private, _public = generate_rsa_keypair()
    b.private_key_pem = wrong_private  # signs as B, with a key that is not B's
    _refused(post_signed(client, url=a.inbox_url, activity=_follow(a, b), local=b), "bad_signature")


def test_a_replayed_request_is_refused_and_changes_nothing(client, pair):
    a, b = pair
    body = json.dumps(_follow(a, b)).encode()
    headers = sign_request(
        method="POST", url=a.inbox_url, body=body, key_id=b.key_id, private_key_pem=b.private_key_pem
    )
    extra = as_meta(headers, a.inbox_url)

    def send():
        return client.post(
            "/federation/c/sunnyside/inbox",
            data=body,
            content_type="application/activity+json",
            **extra,
        )

    assert send().status_code == 202
    stored = list(InboxItem.objects.values_list("pk", "state"))
    again = send()
    assert again.status_code == 401 and again.json()["reason"] == "replayed"
    assert list(InboxItem.objects.values_list("pk", "state")) == stored


def test_a_stale_date_is_refused(client, pair):
    a, b = pair
    response = post_signed(
        client, url=a.inbox_url, activity=_follow(a, b), local=b, now=timezone.now() - timedelta(hours=1)
    )
    _refused(response, "stale")


def test_an_unsigned_post_is_refused(client, pair):
    a, b = pair
    response = client.post(
        "/federation/c/sunnyside/inbox",
        data=json.dumps(_follow(a, b)),
        content_type="application/activity+json",
        HTTP_HOST=HOST,
    )
    _refused(response, "missing")


def test_an_activity_in_the_name_of_another_actor_is_refused(client, pair):
    a, b = pair
    forged = {**_follow(a, b), "actor": a.uri, "id": f"{a.uri}/activities/forged"}
    _refused(post_signed(client, url=a.inbox_url, activity=forged, local=b), "actor_mismatch")


def test_a_rotated_key_is_fetched_again_once(client, pair):
    a, b = pair
    post_signed(client, url=a.inbox_url, activity=_follow(a, b), local=b)
    assert RemoteActor.objects.get(uri=b.uri).public_key_pem == b.public_key_pem
    b.private_key_pem, b.public_key_pem = generate_rsa_keypair()
    b.save(update_fields=["private_key_pem", "public_key_pem"])
    response = post_signed(client, url=a.inbox_url, activity=_follow(a, b, n=2), local=b)
    assert response.status_code == 202
    assert RemoteActor.objects.get(uri=b.uri).public_key_pem == b.public_key_pem


def test_the_clearing_statement_is_only_for_the_signed_neighbour_it_is_about(client, pair):
    a, b = pair
    url = f"{a.uri}/clearing?{urlencode({'peer': b.uri, 'currency': 'CREDIT'})}"
    assert client.get(url.replace(SITE, ""), HTTP_HOST=HOST).status_code == 401
    headers = sign_request(method="GET", url=url, body=None, key_id=b.key_id, private_key_pem=b.private_key_pem)
    extra = as_meta(headers, url)
    response = client.get(url.replace(SITE, ""), **extra)
    assert response.status_code == 200, response.content
    assert response.json()["balance"] == "0.00"
    other = f"{a.uri}/clearing?{urlencode({'peer': a.uri, 'currency': 'CREDIT'})}"
    headers = sign_request(method="GET", url=other, body=None, key_id=b.key_id, private_key_pem=b.private_key_pem)
    extra = as_meta(headers, other)
    response = client.get(other.replace(SITE, ""), **extra)
    assert response.status_code == 401 and response.json()["reason"] == "not_the_peer"
    assert SeenSignature.objects.count() == 1


def test_the_outbox_lists_the_public_announcements_page_by_page(client, pair, owner):
    from apps.tools.factories import ToolFactory

    a, b = pair
    committed(post_signed, client, url=a.inbox_url, activity=_follow(a, b), local=b)
    a.auto_accept_followers = True
    a.save(update_fields=["auto_accept_followers"])
    post_signed(client, url=a.inbox_url, activity=_follow(a, b, n=2), local=b)
    for n in range(3):
        committed(ToolFactory, owner=owner, community=a.community, title=f"Ladder {n}")
    outbox = client.get("/federation/c/sunnyside/outbox", HTTP_ACCEPT="application/activity+json").json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 3
    assert client.get("/federation/c/sunnyside/outbox?page=1").status_code == 401, "the pages: followers only"
    page = signed_get(client, f"{a.outbox_url}?page=1", b).json()
    names = {item["object"]["object"]["name"] for item in page["orderedItems"]}
    assert names == {"Ladder 0", "Ladder 1", "Ladder 2"}
    listing = page["orderedItems"][0]["object"]["object"]["id"]
    assert client.get(listing.replace(SITE, "")).status_code == 401
    assert signed_get(client, listing, b).json()["type"] == "Proposal"


def test_listings_are_not_shown_to_a_server_the_community_did_not_accept(client, pair, owner):
    """A signed request of a neighbour whose follow is still waiting is refused: listings
    are for the community's members and the neighbours it accepted."""
    from apps.tools.factories import ToolFactory

    a, b = pair
    post_signed(client, url=a.inbox_url, activity=_follow(a, b), local=b)  # pending: nobody answered
    tool = committed(ToolFactory, owner=owner, community=a.community, title="Ladder")
    response = signed_get(client, f"{a.uri}/listings/tool/{tool.pk}", b)
    assert response.status_code == 401 and response.json()["reason"] == "not_a_follower"
    assert signed_get(client, f"{a.outbox_url}?page=1", b).status_code == 401


def test_the_shared_inbox_takes_signed_activities_for_any_of_our_communities(client, pair):
    a, b = pair
    response = post_signed(client, url=f"{SITE}/federation/inbox", activity=_follow(a, b), local=b)
    assert response.status_code == 202
    assert Follow.objects.get(local=a, direction="in").state == Follow.State.PENDING


def test_anyone_may_follow_when_the_organizers_chose_so_and_the_follower_hears_at_once(client, pair, community):
    a, b = pair
    services.federation_set_auto_accept(
        community=community, actor=community.memberships.get(role="organizer").user, auto_accept=True
    )
    post_signed(client, url=a.inbox_url, activity=_follow(a, b), local=b)
    assert Follow.objects.get(local=a, direction="in").state == Follow.State.ACCEPTED
    assert Delivery.objects.filter(local=a, kind="Accept", inbox=b.inbox_url).count() == 1


def test_stopping_a_follow_sends_undo_and_the_other_side_ends_it(client, pair, other_community):
    a, b = pair
    follow = committed(
        services.follow_request,
        community=other_community,
        handle=a.uri,
        actor=other_community.memberships.get(role="organizer").user,
    )
    pump(client)
    services.follow_end(follow=follow, actor=other_community.memberships.get(role="organizer").user)
    pump(client)
    assert Follow.objects.get(local=a, direction="in").state == Follow.State.ENDED
    assert Follow.objects.get(local=b, direction="out").state == Follow.State.ENDED


def test_an_activity_goes_once_to_each_inbox_and_a_failed_send_is_retried_later(pair):
    a, b = pair
    activity = {"id": f"{a.uri}/activities/once", "type": "Follow", "actor": a.uri, "object": b.uri}
    first = services.activity_send(local=a, activity=activity, inboxes=[b.inbox_url, b.inbox_url])
    again = services.activity_send(local=a, activity=activity, inboxes=[b.inbox_url])
    assert len(first) == 1 and again[0].pk == first[0].pk
    assert Delivery.objects.filter(activity_uri=activity["id"]).count() == 1
    # Plain HTTP to a loopback address is refused by the guarded client here: a failure.
    assert services.delivery_send(delivery_id=first[0].pk) == "retry"
    delivery = Delivery.objects.get(pk=first[0].pk)
    assert delivery.state == Delivery.State.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
    assert services.delivery_send(delivery_id=first[0].pk) == "not_due"  # backoff: not before its time
    later = timezone.now() + timedelta(days=1)
    for _attempt in range(5):
        services.delivery_send(delivery_id=delivery.pk, now=later)
        later += timedelta(days=1)
    assert Delivery.objects.get(pk=delivery.pk).state == Delivery.State.FAILED


def test_the_protocol_reads_cost_the_same_however_many_rows_there_are(client, pair, owner):
    """Outbox pages, collections and nodeinfo: a fixed number of queries (DESIGN 9)."""
    from apps.federation.models import OutboxActivity
    from apps.tools.factories import ToolFactory
    from tests.querycount import assert_queries_do_not_grow, count_queries

    a, b = pair
    Follow.objects.create(local=a, remote=services.remote_actor_get(uri=b.uri), direction="in", state="accepted",
                          activity_uri=f"{b.uri}/activities/follow-1")  # fmt: skip

    def add(n):
        for _ in range(n):
            ToolFactory(owner=owner, community=a.community)
            uri = f"{a.uri}/activities/{OutboxActivity.objects.count()}"
            OutboxActivity.objects.create(activity_uri=uri, local=a, kind="Announce", payload={"id": uri}, public=True)

    outbox = assert_queries_do_not_grow(lambda: signed_get(client, f"{a.outbox_url}?page=1", b), add, large=25)
    nodeinfo, _sql = count_queries(lambda: client.get("/nodeinfo/2.1"))
    actor, _sql = count_queries(lambda: client.get("/federation/c/sunnyside", HTTP_ACCEPT="application/activity+json"))
    followers, _sql = count_queries(lambda: client.get("/federation/c/sunnyside/followers"))
    assert (outbox, nodeinfo, actor, followers) == (6, 5, 2, 2)  # the outbox page: + the signer and the follow


def test_nothing_more_leaves_a_community_its_organizers_closed(pair, community, organizer):
    a, b = pair
    activity = {"id": f"{a.uri}/activities/late", "type": "Follow", "actor": a.uri, "object": b.uri}
    [delivery] = services.activity_send(local=a, activity=activity, inboxes=[b.inbox_url])
    services.federation_disable(community=community, actor=organizer)
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    assert Delivery.objects.get(pk=delivery.pk).state == Delivery.State.FAILED
