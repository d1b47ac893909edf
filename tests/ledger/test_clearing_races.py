"""Clearing accounts under real concurrency (PostgreSQL): the neighbour's limit holds when payments
race, a redelivered payment racing itself pays once, and reconciliations racing alert once."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from apps.ledger.chain import verify_community
from apps.ledger.clearing import clearing_pay_out, clearing_reconcile, clearing_set_limit
from apps.ledger.models import Account, Chain, ClearingCheck, Transfer
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together

B_URI = "https://river.example/c/riverside"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def pay_out(community, member, amount, key):
    return clearing_pay_out(
        community=community,
        peer_uri=B_URI,
        peer_name="Riverside Neighbors",
        member=member,
        amount=amount,
        currency="HOUR",
        idempotency_key=key,
        memo="Fee",
    )


def give_credit(community, organizer, limit):
    # No name here, so the racing payments below each bring the neighbour's name to keep: that
    # write must come after the chain head's lock, or two payments deadlock.
    clearing_set_limit(community=community, peer_uri=B_URI, currency="HOUR", limit=limit, actor=organizer)


def test_two_racing_payments_that_together_pass_the_neighbours_limit_are_not_both_paid(community, organizer):
    give_credit(community, organizer, "-5")
    olive, max_ = (MembershipFactory(community=community).user for _ in range(2))
    results = run_together(
        lambda: pay_out(community, olive, "3", "fed:a"),
        lambda: pay_out(community, max_, "3", "fed:b"),
    )
    paid = [r for r in results if isinstance(r, Transfer)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert len(paid) == 1 and len(refused) == 1, results
    assert refused[0].code == "clearing_limit"
    clearing = Account.objects.get(community=community, peer=B_URI)
    assert clearing.balance == Decimal("-3.00") >= clearing.limit
    assert Transfer.objects.count() == 1
    assert verify_community(community=community).ok


def test_many_racing_payments_never_take_the_clearing_account_past_its_limit(community, organizer):
    give_credit(community, organizer, "-10")
    members = [MembershipFactory(community=community).user for _ in range(6)]
    calls = [lambda m=m, i=i: pay_out(community, m, "2", f"fed:many-{i}") for i, m in enumerate(members)]
    results = run_together(*calls)
    paid = [r for r in results if isinstance(r, Transfer)]
    assert len(paid) == 5, results
    assert all(isinstance(r, RuleViolation) and r.code == "clearing_limit" for r in results if r not in paid)
    clearing = Account.objects.get(community=community, peer=B_URI)
    assert (clearing.balance, clearing.peer_name) == (Decimal("-10.00"), "Riverside Neighbors")
    assert verify_community(community=community).ok


def test_the_same_delivery_racing_itself_pays_once(community, organizer, owner):
    give_credit(community, organizer, "-20")
    results = run_together(*[lambda: pay_out(community, owner, "4", "fed:twice") for _ in range(4)])
    assert all(isinstance(r, Transfer) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Account.objects.get(community=community, peer=B_URI).balance == Decimal("-4.00")


def test_racing_reconciliations_of_one_mismatch_alert_the_organizers_once(community, organizer):
    bad = {"currency": "HOUR", "balance": "7.00", "transfers": {}, "checkpoint": None}

    def check():
        return clearing_reconcile(
            community=community, peer_uri=B_URI, peer_name="Riverside Neighbors", currency="HOUR", theirs=bad
        )

    results = run_together(check, check, check)
    assert all(isinstance(r, ClearingCheck) and not r.ok for r in results), results
    assert Notification.objects.filter(kind="ledger.clearing_mismatch", recipient=organizer).count() == 1


def test_a_payment_waiting_for_the_chain_head_holds_no_lock_on_the_clearing_account(community, organizer, owner):
    """The lock order is chain head, then accounts: a payment that locked the clearing account
    (keeping the neighbour's new name, say) before waiting for the chain head could deadlock
    with a payment holding the chain head and waiting for that account."""
    give_credit(community, organizer, "-10")  # kept under the host's name; the payment brings another
    clearing = Account.objects.get(community=community, peer=B_URI)
    Chain.objects.get_or_create(community=community)
    held, release, results = threading.Event(), threading.Event(), []

    def hold_the_chain_head():
        try:
            with transaction.atomic():
                Chain.objects.select_for_update().get(community=community)
                held.set()
                release.wait(20)
        finally:
            connection.close()

    def pay():
        try:
            held.wait(20)
            results.append(pay_out(community, owner, "1", "fed:waits"))
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hold_the_chain_head), threading.Thread(target=pay)]
    for thread in threads:
        thread.start()
    try:
        held.wait(20)
        time.sleep(1.5)  # the payment is now waiting for the chain head
        with transaction.atomic():
            Account.objects.select_for_update(nowait=True).get(pk=clearing.pk)
    except DatabaseError as exc:
        pytest.fail(f"the waiting payment holds the clearing account's row: {exc}")
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(results) == 1 and isinstance(results[0], Transfer), results
    clearing.refresh_from_db()
    assert (clearing.balance, clearing.peer_name) == (Decimal("-1.00"), "Riverside Neighbors")
