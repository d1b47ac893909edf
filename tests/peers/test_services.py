from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from apps.peers import services
from apps.peers.factories import MembershipFactory, UserFactory
from apps.peers.models import Membership
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def test_joining_makes_an_active_member_and_sends_one_welcome_email(
    community, stranger, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.community_join(community=community, user=stranger)
    assert (membership.role, membership.status) == ("member", "active")
    membership.refresh_from_db()
    assert membership.welcomed_at is not None
    assert [m.subject for m in mail.outbox] == ["Welcome to Sunnyside Commons"]
    assert mail.outbox[0].to == ["stranger@example.org"]


def test_joining_twice_returns_the_same_membership(community, member):
    first = Membership.objects.get(user=member, community=community)
    assert services.community_join(community=community, user=member) == first
    assert Membership.objects.filter(user=member, community=community).count() == 1


def test_a_suspended_member_stays_suspended_when_joining_again(community, member):
    Membership.objects.filter(user=member).update(status=Membership.Status.SUSPENDED)
    assert services.community_join(community=community, user=member).status == "suspended"


def test_a_member_can_leave(community, member):
    services.community_leave(community=community, user=member)
    assert not Membership.objects.filter(user=member, community=community).exists()


def test_a_non_member_cannot_leave(community, stranger):
    with pytest.raises(RuleViolation, match="not a member"):
        services.community_leave(community=community, user=stranger)


def test_the_last_organizer_cannot_leave(community, organizer):
    with pytest.raises(RuleViolation, match="last organizer"):
        services.community_leave(community=community, user=organizer)
    assert Membership.objects.filter(user=organizer, community=community).exists()


def test_an_organizer_can_leave_when_another_remains(community, organizer, member):
    services.membership_promote(membership=Membership.objects.get(user=member), actor=organizer)
    services.community_leave(community=community, user=organizer)
    assert not Membership.objects.filter(user=organizer, community=community).exists()


def test_an_organizer_promotes_a_member_who_then_gets_admin_access(community, organizer, member):
    membership = services.membership_promote(membership=Membership.objects.get(user=member), actor=organizer)
    member.refresh_from_db()
    assert membership.role == "organizer"
    assert member.is_staff and not member.is_superuser


def test_a_member_cannot_promote_anyone(community, owner, member):
    with pytest.raises(RuleViolation, match="Only an organizer"):
        services.membership_promote(membership=Membership.objects.get(user=member), actor=owner)
    assert Membership.objects.get(user=member).role == "member"


def test_an_organizer_of_another_community_cannot_promote(community, other_community, member):
    outsider = MembershipFactory(community=other_community, role=Membership.Role.ORGANIZER).user
    with pytest.raises(RuleViolation):
        services.membership_promote(membership=Membership.objects.get(user=member), actor=outsider)


def test_creating_a_community_makes_its_creator_organizer(stranger):
    community = services.community_create(
        creator=stranger, name="Elm Street", slug="elm", center_latitude=Decimal("52"), center_longitude=Decimal("4")
    )
    assert Membership.objects.get(community=community, user=stranger).role == "organizer"


def test_profile_update_rounds_the_location_and_saves_private_fields(member):
    profile = services.profile_update(
        profile=member.profile,
        actor=member,
        latitude=Decimal("52.361234"),
        longitude=Decimal("4.901234"),
        exact_address="Elm Street 5",
        display_name="Max",
    )
    profile.refresh_from_db()
    assert (profile.display_name, profile.exact_address) == ("Max", "Elm Street 5")
    assert profile.approx_latitude != Decimal("52.36123")
    assert abs(profile.approx_latitude - Decimal("52.361234")) < Decimal("0.005")


def test_nobody_edits_someone_elses_profile(member, owner):
    with pytest.raises(RuleViolation, match="your own profile"):
        services.profile_update(profile=member.profile, actor=owner, display_name="Hacked")
    member.profile.refresh_from_db()
    assert member.profile.display_name == "Max Member"


def test_profile_update_rejects_half_a_location(member):
    with pytest.raises(ValidationError):
        services.profile_update(profile=member.profile, actor=member, latitude=Decimal("52.1"))


def test_profile_ensure_creates_a_missing_profile_with_a_name_not_taken_from_the_email():
    user = UserFactory(email="jane.doe.1984@example.org", profile=None)
    name = services.profile_ensure(user=user).display_name
    assert name.startswith("Neighbor ") and "jane" not in name.lower()
