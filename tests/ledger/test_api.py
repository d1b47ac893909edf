import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ledger import services
from apps.ledger.models import Account, Transfer
from apps.peers.factories import MembershipFactory
from scripts.verify_ledger_export import verify_export
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
TRANSFERS = "/api/v1/ledger/transfers/"


def gift(client, to, amount="1.50", key="abc", to_id=None, **extra):
    body = {"community": extra.pop("community"), "currency": "HOUR", "to": to_id or to.pk, "amount": amount, **extra}
    return client.post(TRANSFERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_member_sends_credits_with_an_idempotency_key(api_as, owner, member, community):
    response = gift(api_as(owner), member, community=community.pk, memo="Thanks for the ladder")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["source_holder"], body["target_holder"]) == ("1.50", "Olive Owner", "Max Member")
    assert services.account_for(user=member, community=community, currency="HOUR").balance == Decimal("1.50")


def test_a_retried_request_returns_the_same_transfer_and_pays_once(api_as, owner, member, community):
    client = api_as(owner)
    first = gift(client, member, community=community.pk)
    again = gift(client, member, community=community.pk)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Transfer.objects.count() == 1


def test_the_same_key_from_another_member_is_their_own(api_as, owner, member, organizer, community):
    assert gift(api_as(owner), member, community=community.pk, key="k").status_code == 201
    assert gift(api_as(organizer), member, community=community.pk, key="k").status_code == 201
    assert Transfer.objects.count() == 2


def test_a_missing_idempotency_key_is_a_400(api_as, owner, member, community):
    response = api_as(owner).post(
        TRANSFERS, {"community": community.pk, "currency": "HOUR", "to": member.pk, "amount": "1"}, format="json"
    )
    assert response.status_code == 400 and "Idempotency-Key" in response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "x"}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"to": "x"}, "to"),
        ({"community": 999999}, "community"),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_moves_nothing(api_as, owner, member, community, change, field):
    body = {"community": community.pk, "currency": "HOUR", "to": member.pk, "amount": "1", **change}
    response = api_as(owner).post(TRANSFERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400 and field in response.json()
    assert Transfer.objects.count() == 0


def test_going_past_the_limit_is_a_409_with_the_reason(api_as, owner, member, community):
    response = gift(api_as(owner), member, amount="10.50", community=community.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "limit_exceeded" and "At most 10 hours" in response.json()["detail"]


def test_sending_to_a_non_member_is_a_409_and_writes_nothing(api_as, owner, stranger, community):
    response = gift(api_as(owner), stranger, community=community.pk)
    assert response.status_code == 409 and response.json()["code"] == "recipient_not_member"
    assert not Transfer.objects.exists()
    assert not Account.objects.filter(owner=stranger).exists()


def test_i_list_only_my_transfers_and_accounts(api_as, owner, member, organizer, community):
    gift(api_as(owner), member, community=community.pk, key="a")
    gift(api_as(organizer), owner, community=community.pk, key="b")
    mine = api_as(member).get(TRANSFERS).json()
    assert mine["count"] == 1
    accounts = api_as(member).get("/api/v1/ledger/accounts/").json()
    assert [a["holder"] for a in accounts["results"]] == ["Max Member"]


def test_organizers_see_their_communitys_accounts(api_as, owner, member, organizer, community, other_community):
    gift(api_as(owner), member, community=community.pk)
    outsider = MembershipFactory(community=other_community).user
    services.account_for(user=outsider, community=other_community, currency="HOUR")
    holders = {a["holder"] for a in api_as(organizer).get("/api/v1/ledger/accounts/").json()["results"]}
    assert holders == {"Olive Owner", "Max Member"}


def test_the_transfer_list_query_count_does_not_grow(api_as, owner, member, community):
    client = api_as(member)
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            gift(api_as(owner), member, amount="0.10", key=f"k{next(counter)}", community=community.pk)

    # The member's account ids, count(*), one page with holders' names joined.
    assert assert_queries_do_not_grow(lambda: client.get(TRANSFERS), add) == 3


def test_the_account_list_query_count_does_not_grow(api_as, organizer, community):
    client = api_as(organizer)

    def add(n):
        for _ in range(n):
            services.account_for(user=MembershipFactory(community=community).user, community=community, currency="HOUR")

    # organized communities, count(*), one page of accounts with holders.
    assert assert_queries_do_not_grow(lambda: client.get("/api/v1/ledger/accounts/"), add) == 3


def test_verify_answers_ok_for_members(api_as, owner, member, community):
    gift(api_as(owner), member, community=community.pk)
    body = api_as(member).get("/api/v1/ledger/verify/", {"community": community.pk}).json()
    assert body["ok"] is True and body["checked"] == 2 and body["broken_seq"] is None


def test_verify_and_export_are_for_members_only(api_as, stranger, community):
    assert api_as(stranger).get("/api/v1/ledger/verify/", {"community": community.pk}).status_code == 403
    assert api_as(stranger).get("/api/v1/ledger/export/", {"community": community.pk}).status_code == 403


@pytest.mark.parametrize("raw", ["x", "\u00b2", "\u0663", "1" * 19])  # superscript two, Arabic-Indic three
def test_verify_without_a_community_id_is_a_400(api_as, member, raw):
    for url in ("/api/v1/ledger/verify/", "/api/v1/ledger/export/"):
        response = api_as(member).get(url, {"community": raw})
        assert response.status_code == 400 and "community" in response.json()


def exported(client, community) -> dict:
    response = client.get("/api/v1/ledger/export/", {"community": community.pk})
    assert response.streaming and response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def test_the_export_is_the_whole_chain(api_as, owner, member, community):
    gift(api_as(owner), member, community=community.pk)
    export = exported(api_as(member), community)
    assert export["format"] == "p2pcommons-ledger-export/2"
    assert [e["seq"] for e in export["entries"]] == [1, 2]
    assert verify_export(export).ok


def test_the_export_streams_with_a_query_count_that_does_not_grow(api_as, owner, member, community):
    client = api_as(member)
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            gift(api_as(owner), member, amount="0.10", key=f"k{next(counter)}", community=community.pk)

    # community, membership check; then under the chain lock (a savepoint in tests):
    # head, last entry, accounts; then every entry with its transfer in one chunked query.
    assert assert_queries_do_not_grow(lambda: exported(client, community), add) == 8


def test_sending_to_an_unknown_id_or_a_non_member_gets_one_answer_without_a_name(api_as, owner, stranger, community):
    unknown = gift(api_as(owner), stranger, community=community.pk, key="a", to_id=stranger.pk + 1000)
    outsider = gift(api_as(owner), stranger, community=community.pk, key="b")
    too_large = gift(api_as(owner), stranger, community=community.pk, key="c", to_id=2**64)
    assert outsider.status_code == unknown.status_code == too_large.status_code == 409
    assert outsider.json() == unknown.json() == too_large.json()
    assert outsider.json()["detail"] == "That recipient is not an active member of Sunnyside Commons."
    assert "Sam Stranger" not in outsider.content.decode()
    assert not Transfer.objects.exists()


def test_transfers_cannot_be_changed_through_the_api(api_as, owner, member, community):
    transfer_id = gift(api_as(owner), member, community=community.pk).json()["id"]
    client = api_as(owner)
    assert client.patch(f"{TRANSFERS}{transfer_id}/", {"amount": "9"}, format="json").status_code == 405
    assert client.delete(f"{TRANSFERS}{transfer_id}/").status_code == 405


def test_verify_is_answered_from_the_cache_until_the_chain_head_moves(api_as, owner, member, community):
    gift(api_as(owner), member, community=community.pk, key="a")
    client = api_as(member)
    first = client.get("/api/v1/ledger/verify/", {"community": community.pk}).json()
    with CaptureQueriesContext(connection) as again:
        second = client.get("/api/v1/ledger/verify/", {"community": community.pk}).json()
    assert first == second and second["checked"] == 2
    # membership check, community, the chain head: no entry is read.
    assert not any("ledger_entry" in q["sql"] for q in again.captured_queries)
    gift(api_as(owner), member, community=community.pk, key="b")
    assert client.get("/api/v1/ledger/verify/", {"community": community.pk}).json()["checked"] == 4
