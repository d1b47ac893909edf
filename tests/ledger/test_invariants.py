"""Invariant 2, attacked: random transfers with retries and limit breaks; races; the
database itself refusing changes."""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.ledger import services
from apps.ledger.chain import verify_community
from apps.ledger.models import Account, Entry, Transfer
from apps.peers.factories import MembershipFactory
from p2pcommons.errors import RuleViolation

EXAMPLES = 2
# 2 x 5000 = 10k random transfers on PostgreSQL (the bar); fewer on the
# newcomer's SQLite run, which checks the same properties in less time.
TRANSFERS_PER_EXAMPLE = 5000 if connection.vendor == "postgresql" else 1000


def _assert_ledger_invariants(community) -> None:
    # Sums in Python over exact Decimals (SQLite's SUM would go through floats).
    per_account: dict[int, Decimal] = defaultdict(Decimal)
    for account_id, amount in Entry.objects.filter(community=community).values_list("account_id", "amount"):
        per_account[account_id] += amount
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for account in Account.objects.filter(community=community):
        totals[account.currency] += account.balance
        assert account.balance >= account.limit, account
        assert account.balance == per_account[account.pk], account
    assert all(total == 0 for total in totals.values()), totals
    report = verify_community(community=community)
    assert report.ok, str(report)


@pytest.mark.django_db
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_random_transfers_with_retries_and_limit_breaks_keep_every_invariant(community, seed):
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]  # examples share the test's database: keep their keys apart
    transfers_before = Transfer.objects.filter(community=community).count()
    users = [MembershipFactory(community=community).user for _ in range(6)]
    accounts = {
        (u.pk, cur): services.account_for(user=u, community=community, currency=cur)
        for u in users
        for cur in ("HOUR", "CREDIT")
    }
    done: list[tuple[str, tuple]] = []  # (key, params) of transfers that succeeded
    outcomes: dict[str, int] = defaultdict(int)
    for i in range(TRANSFERS_PER_EXAMPLE):
        roll = rng.random()
        if done and roll < 0.1:  # a retry of an earlier request: same key, same parameters
            key, (src, dst, amount) = rng.choice(done)
            before = Transfer.objects.count()
            again = services.transfer_create(source=src, target=dst, amount=amount, idempotency_key=key)
            assert again.idempotency_key == key and Transfer.objects.count() == before
            outcomes["retried"] += 1
            continue
        if done and roll < 0.15:  # the same key reused for something else
            key, (src, dst, amount) = rng.choice(done)
            with pytest.raises(RuleViolation):
                services.transfer_create(source=dst, target=src, amount=amount + Decimal("1"), idempotency_key=key)
            outcomes["reused"] += 1
            continue
        currency = rng.choice(("HOUR", "CREDIT"))
        a, b = rng.sample(users, 2)
        src, dst = accounts[(a.pk, currency)], accounts[(b.pk, currency)]
        # Mostly small amounts; now and then one that breaks the limit.
        amount = Decimal(rng.randint(1, 400)) / 100 if rng.random() < 0.9 else Decimal(rng.randint(40, 120))
        key = f"{run}:{i}"
        try:
            services.transfer_create(source=src, target=dst, amount=amount, idempotency_key=key)
        except RuleViolation as exc:
            assert exc.code == "limit_exceeded"
            outcomes["refused"] += 1
        else:
            done.append((key, (src, dst, amount)))
            outcomes["ok"] += 1
    assert outcomes["ok"] > TRANSFERS_PER_EXAMPLE / 2 and outcomes["refused"] > 0 and outcomes["retried"] > 0
    _assert_ledger_invariants(community)
    assert Transfer.objects.filter(community=community).count() - transfers_before == outcomes["ok"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_trading_both_ways_neither_deadlock_nor_lose_an_update(community):
    a = MembershipFactory(community=community).user
    b = MembershipFactory(community=community).user
    accounts = [services.account_for(user=u, community=community, currency="HOUR") for u in (a, b)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)
    per_thread = 15

    def trade(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                src, dst = (accounts[0], accounts[1]) if (n + i) % 2 else (accounts[1], accounts[0])
                services.transfer_create(source=src, target=dst, amount="0.25", idempotency_key=f"race:{n}:{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=trade, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert Transfer.objects.count() == 20 * per_thread
    _assert_ledger_invariants(community)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_by_racing_threads_pays_once(community):
    a, b = (MembershipFactory(community=community).user for _ in range(2))
    src, dst = (services.account_for(user=u, community=community, currency="HOUR") for u in (a, b))
    barrier = threading.Barrier(8)
    results: list[object] = []

    def pay() -> None:
        try:
            barrier.wait()
            results.append(services.transfer_create(source=src, target=dst, amount="1", idempotency_key="once").pk)
        except BaseException as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert Account.objects.get(pk=dst.pk).balance == Decimal("1")


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_entry SET amount = amount + 1",
        "DELETE FROM ledger_entry",
        "UPDATE ledger_transfer SET memo = 'changed'",
        "DELETE FROM ledger_transfer",
    ],
)
def test_postgresql_itself_refuses_to_change_ledger_rows(community, owner, member, sql):
    services.transfer_create(
        source=services.account_for(user=owner, community=community, currency="HOUR"),
        target=services.account_for(user=member, community=community, currency="HOUR"),
        amount="1",
        idempotency_key="k",
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert Entry.objects.filter(amount__in=[Decimal("-1"), Decimal("1")]).count() == 2


@pytest.mark.django_db
def test_the_database_check_refuses_a_balance_below_its_limit(community, owner):
    account = services.account_for(user=owner, community=community, currency="HOUR")
    with pytest.raises((DatabaseError, ValidationError)), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=Decimal("-10.01"))
