"""The membership vocabulary (``apps.peers.selectors``) and its guards (``apps.peers.guards``):
what "member" and "organizer" mean, asked of every kind of person (an active member, a
suspended one, one who left, a member of another community only, a site superuser, an
anonymous visitor), and the one code and one message each refusal gets, whichever app asks.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from apps.peers import selectors
from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.guards import require_active_member, require_organizer
from apps.peers.models import Membership
from apps.peers.services import community_leave
from p2pcommons.errors import RuleViolation


@pytest.fixture
def suspended(community):
    return MembershipFactory(community=community, status="suspended", status_reason="Kept a ladder for months").user


@pytest.fixture
def left(community, organizer):
    user = MembershipFactory(community=community).user
    community_leave(community=community, user=user)
    return user


@pytest.fixture
def elsewhere(other_community):
    """An active member of another community only."""
    return MembershipFactory(community=other_community).user


@pytest.fixture
def organizer_elsewhere(other_community):
    return OrganizerMembershipFactory(community=other_community).user


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True)


def ids(queryset) -> set[int]:
    return set(queryset)


# --- selectors ----------------------------------------------------------------------------
def test_active_community_ids_are_where_someone_may_act_now(
    community, other_community, member, suspended, left, elsewhere, superuser
):
    MembershipFactory(community=other_community, user=member)
    assert ids(selectors.active_community_ids(user=member)) == {community.pk, other_community.pk}
    assert ids(selectors.active_community_ids(user=suspended)) == set()
    assert ids(selectors.active_community_ids(user=left)) == set()
    assert ids(selectors.active_community_ids(user=elsewhere)) == {other_community.pk}
    assert ids(selectors.active_community_ids(user=superuser)) == set()
    assert ids(selectors.active_community_ids(user=AnonymousUser())) == set()


def test_active_community_ids_as_organizer_leave_plain_members_out(community, member, organizer, organizer_elsewhere):
    assert ids(selectors.active_community_ids(user=organizer, as_organizer=True)) == {community.pk}
    assert ids(selectors.active_community_ids(user=member, as_organizer=True)) == set()
    Membership.objects.filter(user=organizer).update(status="suspended")
    assert ids(selectors.active_community_ids(user=organizer, as_organizer=True)) == set()


def test_community_ids_of_include_a_suspended_membership_but_not_one_left(
    community, other_community, member, suspended, left, elsewhere, superuser
):
    assert ids(selectors.community_ids_of(user=member)) == {community.pk}
    assert ids(selectors.community_ids_of(user=suspended)) == {community.pk}
    assert ids(selectors.community_ids_of(user=left)) == set()
    assert ids(selectors.community_ids_of(user=elsewhere)) == {other_community.pk}
    assert ids(selectors.community_ids_of(user=superuser)) == set()
    assert ids(selectors.community_ids_of(user=AnonymousUser())) == set()


def test_membership_of_answers_whatever_the_status_and_none_once_left(community, member, suspended, left, elsewhere):
    assert selectors.membership_of(user=member, community=community).status == "active"
    assert selectors.membership_of(user=suspended, community_id=community.pk).status == "suspended"
    assert selectors.membership_of(user=left, community=community) is None
    assert selectors.membership_of(user=elsewhere, community=community) is None
    assert selectors.membership_of(user=AnonymousUser(), community=community) is None


def test_is_active_member_by_object_or_id(community, other_community, member, suspended, left, elsewhere, superuser):
    assert selectors.is_active_member(user=member, community=community)
    assert selectors.is_active_member(user=member, community_id=community.pk)
    assert not selectors.is_active_member(user=member, community_id=other_community.pk)
    assert not selectors.is_active_member(user=suspended, community=community)
    assert not selectors.is_active_member(user=left, community=community)
    assert not selectors.is_active_member(user=elsewhere, community=community)
    assert not selectors.is_active_member(user=superuser, community=community)  # not a member by rank
    assert not selectors.is_active_member(user=AnonymousUser(), community=community)


def test_is_organizer_counts_active_organizers_and_superusers_only(
    community, member, organizer, organizer_elsewhere, superuser
):
    assert selectors.is_organizer(user=organizer, community_id=community.pk)
    assert selectors.is_organizer(user=superuser, community_id=community.pk)
    assert not selectors.is_organizer(user=member, community_id=community.pk)
    assert not selectors.is_organizer(user=organizer_elsewhere, community_id=community.pk)
    assert not selectors.is_organizer(user=AnonymousUser(), community_id=community.pk)
    Membership.objects.filter(user=organizer).update(status="suspended")
    assert not selectors.is_organizer(user=organizer, community_id=community.pk)


def test_organizer_scope_is_every_community_for_a_superuser_and_the_organized_ones_otherwise(
    community, other_community, member, organizer, organizer_elsewhere, superuser
):
    assert selectors.organizer_scope(user=superuser) is None
    assert ids(selectors.organizer_scope(user=organizer)) == {community.pk}
    assert ids(selectors.organizer_scope(user=organizer_elsewhere)) == {other_community.pk}
    assert ids(selectors.organizer_scope(user=member)) == set()
    assert ids(selectors.organizer_scope(user=AnonymousUser())) == set()


def test_organizers_of_are_the_active_organizers_with_active_accounts(
    community, organizer, member, organizer_elsewhere, superuser
):
    second = OrganizerMembershipFactory(community=community).user
    gone = OrganizerMembershipFactory(community=community, user__is_active=False).user
    benched = OrganizerMembershipFactory(community=community, status="suspended").user
    found = selectors.organizers_of(community_id=community.pk)
    assert {user.pk for user in found} == {organizer.pk, second.pk}
    assert gone not in found and benched not in found and superuser not in found
    assert selectors.community_organizers is selectors.organizers_of


def test_active_members_of_and_active_member_leave_out_suspended_left_and_elsewhere(
    community, owner, member, organizer, suspended, left, elsewhere
):
    found = selectors.active_members_of(community_id=community.pk)
    assert [user.pk for user in found] == sorted([owner.pk, member.pk, organizer.pk])
    assert selectors.active_member(community_id=community.pk, user_id=member.pk) == member
    for user in (suspended, left, elsewhere):
        assert selectors.active_member(community_id=community.pk, user_id=user.pk) is None
    assert selectors.active_member(community_id=community.pk, user_id=10**9) is None
    inactive = MembershipFactory(community=community, user__is_active=False).user
    assert selectors.active_member(community_id=community.pk, user_id=inactive.pk) is None


def test_the_locking_reads_return_the_row_whatever_its_status(community, suspended, left):
    with transaction.atomic():
        locked = selectors.membership_for_update(user=suspended, community_id=community.pk)
        assert locked.status == "suspended"
        assert selectors.membership_for_update(user=left, community_id=community.pk) is None
        by_id = selectors.membership_for_update_by_id(membership_id=locked.pk)
        assert (by_id.user.profile.pk, by_id.community.name) == (suspended.profile.pk, "Sunnyside Commons")


# --- guards -------------------------------------------------------------------------------
def test_require_active_member_lets_an_active_member_act_in_one_query(community, member, django_assert_num_queries):
    with django_assert_num_queries(1):
        require_active_member(user=member, community=community, doing="borrow tools")
    with django_assert_num_queries(1):
        require_active_member(user=member, community_id=community.pk, doing="borrow tools")


@pytest.mark.parametrize("who", ["left", "elsewhere", "stranger", "superuser"])
def test_require_active_member_asks_everyone_else_to_join_with_one_code_and_message(request, community, who):
    user = request.getfixturevalue(who)
    for where in ({"community": community}, {"community_id": community.pk}):
        with pytest.raises(RuleViolation) as refused:
            require_active_member(user=user, doing="borrow tools", **where)
        assert (refused.value.code, str(refused.value)) == (
            "not_member",
            "Join Sunnyside Commons to borrow tools there.",
        )


def test_require_active_member_tells_a_suspended_member_why(community, suspended):
    with pytest.raises(RuleViolation) as refused:
        require_active_member(user=suspended, community=community, doing="borrow tools")
    assert refused.value.code == "suspended"
    assert str(refused.value) == (
        "Your membership in Sunnyside Commons is suspended, so you can't borrow tools there. "
        "Reason: Kept a ladder for months"
    )


def test_require_active_member_refuses_an_anonymous_visitor_as_not_a_member(community):
    with pytest.raises(RuleViolation) as refused:
        require_active_member(user=AnonymousUser(), community=community, doing="borrow tools")
    assert refused.value.code == "not_member"


def test_require_organizer_lets_organizers_and_superusers_act(community, organizer, superuser):
    require_organizer(user=organizer, community_id=community.pk, doing="moderate it")
    require_organizer(user=superuser, community_id=community.pk, doing="moderate it")


@pytest.mark.parametrize("who", ["member", "suspended", "left", "organizer_elsewhere", "stranger"])
def test_require_organizer_refuses_everyone_else_with_one_code_and_message(request, community, who):
    user = request.getfixturevalue(who)
    with pytest.raises(RuleViolation) as refused:
        require_organizer(user=user, community_id=community.pk, doing="moderate it")
    assert (refused.value.code, str(refused.value)) == (
        "not_organizer",
        "Only an organizer of this community can moderate it.",
    )


# --- the same refusal from every app ------------------------------------------------------
def test_every_app_asks_a_non_member_to_join_in_the_same_words(community, owner, member, stranger):
    """Borrowing, listing, sending credits and reporting: one code, one sentence."""
    from apps.ledger import services as ledger
    from apps.moderation import services as moderation
    from apps.tools import services as tools
    from apps.tools.factories import ToolFactory

    tool = ToolFactory(owner=owner, community=community)
    soon = timezone.now() + timedelta(days=1)
    later = soon + timedelta(hours=2)
    attempts = {
        "borrow tools": lambda: tools.reservation_request(tool=tool, borrower=stranger, starts_at=soon, ends_at=later),
        "list tools": lambda: tools.tool_create(owner=stranger, community=community, title="Drill"),
        "send credits": lambda: ledger.transfer_create(
            source=ledger.account_for(user=stranger, community=community, currency="HOUR"),
            target=ledger.account_for(user=member, community=community, currency="HOUR"),
            amount=Decimal("1"),
            idempotency_key="k",
        ),
        "report anything": lambda: moderation.flag_create(reporter=stranger, target=tool, reason="spam"),
    }
    for doing, attempt in attempts.items():
        with pytest.raises(RuleViolation) as refused:
            attempt()
        assert (refused.value.code, str(refused.value)) == ("not_member", f"Join Sunnyside Commons to {doing} there.")


def test_every_app_refuses_a_plain_member_an_organizers_act_with_the_same_code(community, owner, member):
    from apps.ledger import services as ledger
    from apps.moderation import services as moderation
    from apps.tools import services as tools
    from apps.tools.factories import ToolFactory

    tool = ToolFactory(owner=owner, community=community)
    attempts = [
        lambda: tools.tool_set_status_by_organizer(tool=tool, actor=member, status="paused"),
        lambda: ledger.account_set_limit(
            account=ledger.account_for(user=owner, community=community, currency="HOUR"),
            actor=member,
            limit="-20",
            reason="Trusted",
        ),
        lambda: moderation.content_hide(target=tool, actor=member, reason="Spam"),
    ]
    for attempt in attempts:
        with pytest.raises(RuleViolation) as refused:
            attempt()
        assert refused.value.code == "not_organizer"
        assert str(refused.value).startswith("Only an organizer of this community can ")
