"""Delivery claims are leases: a notification is marked sent only after its email went
out, and one left in flight by a worker that died is emailed by the redelivered task or,
once the lease ran out, by the outbox sweep; never by two runs at once.

The state a killed worker leaves (a claim in flight, by a task that no longer runs) is
written to the row as the dead run left it; the real kill -9 is in
tests/faults/test_worker_kill.py. The tasks run eagerly with the task id a redelivery
keeps, which is how the service tells its own dead claim from another run's live one.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from apps.notifications import services
from apps.notifications.models import Notification
from apps.notifications.tasks import deliver_notifications, flush_notification_outbox
from apps.peers.factories import MembershipFactory
from tests import reliability

pytestmark = pytest.mark.django_db
FIGURES = {"tests": 0, "emails": 0, "invariants": 0}
SEEN_AT_SEND: list[str] = []


class StateRecordingBackend(EmailBackend):
    """The locmem backend, noting the notification's email state when the mail server
    is asked: what a crash at that moment would leave in the database."""

    def send_messages(self, messages):
        SEEN_AT_SEND.extend(Notification.objects.values_list("email", flat=True))
        return super().send_messages(messages)


class RefusingBackend(EmailBackend):
    """A mail server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


reliability_line = reliability.summary_fixture(
    "notification-lease",
    lambda: f"tests={FIGURES['tests']} emails={FIGURES['emails']} invariants={FIGURES['invariants']}",
)


@pytest.fixture(autouse=True)
def count_test():
    FIGURES["tests"] += 1
    yield
    FIGURES["emails"] += len(mail.outbox)


def left_in_flight(note: Notification, *, by: str, email: str = "sending", ago: timedelta = timedelta()) -> None:
    """The row as a worker running task ``by`` left it when it was killed."""
    claimed = timezone.now() - ago
    Notification.objects.filter(pk=note.pk).update(
        delivered_at=claimed, claimed_by=f"{by}/0123abcd", email=email, emailed_at=claimed
    )


def test_the_row_says_sending_while_the_mail_server_is_asked_and_sent_after(notify_member, settings):
    settings.EMAIL_BACKEND = f"{__name__}.StateRecordingBackend"
    SEEN_AT_SEND.clear()
    [note] = notify_member()
    assert services.deliver(notification_ids=[note.pk]) == 1
    note.refresh_from_db()
    assert SEEN_AT_SEND == ["sending"], "a crash during the send must leave the row in flight, not sent"
    assert note.email == "sent" and len(mail.outbox) == 1
    FIGURES["invariants"] += 1


def test_a_failed_send_releases_the_claim_for_a_retry(notify_member, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    [note] = notify_member()
    with pytest.raises(ConnectionRefusedError):
        services.deliver(notification_ids=[note.pk])
    note.refresh_from_db()
    assert (note.delivered_at, note.email, note.claimed_by, note.emailed_at) == (None, "pending", "", None)
    FIGURES["invariants"] += 1


def test_the_redelivered_task_takes_over_its_own_dead_claim_at_once(notify_member):
    [note] = notify_member()
    left_in_flight(note, by="task-1")
    assert deliver_notifications.apply(args=[[note.pk]], task_id="task-1").get() == 1
    note.refresh_from_db()
    assert note.email == "sent" and note.claimed_by.startswith("task-1/") and len(mail.outbox) == 1
    assert deliver_notifications.apply(args=[[note.pk]], task_id="task-1").get() == 0  # and once
    assert len(mail.outbox) == 1
    FIGURES["invariants"] += 2


def test_another_task_leaves_a_claim_alone_within_its_lease(notify_member):
    [note] = notify_member()
    left_in_flight(note, by="task-1", ago=services.SEND_LEASE - timedelta(seconds=5))
    assert deliver_notifications.apply(args=[[note.pk]], task_id="task-2").get() == 0
    assert flush_notification_outbox.apply(task_id="sweep-1").get() == 0
    note.refresh_from_db()
    assert note.email == "sending" and note.claimed_by.startswith("task-1/") and mail.outbox == []
    FIGURES["invariants"] += 1


@pytest.mark.parametrize("state", ["sending", "pending"])  # killed mid-send; killed after the claim, before deciding
def test_the_sweep_emails_a_notification_whose_worker_died_once_the_lease_ran_out(notify_member, state):
    [note] = notify_member()
    left_in_flight(note, by="task-1", email=state)
    with time_machine.travel(timezone.now() + services.SEND_LEASE + timedelta(seconds=1)):
        assert flush_notification_outbox.apply(task_id="sweep-1").get() == 1
        assert flush_notification_outbox.apply(task_id="sweep-2").get() == 0
    note.refresh_from_db()
    assert note.email == "sent" and note.claimed_by.startswith("sweep-1/")
    assert [m.to for m in mail.outbox] == [[note.recipient.email]]
    FIGURES["invariants"] += 2


def test_an_email_being_sent_counts_toward_the_senders_hourly_limit(community, member, settings):
    settings.NOTIFICATION_EMAILS_PER_SENDER_PER_HOUR = 1
    sender = MembershipFactory(community=community).user
    first, second = (
        services.notify(recipients=[member], kind="test.now", text=f"Gift {i}", actor=sender)[0] for i in range(2)
    )
    left_in_flight(first, by="task-1")  # its worker is sending it right now
    services.deliver(notification_ids=[second.pk])
    second.refresh_from_db()
    assert second.email == "digest" and mail.outbox == []
    FIGURES["invariants"] += 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_racing_for_a_lapsed_claim_email_it_once(notify_member):
    """Eight sweeps at once on PostgreSQL: each claim is an UPDATE conditional on the
    claim time it read, so exactly one of them sends."""
    [note] = notify_member()  # committed: delivered at once, then set back as a dead run left it
    left_in_flight(note, by="task-1", ago=services.SEND_LEASE + timedelta(minutes=1))
    mail.outbox.clear()
    start = threading.Barrier(8)
    picked: list[int] = []

    def sweep() -> None:
        try:
            start.wait()
            picked.append(services.flush_outbox())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    note.refresh_from_db()
    assert note.email == "sent"
    assert len(mail.outbox) == 1, f"emailed {len(mail.outbox)} times by {len(picked)} sweeps"
    FIGURES["invariants"] += 1
