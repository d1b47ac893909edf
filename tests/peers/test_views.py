import pytest
from django.urls import reverse

from apps.peers.factories import CommunityFactory, MembershipFactory
from apps.peers.models import Membership, Profile
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def test_the_home_page_lists_communities_with_member_counts(client, member, community, other_community):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sunnyside Commons" in html and "Riverside Neighbors" in html
    assert "1 member" in html


def test_the_home_page_says_so_when_there_are_no_communities(client, db):
    assert "There are no communities yet." in client.get("/").content.decode()


def test_the_home_page_query_count_does_not_grow(client, db):
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            i = next(counter)
            CommunityFactory(slug=f"c{i}", name=f"Community {i:03d}")

    # Queries: count(*) for the paginator, one page of communities with member counts.
    assert assert_queries_do_not_grow(lambda: client.get("/"), add) == 2


def test_the_community_page_shows_members_only_to_logged_in_users(client, web_as, member, community):
    anonymous = client.get(community.get_absolute_url()).content.decode()
    assert "Max Member" not in anonymous and "Sign in" in anonymous
    logged_in = web_as(member).get(community.get_absolute_url()).content.decode()
    assert "Max Member" in logged_in
    assert member.profile.exact_address not in logged_in


def test_the_community_page_query_count_does_not_grow(web_as, member, community):
    client = web_as(member)
    assert_queries_do_not_grow(
        lambda: client.get(community.get_absolute_url()),
        lambda n: MembershipFactory.create_batch(n, community=community),
    )


def test_joining_from_the_community_page(web_as, stranger, community):
    response = web_as(stranger).post(reverse("peers:community-join", args=["sunnyside"]), follow=True)
    assert "Welcome to Sunnyside Commons!" in response.content.decode()
    assert Membership.objects.filter(user=stranger, community=community).exists()


def test_leaving_asks_for_confirmation_first(web_as, member, community):
    client = web_as(member)
    confirm = client.get(reverse("peers:community-leave", args=["sunnyside"]))
    assert "Leave Sunnyside Commons?" in confirm.content.decode()
    assert Membership.objects.filter(user=member).exists()
    done = client.post(reverse("peers:community-leave", args=["sunnyside"]), follow=True)
    assert "You left Sunnyside Commons." in done.content.decode()
    assert not Membership.objects.filter(user=member).exists()


def test_the_last_organizer_sees_why_they_cannot_leave(web_as, organizer, community):
    response = web_as(organizer).post(reverse("peers:community-leave", args=["sunnyside"]), follow=True)
    assert "last organizer" in response.content.decode()
    assert Membership.objects.filter(user=organizer).exists()


def test_an_organizer_sees_promote_buttons_and_a_member_does_not(web_as, organizer, member, community):
    assert "Make organizer" in web_as(organizer).get(community.get_absolute_url()).content.decode()
    assert "Make organizer" not in web_as(member).get(community.get_absolute_url()).content.decode()


def test_a_member_cannot_promote_through_a_forged_post(web_as, owner, member, community):
    membership = Membership.objects.get(user=member)
    response = web_as(owner).post(reverse("peers:member-promote", args=["sunnyside", membership.pk]), follow=True)
    assert "Only an organizer" in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).role == "member"


def test_a_public_profile_shows_only_public_fields(web_as, owner, member):
    Profile.objects.filter(user=member).update(exact_address="Secret Lane 1", phone="+31 6 1234", bio="I fix bikes.")
    html = web_as(owner).get(reverse("peers:profile", args=[member.pk])).content.decode()
    assert "Max Member" in html and "I fix bikes." in html
    assert "Secret Lane 1" not in html and "+31 6 1234" not in html and "member@example.org" not in html


def test_an_unknown_profile_is_a_404(client, db):
    assert client.get(reverse("peers:profile", args=[987654])).status_code == 404


def test_i_edit_my_profile_in_the_browser(web_as, member):
    response = web_as(member).post(
        reverse("peers:profile-edit"),
        {
            "display_name": "Maxine",
            "bio": "Hi",
            "neighborhood": "North",
            "exact_address": "Elm 5",
            "phone": "",
            "latitude": "52.361234",
            "longitude": "4.901234",
        },
        follow=True,
    )
    assert "Your profile is saved." in response.content.decode()
    profile = Profile.objects.get(user=member)
    assert (profile.display_name, profile.exact_address) == ("Maxine", "Elm 5")
    assert profile.approx_latitude is not None


def test_bad_profile_input_shows_the_form_again_with_messages(web_as, member):
    response = web_as(member).post(
        reverse("peers:profile-edit"), {"display_name": "", "latitude": "95", "longitude": "4"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    assert "Ensure this value is less than or equal to 90." in html
    assert Profile.objects.get(user=member).display_name == "Max Member"


def test_another_member_cannot_edit_my_profile_in_the_browser(web_as, owner, member):
    # /me/ always edits the logged-in member's own profile; there is no URL for another's.
    web_as(owner).post(reverse("peers:profile-edit"), {"display_name": "Hacked"})
    assert Profile.objects.get(user=member).display_name == "Max Member"
    assert Profile.objects.get(user=owner).display_name == "Hacked"


def test_editing_requires_login(client, db):
    response = client.get(reverse("peers:profile-edit"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_account_pages_use_the_site_layout(client, db):
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        html = client.get(url).content.decode()
        assert "vendor/pico/pico.min.css" in html, url
        assert 'href="/"' in html  # the site's nav


def test_the_health_check_answers(client, db):
    assert client.get("/healthz/").json() == {"status": "ok"}


def test_an_id_too_large_for_the_database_is_a_404_not_a_500(client, db):
    assert client.get("/people/9223372036854775808/").status_code == 404
    assert client.post("/c/sunnyside/members/99999999999999999999/promote/").status_code == 404
