"""A PostgreSQL backend terminated (issue 18, fault 3), mid-request and mid-task.

Mid-request: the site runs in a real one-thread WSGI server (as a gunicorn sync worker
does: one thread, one persistent connection, ``CONN_MAX_AGE``). The test holds a row lock
the request needs after it has written something; once the request's backend waits on
it, a second connection calls ``pg_terminate_backend`` on it. The request answers a
clear 503 (JSON under the API, a plain page on the site), its transaction is rolled
back (nothing it wrote is there), and the next request on the same thread works
(Django's ``CONN_HEALTH_CHECKS`` replaces the dead connection).

Mid-task: a real worker process (tests/faults/harness.py) runs a task that waits on a row
lock the test holds; its backend is terminated; the task is retried (``autoretry_for``
the database's OperationalError) and does its work once: one email per notification.

Nothing is patched: the only injected fault is PostgreSQL's own termination.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import psycopg2
import pytest
import requests
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from apps.ledger.models import Account, Currency, Transfer
from apps.ledger.services import account_for
from apps.notifications.models import Notification
from apps.peers.factories import DEFAULT_PASSWORD
from apps.skills import services as skills
from apps.skills.models import Seat, Session
from tests import reliability
from tests.faults.scenes import session_that_took_place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SUMMARY = {"terminations": 0, "requests": 0, "retried_tasks": 0, "checks": 0}
WAIT_LOCK = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


reliability_line = reliability.summary_fixture(
    "pg-terminate",
    lambda: (
        f"faults={SUMMARY['terminations']} requests={SUMMARY['requests']} tasks_retried={SUMMARY['retried_tasks']} "
        f"invariants_checked={SUMMARY['checks']} invariants=ok"
    ),
)


# --- real connections of our own, outside Django's -----------------------------------
def raw_connection(*, autocommit: bool):
    settings = connection.settings_dict
    conn = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )
    conn.autocommit = autocommit
    return conn


@pytest.fixture
def admin() -> Iterator:
    """An autocommit connection that watches pg_stat_activity and terminates backends."""
    conn = raw_connection(autocommit=True)
    yield conn
    conn.close()


@pytest.fixture
def locker() -> Iterator:
    """A connection that holds row locks in an open transaction until told to let go."""
    conn = raw_connection(autocommit=False)
    yield conn
    conn.rollback()
    conn.close()


def terminate_the_waiter(admin, timeout: float = 20.0) -> int:
    """Wait until some backend waits on a lock we hold, then terminate it; its pid."""
    deadline = time.monotonic() + timeout
    with admin.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(WAIT_LOCK)
            waiting = [pid for (pid,) in cursor.fetchall()]
            if waiting:
                assert len(waiting) == 1, waiting
                cursor.execute("SELECT pg_terminate_backend(%s)", [waiting[0]])
                assert cursor.fetchone()[0] is True
                SUMMARY["terminations"] += 1
                return waiting[0]
            time.sleep(0.05)
    raise AssertionError("nothing waited on the lock: the request or task never got there")


# --- a one-thread WSGI server, like a gunicorn sync worker --------------------------
class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class OneThreadServer:
    """Serves the project with one thread (one persistent database connection)."""

    def __init__(self) -> None:
        from django.core.wsgi import get_wsgi_application

        django_app = get_wsgi_application()
        self.backend_pid: int | None = None

        def app(environ, start_response):
            """The project, noting which PostgreSQL backend this thread's connection uses."""
            try:
                return django_app(environ, start_response)
            finally:
                raw = connection.connection
                self.backend_pid = raw.get_backend_pid() if raw is not None and not raw.closed else None

        self.httpd: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
        self.httpd.timeout = 0.1
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.stopped = False
        self.thread_ids: set[int] = set()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while not self.stopped:
                self.thread_ids.add(threading.get_ident())
                self.httpd.handle_request()
        finally:
            connections.close_all()  # this thread's connection, so the test database can be dropped
            self.httpd.server_close()

    def stop(self) -> None:
        self.stopped = True
        self.thread.join(timeout=10)


@pytest.fixture
def server() -> Iterator[OneThreadServer]:
    started = OneThreadServer()
    yield started
    started.stop()


def app_token(server: OneThreadServer, email: str) -> str:
    """Sign in as a mobile app does; the session token for ``X-Session-Token``."""
    response = requests.post(
        f"{server.url}/_allauth/app/v1/auth/login", json={"email": email, "password": DEFAULT_PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["meta"]["session_token"]


def browser_session(server: OneThreadServer, email: str) -> requests.Session:
    """Sign in through the login form, as a browser does (cookie and CSRF token)."""
    browser = requests.Session()
    login = reverse("account_login")
    browser.get(f"{server.url}{login}", timeout=10)
    response = browser.post(
        f"{server.url}{login}",
        {"login": email, "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return browser


# --- the scene: a skill session that took place, one party already confirmed --------
@pytest.fixture
def half_confirmed(community, owner, member):
    """Olive helped Max for 2 hours; the other party's confirmation settles it: it writes
    that party's hours, then locks both HOUR accounts to move the hours."""
    return session_that_took_place(community=community, helper=owner, learner=member)


def lock_hour_account(locker, user) -> None:
    account = Account.objects.get(owner=user, currency=Currency.HOUR)
    with locker.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Account._meta.db_table} WHERE id = %s FOR UPDATE", [account.pk])  # noqa: S608


def assert_nothing_of_the_request_was_saved(session, field: str) -> None:
    seat = Seat.objects.get(session=session)
    assert getattr(seat, field) is None, f"{field} was saved by a request whose transaction should have rolled back"
    assert seat.status == "booked"
    assert not Transfer.objects.exists()
    assert not Notification.objects.filter(kind="skills.session", text__contains=" moved from ").exists()
    assert Session.objects.get(pk=session.pk).status != "completed"
    SUMMARY["checks"] += 4


def assert_settled_once(session, learner) -> None:
    seat = Seat.objects.get(session=session)
    assert (seat.learner_hours, seat.helper_hours, seat.status) == (Decimal(2), Decimal(2), "completed")
    transfers = Transfer.objects.filter(idempotency_key=f"skills-session:{session.pk}:{learner.pk}")
    assert transfers.count() == 1 and Transfer.objects.count() == 1
    assert (
        Notification.objects.filter(kind="skills.session", text__contains=" moved from ").count() == 2
    )  # each party told once
    SUMMARY["checks"] += 3


def in_background(call) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run() -> None:
        try:
            result["response"] = call()
        except Exception as exc:  # reported by the test, not swallowed
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_an_api_request_whose_backend_is_terminated_is_a_503_rolled_back_and_the_next_one_works(
    server, admin, locker, half_confirmed, owner, member
):
    skills.session_confirm(session=half_confirmed, actor=member, hours="2")  # the learner, earlier
    token = app_token(server, owner.email)
    url = f"{server.url}/api/v1/skills/sessions/{half_confirmed.pk}/confirm/"
    headers = {"X-Session-Token": token}

    lock_hour_account(locker, owner)
    thread, result = in_background(lambda: requests.post(url, json={"hours": "2"}, headers=headers, timeout=30))
    terminate_the_waiter(admin)
    locker.rollback()  # let go: the request's backend is gone already
    thread.join(timeout=30)

    response = result.get("response")
    assert response is not None, result.get("error")
    assert (response.status_code, response.headers.get("Retry-After")) == (503, "5"), response.text[:500]
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Part of the site is briefly unavailable. Please try again in a moment."}
    assert_nothing_of_the_request_was_saved(half_confirmed, "helper_hours")

    again = requests.post(url, json={"hours": "2"}, headers=headers, timeout=30)  # the same thread serves it
    assert again.status_code == 200, again.text[:500]
    assert again.json()["status"] == "completed"
    assert_settled_once(half_confirmed, member)
    assert len(server.thread_ids) == 1
    SUMMARY["requests"] += 3


def test_a_form_post_whose_backend_is_terminated_is_a_503_page_rolled_back_and_the_next_one_works(
    server, admin, locker, half_confirmed, owner, member
):
    skills.session_confirm(session=half_confirmed, actor=owner, hours="2")  # the helper, earlier
    browser = browser_session(server, member.email)
    seat = half_confirmed.seats.get()
    url = f"{server.url}{reverse('skills:seat-confirm', args=[half_confirmed.pk, seat.pk])}"
    form = {"hours": "2", "csrfmiddlewaretoken": browser.cookies["csrftoken"]}

    lock_hour_account(locker, member)
    thread, result = in_background(lambda: browser.post(url, form, allow_redirects=False, timeout=30))
    terminate_the_waiter(admin)
    locker.rollback()
    thread.join(timeout=30)

    response = result.get("response")
    assert response is not None, result.get("error")
    assert (response.status_code, response.headers.get("Retry-After")) == (503, "5"), response.text[:500]
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>Please try again</h1>" in response.text and "Traceback" not in response.text
    assert_nothing_of_the_request_was_saved(half_confirmed, "learner_hours")

    again = browser.post(url, form, allow_redirects=False, timeout=30)
    assert again.status_code == 302, again.text[:500]
    assert_settled_once(half_confirmed, member)
    assert len(server.thread_ids) == 1
    SUMMARY["requests"] += 3


def test_a_persistent_connection_terminated_while_idle_is_replaced_before_the_next_request(server, admin, member):
    """Between two requests the thread's connection dies (a PostgreSQL restart, a
    failover, an idle timeout): the health check at the next request's first query
    notices and reconnects, so the neighbor never sees it."""
    token = app_token(server, member.email)
    headers = {"X-Session-Token": token}
    assert requests.get(f"{server.url}/api/v1/me/", headers=headers, timeout=10).status_code == 200
    idle = server.backend_pid  # the server thread's persistent connection, idle between requests
    assert idle is not None
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [idle])
        assert cursor.fetchone()[0] is True
    SUMMARY["terminations"] += 1

    response = requests.get(f"{server.url}/api/v1/me/", headers=headers, timeout=10)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["email"] == "member@example.org"
    assert len(server.thread_ids) == 1 and server.backend_pid not in (None, idle)  # a new connection
    SUMMARY["requests"] += 3
    SUMMARY["checks"] += 1


# --- mid-task: a real worker process ---------------------------------------------------
@pytest.fixture(scope="module")
def stack(tmp_path_factory, django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)")
    from tests.faults.harness import CeleryStack

    with django_db_blocker.unblock():
        made = CeleryStack(workdir=tmp_path_factory.mktemp("pg-terminate"))
    try:
        yield made
    finally:
        made.stop_all()


@pytest.fixture(scope="module")
def worker(stack):
    """One real worker process (solo pool: the task runs in the process the test watches)."""
    return stack.worker(pool="solo", hooks=False)


def a_notice(recipient, actor=None) -> Notification:
    return Notification.objects.create(
        recipient=recipient,
        actor=actor,
        kind="tools.requested",
        text="Max Member asks to borrow your drill.",
        url="/tools/",
    )


def delivered_once(stack, worker, notice, recipient: str, *, within: float = 15) -> None:
    """The notice is delivered and emailed once, even after a duplicate task."""
    from apps.notifications.tasks import deliver_notifications
    from tests.faults.harness import wait_for

    assert wait_for(lambda: Notification.objects.filter(pk=notice.pk, delivered_at__isnull=False).exists(), 30), (
        worker.log()[-3000:]
    )
    assert wait_for(lambda: len(stack.emails()) >= 1, within), worker.log()[-3000:]
    with stack.publishing():
        deliver_notifications.delay([notice.pk])  # a duplicate, as a redelivery would be
    time.sleep(1.5)
    assert [m["To"] for m in stack.emails()] == [recipient]
    notice.refresh_from_db()
    assert notice.email == Notification.Email.SENT
    SUMMARY["checks"] += 3


@pytest.fixture
def clean_stack(stack) -> Iterator:
    """No email or queued message of an earlier test counts in this one."""
    for path in stack.email_dir.glob("*"):
        path.unlink()
    yield stack
    stack.purge()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis for a real worker (set REDIS_URL)")
def test_a_delivery_task_whose_backend_is_terminated_at_its_claim_is_retried_and_emails_once(
    clean_stack, worker, admin, locker, owner
):
    from apps.notifications.tasks import deliver_notifications

    notice = a_notice(owner)
    retries_before = worker.log().count("Retry in")
    with locker.cursor() as cursor:  # the row the delivery claims with a conditional UPDATE
        cursor.execute(f"SELECT id FROM {Notification._meta.db_table} WHERE id = %s FOR UPDATE", [notice.pk])  # noqa: S608
    with clean_stack.publishing():
        deliver_notifications.delay([notice.pk])
    terminate_the_waiter(admin)
    locker.rollback()

    delivered_once(clean_stack, worker, notice, "owner@example.org")
    log = worker.log()
    assert log.count("Retry in") > retries_before and "OperationalError" in log, log[-3000:]  # not the outbox
    SUMMARY["retried_tasks"] += 1


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis for a real worker (set REDIS_URL)")
def test_a_delivery_task_whose_backend_is_terminated_after_its_claim_still_emails_once(
    clean_stack, worker, admin, locker, owner, member
):
    """From a neighbor (an actor), so the delivery locks the recipient's row to count
    the sender's emails of the hour: after its claim, before the email."""
    from apps.notifications.tasks import deliver_notifications, flush_notification_outbox

    notice = a_notice(owner, actor=member)
    with locker.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {type(owner)._meta.db_table} WHERE id = %s FOR UPDATE", [owner.pk])  # noqa: S608
    with clean_stack.publishing():
        deliver_notifications.delay([notice.pk])
    terminate_the_waiter(admin)
    locker.rollback()
    time.sleep(3)  # the retry's backoff
    # Ten minutes later, as far as the sweep is concerned (long past any claim's send).
    later = timezone.now() - timedelta(minutes=10)
    Notification.objects.filter(pk=notice.pk).update(created_at=later)
    Notification.objects.filter(pk=notice.pk, delivered_at__isnull=False).update(delivered_at=later)
    with clean_stack.publishing():
        flush_notification_outbox.delay()  # and beat's sweep, later
    delivered_once(clean_stack, worker, notice, "owner@example.org", within=5)


@pytest.fixture
def cleared_slot(community, owner, member):
    """A quarter hour an hour ago: Olive sold 0.8 kWh at 0.20 or more, Max bought 0.5 kWh
    at 0.30 or less (cleared at 0.25). Its meters' readings (0.7 kWh out, 0.6 kWh in) are
    recorded by the test: the second one makes the slot due, and the service enqueues
    its settlement, which pays 0.5 kWh: 0.12 credits, Max to Olive."""
    from apps.solar import services as solar
    from apps.solar.factories import MeterFactory, next_slot_start
    from apps.solar.models import Meter, MeterReading, Slot
    from apps.solar.services import Row

    panels = MeterFactory(owner=owner, community=community, kind=Meter.Kind.PRODUCER, peak_capacity_w=4000)
    home = MeterFactory(owner=member, community=community, kind=Meter.Kind.CONSUMER, peak_capacity_w=8000)
    start = next_slot_start(timezone.now() - timedelta(hours=1))
    placed_at = start - timedelta(minutes=30)
    for user, meter, side, wh, price in ((owner, panels, "sell", 800, "0.20"), (member, home, "buy", 500, "0.30")):
        solar.order_place(
            member=user, meter=meter, slot_start=start, side=side, quantity_wh=wh, limit_price=Decimal(price),
            now=placed_at,
        )  # fmt: skip
    slot = Slot.objects.get(community=community, start=start)
    assert solar.slot_clear(slot_id=slot.pk, now=start - timedelta(minutes=4))
    for user in (owner, member):
        account_for(user=user, community=community, currency=Currency.CREDIT)

    def record_readings() -> None:
        for meter, user, into, out in ((panels, owner, 0, 700), (home, member, 600, 0)):
            solar.readings_record(
                meter=meter, rows=[Row(start, into, out)], source=MeterReading.Source.FORM, actor=user,
                now=start + timedelta(minutes=20),
            )  # fmt: skip

    return slot, record_readings


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis for a real worker (set REDIS_URL)")
def test_a_settlement_whose_backend_is_terminated_mid_payment_is_retried_and_pays_once(
    clean_stack, worker, admin, locker, cleared_slot, community, owner, member
):
    from apps.ledger.chain import verify_community
    from apps.solar.models import Slot, Trade
    from apps.solar.tasks import settle_slot
    from tests.faults.harness import wait_for

    slot, record_readings = cleared_slot
    retries_before = worker.log().count("Retry in")
    payer = Account.objects.get(owner=member, community=community, currency=Currency.CREDIT)
    with locker.cursor() as cursor:  # the payment locks both accounts, after the slot's claim
        cursor.execute(f"SELECT id FROM {Account._meta.db_table} WHERE id = %s FOR UPDATE", [payer.pk])  # noqa: S608
    with clean_stack.publishing():
        record_readings()  # the last reading in: the service enqueues the settlement on commit
    terminate_the_waiter(admin)
    locker.rollback()

    settled = lambda: Slot.objects.filter(pk=slot.pk, status=Slot.Status.SETTLED).exists()  # noqa: E731
    assert wait_for(settled, 30), worker.log()[-3000:]
    with clean_stack.publishing():
        settle_slot.delay(slot.pk)  # a duplicate, as a redelivery would be
    time.sleep(1.5)
    trade = Trade.objects.get(slot=slot)
    assert (trade.status, trade.delivered_wh, trade.amount) == ("settled", 500, Decimal("0.12"))
    assert Transfer.objects.filter(idempotency_key=f"solar-trade-{trade.pk}").count() == 1
    assert Transfer.objects.count() == 1
    balances = dict(Account.objects.filter(currency=Currency.CREDIT).values_list("owner__email", "balance"))
    assert balances == {"owner@example.org": Decimal("0.12"), "member@example.org": Decimal("-0.12")}
    assert verify_community(community=community).ok
    assert worker.log().count("Retry in") > retries_before, worker.log()[-3000:]
    SUMMARY["retried_tasks"] += 1
    SUMMARY["checks"] += 5
