"""The ledger's rules at their edges: who may send, receive, reverse and change limits,
and every boundary of the transfer and limit services (issue 10, items 8, 15 and 16)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.ledger import services
from apps.ledger.chain import verify_community
from apps.ledger.models import Account, Entry, LimitChange, Transfer
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory, UserFactory
from apps.peers.models import Membership
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def hours(user, community):
    return services.account_for(user=user, community=community, currency="HOUR")


def credits(user, community):
    return services.account_for(user=user, community=community, currency="CREDIT")


def send(src, dst, amount, key="k", **kw):
    return services.transfer_create(source=src, target=dst, amount=amount, idempotency_key=key, **kw)


def gift(sender, recipient, community, amount="1", key="k", memo=""):
    return services.gift_send(
        sender=sender,
        recipient=recipient,
        community=community,
        currency="HOUR",
        amount=amount,
        memo=memo,
        idempotency_key=key,
    )


def set_limit(account, actor, limit, reason="Long-time helper"):
    return services.account_set_limit(account=account, actor=actor, limit=limit, reason=reason)


# --- limits: item 8 and item 16 ------------------------------------------------------------


def test_a_changed_limit_is_stored_and_a_transfer_down_to_it_is_accepted(community, owner, member, organizer):
    set_limit(hours(owner, community), organizer, "-20")
    assert Account.objects.get(pk=hours(owner, community).pk).limit == Decimal("-20.00")
    send(hours(owner, community), hours(member, community), "20")
    assert hours(owner, community).balance == Decimal("-20.00")


def test_an_organizer_cannot_change_their_own_limit(community, organizer):
    with pytest.raises(RuleViolation) as refused:
        set_limit(hours(organizer, community), organizer, "-9999999999.99")
    assert refused.value.code == "own_account"
    assert hours(organizer, community).limit == Decimal("-10") and not LimitChange.objects.exists()


def test_a_superuser_cannot_change_their_own_limit_either(community):
    boss = MembershipFactory(community=community, user__is_superuser=True).user
    with pytest.raises(RuleViolation, match="your own limit"):
        set_limit(hours(boss, community), boss, "-20")


def test_another_organizer_changes_an_organizers_limit(community, organizer):
    other = MembershipFactory(community=community, role=Membership.Role.ORGANIZER).user
    assert set_limit(hours(organizer, community), other, "-30").limit == Decimal("-30.00")


def test_a_superuser_changes_a_members_limit(community, member):
    boss = UserFactory(is_superuser=True, is_staff=True)
    assert set_limit(hours(member, community), boss, "-30").limit == Decimal("-30.00")


def test_a_limit_below_the_communitys_hour_floor_is_refused(community, member, organizer):
    assert set_limit(hours(member, community), organizer, "-40").limit == Decimal("-40.00")
    with pytest.raises(ValidationError) as refused:
        set_limit(hours(member, community), organizer, "-40.01")
    assert refused.value.message_dict == {"limit": ["The lowest limit in this community is -40 hours."]}
    assert hours(member, community).limit == Decimal("-40.00")


def test_a_limit_below_the_communitys_credit_floor_is_refused(community, member, organizer):
    assert set_limit(credits(member, community), organizer, "-500").limit == Decimal("-500.00")
    with pytest.raises(ValidationError, match=r"-500 credits"):
        set_limit(credits(member, community), organizer, "-500.01")


def test_the_floor_is_the_communitys_own(community, member, organizer):
    community.hour_limit_floor = Decimal("-15")
    community.save(update_fields=["hour_limit_floor"])
    account = Account.objects.select_related("community").get(pk=hours(member, community).pk)
    with pytest.raises(ValidationError, match=r"-15 hours"):
        set_limit(account, organizer, "-16")


def test_a_limit_equal_to_the_balance_is_accepted(community, owner, member, organizer):
    send(hours(owner, community), hours(member, community), "5")
    assert set_limit(hours(owner, community), organizer, "-5").limit == Decimal("-5.00")
    with pytest.raises(RuleViolation) as refused:
        set_limit(hours(owner, community), organizer, "-4.99")
    assert refused.value.code == "limit_above_balance"
    assert hours(owner, community).limit == Decimal("-5.00")


def test_a_limit_of_exactly_zero_is_accepted(community, member, organizer):
    assert set_limit(hours(member, community), organizer, "0").limit == Decimal("0.00")


@pytest.mark.parametrize("limit", ["0.01", "5"])
def test_a_positive_limit_is_a_field_error(community, member, organizer, limit):
    with pytest.raises(ValidationError) as refused:
        set_limit(hours(member, community), organizer, limit)
    assert refused.value.message_dict == {"limit": ["A limit is zero or below zero."]}


@pytest.mark.parametrize("limit", ["NaN", "-NaN", "sNaN", "abc", "", "-Infinity", "-1e30", None])
def test_a_limit_that_is_not_a_number_is_a_field_error(community, member, organizer, limit):
    with pytest.raises(ValidationError) as refused:
        set_limit(hours(member, community), organizer, limit)
    assert refused.value.message_dict == {"limit": ["Enter a number such as -20."]}


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_limit_change_without_a_reason_is_refused(community, member, organizer, reason):
    with pytest.raises(ValidationError) as refused:
        set_limit(hours(member, community), organizer, "-20", reason=reason)
    assert refused.value.message_dict == {"reason": ["Say why the limit changes."]}
    assert not LimitChange.objects.exists()


def test_a_limit_change_reason_is_stored_trimmed_and_at_most_200_characters(community, member, organizer):
    set_limit(hours(member, community), organizer, "-20", reason="  " + "x" * 200 + " ")
    assert LimitChange.objects.get().reason == "x" * 200
    with pytest.raises(ValidationError, match="At most 200"):
        set_limit(hours(member, community), organizer, "-21", reason="x" * 201)


def test_an_unchanged_limit_records_nothing(community, member, organizer):
    set_limit(hours(member, community), organizer, "-10")
    assert not LimitChange.objects.exists()


def test_members_and_other_organizers_cannot_change_limits(community, other_community, owner, member):
    outsider = MembershipFactory(community=other_community, role=Membership.Role.ORGANIZER).user
    for actor in (owner, outsider):
        with pytest.raises(RuleViolation) as refused:
            set_limit(hours(member, community), actor, "-20")
        assert refused.value.code == "not_organizer"
    assert hours(member, community).limit == Decimal("-10")


# --- reversals: item 8 and item 16 -------------------------------------------------------


def test_an_organizer_cannot_reverse_a_transfer_they_received(community, owner, organizer):
    original = send(hours(owner, community), hours(organizer, community), "3")
    with pytest.raises(RuleViolation) as refused:
        services.transfer_reverse(transfer=original, actor=organizer, reason="Mine")
    assert refused.value.code == "own_transfer"
    assert not Transfer.objects.filter(reverses=original).exists()


def test_an_organizer_cannot_reverse_a_transfer_they_sent(community, member, organizer):
    original = send(hours(organizer, community), hours(member, community), "3")
    with pytest.raises(RuleViolation, match="another organizer must reverse it"):
        services.transfer_reverse(transfer=original, actor=organizer, reason="Mine")
    another = MembershipFactory(community=community, role=Membership.Role.ORGANIZER).user
    reversal = services.transfer_reverse(transfer=original, actor=another, reason="Sent by mistake")
    assert reversal.created_by == another and hours(organizer, community).balance == 0


def test_a_reversal_cannot_be_reversed(community, owner, member, organizer):
    original = send(hours(owner, community), hours(member, community), "3")
    reversal = services.transfer_reverse(transfer=original, actor=organizer, reason="Mistake")
    with pytest.raises(RuleViolation) as refused:
        services.transfer_reverse(transfer=reversal, actor=organizer, reason="Undo the undo")
    assert refused.value.code == "is_reversal"
    assert Transfer.objects.count() == 2


def test_a_second_reversal_is_refused(community, owner, member, organizer):
    original = send(hours(owner, community), hours(member, community), "3")
    services.transfer_reverse(transfer=original, actor=organizer, reason="Mistake")
    with pytest.raises(RuleViolation) as refused:
        services.transfer_reverse(transfer=original, actor=organizer, reason="Again")
    assert refused.value.code == "already_reversed"
    assert hours(owner, community).balance == 0


def test_a_second_reversal_that_reaches_the_database_is_refused_by_it(community, owner, member):
    original = send(hours(owner, community), hours(member, community), "3")
    send(hours(member, community), hours(owner, community), "3", key="r1", kind="reversal", reverses=original)
    with pytest.raises(RuleViolation) as refused:
        send(hours(member, community), hours(owner, community), "3", key="r2", kind="reversal", reverses=original)
    assert refused.value.code == "already_reversed"
    assert Transfer.objects.count() == 2 and hours(owner, community).balance == 0


def test_a_transfer_to_a_member_who_has_since_left_can_be_reversed(community, owner, member, organizer):
    original = send(hours(owner, community), hours(member, community), "3")
    Membership.objects.filter(user=member, community=community).delete()
    reversal = services.transfer_reverse(transfer=original, actor=organizer, reason="Left with it")
    assert (reversal.source, reversal.target, reversal.amount) == (original.target, original.source, Decimal("3"))
    assert hours(member, community).balance == 0 and hours(owner, community).balance == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reversal_without_a_reason_is_refused(community, owner, member, organizer, reason):
    original = send(hours(owner, community), hours(member, community), "3")
    with pytest.raises(ValidationError) as refused:
        services.transfer_reverse(transfer=original, actor=organizer, reason=reason)
    assert refused.value.message_dict == {"reason": ["Say why the transfer is reversed."]}
    assert Transfer.objects.count() == 1


def test_a_reversal_records_the_reason_in_a_memo_of_at_most_200_characters(community, owner, member, organizer):
    original = send(hours(owner, community), hours(member, community), "3")
    reversal = services.transfer_reverse(transfer=original, actor=organizer, reason="  " + "y" * 300)
    prefix = f"Reversal of #{original.pk}: "
    assert reversal.memo == prefix + "y" * (200 - len(prefix))
    assert reversal.idempotency_key == f"reversal:{original.pk}" and reversal.kind == "reversal"
    assert reversal.created_by == organizer and reversal.reverses == original


def test_a_reversal_is_subject_to_the_receivers_limit(community, owner, member, organizer):
    original = send(hours(owner, community), hours(member, community), "3")
    send(hours(member, community), hours(owner, community), "10.50", key="spent")
    with pytest.raises(RuleViolation) as refused:
        services.transfer_reverse(transfer=original, actor=organizer, reason="Mistake")
    assert refused.value.code == "limit_exceeded"


# --- who may send and receive: items 15 and 16 ---------------------------------------------


def test_an_account_whose_owner_left_cannot_send(community, owner, member):
    src = hours(owner, community)
    Membership.objects.filter(user=owner, community=community).delete()
    with pytest.raises(RuleViolation) as refused:
        send(src, hours(member, community), "1")
    assert refused.value.code == "not_member" and str(refused.value) == "Join Sunnyside Commons to send credits there."
    assert not Transfer.objects.exists()


def test_an_account_of_someone_who_never_joined_cannot_send(community, member, stranger):
    with pytest.raises(RuleViolation) as refused:
        send(hours(stranger, community), hours(member, community), "1")
    assert refused.value.code == "not_member"


def test_a_suspended_member_is_told_why_they_cannot_send(community, owner, member):
    Membership.objects.filter(user=owner).update(status="suspended", status_reason="Spam")
    with pytest.raises(RuleViolation) as refused:
        send(hours(owner, community), hours(member, community), "1")
    assert refused.value.code == "suspended" and "Spam" in str(refused.value)


def test_a_community_account_sends_without_a_membership(community, member):
    fund = services.community_account(community=community, currency="HOUR")
    send(fund, hours(member, community), "2")
    assert hours(member, community).balance == Decimal("2")


@pytest.mark.parametrize("who", ["suspended", "departed", "elsewhere", "deactivated"])
def test_a_gift_goes_only_to_an_active_member_and_never_names_the_recipient(
    community, other_community, owner, member, who
):
    if who == "suspended":
        Membership.objects.filter(user=member).update(status="suspended")
    elif who == "departed":
        Membership.objects.filter(user=member).delete()
    elif who == "elsewhere":
        Membership.objects.filter(user=member).update(community=other_community)
    else:
        type(member).objects.filter(pk=member.pk).update(is_active=False)
    with pytest.raises(RuleViolation) as refused:
        gift(owner, member, community)
    assert refused.value.code == "recipient_not_member"
    assert str(refused.value) == "That recipient is not an active member of Sunnyside Commons."
    assert not Transfer.objects.exists() and not Notification.objects.exists()


def test_gift_recipient_answers_an_unknown_or_too_large_id_like_a_non_member(community, member, stranger):
    assert services.gift_recipient(community=community, user_id=member.pk) == member
    answers = set()
    for user_id in (stranger.pk, stranger.pk + 1000, 2**63, -(2**63) - 1, 2**64):
        with pytest.raises(RuleViolation) as refused:
            services.gift_recipient(community=community, user_id=user_id)
        answers.add((refused.value.code, str(refused.value)))
    assert answers == {("recipient_not_member", "That recipient is not an active member of Sunnyside Commons.")}


def test_a_gift_to_oneself_is_refused_with_its_own_code(community, owner):
    with pytest.raises(RuleViolation) as refused:
        gift(owner, owner, community)
    assert refused.value.code == "same_account"


def test_a_gift_notifies_the_recipient_once_with_the_memo(community, owner, member):
    gift(owner, member, community, amount="2", memo="Soup")
    gift(owner, member, community, amount="2", memo="Soup")  # a retry
    note = Notification.objects.get()
    assert (note.recipient, note.text) == (member, "Olive Owner sent you 2 hours: Soup")
    gift(owner, member, community, key="other", amount="1")
    assert Notification.objects.order_by("-id").first().text == "Olive Owner sent you 1 hour"


def test_gift_keys_are_per_sender(community, owner, member):
    transfer = gift(owner, member, community, key="k1")
    assert transfer.idempotency_key == f"gift:{owner.pk}:k1" and transfer.created_by == owner
    assert transfer.kind == "gift"


# --- transfer_create's boundaries: item 16 --------------------------------------------------


def test_a_transfer_from_an_account_to_itself_is_refused_with_its_own_code(community, owner):
    with pytest.raises(RuleViolation) as refused:
        send(hours(owner, community), hours(owner, community), "1")
    assert refused.value.code == "same_account"


def test_accounts_of_different_communities_cannot_trade(community, other_community, owner):
    elsewhere = MembershipFactory(community=other_community).user
    with pytest.raises(RuleViolation) as refused:
        send(hours(owner, community), hours(elsewhere, other_community), "1")
    assert refused.value.code == "mismatch"


def test_a_transfer_leaving_the_sender_exactly_at_the_limit_is_accepted(community, owner, member):
    send(hours(owner, community), hours(member, community), "10.00")
    assert hours(owner, community).balance == Decimal("-10.00")
    with pytest.raises(RuleViolation, match=r"At most 0 hours can be sent now"):
        send(hours(owner, community), hours(member, community), "0.01", key="more")


@pytest.mark.parametrize("amount", ["1e10", "10000000000.00", "99999999999"])
def test_an_amount_of_ten_billion_or_more_is_refused_as_too_large(community, owner, member, amount):
    with pytest.raises(ValidationError) as refused:
        send(hours(owner, community), hours(member, community), amount)
    assert refused.value.message_dict == {"amount": ["That amount is too large."]}


def test_an_amount_just_under_ten_billion_passes_the_size_check(community, owner, member):
    with pytest.raises(RuleViolation) as refused:
        send(hours(owner, community), hours(member, community), "9999999999.99")
    assert refused.value.code == "limit_exceeded"


@pytest.mark.parametrize("amount", ["Infinity", "-Infinity", "sNaN"])
def test_an_infinite_or_signalling_amount_is_a_field_error(community, owner, member, amount):
    with pytest.raises(ValidationError) as refused:
        send(hours(owner, community), hours(member, community), amount)
    assert list(refused.value.message_dict) == ["amount"]


def test_the_smallest_amount_is_one_cent(community, owner, member):
    assert send(hours(owner, community), hours(member, community), "0.01").amount == Decimal("0.01")
    assert send(hours(owner, community), hours(member, community), 2, key="int").amount == Decimal("2.00")


@pytest.mark.parametrize("key", ["", "x" * 101])
def test_an_idempotency_key_of_0_or_101_characters_is_refused(community, owner, member, key):
    with pytest.raises(ValidationError) as refused:
        send(hours(owner, community), hours(member, community), "1", key=key)
    assert refused.value.message_dict == {"idempotency_key": ["A key of 1 to 100 characters is required."]}
    assert not Transfer.objects.exists()


def test_an_idempotency_key_of_1_or_100_characters_is_accepted(community, owner, member):
    send(hours(owner, community), hours(member, community), "1", key="x" * 100)
    send(hours(owner, community), hours(member, community), "1", key="y")
    assert set(Transfer.objects.values_list("idempotency_key", flat=True)) == {"x" * 100, "y"}


def test_a_memo_of_200_characters_is_accepted_and_201_refused(community, owner, member):
    assert send(hours(owner, community), hours(member, community), "1", memo="é" * 200).memo == "é" * 200
    with pytest.raises(ValidationError) as refused:
        send(hours(owner, community), hours(member, community), "1", key="k2", memo="é" * 201)
    assert refused.value.message_dict == {"memo": ["At most 200 characters."]}


def test_an_unknown_currency_is_refused_when_opening_an_account(community, member):
    with pytest.raises(ValidationError) as refused:
        services.account_for(user=member, community=community, currency="EUR")
    assert list(refused.value.message_dict) == ["currency"]
    assert not Account.objects.exists()


def test_a_transfer_records_what_it_is_about_and_who_made_it(community, owner, member, organizer):
    transfer = send(
        hours(owner, community), hours(member, community), "1", related=community, created_by=organizer, memo="Fee"
    )
    transfer = Transfer.objects.get(pk=transfer.pk)
    assert transfer.related == community and transfer.created_by == organizer
    assert (transfer.memo, transfer.kind, transfer.community, transfer.currency) == ("Fee", "gift", community, "HOUR")


def test_the_same_key_with_another_memo_or_kind_is_refused(community, owner, member):
    send(hours(owner, community), hours(member, community), "1", memo="a")
    for change in ({"memo": "b"}, {"kind": "exchange"}, {"related": community}):
        with pytest.raises(RuleViolation) as refused:
            send(hours(owner, community), hours(member, community), "1", **{"memo": "a", **change})
        assert refused.value.code == "idempotency_key_reused"


def test_a_retry_reports_that_nothing_was_created(community, owner, member):
    assert send(hours(owner, community), hours(member, community), "1").was_created is True
    assert send(hours(owner, community), hours(member, community), "1").was_created is False
    assert Entry.objects.count() == 2


def test_the_first_transfer_of_a_community_opens_its_chain(community, owner, member):
    send(hours(owner, community), hours(member, community), "1")
    send(hours(member, community), hours(owner, community), "1", key="k2")
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4]
    assert verify_community(community=community).ok
