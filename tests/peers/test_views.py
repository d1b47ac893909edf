import pytest
from django.core import mail
from django.urls import reverse

from apps.peers.factories import CommunityFactory, MembershipFactory
from apps.peers.models import Membership, Profile
from apps.skills.factories import OfferFactory
from apps.tools.factories import ToolFactory
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def test_the_community_list_lists_communities_with_member_counts(client, member, community, other_community):
    response = client.get(reverse("peers:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sunnyside Commons" in html and "Riverside Neighbors" in html
    assert "1 member" in html


def test_the_community_list_says_so_when_there_are_no_communities(client, db):
    assert "There are no communities yet." in client.get(reverse("peers:list")).content.decode()


def test_the_community_list_query_count_does_not_grow(client, db):
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            i = next(counter)
            CommunityFactory(slug=f"c{i}", name=f"Community {i:03d}")

    # Queries: count(*) for the paginator, one page of communities with member counts,
    # the exchanges those communities use.
    assert assert_queries_do_not_grow(lambda: client.get(reverse("peers:list")), add) == 3


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


def test_the_community_page_query_count_does_not_grow_with_its_tools_and_skill_offers(web_as, owner, member, community):
    client = web_as(member)

    def add(n):
        ToolFactory.create_batch(n, owner=owner, community=community)
        OfferFactory.create_batch(n, member=owner, community=community)

    assert_queries_do_not_grow(lambda: client.get(community.get_absolute_url()), add)
    html = client.get(community.get_absolute_url()).content.decode()
    # A few of each, never all thirty.
    assert html.count("lent by Olive Owner") == 4
    assert html.count("offered by Olive Owner") == 4


def test_after_joining_the_community_page_says_what_to_do_first(web_as, stranger, community):
    client = web_as(stranger)
    page = client.post(reverse("peers:community-join", args=["sunnyside"]), follow=True).content.decode()
    assert "Welcome! What to do first" in page
    assert f'href="{reverse("peers:profile-edit")}">Set your name and area</a>' in page
    assert f'href="{reverse("tools:list")}?community={community.pk}">Browse the tools</a>' in page
    assert f'href="{reverse("skills:offer-create")}">Offer a skill</a>' in page
    # The steps are folded away for a long-standing member, not removed.
    Membership.objects.filter(user=stranger).update(joined_at="2020-01-01T00:00:00Z")
    later = client.get(community.get_absolute_url()).content.decode()
    assert "Welcome! What to do first" in later and "<details open>" not in later


def test_the_community_page_shows_a_few_of_its_own_tools_and_skill_offers(web_as, owner, member, community):
    elsewhere = CommunityFactory(slug="riverside", name="Riverside Neighbors")
    MembershipFactory(user=member, community=elsewhere)
    ToolFactory(owner=owner, community=community, title="Long ladder")
    ToolFactory(owner=owner, community=elsewhere, title="Riverside canoe")
    ToolFactory(owner=owner, community=community, title="Hidden hedge trimmer", is_hidden=True)
    OfferFactory(member=owner, community=community, title="Bike repair on Saturdays")
    OfferFactory(member=owner, community=elsewhere, title="Riverside rowing lessons")
    html = web_as(member).get(community.get_absolute_url()).content.decode()
    assert "Long ladder" in html and "Bike repair on Saturdays" in html
    assert "Riverside canoe" not in html and "Riverside rowing lessons" not in html
    assert "Hidden hedge trimmer" not in html
    assert f"{reverse('tools:list')}?community={community.pk}" in html
    assert f"{reverse('skills:directory')}?community={community.pk}" in html


def test_an_empty_community_invites_its_members_to_lend_and_offer_first(web_as, member, community):
    html = web_as(member).get(community.get_absolute_url()).content.decode()
    assert "Nobody lends a tool here yet." in html
    assert "Nobody offers a skill here yet." in html


def test_outsiders_and_suspended_members_see_no_first_steps_nor_the_communitys_tools(
    client, web_as, owner, member, stranger, community
):
    ToolFactory(owner=owner, community=community, title="Long ladder")
    Membership.objects.filter(user=member).update(status=Membership.Status.SUSPENDED)
    for html in (
        client.get(community.get_absolute_url()).content.decode(),
        web_as(stranger).get(community.get_absolute_url()).content.decode(),
        web_as(member).get(community.get_absolute_url()).content.decode(),
    ):
        assert "What to do first" not in html and "Long ladder" not in html


def test_leaving_is_a_quiet_link_that_still_asks_for_confirmation(web_as, member, community):
    client = web_as(member)
    html = client.get(community.get_absolute_url()).content.decode()
    leave_url = reverse("peers:community-leave", args=["sunnyside"])
    link = html[html.index(f'href="{leave_url}"') - 3 : html.index("Leave this community")]
    assert 'role="button"' not in link
    assert "<small>" in html[html.index(f'href="{leave_url}"') - 20 : html.index(f'href="{leave_url}"')]
    assert "Leave Sunnyside Commons?" in client.get(leave_url).content.decode()
    assert Membership.objects.filter(user=member).exists()


def test_the_home_page_names_all_four_exchanges_and_nothing_as_coming(client, community):
    html = client.get(reverse("peers:list")).content.decode()
    assert "share the sun from your roofs and design shared spaces together" in html
    assert "Coming next" not in html and "not open yet" not in html


def test_the_welcome_email_names_the_first_steps_and_only_the_exchanges_that_exist(
    web_as, stranger, community, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        web_as(stranger).post(reverse("peers:community-join", args=["sunnyside"]))
    (email,) = mail.outbox
    html = email.alternatives[0][0]
    for text in (email.body, html):
        assert "surplus power of their solar panels" in " ".join(text.split())
        assert "design and build improvements to the spaces they share" in " ".join(text.split())
        assert "not open yet" not in text
        assert reverse("peers:profile-edit") in text
        assert f"{reverse('tools:list')}?community={community.pk}" in text
        assert reverse("skills:offer-create") in text
        assert reverse("solar:meters") in text
        assert reverse("codesign:list") in text


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
