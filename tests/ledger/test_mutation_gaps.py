"""Ledger rules that only mutation testing showed untested (`make mutate`, issue 10 item 16):
each test here kills mutants that every other test let survive."""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from apps.ledger import services
from apps.ledger.chain import export_community, export_stream, verify_community, verify_community_cached
from apps.ledger.models import Account, Chain, Entry, Transfer
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory, UserFactory
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def hours(user, community):
    return services.account_for(user=user, community=community, currency="HOUR")


def send(src, dst, amount, key="k", **kw):
    return services.transfer_create(source=src, target=dst, amount=amount, idempotency_key=key, **kw)


def test_a_retry_key_is_tied_to_both_accounts(community, owner, member, organizer):
    send(hours(owner, community), hours(member, community), "1")
    for src, dst in (
        (hours(owner, community), hours(organizer, community)),
        (hours(organizer, community), hours(member, community)),
    ):
        with pytest.raises(RuleViolation) as refused:
            send(src, dst, "1")
        assert refused.value.code == "idempotency_key_reused"
    assert Transfer.objects.count() == 1


def test_the_stored_fingerprint_is_stable_across_releases(community, owner, member):
    """A retry after an upgrade must still match: the fingerprint is sha256 over the
    sorted, compact JSON of what the transfer is."""
    src, dst = hours(owner, community), hours(member, community)
    transfer = send(src, dst, "2.5", memo="Soup")
    text = json.dumps(
        {
            "amount": "2.50",
            "kind": "gift",
            "memo": "Soup",
            "related": None,
            "reverses": None,
            "source": src.pk,
            "target": dst.pk,
        },
        separators=(",", ":"),
    )
    assert Transfer.objects.get(pk=transfer.pk).fingerprint == hashlib.sha256(text.encode()).hexdigest()


def test_a_member_of_another_community_only_cannot_send_from_an_account_here(community, other_community, member):
    outsider = MembershipFactory(community=other_community).user
    src = hours(outsider, community)
    with pytest.raises(RuleViolation) as refused:
        send(src, hours(member, community), "1")
    assert refused.value.code == "not_member"
    assert not Transfer.objects.exists()


def test_two_communities_keep_separate_chains(community, other_community, owner, member):
    here_a, here_b = hours(owner, community), hours(member, community)
    there_a = hours(MembershipFactory(community=other_community).user, other_community)
    there_b = hours(MembershipFactory(community=other_community).user, other_community)
    send(here_a, here_b, "1", key="h1")
    send(there_a, there_b, "2", key="t1")
    send(here_b, here_a, "3", key="h2")
    assert list(Entry.objects.filter(community=community).order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4]
    assert list(Entry.objects.filter(community=other_community).values_list("seq", flat=True)) == [1, 2]
    assert Chain.objects.get(community=community).last_seq == 4
    assert Chain.objects.get(community=other_community).last_seq == 2
    assert verify_community(community=community).ok and verify_community(community=other_community).ok
    export = export_community(community=other_community)
    assert [e["seq"] for e in export["entries"]] == [1, 2]
    assert {e["account"] for e in export["entries"]} == {there_a.pk, there_b.pk}


def test_the_export_names_its_community_and_each_accounts_holder(community, owner, member):
    send(hours(owner, community), hours(member, community), "1")
    with time_machine.travel(datetime(2026, 5, 1, 9, 30, tzinfo=UTC), tick=False):
        export = export_community(community=community)
    assert export["community"] == {"id": community.pk, "slug": "sunnyside", "name": "Sunnyside Commons"}
    assert export["exported_at"] == "2026-05-01T09:30:00.000000+00:00"
    assert {a["holder"] for a in export["accounts"]} == {"Olive Owner", "Max Member"}


def test_entry_times_in_the_export_always_carry_microseconds(community, owner, member):
    with time_machine.travel(datetime(2026, 5, 1, 9, 30, tzinfo=UTC), tick=False):
        send(hours(owner, community), hours(member, community), "1")
    export = export_community(community=community)
    assert {e["created_at"] for e in export["entries"]} == {"2026-05-01T09:30:00.000000+00:00"}


def test_the_downloaded_export_keeps_non_ascii_memos_readable(community, owner, member):
    send(hours(owner, community), hours(member, community), "1", memo="Crème brûlée for Zoë")
    community.name = "Sonnenhügel"
    community.save()
    text = "".join(export_stream(community=community))
    assert "Crème brûlée for Zoë" in text and "Sonnenhügel" in text
    assert "\\u" not in text
    assert json.loads(text)["entries"][0]["memo"] == "Crème brûlée for Zoë"


def test_an_export_started_before_a_transfer_ends_at_its_snapshot(community, owner, member):
    send(hours(owner, community), hours(member, community), "1", key="a")
    stream = export_stream(community=community)
    head = next(stream)  # the snapshot is taken here
    send(hours(member, community), hours(owner, community), "1", key="b")
    export = json.loads(head + "".join(stream))
    assert [e["seq"] for e in export["entries"]] == [1, 2]
    balances = {a["id"]: Decimal(a["balance"]) for a in export["accounts"]}
    assert balances[hours(owner, community).pk] == Decimal("-1.00")


def test_common_funds_of_different_names_are_separate_and_open_at_the_default_limit(community):
    community.default_hour_limit = Decimal("-7")
    community.save()
    fund = services.community_account(community=community, currency="HOUR")
    tools_fund = services.community_account(community=community, currency="HOUR", name="Tool fund")
    assert fund.pk != tools_fund.pk
    assert (fund.name, tools_fund.name) == ("Common fund", "Tool fund")
    assert fund.owner is None and fund.limit == tools_fund.limit == Decimal("-7.00")
    assert services.community_account(community=community, currency="HOUR").pk == fund.pk


@pytest.mark.parametrize("amount", ["lots", "0", "1.005", "10000000000"])
def test_a_bad_amount_is_a_field_error_on_the_amount(community, owner, member, amount):
    with pytest.raises(ValidationError) as refused:
        send(hours(owner, community), hours(member, community), amount)
    assert list(refused.value.message_dict) == ["amount"]


def test_a_refusal_at_the_limit_says_where_the_balance_would_go(community, owner, member):
    community.default_hour_limit = Decimal("-5")
    community.save()
    with pytest.raises(RuleViolation) as refused:
        send(hours(owner, community), hours(member, community), "6")
    assert refused.value.code == "limit_exceeded"
    assert str(refused.value).startswith("That would take the balance to -6 hours, below its limit of -5 hours.")


def test_a_gift_to_oneself_is_refused_in_the_senders_words(community, owner):
    with pytest.raises(RuleViolation) as refused:
        services.gift_send(
            sender=owner,
            recipient=owner,
            community=community,
            currency="HOUR",
            amount="1",
            memo="",
            idempotency_key="g",
        )
    assert (refused.value.code, str(refused.value)) == ("same_account", "You can't send credits to yourself.")
    assert not Transfer.objects.exists()


def test_a_gift_notice_names_the_sender_and_opens_the_transfer(community, owner, member):
    transfer = services.gift_send(
        sender=owner, recipient=member, community=community, currency="HOUR", amount="1", memo="", idempotency_key="g"
    )
    notice = Notification.objects.get(recipient=member, kind="ledger.received")
    assert notice.actor == owner
    assert (notice.target_type, notice.target_id) == (ContentType.objects.get_for_model(Transfer), transfer.pk)


def test_a_member_with_the_largest_id_the_database_stores_can_receive_a_gift(community, owner):
    biggest = UserFactory(pk=services.MAX_ID)
    MembershipFactory(community=community, user=biggest)
    assert services.gift_recipient(community=community, user_id=services.MAX_ID) == biggest


def test_an_organizer_with_an_account_of_their_own_reverses_a_transfer_between_others(
    community, owner, member, organizer
):
    send(hours(organizer, community), hours(owner, community), "1", key="own")
    transfer = send(hours(owner, community), hours(member, community), "2", key="theirs")
    reversal = services.transfer_reverse(transfer=transfer, actor=organizer, reason="Sent by mistake")
    assert reversal.reverses == transfer and reversal.source == hours(member, community)


def test_a_changed_limit_changes_that_account_only(community, owner, member, organizer):
    untouched = hours(member, community).limit
    services.account_set_limit(account=hours(owner, community), actor=organizer, limit="-30", reason="Helper")
    assert hours(owner, community).limit == Decimal("-30.00")
    assert hours(member, community).limit == untouched


@pytest.mark.parametrize("reason", ["  ", "x" * 201])
def test_a_limit_change_with_a_blank_or_long_reason_is_a_field_error_on_the_reason(community, owner, organizer, reason):
    with pytest.raises(ValidationError) as refused:
        services.account_set_limit(account=hours(owner, community), actor=organizer, limit="-30", reason=reason)
    assert list(refused.value.message_dict) == ["reason"]


def test_a_cached_verify_of_one_community_sees_its_own_new_transfers(community, other_community, owner, member):
    send(hours(owner, community), hours(member, community), "1", key="here")
    there_a = hours(MembershipFactory(community=other_community).user, other_community)
    there_b = hours(MembershipFactory(community=other_community).user, other_community)
    send(there_a, there_b, "1", key="t1")
    assert verify_community_cached(community=other_community).checked == 2
    send(there_b, there_a, "1", key="t2")
    assert verify_community_cached(community=other_community).checked == 4


def test_a_cached_verify_of_any_community_is_one_query(
    community, other_community, owner, member, django_assert_num_queries
):
    send(hours(owner, community), hours(member, community), "1", key="here")
    there_a = hours(MembershipFactory(community=other_community).user, other_community)
    there_b = hours(MembershipFactory(community=other_community).user, other_community)
    send(there_a, there_b, "1", key="t1")
    for place in (community, other_community):
        verify_community_cached(community=place)
        with django_assert_num_queries(1):
            assert verify_community_cached(community=place).ok


def test_the_common_fund_is_never_a_members_account_of_the_same_name(community, member):
    own = hours(member, community)
    Account.objects.filter(pk=own.pk).update(name="Common fund")
    fund = services.community_account(community=community, currency="HOUR")
    assert fund.pk != own.pk and fund.owner is None
