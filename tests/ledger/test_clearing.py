"""Clearing accounts between federated communities (apps/ledger/clearing.py).

Two communities of this test site play the two servers: Sunnyside (A) and Riverside (B). A member
of B paying a member of A is B: member -> B's clearing account for A, and A: A's clearing account
for B -> member, under one shared "fed:..." key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from apps.ledger import clearing, log, services
from apps.ledger.chain import verify_community
from apps.ledger.clearing import (
    GRACE,
    clearing_account,
    clearing_accounts_of,
    clearing_pay_in,
    clearing_pay_out,
    clearing_reconcile,
    clearing_set_limit,
    clearing_statement,
)
from apps.ledger.models import Account, ClearingCheck, LimitChange, Transfer
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory
from p2pcommons.errors import RuleViolation

A_URI = "https://sunny.example/c/sunnyside"
B_URI = "https://river.example/c/riverside"
KIND = "ledger.clearing_mismatch"


@pytest.fixture
def river_member(other_community):
    return MembershipFactory(
        community=other_community, user__email="rita@example.org", user__profile__display_name="Rita River"
    ).user


@pytest.fixture
def river_organizer(other_community):
    return OrganizerMembershipFactory(
        community=other_community, user__email="rob@example.org", user__profile__display_name="Rob River"
    ).user


def give_credit(community, organizer, peer_uri, peer_name, limit="-20", currency="HOUR"):
    return clearing_set_limit(
        community=community, peer_uri=peer_uri, peer_name=peer_name, currency=currency, limit=limit, actor=organizer
    )


def pay_across(*, payer, payer_home, payee, payee_home, amount, key, currency="HOUR"):
    """B's member pays A's member: pay in at B, pay out at A, one shared key."""
    paid_in = clearing_pay_in(
        community=payer_home,
        peer_uri=A_URI,
        peer_name=payee_home.name,
        member=payer,
        amount=amount,
        currency=currency,
        idempotency_key=key,
        memo="Fee for the ladder",
    )
    paid_out = pay_out(payee_home, payee, amount, key, currency=currency)
    return paid_in, paid_out


def pay_out(community, member, amount, key, *, currency="HOUR", memo="Fee for the ladder"):
    return clearing_pay_out(
        community=community,
        peer_uri=B_URI,
        peer_name="Riverside Neighbors",
        member=member,
        amount=amount,
        currency=currency,
        idempotency_key=key,
        memo=memo,
    )


@pytest.fixture
def paid(community, other_community, organizer, owner, river_member):
    """Rita (Riverside) paid Olive (Sunnyside) 3 hours for a ladder; Sunnyside gives Riverside 20 hours of credit."""
    give_credit(community, organizer, B_URI, "Riverside Neighbors")
    return pay_across(
        payer=river_member,
        payer_home=other_community,
        payee=owner,
        payee_home=community,
        amount="3",
        key="fed:ladder-1",
    )


def clearing_of(community, peer_uri, currency="HOUR"):
    return Account.objects.get(community=community, peer=peer_uri, currency=currency)


def sums_to_zero(community, currency="HOUR"):
    total = Account.objects.filter(community=community, currency=currency).aggregate(s=Sum("balance"))["s"]
    return total == 0


# --- Paying across ----------------------------------------------------------------------------------


def test_a_payment_across_moves_credit_through_both_clearing_accounts_which_stay_opposite(
    paid, community, other_community, owner, river_member
):
    paid_in, paid_out = paid
    assert paid_in.source.owner == river_member and paid_in.target == clearing_of(other_community, A_URI)
    assert paid_out.source == clearing_of(community, B_URI) and paid_out.target.owner == owner
    assert (paid_in.kind, paid_out.kind) == ("exchange", "exchange")
    assert clearing_of(other_community, A_URI).balance == Decimal("3.00")
    assert clearing_of(community, B_URI).balance == Decimal("-3.00")
    assert services.account_for(user=owner, community=community, currency="HOUR").balance == Decimal("3.00")
    assert services.account_for(user=river_member, community=other_community, currency="HOUR").balance == Decimal(
        "-3.00"
    )
    assert sums_to_zero(community) and sums_to_zero(other_community)


def test_a_clearing_account_has_no_owner_and_reads_as_clearing_with_the_neighbour(paid, community):
    account = clearing_of(community, B_URI)
    assert account.owner is None and account.is_clearing
    assert account.holder_name == "Clearing with Riverside Neighbors"
    assert list(clearing_accounts_of(community=community)) == [account]


def test_a_new_clearing_account_gives_the_neighbour_no_credit(community, owner):
    account = clearing_account(community=community, peer_uri=B_URI, peer_name="Riverside Neighbors", currency="HOUR")
    assert account.limit == 0
    with pytest.raises(RuleViolation) as refused:
        pay_out(community, owner, "1", "fed:first")
    assert refused.value.code == "clearing_limit"
    assert not Transfer.objects.exists()


def test_a_payment_out_past_the_neighbours_limit_is_refused_and_writes_nothing(community, organizer, owner):
    give_credit(community, organizer, B_URI, "Riverside Neighbors", limit="-5")
    pay_out(community, owner, "3", "fed:one")
    with pytest.raises(RuleViolation) as refused:
        pay_out(community, owner, "3", "fed:two")
    assert refused.value.code == "clearing_limit"
    assert refused.value.data == {"available": "2.00"}
    assert "Riverside Neighbors" in str(refused.value)
    assert clearing_of(community, B_URI).balance == Decimal("-3.00")
    assert Transfer.objects.count() == 1
    pay_out(community, owner, "2", "fed:three")  # exactly up to the limit is fine
    assert clearing_of(community, B_URI).balance == Decimal("-5.00")


def test_a_payment_in_is_bounded_by_the_payers_own_limit_not_the_neighbours(other_community, river_member):
    with pytest.raises(RuleViolation) as refused:
        clearing_pay_in(
            community=other_community,
            peer_uri=A_URI,
            peer_name="Sunnyside Commons",
            member=river_member,
            amount="11",
            currency="HOUR",
            idempotency_key="fed:too-much",
            memo="",
        )
    assert refused.value.code == "limit_exceeded"
    assert not Transfer.objects.exists()


def test_a_retried_delivery_pays_once(paid, community, other_community, owner, river_member):
    paid_in, paid_out = paid
    again_in, again_out = pay_across(
        payer=river_member,
        payer_home=other_community,
        payee=owner,
        payee_home=community,
        amount="3",
        key="fed:ladder-1",
    )
    assert (again_in.pk, again_out.pk) == (paid_in.pk, paid_out.pk)
    assert not again_in.was_created and not again_out.was_created
    assert clearing_of(community, B_URI).balance == Decimal("-3.00")
    assert Transfer.objects.count() == 2


def test_a_shared_key_reused_for_another_payment_is_refused(paid, community, owner):
    with pytest.raises(RuleViolation) as refused:
        pay_out(community, owner, "4", "fed:ladder-1")
    assert refused.value.code == "idempotency_key_reused"
    assert clearing_of(community, B_URI).balance == Decimal("-3.00")


@pytest.mark.parametrize("key", ["ladder-1", "gift:1:x", "fed:", "fed:" + "x" * 100, "fed:new\nline"])
def test_a_key_that_is_not_a_shared_fed_key_is_refused(community, organizer, owner, key):
    give_credit(community, organizer, B_URI, "Riverside Neighbors")
    with pytest.raises(ValidationError):
        pay_out(community, owner, "1", key)
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("uri", ["", "river.example", "ftp://river.example/x", "https://", "https://a b.example/"])
def test_a_neighbour_needs_a_web_address(community, uri):
    with pytest.raises(ValidationError):
        clearing_account(community=community, peer_uri=uri, peer_name="x", currency="HOUR")


def test_only_a_member_of_the_community_is_paid_out(community, organizer, stranger):
    give_credit(community, organizer, B_URI, "Riverside Neighbors")
    with pytest.raises(RuleViolation) as refused:
        pay_out(community, stranger, "1", "fed:stranger")
    assert refused.value.code == "not_member"
    assert not Transfer.objects.exists()


def test_a_renamed_neighbour_is_shown_by_its_new_name(paid, community, owner):
    clearing_pay_out(
        community=community,
        peer_uri=B_URI,
        peer_name="Riverside Village",
        member=owner,
        amount="1",
        currency="HOUR",
        idempotency_key="fed:renamed",
        memo="",
    )
    assert clearing_of(community, B_URI).holder_name == "Clearing with Riverside Village"
    assert Account.objects.filter(community=community).exclude(peer="").count() == 1


def test_each_currency_has_its_own_clearing_account(community, organizer, owner):
    give_credit(community, organizer, B_URI, "Riverside Neighbors", limit="-10", currency="CREDIT")
    pay_out(community, owner, "4", "fed:credits", currency="CREDIT")
    assert clearing_of(community, B_URI, "CREDIT").balance == Decimal("-4.00")
    assert not Account.objects.filter(community=community, peer=B_URI, currency="HOUR").exists()


def test_the_ledgers_still_verify_with_clearing_transfers(paid, community, other_community, capsys):
    for each in (community, other_community):
        log.publish_checkpoint(community=each)
        report = verify_community(community=each)
        assert report.ok, report
    call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "sunnyside: " in out and "riverside: " in out


# --- Limits -----------------------------------------------------------------------------------------


def test_an_organizer_sets_the_neighbours_limit_and_it_is_recorded(community, organizer):
    account = give_credit(community, organizer, B_URI, "Riverside Neighbors", limit="-15")
    assert account.limit == Decimal("-15.00")
    change = LimitChange.objects.get()
    assert (change.account, change.new_limit, change.actor) == (account, Decimal("-15.00"), organizer)
    assert "Riverside Neighbors" in change.reason


def test_only_organizers_of_the_community_set_a_neighbours_limit(
    community, other_community, member, river_organizer, organizer
):
    for actor in (member, river_organizer):
        with pytest.raises(RuleViolation) as refused:
            give_credit(community, actor, B_URI, "Riverside Neighbors")
        assert refused.value.code == "not_organizer"
    assert not Account.objects.filter(peer=B_URI).exists()
    assert not LimitChange.objects.exists()


@pytest.mark.parametrize("limit", ["5", "-41", "lots", "NaN"])
def test_a_neighbours_limit_is_zero_or_below_and_never_below_the_floor(community, organizer, limit):
    with pytest.raises(ValidationError):
        give_credit(community, organizer, B_URI, "Riverside Neighbors", limit=limit)
    assert not LimitChange.objects.exists()


def test_a_limit_above_what_the_neighbour_already_owes_is_refused(paid, community, organizer):
    with pytest.raises(RuleViolation) as refused:
        give_credit(community, organizer, B_URI, "Riverside Neighbors", limit="-2")
    assert refused.value.code == "limit_above_balance"


# --- Not a gift target; read right ------------------------------------------------------------------


def test_a_clearing_account_is_never_offered_as_someone_to_send_to(paid, web_as, community, owner, member):
    page = web_as(member).get(reverse("ledger:mine")).content.decode()
    assert "Olive Owner" in page and "Clearing with" not in page and "Riverside" not in page


def test_a_members_accounts_list_in_the_api_holds_no_clearing_account(paid, api_as, owner):
    answer = api_as(owner).get("/api/v1/ledger/accounts/").json()
    assert [row["holder"] for row in answer["results"]] == ["Olive Owner"]


def test_the_members_history_names_the_neighbouring_community(paid, web_as, owner):
    page = web_as(owner).get(reverse("ledger:mine")).content.decode()
    assert "from Clearing with Riverside Neighbors" in page


def test_the_community_ledger_shows_clearing_transfers_with_the_neighbours_name(paid, web_as, community, member):
    page = web_as(member).get(reverse("ledger:community", args=[community.slug])).content.decode()
    assert "Clearing with Riverside Neighbors" in page and "Exchange settlement" in page


# --- Statements -------------------------------------------------------------------------------------


def test_a_statement_lists_shared_payments_signed_from_this_side_with_the_newest_checkpoint(
    paid, community, other_community
):
    log.publish_checkpoint(community=community)
    ours = clearing_statement(community=community, peer_uri=B_URI, currency="HOUR")
    theirs = clearing_statement(community=other_community, peer_uri=A_URI, currency="HOUR")
    assert set(ours) == {"peer", "currency", "balance", "transfers", "as_of", "checkpoint"}
    assert (ours["peer"], ours["currency"], ours["balance"]) == (B_URI, "HOUR", "-3.00")
    assert ours["transfers"] == {"fed:ladder-1": "-3.00"}
    assert theirs["transfers"] == {"fed:ladder-1": "3.00"} and theirs["balance"] == "3.00"
    assert ours["checkpoint"] == log.latest_checkpoint(community).note
    assert theirs["checkpoint"] is None  # Riverside has no checkpoint yet
    assert datetime.fromisoformat(ours["as_of"]).tzinfo is not None


def test_a_shared_payment_reversed_here_nets_out_of_the_statement_but_not_out_of_the_balance_check(
    paid, community, other_community
):
    # An organizer undoes Sunnyside's side alone: Riverside still has the payment, which the
    # check must show once the grace has passed (their key is missing here, the balances differ).
    other_organizer = OrganizerMembershipFactory(community=community).user
    services.transfer_reverse(transfer=paid[1], actor=other_organizer, reason="Paid twice by mistake")
    statement = clearing_statement(community=community, peer_uri=B_URI, currency="HOUR")
    assert (statement["transfers"], statement["balance"]) == ({}, "0.00")
    assert reconcile(community, riverside_says(other_community)).ok  # it may be on its way here
    later = timezone.now() + GRACE + timedelta(minutes=1)
    check = reconcile(community, riverside_says(other_community), now=later)
    assert not check.ok and codes(check) == ["balance", "missing_here"]


def test_a_payment_refused_by_the_neighbour_and_reversed_by_the_payer_leaves_both_sides_matching(
    community, other_community, river_member
):
    # Riverside paid in; Sunnyside refused to pay out (no credit given); Riverside reversed its side.
    paid_in = clearing_pay_in(
        community=other_community,
        peer_uri=A_URI,
        peer_name="Sunnyside Commons",
        member=river_member,
        amount="2",
        currency="HOUR",
        idempotency_key="fed:refused",
        memo="",
    )
    services.transfer_create(
        source=paid_in.target,
        target=paid_in.source,
        amount=paid_in.amount,
        idempotency_key=f"reversal:{paid_in.pk}",
        kind=Transfer.Kind.REVERSAL,
        reverses=paid_in,
        enforce_membership=False,
    )
    theirs = riverside_says(other_community)
    assert (theirs["transfers"], theirs["balance"]) == ({}, "0.00")
    later = timezone.now() + GRACE + timedelta(minutes=1)
    assert reconcile(community, theirs, now=later).ok


def test_a_statement_for_a_neighbour_never_paid_is_empty(community):
    statement = clearing_statement(community=community, peer_uri=B_URI, currency="CREDIT")
    assert (statement["balance"], statement["transfers"], statement["checkpoint"]) == ("0.00", {}, None)
    assert not Account.objects.exists()


# --- Reconciliation ---------------------------------------------------------------------------------


def reconcile(community, theirs, *, vkey="", now=None, peer=B_URI, name="Riverside Neighbors"):
    return clearing_reconcile(
        community=community, peer_uri=peer, peer_name=name, currency="HOUR", theirs=theirs, their_log_vkey=vkey, now=now
    )


def riverside_says(other_community):
    return clearing_statement(community=other_community, peer_uri=A_URI, currency="HOUR")


def codes(check):
    return [p["code"] for p in check.detail["problems"]]


def test_two_matching_sides_reconcile_ok_including_their_signed_checkpoint(paid, community, other_community):
    log.publish_checkpoint(community=other_community)
    check = reconcile(community, riverside_says(other_community), vkey=log.log_identity(other_community)[1])
    assert check.ok and codes(check) == []
    assert (check.our_balance, check.their_balance) == (Decimal("-3.00"), Decimal("3.00"))
    assert check.peer_name == "Riverside Neighbors" and check.alerted_at is None
    assert not Notification.objects.filter(kind=KIND).exists()


def test_balances_that_are_not_opposite_are_a_mismatch(paid, community, other_community):
    theirs = riverside_says(other_community) | {"balance": "5.00"}
    check = reconcile(community, theirs)
    assert not check.ok and codes(check) == ["balance"]


def test_one_payment_with_amounts_that_are_not_opposite_is_a_mismatch(paid, community, other_community):
    theirs = riverside_says(other_community) | {"transfers": {"fed:ladder-1": "2.00"}, "balance": "2.00"}
    check = reconcile(community, theirs)
    assert not check.ok and "amount" in codes(check)
    assert check.detail["problems"][-1]["key"] == "fed:ladder-1"


def test_our_payment_missing_on_their_side_waits_out_the_grace_then_is_a_mismatch(community, organizer, owner):
    give_credit(community, organizer, B_URI, "Riverside Neighbors")
    pay_out(community, owner, "3", "fed:not-there-yet")
    theirs = {"peer": A_URI, "currency": "HOUR", "balance": "0.00", "transfers": {}, "as_of": "", "checkpoint": None}
    within = reconcile(community, theirs, now=timezone.now() + GRACE - timedelta(minutes=1))
    assert within.ok and within.detail["waiting"] == 1
    after = reconcile(community, theirs, now=timezone.now() + GRACE + timedelta(minutes=1))
    assert not after.ok and codes(after) == ["balance", "missing_there"]
    assert after.detail["problems"][1] == {"code": "missing_there", "key": "fed:not-there-yet", "amount": "-3.00"}


def test_their_payment_missing_here_is_a_mismatch_once_first_seen_longer_ago_than_the_grace(community):
    theirs = {"currency": "HOUR", "balance": "4.00", "transfers": {"fed:only-theirs": "4.00"}, "checkpoint": None}
    start = timezone.now()
    first = reconcile(community, theirs, now=start)
    assert first.ok and first.detail["pending_theirs"] == {"fed:only-theirs": start.isoformat()}
    still = reconcile(community, theirs, now=start + GRACE - timedelta(seconds=1))
    assert still.ok
    late = reconcile(community, theirs, now=start + GRACE + timedelta(seconds=1))
    assert not late.ok and "missing_here" in codes(late)


def test_a_neighbour_cannot_make_us_wait_on_more_missing_payments_than_we_keep(community, monkeypatch):
    monkeypatch.setattr(clearing, "MAX_WAITING_KEYS", 2)
    transfers = {f"fed:bogus-{n}": "1.00" for n in range(3)}
    theirs = {"currency": "HOUR", "balance": "3.00", "transfers": transfers, "checkpoint": None}
    first = reconcile(community, theirs)
    assert not first.ok and len(first.detail["pending_theirs"]) == 2
    assert [p["key"] for p in first.detail["problems"] if p["code"] == "missing_here"] == ["fed:bogus-2"]
    again = reconcile(community, theirs | {"transfers": {f"fed:other-{n}": "1.00" for n in range(3)}})
    assert len(again.detail["pending_theirs"]) == 2


def test_a_checkpoint_not_signed_by_their_log_key_is_a_mismatch(paid, community, other_community):
    log.publish_checkpoint(community=other_community)
    log.publish_checkpoint(community=community)
    theirs = riverside_says(other_community)
    wrong_key = reconcile(community, theirs, vkey=log.log_identity(community)[1])
    assert not wrong_key.ok and codes(wrong_key) == ["checkpoint"]
    forged = theirs | {"checkpoint": theirs["checkpoint"].replace("\n2\n", "\n3\n", 1)}
    assert forged["checkpoint"] != theirs["checkpoint"]
    check = reconcile(community, forged, vkey=log.log_identity(other_community)[1])
    assert not check.ok and codes(check) == ["checkpoint"]


@pytest.mark.parametrize(
    "theirs",
    [
        None,
        [],
        "statement",
        {"currency": "CREDIT", "balance": "0.00", "transfers": {}},
        {"currency": "HOUR", "balance": 3.0, "transfers": {}},
        {"currency": "HOUR", "balance": "3.001", "transfers": {}},
        {"currency": "HOUR", "balance": "Infinity", "transfers": {}},
        {"currency": "HOUR", "balance": "1e40", "transfers": {}},
        {"currency": "HOUR", "balance": "0.00", "transfers": []},
        {"currency": "HOUR", "balance": "0.00", "transfers": {"ladder": "1.00"}},
        {"currency": "HOUR", "balance": "0.00", "transfers": {"fed:x": "NaN"}},
        {"currency": "HOUR", "balance": "0.00", "transfers": {"fed:x": "0.00"}},
        {"currency": "HOUR", "balance": "0.00", "transfers": {"fed:x": {"amount": "1"}}},
        {"currency": "HOUR", "balance": "0.00", "transfers": {}, "checkpoint": 42},
        {"currency": "HOUR", "balance": "0.00", "transfers": {}, "as_of": "yesterday"},
        {"currency": "HOUR", "balance": "0.00", "transfers": {}, "as_of": "2026-12-03T10:00:00"},
    ],
)
def test_a_malformed_statement_is_a_failed_check_with_a_reason_never_a_crash(community, theirs):
    check = reconcile(community, theirs)
    assert not check.ok and codes(check) == ["malformed"]
    assert check.their_balance is None and check.detail["problems"][0]["part"]


def test_organizers_hear_of_a_new_mismatch_once_and_once_when_it_matches_again(
    paid, community, other_community, organizer, owner
):
    bad = riverside_says(other_community) | {"balance": "9.00"}
    reconcile(community, bad)
    reconcile(community, bad)
    told = Notification.objects.filter(kind=KIND, recipient=organizer)
    assert told.count() == 1
    assert "Our clearing account with Riverside Neighbors in time credits does not match their side." in told[0].text
    assert "they should be opposite" in told[0].text
    assert not Notification.objects.filter(kind=KIND, recipient=owner).exists()
    good = reconcile(community, riverside_says(other_community))
    assert good.ok and good.alerted_at is not None
    reconcile(community, riverside_says(other_community))
    texts = list(Notification.objects.filter(kind=KIND).order_by("id").values_list("text", flat=True))
    assert len(texts) == 2
    assert texts[1] == "Our clearing account with Riverside Neighbors in time credits matches their side again."


def test_another_problem_during_a_mismatch_is_told_too(paid, community, other_community, organizer):
    reconcile(community, riverside_says(other_community) | {"balance": "9.00"})
    reconcile(community, None)
    assert Notification.objects.filter(kind=KIND, recipient=organizer).count() == 2


def test_a_mismatch_is_not_told_to_another_communitys_organizers(paid, community, other_community, river_organizer):
    reconcile(community, riverside_says(other_community) | {"balance": "9.00"})
    assert not Notification.objects.filter(recipient=river_organizer).exists()
    assert ClearingCheck.objects.filter(community=other_community).count() == 0


def test_the_two_communities_reconcile_with_each_other_both_ways(paid, community, other_community):
    sunnyside_says = clearing_statement(community=community, peer_uri=B_URI, currency="HOUR")
    at_river = reconcile(other_community, sunnyside_says, peer=A_URI, name="Sunnyside Commons")
    at_sunny = reconcile(community, riverside_says(other_community))
    assert at_river.ok and at_sunny.ok


# --- Admin -------------------------------------------------------------------------------------------


def test_an_organizer_sees_and_limits_the_clearing_account_in_the_admin(paid, web_as, community, organizer):
    account = clearing_of(community, B_URI)
    client = web_as(organizer)
    listing = client.get(reverse("admin:ledger_account_changelist") + "?held_by=neighbour").content.decode()
    assert "Clearing with Riverside Neighbors" in listing and "Olive Owner" not in listing
    client.post(
        reverse("admin:ledger_account_changelist"),
        {"action": "change_limit", "_selected_action": [account.pk], "apply": "1", "limit": "-30", "reason": "Good"},
    )
    account.refresh_from_db()
    assert account.limit == Decimal("-30.00") and LimitChange.objects.filter(account=account).count() == 2


def test_clearing_checks_are_read_only_in_the_admin_and_only_for_their_community(
    paid, web_as, community, other_community, organizer, river_organizer
):
    check = reconcile(community, riverside_says(other_community) | {"balance": "9.00"})
    client = web_as(organizer)
    page = client.get(reverse("admin:ledger_clearingcheck_change", args=[check.pk])).content.decode()
    assert "they should be opposite" in page and 'name="_save"' not in page
    assert client.get(reverse("admin:ledger_clearingcheck_add")).status_code == 403
    listing = client.get(reverse("admin:ledger_clearingcheck_changelist")).content.decode()
    assert "Riverside Neighbors" in listing and "they should be opposite" in listing
    client = web_as(river_organizer)
    theirs_listing = client.get(reverse("admin:ledger_clearingcheck_changelist")).content.decode()
    assert "they should be opposite" not in theirs_listing
    other = client.get(reverse("admin:ledger_clearingcheck_change", args=[check.pk]))
    assert other.status_code == 302  # another community's row: "doesn't exist"
