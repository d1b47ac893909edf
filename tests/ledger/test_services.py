from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.ledger import services
from apps.ledger.chain import verify_community
from apps.ledger.models import Account, Entry, LedgerImmutableError, LimitChange, Transfer
from apps.peers.factories import MembershipFactory
from apps.peers.models import Membership
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def hours(user, community):
    return services.account_for(user=user, community=community, currency="HOUR")


def send(src, dst, amount, key, **kw):
    return services.transfer_create(source=src, target=dst, amount=amount, idempotency_key=key, **kw)


def test_a_transfer_is_one_double_entry_that_moves_both_balances(community, owner, member):
    transfer = send(hours(owner, community), hours(member, community), "2.50", "k1", memo="Fixed my bike")
    assert [(e.amount, e.balance_after) for e in transfer.entries.order_by("seq")] == [
        (Decimal("-2.50"), Decimal("-2.50")),
        (Decimal("2.50"), Decimal("2.50")),
    ]
    assert hours(owner, community).balance == Decimal("-2.50")
    assert hours(member, community).balance == Decimal("2.50")


def test_new_accounts_get_the_communitys_default_limits(community, member):
    assert hours(member, community).limit == Decimal("-10")
    assert services.account_for(user=member, community=community, currency="CREDIT").limit == Decimal("-50")


def test_a_transfer_below_the_limit_is_refused_and_writes_nothing(community, owner, member):
    with pytest.raises(RuleViolation, match=r"below its limit of -10 hours. At most 10 hours can be sent now"):
        send(hours(owner, community), hours(member, community), "10.01", "k1")
    assert Transfer.objects.count() == 0 and Entry.objects.count() == 0
    assert hours(owner, community).balance == 0


def test_the_same_idempotency_key_returns_the_original_and_pays_once(community, owner, member):
    first = send(hours(owner, community), hours(member, community), "1", "same")
    again = send(hours(owner, community), hours(member, community), "1", "same")
    assert again.pk == first.pk
    assert Transfer.objects.count() == 1
    assert hours(member, community).balance == Decimal("1")


def test_the_same_key_with_other_parameters_is_refused(community, owner, member):
    send(hours(owner, community), hours(member, community), "1", "same")
    with pytest.raises(RuleViolation, match="already used for a different transfer"):
        send(hours(owner, community), hours(member, community), "2", "same")
    assert hours(member, community).balance == Decimal("1")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "more than zero"),
        ("-1", "more than zero"),
        ("1.005", "two decimals"),
        ("abc", "such as"),
        ("NaN", "two decimals"),
    ],
)
def test_bad_amounts_are_refused_with_a_field_error(community, owner, member, amount, message):
    with pytest.raises(ValidationError, match=message):
        send(hours(owner, community), hours(member, community), amount, "k")


def test_accounts_of_different_currencies_cannot_trade(community, owner, member):
    credit = services.account_for(user=member, community=community, currency="CREDIT")
    with pytest.raises(RuleViolation, match="same community and currency"):
        send(hours(owner, community), credit, "1", "k")


def test_a_suspended_member_cannot_send(community, owner, member):
    Membership.objects.filter(user=owner).update(status="suspended")
    with pytest.raises(RuleViolation, match="suspended"):
        send(hours(owner, community), hours(member, community), "1", "k")


def test_gifts_go_only_to_active_members_of_the_community(community, owner, stranger):
    with pytest.raises(RuleViolation, match="not an active member"):
        services.gift_send(
            sender=owner,
            recipient=stranger,
            community=community,
            currency="HOUR",
            amount="1",
            memo="",
            idempotency_key="k",
        )


def test_transfers_and_entries_cannot_be_changed_or_deleted_through_the_orm(community, owner, member):
    transfer = send(hours(owner, community), hours(member, community), "1", "k")
    entry = transfer.entries.first()
    transfer.amount = Decimal("100")
    with pytest.raises(LedgerImmutableError):
        transfer.save()
    with pytest.raises(LedgerImmutableError):
        entry.delete()
    with pytest.raises(LedgerImmutableError):
        Entry.objects.filter(pk=entry.pk).update(amount=5)
    with pytest.raises(LedgerImmutableError):
        Transfer.objects.all().delete()


def test_an_organizer_reverses_a_transfer_with_a_referencing_transfer(community, owner, member, organizer):
    original = send(hours(owner, community), hours(member, community), "3", "k")
    reversal = services.transfer_reverse(transfer=original, actor=organizer, reason="Sent by mistake")
    assert reversal.reverses == original and reversal.kind == "reversal"
    assert reversal.memo == f"Reversal of #{original.pk}: Sent by mistake"
    assert hours(owner, community).balance == 0 and hours(member, community).balance == 0
    with pytest.raises(RuleViolation, match="already been reversed"):
        services.transfer_reverse(transfer=original, actor=organizer, reason="again")
    assert verify_community(community=community).ok


def test_a_member_or_another_communitys_organizer_cannot_reverse(community, other_community, owner, member):
    original = send(hours(owner, community), hours(member, community), "3", "k")
    outsider = MembershipFactory(community=other_community, role="organizer").user
    for actor in (member, outsider):
        with pytest.raises(RuleViolation, match="Only an organizer"):
            services.transfer_reverse(transfer=original, actor=actor, reason="x")
    assert Transfer.objects.count() == 1


def test_an_organizer_changes_a_limit_and_it_is_recorded(community, member, organizer):
    account = services.account_set_limit(
        account=hours(member, community), actor=organizer, limit="-20", reason="Long-time helper"
    )
    assert account.limit == Decimal("-20.00")
    change = LimitChange.objects.get()
    assert (change.old_limit, change.new_limit, change.actor, change.reason) == (
        Decimal("-10.00"),
        Decimal("-20.00"),
        organizer,
        "Long-time helper",
    )


def test_a_limit_above_the_current_balance_is_refused(community, owner, member, organizer):
    send(hours(owner, community), hours(member, community), "5", "k")
    with pytest.raises(RuleViolation, match="already below"):
        services.account_set_limit(account=hours(owner, community), actor=organizer, limit="-2", reason="x")
    assert Account.objects.get(owner=owner).limit == Decimal("-10")


def test_members_cannot_change_limits(community, member):
    with pytest.raises(RuleViolation):
        services.account_set_limit(account=hours(member, community), actor=member, limit="-100", reason="me")
