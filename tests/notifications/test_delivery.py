"""Delivery: in-app always, email per preference, exactly once, through a dead broker."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from apps.notifications import services
from apps.notifications.models import Notification, Preference
from p2pcommons.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_a_notification_is_saved_and_emailed_at_once(notify_member, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [note] = notify_member(url="/ledger/")
    note.refresh_from_db()
    assert (note.email, note.delivered_at is not None) == ("sent", True)
    assert [m.subject for m in mail.outbox] == ["Test: immediate"]
    body = mail.outbox[0].body
    assert "Max, your drill is back" in body
    assert "http://127.0.0.1:8000/ledger/" in body and "/notifications/unsubscribe/" in body
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    assert "List-Unsubscribe" in mail.outbox[0].extra_headers


def test_delivering_twice_sends_one_email(notify_member):
    [note] = notify_member()  # not yet delivered: on_commit is not run in this test
    services.deliver(notification_ids=[note.pk])
    services.deliver(notification_ids=[note.pk])
    assert len(mail.outbox) == 1


def test_the_actor_is_not_notified_of_their_own_act(member):
    assert services.notify(recipients=[member], kind="test.now", text="x", actor=member) == []


def test_an_unknown_kind_is_a_programming_error(member):
    with pytest.raises(ValueError, match="Unknown notification kind"):
        services.notify(recipients=[member], kind="nope", text="x")


def test_preference_off_sends_no_email_but_keeps_it_in_app(notify_member, member):
    services.preference_set(user=member, kind="test.now", delivery="off")
    [note] = notify_member()
    services.deliver(notification_ids=[note.pk])
    assert mail.outbox == []
    assert Notification.objects.get(pk=note.pk).email == "skipped"


def test_three_digest_notifications_make_one_digest_email(notify_member, member):
    notes = [notify_member(kind="test.digest", text=f"Update {i}")[0] for i in range(3)]
    services.deliver(notification_ids=[n.pk for n in notes])
    assert mail.outbox == []
    assert services.send_digests() == 1
    assert len(mail.outbox) == 1
    assert all(f"Update {i}" in mail.outbox[0].body for i in range(3))
    assert services.send_digests() == 0  # nothing twice
    assert len(mail.outbox) == 1


def test_digest_preference_off_produces_no_digest(notify_member, member):
    services.preference_set(user=member, kind="test.digest", delivery="off")
    notes = [notify_member(kind="test.digest")[0] for _ in range(3)]
    services.deliver(notification_ids=[n.pk for n in notes])
    assert services.send_digests() == 0 and mail.outbox == []


def test_a_digest_leaves_out_what_was_read_meanwhile(notify_member, member):
    first, second = (notify_member(kind="test.digest", text=t)[0] for t in ("Read one", "Unread one"))
    services.deliver(notification_ids=[first.pk, second.pk])
    services.mark_read(notification=first, user=member)
    services.send_digests()
    assert "Unread one" in mail.outbox[0].body and "Read one" not in mail.outbox[0].body


def _forget_connections() -> None:
    """Make the app's next publish connect to whatever ``broker_url`` now says (Celery
    caches its connection and producer pools per app, as after a fork)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_notification_is_kept_and_the_outbox_delivers_it_later(member, caplog):
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    _forget_connections()
    try:
        # A real commit: on_commit runs, enqueueing fails against the dead port, and
        # nothing of that reaches the caller.
        [note] = services.notify(recipients=[member], kind="test.now", text="Broker-proof")
    finally:
        celery_app.conf.update(saved)
        _forget_connections()
    note.refresh_from_db()
    assert note.delivered_at is None and mail.outbox == []
    assert "Broker unreachable; apps.notifications.tasks.deliver_notifications" in caplog.text
    assert "waits for the outbox sweep (1 notification(s))" in caplog.text

    assert services.flush_outbox() == 0  # within the grace period a worker may still get it
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert services.flush_outbox() == 1
        assert services.flush_outbox() == 0
    note.refresh_from_db()
    assert note.email == "sent" and len(mail.outbox) == 1


def test_an_unsubscribe_link_turns_that_kind_off(client, notify_member, member):
    [note] = notify_member()
    services.deliver(notification_ids=[note.pk])
    link = next(line for line in mail.outbox[0].body.splitlines() if "/unsubscribe/" in line).split(": ", 1)[1]
    path = link.replace("http://127.0.0.1:8000", "")
    assert "Stop these emails?" in client.get(path).content.decode()
    assert not Preference.objects.exists()  # a mail scanner's GET changes nothing
    assert "Unsubscribed" in client.post(path).content.decode()
    assert Preference.objects.get(user=member, kind="test.now").delivery == "off"


def test_a_forged_unsubscribe_link_is_refused(client, db):
    response = client.post("/notifications/unsubscribe/forged-token/")
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_receiving_credits_notifies_once_even_when_the_request_is_retried(owner, member, community):
    from apps.ledger import services as ledger

    for _ in range(2):
        ledger.gift_send(
            sender=owner,
            recipient=member,
            community=community,
            currency="HOUR",
            amount="1.5",
            memo="Thanks",
            idempotency_key="k",
        )
    assert list(Notification.objects.filter(recipient=member).values_list("text", flat=True)) == [
        "Olive Owner sent you 1.50 hours: Thanks"
    ]


def test_another_members_free_text_is_never_in_the_subject_line(member):
    [note] = services.notify(recipients=[member], kind="test.now", text="Please stop.\nSecond line.")
    services.deliver(notification_ids=[note.pk])
    assert mail.outbox[0].subject == "Test: immediate"
    assert "Please stop.\nSecond line." in mail.outbox[0].body


def test_a_gift_email_has_a_fixed_subject_and_the_memo_only_in_the_body(owner, member, community):
    from apps.ledger import services as ledger

    ledger.gift_send(
        sender=owner,
        recipient=member,
        community=community,
        currency="HOUR",
        amount="1",
        memo="Click evil.example",
        idempotency_key="gift-1",
    )
    [note] = Notification.objects.filter(recipient=member)
    services.deliver(notification_ids=[note.pk])
    assert [m.subject for m in mail.outbox] == ["A neighbor sent you credits"]
    assert "Click evil.example" in mail.outbox[0].body


def test_one_senders_notifications_beyond_the_hourly_limit_wait_for_the_digest(owner, member, settings):
    settings.NOTIFICATION_EMAILS_PER_SENDER_PER_HOUR = 3
    notes = [services.notify(recipients=[member], kind="test.now", text=f"gift {i}", actor=owner)[0] for i in range(5)]
    services.deliver(notification_ids=[n.pk for n in notes])
    assert len(mail.outbox) == 3
    emails = [n.email for n in Notification.objects.filter(recipient=member).order_by("pk")]
    assert emails == ["sent", "sent", "sent", "digest", "digest"]
    assert Notification.objects.filter(recipient=member).count() == 5  # all shown in-app
    assert services.send_digests() == 1
    assert "gift 3" in mail.outbox[-1].body and "gift 4" in mail.outbox[-1].body


def test_the_sender_limit_is_per_sender_and_resets_after_an_hour(owner, member, organizer, settings):
    settings.NOTIFICATION_EMAILS_PER_SENDER_PER_HOUR = 1
    first = services.notify(recipients=[member], kind="test.now", text="a", actor=owner)
    other = services.notify(recipients=[member], kind="test.now", text="b", actor=organizer)
    services.deliver(notification_ids=[first[0].pk, other[0].pk])
    assert len(mail.outbox) == 2
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        later = services.notify(recipients=[member], kind="test.now", text="c", actor=owner)
        services.deliver(notification_ids=[later[0].pk])
    assert len(mail.outbox) == 3


def test_marking_read_never_redirects_off_site(client, member):
    [note] = services.notify(recipients=[member], kind="test.now", text="x")
    client.force_login(member)
    response = client.post(f"/notifications/{note.pk}/read/", {"next": "//evil.example/x"})
    assert response["Location"] == "/notifications/"
