"""Notification pages and emails in Dutch: pages follow Accept-Language, emails the
recipient's saved language."""

import pytest
from django.core import mail
from django.urls import reverse

from apps.notifications import services
from apps.peers.models import Profile
from p2pcommons.i18n import Message

pytestmark = pytest.mark.django_db

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


def test_the_notification_list_is_in_dutch(web_as, member, notify_member):
    notify_member()
    html = web_as(member).get(reverse("notifications:list"), **NL).content.decode()
    assert "Alles als gelezen markeren" in html and "Nieuw" in html
    assert "Mark all as read" not in html


def test_the_preferences_page_is_in_dutch(web_as, member):
    html = web_as(member).get(reverse("notifications:preferences"), **NL).content.decode()
    assert "Meldingsvoorkeuren" in html and "Mail me meteen" in html
    assert "Een buur heeft je credits gestuurd" in html
    assert "Save preferences" not in html


def test_a_bad_unsubscribe_link_is_refused_in_dutch(client, db):
    response = client.post(reverse("notifications:unsubscribe", args=["nonsense"]), **NL)
    assert response.status_code == 400
    assert "Deze afmeldlink is niet geldig." in response.content.decode()


def test_an_email_is_written_in_the_recipients_language(member, notify_member):
    Profile.objects.filter(user=member).update(language="nl")
    member.profile.refresh_from_db()
    [note] = notify_member(
        kind="ledger.received", text=Message("{name} asks to join {community}.", name="Mila", community="Zon")
    )
    services.deliver(notification_ids=[note.pk])
    [email] = mail.outbox
    assert email.subject == "Een buur heeft je credits gestuurd"
    assert "Mila wil lid worden van Zon." in email.body
    assert "E-mailvoorkeuren:" in email.body and "Email preferences" not in email.body
    assert note.text == "Mila asks to join Zon."
