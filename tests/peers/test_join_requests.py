"""Communities choose how people join: at once, or on an organizer's approval (item 6)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from apps.notifications.models import Notification
from apps.peers import services
from apps.peers.models import Community, JoinRequest, Membership
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db
API = "/api/v1/communities/"


@pytest.fixture
def approval_community(community, organizer):
    Community.objects.filter(pk=community.pk).update(join_policy=Community.JoinPolicy.APPROVAL)
    community.refresh_from_db()
    return community


def test_joining_a_community_that_approves_newcomers_only_asks(approval_community, stranger, organizer):
    with pytest.raises(RuleViolation) as exc:
        services.community_join(community=approval_community, user=stranger)
    assert exc.value.code == "approval_required"
    request = services.join_request_create(community=approval_community, user=stranger, message="I live on Elm St.")
    assert request.status == "requested" and request.message == "I live on Elm St."
    assert not Membership.objects.filter(user=stranger, community=approval_community).exists()
    told = Notification.objects.get(recipient=organizer, kind="peers.join_requested")
    assert "Sam Stranger asks to join Sunnyside Commons" in told.text


def test_an_approved_request_makes_a_member_and_tells_them(approval_community, stranger, organizer):
    request = services.join_request_create(community=approval_community, user=stranger)
    membership = services.join_request_approve(join_request=request, actor=organizer)
    assert (membership.role, membership.status) == ("member", "active")
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", organizer) and request.decided_at
    assert "was approved" in Notification.objects.get(recipient=stranger, kind="peers.join_decided").text


def test_a_declined_request_makes_no_member_and_tells_the_person(approval_community, stranger, organizer):
    request = services.join_request_create(community=approval_community, user=stranger)
    services.join_request_decline(join_request=request, actor=organizer)
    assert not Membership.objects.filter(user=stranger, community=approval_community).exists()
    assert "not approved" in Notification.objects.get(recipient=stranger, kind="peers.join_decided").text
    with pytest.raises(RuleViolation, match="already answered"):
        services.join_request_approve(join_request=request, actor=organizer)


def test_only_organizers_of_that_community_answer_requests(approval_community, stranger, member, other_community):
    from apps.peers.factories import OrganizerMembershipFactory

    elsewhere = OrganizerMembershipFactory(community=other_community).user
    request = services.join_request_create(community=approval_community, user=stranger)
    for actor in (member, elsewhere, stranger):
        with pytest.raises(RuleViolation):
            services.join_request_approve(join_request=request, actor=actor)
    assert JoinRequest.objects.get(pk=request.pk).status == "requested"


def test_one_open_request_per_person_and_community(approval_community, stranger):
    first = services.join_request_create(community=approval_community, user=stranger)
    assert services.join_request_create(community=approval_community, user=stranger) == first
    with pytest.raises(IntegrityError), transaction.atomic():
        JoinRequest.objects.create(community=approval_community, user=stranger)


def test_the_community_page_offers_to_ask_and_then_shows_the_request_pending(web_as, approval_community, stranger):
    client = web_as(stranger)
    page = client.get(approval_community.get_absolute_url()).content.decode()
    assert "Ask to join" in page and "A few words to the organizers" in page
    client.post(reverse("peers:community-join", args=[approval_community.slug]), {"message": "Hello!"})
    page = client.get(approval_community.get_absolute_url()).content.decode()
    assert "waiting for an organizer" in page
    assert JoinRequest.objects.get(user=stranger).message == "Hello!"
    assert not Membership.objects.filter(user=stranger).exists()


def test_a_too_long_message_shows_the_form_again(web_as, approval_community, stranger):
    response = web_as(stranger).post(
        reverse("peers:community-join", args=[approval_community.slug]), {"message": "x" * 1001}
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 1000 characters" in response.content.decode()
    assert not JoinRequest.objects.exists()


def test_the_api_asks_lists_and_approves(api_as, approval_community, stranger, organizer, member):
    url = f"{API}{approval_community.pk}/join-requests/"
    assert api_as(stranger).post(f"{API}{approval_community.pk}/join/").status_code == 409
    asked = api_as(stranger).post(url, {"message": "Hi"}, format="json")
    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    assert api_as(member).get(url).status_code == 404  # not an organizer
    listed = api_as(organizer).get(url).json()["results"]
    assert [(r["person"]["display_name"], r["message"]) for r in listed] == [("Sam Stranger", "Hi")]
    request_id = listed[0]["id"]
    assert api_as(member).post(f"{url}{request_id}/approve/").status_code == 404
    approved = api_as(organizer).post(f"{url}{request_id}/approve/")
    assert approved.status_code == 200 and approved.json()["role"] == "member"
    assert Membership.objects.filter(user=stranger, community=approval_community, status="active").exists()
    assert api_as(organizer).post(f"{url}{request_id}/decline/").status_code == 409


def test_the_api_refuses_a_too_long_message_with_a_field_error(api_as, approval_community, stranger):
    response = api_as(stranger).post(
        f"{API}{approval_community.pk}/join-requests/", {"message": "x" * 1001}, format="json"
    )
    assert response.status_code == 400 and "message" in response.json()
    assert not JoinRequest.objects.exists()


def test_organizers_answer_requests_in_the_admin_after_confirming(web_as, approval_community, stranger, organizer):
    request = services.join_request_create(community=approval_community, user=stranger)
    client = web_as(organizer)
    changelist = reverse("admin:peers_joinrequest_changelist")
    listing = client.get(changelist).content.decode()
    assert "Sam Stranger" in listing
    post = {"action": "approve_requests", "_selected_action": [request.pk]}
    confirm = client.post(changelist, post)
    assert "Approve these requests to join?" in confirm.content.decode()
    assert JoinRequest.objects.get(pk=request.pk).status == "requested"
    client.post(changelist, {**post, "apply": "Confirm"})
    assert JoinRequest.objects.get(pk=request.pk).status == "approved"
    assert Membership.objects.filter(user=stranger, community=approval_community).exists()


def test_an_organizer_does_not_see_another_communitys_requests_in_the_admin(web_as, approval_community, stranger):
    from apps.peers.factories import CommunityFactory, OrganizerMembershipFactory

    elsewhere = OrganizerMembershipFactory(community=CommunityFactory(slug="hillside")).user
    request = services.join_request_create(community=approval_community, user=stranger)
    client = web_as(elsewhere)
    assert "Sam Stranger" not in client.get(reverse("admin:peers_joinrequest_changelist")).content.decode()
    client.post(
        reverse("admin:peers_joinrequest_changelist"),
        {"action": "approve_requests", "_selected_action": [request.pk], "apply": "Confirm"},
    )
    assert JoinRequest.objects.get(pk=request.pk).status == "requested"


def test_the_join_request_list_query_count_does_not_grow(api_as, approval_community, organizer):
    from apps.peers.factories import UserFactory
    from tests.querycount import assert_queries_do_not_grow

    client = api_as(organizer)

    def add(n):
        for _ in range(n):
            JoinRequest.objects.create(community=approval_community, user=UserFactory())

    # Queries: the community with its member count, the organizer check, count(*) for
    # pagination, the page of requests with each person's profile.
    queries = assert_queries_do_not_grow(
        lambda: client.get(f"{API}{approval_community.pk}/join-requests/"), add, small=1, large=30
    )
    assert queries == 4
