"""The peer core's pages, refusals and notifications in Dutch (Accept-Language: nl)."""

import pytest
from django.urls import reverse
from django.utils import translation

from apps.notifications.models import Notification
from apps.peers import services
from apps.peers.factories import UserFactory
from apps.peers.models import Community
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


def test_the_community_list_is_in_dutch(client, member, community):
    html = client.get(reverse("peers:list"), **NL).content.decode()
    assert "Er zijn nog geen buurten." not in html
    assert "1 lid" in html
    assert "Neighborhood communities" not in html


def test_the_community_page_is_in_dutch_for_a_member(web_as, member, community):
    html = web_as(member).get(community.get_absolute_url(), **NL).content.decode()
    assert "Hoe buren hier delen" in html
    assert "Deze buurt verlaten" in html
    assert "Leave this community" not in html


def test_the_profile_edit_page_is_in_dutch_with_the_location_messages(web_as, member):
    html = web_as(member).get(reverse("peers:profile-edit"), **NL).content.decode()
    assert "Mijn profiel bewerken" in html
    assert "Mijn locatie gebruiken" in html
    assert 'data-message-denied="Je browser heeft je locatie niet gedeeld.' in html
    assert "Edit my profile" not in html


def test_a_refusal_is_in_dutch(member, community):
    with translation.override("nl"), pytest.raises(RuleViolation) as refused:
        services.join_request_create(community=community, user=member)
    assert str(refused.value) == "Iedereen mag lid worden van deze buurt: word meteen lid."


def test_a_form_error_is_in_dutch(web_as, member):
    response = web_as(member).post(reverse("peers:profile-edit"), {"display_name": "Sam", "latitude": "52.1"}, **NL)
    assert (
        "Geef beide getallen van je positie (noord-zuid en oost-west), of geen van beide." in response.content.decode()
    )


def test_a_join_request_notification_reads_in_the_readers_language(organizer, community):
    Community.objects.filter(pk=community.pk).update(join_policy=Community.JoinPolicy.APPROVAL)
    community.refresh_from_db()
    asker = UserFactory(profile__display_name="Mila")
    services.join_request_create(community=community, user=asker)
    note = Notification.objects.get(recipient=organizer, kind="peers.join_requested")
    assert note.text == f"Mila asks to join {community.name}."
    with translation.override("nl"):
        assert note.display == f"Mila wil lid worden van {community.name}."
