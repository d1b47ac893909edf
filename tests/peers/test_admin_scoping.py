"""An organizer who is staff sees and edits only their own communities in the admin."""

import pytest
from django.urls import reverse

from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider_membership(other_community):
    return MembershipFactory(community=other_community, user__profile__display_name="Rita Riverside")


def test_the_organizer_lists_only_their_communities_members(web_as, organizer, member, outsider_membership):
    html = web_as(organizer).get(reverse("admin:peers_membership_changelist")).content.decode()
    assert "Max Member" in html
    assert "Rita Riverside" not in html


def test_the_organizer_does_not_see_members_emails(web_as, organizer, member):
    client = web_as(organizer)
    assert "member@example.org" not in client.get(reverse("admin:peers_membership_changelist")).content.decode()
    membership = Membership.objects.get(user=member)
    change = client.get(reverse("admin:peers_membership_change", args=[membership.pk])).content.decode()
    assert "Max Member" in change and "member@example.org" not in change


def test_the_organizer_cannot_open_another_communitys_membership_by_url(web_as, organizer, outsider_membership):
    url = reverse("admin:peers_membership_change", args=[outsider_membership.pk])
    response = web_as(organizer).get(url, follow=True)
    assert "Rita Riverside" not in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:index")  # "doesn't exist" redirect


def test_the_organizer_cannot_change_another_communitys_membership(web_as, organizer, outsider_membership):
    url = reverse("admin:peers_membership_change", args=[outsider_membership.pk])
    web_as(organizer).post(url, {"status": "suspended"})
    assert Membership.objects.get(pk=outsider_membership.pk).status == "active"


def test_the_organizer_suspends_a_member_of_their_own_community_with_a_reason(web_as, organizer, member):
    membership = Membership.objects.get(user=member)
    response = web_as(organizer).post(
        reverse("admin:peers_membership_changelist"),
        {
            "action": "suspend_members",
            "_selected_action": [membership.pk],
            "apply": "Confirm",
            "reason": "Repeated no-shows",
        },
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.status, membership.status_reason) == ("suspended", "Repeated no-shows")


def test_the_status_cannot_be_changed_by_editing_the_membership(web_as, organizer, member):
    membership = Membership.objects.get(user=member)
    url = reverse("admin:peers_membership_change", args=[membership.pk])
    web_as(organizer).post(url, {"status": "suspended"})
    assert Membership.objects.get(pk=membership.pk).status == "active"


def test_the_organizer_sees_only_their_community(web_as, organizer, other_community):
    html = web_as(organizer).get(reverse("admin:peers_community_changelist")).content.decode()
    assert "Sunnyside Commons" in html and "Riverside Neighbors" not in html
    response = web_as(organizer).get(reverse("admin:peers_community_change", args=[other_community.pk]), follow=True)
    assert "Riverside Neighbors" not in response.content.decode()


def test_the_community_filter_offers_only_their_communities(web_as, organizer, other_community):
    from apps.peers.factories import CommunityFactory

    # A second community of their own makes the filter appear (it hides with one choice).
    OrganizerMembershipFactory(user=organizer, community=CommunityFactory(slug="elm", name="Elm Street"))
    html = web_as(organizer).get(reverse("admin:peers_membership_changelist")).content.decode()
    filter_html = html.split('id="changelist-filter"')[1]
    assert "Elm Street" in filter_html and "Sunnyside Commons" in filter_html
    assert "Riverside Neighbors" not in html


def test_the_organizer_cannot_see_accounts_or_delete_memberships(web_as, organizer, member):
    client = web_as(organizer)
    assert client.get(reverse("admin:peers_user_changelist")).status_code == 403
    membership = Membership.objects.get(user=member)
    assert (
        client.post(reverse("admin:peers_membership_delete", args=[membership.pk]), {"post": "yes"}).status_code == 403
    )
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_promote_action_promotes_within_scope_only(web_as, organizer, member, outsider_membership):
    client = web_as(organizer)
    mine = Membership.objects.get(user=member)
    client.post(
        reverse("admin:peers_membership_changelist"),
        {"action": "promote_to_organizer", "_selected_action": [mine.pk, outsider_membership.pk]},
    )
    assert Membership.objects.get(pk=mine.pk).role == "organizer"
    assert Membership.objects.get(pk=outsider_membership.pk).role == "member"


def test_an_organizer_of_two_communities_sees_both(web_as, organizer, member, other_community, outsider_membership):
    OrganizerMembershipFactory(user=organizer, community=other_community)
    html = web_as(organizer).get(reverse("admin:peers_membership_changelist")).content.decode()
    assert "Max Member" in html and "Rita Riverside" in html


def test_a_suspended_organizer_loses_the_scope(web_as, organizer, member):
    Membership.objects.filter(user=organizer).update(status="suspended")
    assert web_as(organizer).get(reverse("admin:peers_membership_changelist")).status_code == 403


def test_staff_who_organize_nothing_see_nothing(web_as, db):
    staff = UserFactory(is_staff=True)
    assert web_as(staff).get(reverse("admin:peers_membership_changelist")).status_code == 403


def test_a_superuser_sees_every_community(web_as, member, outsider_membership):
    admin = UserFactory(is_staff=True, is_superuser=True)
    html = web_as(admin).get(reverse("admin:peers_membership_changelist")).content.decode()
    assert "Max Member" in html and "Rita Riverside" in html


def test_the_membership_changelist_query_count_does_not_grow(web_as, organizer, community):
    from tests.querycount import assert_queries_do_not_grow

    client = web_as(organizer)
    assert_queries_do_not_grow(
        lambda: client.get(reverse("admin:peers_membership_changelist")),
        lambda n: MembershipFactory.create_batch(n, community=community),
    )
