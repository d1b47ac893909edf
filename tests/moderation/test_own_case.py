"""Nobody moderates their own case: not content by or about them, not reports about them,
not their own membership. Site superusers neither; another organizer decides."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.moderation import services
from apps.moderation.models import Flag, ModerationAction
from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.models import Membership
from apps.reputation.factories import ReviewFactory
from apps.reputation.models import Review
from p2pcommons.errors import RuleViolation
from tests.exchanges.factories import ExchangeFactory

pytestmark = pytest.mark.django_db

SOMEONE_ELSE = "another organizer or a site administrator must decide"


@pytest.fixture
def about_organizer(community, member, organizer) -> Review:
    """Max Member's harsh review of Orla Organizer."""
    return ReviewFactory(
        exchange=ExchangeFactory(community=community, provider=member, receiver=organizer),
        author=member,
        rating=1,
        comment="Never returned my drill",
    )


@pytest.fixture
def by_organizer(community, member, organizer) -> Review:
    """Orla Organizer's review of Max Member."""
    return ReviewFactory(
        exchange=ExchangeFactory(community=community, provider=organizer, receiver=member), author=organizer, rating=1
    )


@pytest.fixture
def second_organizer(community):
    return OrganizerMembershipFactory(community=community, user__profile__display_name="Otto Organizer").user


def test_an_organizer_cannot_hide_a_review_about_themselves(organizer, about_organizer):
    with pytest.raises(RuleViolation, match=SOMEONE_ELSE):
        services.content_hide(target=about_organizer, actor=organizer, reason="Unfair")

    about_organizer.refresh_from_db()
    assert not about_organizer.is_hidden
    assert not ModerationAction.objects.exists()


def test_another_organizer_can_hide_a_review_about_an_organizer(second_organizer, about_organizer):
    services.content_hide(target=about_organizer, actor=second_organizer, reason="Personal attack")

    about_organizer.refresh_from_db()
    assert about_organizer.is_hidden


def test_an_organizer_cannot_restore_their_own_hidden_review(organizer, second_organizer, by_organizer):
    services.content_hide(target=by_organizer, actor=second_organizer, reason="Abusive")

    with pytest.raises(RuleViolation, match=SOMEONE_ELSE):
        services.content_restore(target=by_organizer, actor=organizer, reason="It was fine")
    by_organizer.refresh_from_db()
    assert by_organizer.is_hidden


def test_a_superuser_cannot_hide_a_review_about_themselves(community, member):
    admin = MembershipFactory(community=community, user__is_superuser=True).user
    about_admin = ReviewFactory(
        exchange=ExchangeFactory(community=community, provider=member, receiver=admin), author=member
    )

    with pytest.raises(RuleViolation, match=SOMEONE_ELSE):
        services.content_hide(target=about_admin, actor=admin, reason="Unfair")


@pytest.mark.parametrize("handle", ["flag_uphold", "flag_dismiss"])
def test_an_organizer_cannot_handle_reports_about_a_review_about_themselves(
    report, owner, organizer, about_organizer, handle
):
    flag = report(owner, about_organizer)

    with pytest.raises(RuleViolation, match=SOMEONE_ELSE):
        getattr(services, handle)(flag=flag, actor=organizer, reason="Mine to judge")
    flag.refresh_from_db()
    assert flag.status == "open"


def test_an_organizer_cannot_dismiss_a_report_about_their_own_review(report, owner, organizer, by_organizer):
    flag = report(owner, by_organizer)

    with pytest.raises(RuleViolation, match=SOMEONE_ELSE):
        services.flag_dismiss(flag=flag, actor=organizer, reason="Nothing wrong")


def test_an_organizer_cannot_dismiss_a_report_about_themselves(report, member, organizer, community):
    flag = report(member, organizer, community=community, reason="scam")

    with pytest.raises(RuleViolation, match=SOMEONE_ELSE):
        services.flag_dismiss(flag=flag, actor=organizer, reason="Slander")
    assert Flag.objects.get(pk=flag.pk).status == "open"


def test_an_organizer_cannot_resolve_the_queue_item_about_themselves(report, owner, organizer, about_organizer):
    flag = report(owner, about_organizer)

    for resolve in (
        lambda: services.queue_resolve(flag=flag, actor=organizer, reason="Done", uphold=False),
        lambda: services.queue_hide(flag=flag, actor=organizer, reason="Done"),
    ):
        with pytest.raises(RuleViolation, match=SOMEONE_ELSE):
            resolve()
    assert Flag.objects.get(pk=flag.pk).status == "open"


@pytest.mark.parametrize("act", ["member_warn", "membership_suspend", "membership_reinstate"])
def test_nobody_warns_suspends_or_reinstates_themselves(community, act):
    admin = MembershipFactory(community=community, user__is_superuser=True)
    if act == "membership_reinstate":
        Membership.objects.filter(pk=admin.pk).update(status="suspended", status_reason="Test")

    with pytest.raises(RuleViolation, match=SOMEONE_ELSE):
        getattr(services, act)(membership=admin, actor=admin.user, reason="Myself")
    assert not ModerationAction.objects.exists()


def test_the_admin_shows_the_refusal_as_a_message(web_as, organizer, about_organizer):
    response = web_as(organizer).post(
        reverse("admin:reputation_review_changelist"),
        {"action": "hide_content", "_selected_action": [about_organizer.pk], "apply": "Confirm", "reason": "Unfair"},
        follow=True,
    )

    assert response.status_code == 200
    assert SOMEONE_ELSE in response.content.decode()
    about_organizer.refresh_from_db()
    assert not about_organizer.is_hidden


def test_the_queue_shows_the_refusal_as_a_message(web_as, report, owner, organizer, about_organizer):
    flag = report(owner, about_organizer)

    response = web_as(organizer).post(
        reverse("admin:moderation_moderationqueueitem_changelist"),
        {"action": "dismiss_reports", "_selected_action": [flag.pk], "apply": "Confirm", "reason": "Slander"},
        follow=True,
    )

    assert response.status_code == 200
    assert SOMEONE_ELSE in response.content.decode()
    assert Flag.objects.get(pk=flag.pk).status == "open"


def test_a_superuser_with_no_membership_still_moderates_others(report, owner, review):
    flag = report(owner, review)

    services.flag_uphold(flag=flag, actor=UserFactory(is_superuser=True, is_staff=True), reason="Agreed")

    assert Flag.objects.get(pk=flag.pk).status == "upheld"
