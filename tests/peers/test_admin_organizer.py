"""Organizers in the admin: their community's settings open and save (item 13), the
floors under members' limits are for superusers only (item 8), no link leads to a
forbidden page (item 13), and admin access ends with organizing (item 15)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.peers import services
from apps.peers.factories import MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.models import Community, JoinRequest, Membership, User

pytestmark = pytest.mark.django_db


def _change_url(community: Community) -> str:
    return reverse("admin:peers_community_change", args=[community.pk])


def _form_data(client, url: str) -> dict:
    """The change form's current values, as the browser would post them back."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if name == "created_at":
            data["created_at_0"], data["created_at_1"] = f"{value:%Y-%m-%d}", f"{value:%H:%M:%S}"
        elif value is not None:
            data[name] = value
    return data


# --- item 13: no 500, no 403 -------------------------------------------------------------


def test_an_organizer_opens_and_saves_their_community_settings(web_as, organizer, community):
    client = web_as(organizer)
    url = _change_url(community)
    page = client.get(url)
    assert page.status_code == 200 and "Sunnyside Commons" in page.content.decode()
    data = {**_form_data(client, url), "description": "Tools and time, shared.", "join_policy": "approval"}
    response = client.post(url, data)
    assert response.status_code == 302
    community.refresh_from_db()
    assert (community.description, community.join_policy) == ("Tools and time, shared.", "approval")


def test_crawling_the_peers_admin_as_an_organizer_finds_no_forbidden_or_broken_page(
    web_as, organizer, member, community, stranger
):
    Community.objects.filter(pk=community.pk).update(join_policy="approval")
    JoinRequest.objects.create(community=community, user=stranger, message="Hello")
    client = web_as(organizer)
    start = [
        "/admin/",
        "/admin/peers/",
        reverse("admin:peers_community_changelist"),
        reverse("admin:peers_membership_changelist"),
        reverse("admin:peers_joinrequest_changelist"),
    ]
    seen, queue, bad = set(), list(start), []
    while queue and len(seen) < 150:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        if response.status_code >= 400 and response.status_code != 404:
            bad.append((url, response.status_code))
            continue
        for href in re.findall(r'href="(/admin/peers/[^"#?]*)"', response.content.decode()):
            if "/delete/" not in href and "/history/" not in href:
                queue.append(href)
    assert bad == []
    assert reverse("admin:peers_community_change", args=[community.pk]) in seen
    assert any("/admin/peers/membership/" in u and u.endswith("/change/") for u in seen)


def test_a_member_link_in_the_admin_leads_an_organizer_to_the_members_profile(web_as, organizer, member):
    response = web_as(organizer).get(reverse("admin:peers_user_change", args=[member.pk]), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("peers:profile", args=[member.pk])
    assert "Max Member" in response.content.decode()
    assert "member@example.org" not in response.content.decode()


# --- item 8: the floors are for superusers ------------------------------------------------


def test_an_organizer_cannot_change_the_floors_of_their_community(web_as, organizer, community):
    client = web_as(organizer)
    url = _change_url(community)
    data = {**_form_data(client, url), "hour_limit_floor": "-9999", "credit_limit_floor": "-100000"}
    client.post(url, data)
    community.refresh_from_db()
    assert (community.hour_limit_floor, community.credit_limit_floor) == (Decimal("-40"), Decimal("-500"))


def test_a_default_limit_below_the_floor_is_a_form_error_not_a_crash(web_as, organizer, community):
    client = web_as(organizer)
    url = _change_url(community)
    response = client.post(url, {**_form_data(client, url), "default_credit_limit": "-9999999"})
    assert response.status_code == 200
    assert "can&#x27;t be below the community&#x27;s floor of -500" in response.content.decode()
    community.refresh_from_db()
    assert community.default_credit_limit == Decimal("-50")


def test_a_superuser_changes_the_floors(web_as, community):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = web_as(admin)
    url = _change_url(community)
    client.post(url, {**_form_data(client, url), "credit_limit_floor": "-1000", "default_credit_limit": "-800"})
    community.refresh_from_db()
    assert (community.credit_limit_floor, community.default_credit_limit) == (Decimal("-1000"), Decimal("-800"))


# --- item 15: admin access ends with organizing --------------------------------------------


@pytest.fixture
def second_organizer(community):
    return OrganizerMembershipFactory(community=community, user__profile__display_name="Oscar Second").user


def _is_staff(user: User) -> bool:
    return User.objects.get(pk=user.pk).is_staff


def test_an_organizer_who_leaves_loses_admin_access(organizer, second_organizer, community):
    services.community_leave(community=community, user=organizer)
    assert _is_staff(organizer) is False


def test_a_demoted_organizer_loses_admin_access(organizer, second_organizer):
    services.membership_demote(membership=Membership.objects.get(user=second_organizer), actor=organizer)
    assert Membership.objects.get(user=second_organizer).role == "member"
    assert _is_staff(second_organizer) is False


def test_an_organizer_who_still_organizes_elsewhere_keeps_admin_access(
    organizer, second_organizer, community, other_community
):
    MembershipFactory(community=other_community, user=organizer, role=Membership.Role.ORGANIZER)
    services.community_leave(community=community, user=organizer)
    assert _is_staff(organizer) is True


def test_a_superuser_keeps_admin_access_when_they_stop_organizing(community, second_organizer):
    boss = UserFactory(is_staff=True, is_superuser=True)
    MembershipFactory(community=community, user=boss, role=Membership.Role.ORGANIZER)
    services.community_leave(community=community, user=boss)
    assert _is_staff(boss) is True


def test_a_suspended_organizer_loses_admin_access(organizer, second_organizer):
    from apps.moderation.services import membership_suspend

    superuser = UserFactory(is_staff=True, is_superuser=True)
    membership_suspend(membership=Membership.objects.get(user=second_organizer), actor=superuser, reason="Abuse")
    assert _is_staff(second_organizer) is False


def test_a_reinstated_organizer_gets_admin_access_back(organizer, second_organizer):
    from apps.moderation.services import membership_reinstate, membership_suspend

    superuser = UserFactory(is_staff=True, is_superuser=True)
    membership = Membership.objects.get(user=second_organizer)
    membership_suspend(membership=membership, actor=superuser, reason="Abuse")
    membership_reinstate(membership=membership, actor=superuser, reason="Sorted out")
    assert _is_staff(second_organizer) is True


def test_the_last_organizer_cannot_be_demoted(organizer, community):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    with pytest.raises(Exception, match="at least one organizer"):
        services.membership_demote(membership=Membership.objects.get(user=organizer), actor=superuser)
    assert _is_staff(organizer) is True


def test_the_demote_action_makes_another_organizer_a_member_and_names_who_it_refused(
    web_as, organizer, second_organizer
):
    client = web_as(organizer)
    mine, theirs = Membership.objects.get(user=organizer), Membership.objects.get(user=second_organizer)
    page = client.post(
        reverse("admin:peers_membership_changelist"),
        {"action": "demote_to_member", "_selected_action": [mine.pk, theirs.pk]},
        follow=True,
    ).content.decode()
    assert Membership.objects.get(pk=theirs.pk).role == "member"
    assert Membership.objects.get(pk=mine.pk).role == "organizer"  # nobody demotes themselves
    assert "1 organizer(s) are now plain members." in page
    assert "Orla Organizer: Another organizer has to do this." in page
