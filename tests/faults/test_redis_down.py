"""Redis down (issue 18, fault 2): members book a tool, place solar orders, confirm a skill
session and vote on a co-design proposal, by web form and by API, while the cache and the
Celery broker point at a dead port. Every request succeeds (the work is saved, its
background part left to the outbox) or is a clear 503: never a 500, never half the work.
When Redis is back, the outbox sweep run by a real worker process delivers what waited,
once.

The fault is real: nothing listens on 127.0.0.1:1, so every connection is refused (and a
test below shows Django's own RedisCache turning that into a 500). The breaker and the
"hung Redis" cases use small TCP servers on loopback that accept and close, or accept
and never answer. No database or Redis call is mocked.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.codesign import services as codesign
from apps.codesign.models import Challenge, Proposal
from apps.ledger.models import Transfer
from apps.notifications.models import Notification
from apps.peers.factories import DEFAULT_PASSWORD, MembershipFactory
from apps.skills.models import Seat
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.forms import slot_value
from apps.solar.models import Meter, Order
from apps.tools.factories import CategoryFactory, ToolFactory
from apps.tools.models import Reservation
from p2pcommons import resilience
from p2pcommons.celery import app as celery_app
from tests import reliability
from tests.faults.scenes import bench_challenge, session_that_took_place

pytestmark = pytest.mark.django_db(transaction=True)

DEAD = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused
RATES = {"anon": "60/minute", "user": "600/minute", "write": "120/hour"}
ALLAUTH_RATES = {"login": "30/m/ip", "login_failed": "10/m/ip,5/5m/key", "signup": "20/m/ip"}
SUMMARY = {"requests": 0, "non_500": 0, "redis_refusals": 0, "delivered_once": 0}


def caches_at(location: str, backend: str = "p2pcommons.resilience.ResilientRedisCache", **options) -> dict:
    return {"default": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": "faults-h2", "OPTIONS": options}}


def point_broker_at(url: str) -> None:
    """Publish through ``url`` from now on: the app keeps its connection and producer
    pools for the old URL, so it forgets them (as Celery does after a fork); kombu keeps
    one pool per URL, so switching back finds the old one still open."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def forget_breakers() -> None:
    """Each test starts with Redis presumed reachable (the breaker is per process)."""
    resilience._open_until.clear()
    resilience._down.clear()


@contextmanager
def redis_down(**cache_options) -> Iterator[None]:
    """Cache and broker on a dead port, throttles and allauth's limits on (the test
    settings turn them off), tasks published instead of run eagerly."""
    from django.conf import settings

    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    forget_breakers()
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    with override_settings(
        CACHES=caches_at(DEAD, **cache_options), REST_FRAMEWORK=rest, ACCOUNT_RATE_LIMITS=ALLAUTH_RATES
    ):
        celery_app.conf.task_always_eager = False
        point_broker_at(DEAD)
        try:
            yield
        finally:
            celery_app.conf.task_always_eager = saved["task_always_eager"]
            point_broker_at(saved["broker_url"])
            forget_breakers()


reliability_line = reliability.summary_fixture(
    "redis-down",
    lambda: (
        f"requests={SUMMARY['requests']} non_500={SUMMARY['non_500']} broker_refusals={SUMMARY['redis_refusals']} "
        f"notifications_delivered_once={SUMMARY['delivered_once']} faults=dead-port,refusing-server,hung-server "
        "invariants=ok"
    ),
)


def sent(response, *expected: int) -> int:
    """Count the request; it must be one of ``expected`` (never a 500)."""
    SUMMARY["requests"] += 1
    assert response.status_code != 500, response.content[:500]
    assert response.status_code in expected, (response.status_code, response.content[:500])
    SUMMARY["non_500"] += 1
    return response.status_code


# --- the four exchanges, ready for one member action each by form and by API ----------
@pytest.fixture
def world(community, owner, member, organizer):
    """A tool, a producer's panels, an agreed skill session that took place, and a
    challenge in voting with two proposals."""
    tool = ToolFactory(owner=owner, community=community, category=CategoryFactory(slug="power"), title="Drill")
    producer = MembershipFactory(community=community, user__email="pia@example.org").user
    panels = MeterFactory(owner=producer, community=community, kind=Meter.Kind.PRODUCER, peak_capacity_w=4000)
    session = session_that_took_place(community=community, helper=owner, learner=member)
    challenge = bench_challenge(community=community, organizer=organizer)
    challenge = codesign.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    proposals = []
    for author, title in ((owner, "Oak bench"), (organizer, "Planter seats")):
        proposal = codesign.proposal_create(
            challenge=challenge, author=author, title=title, description="A design.", cost=Decimal("100"), submit=True
        )
        codesign.proposal_answer(proposal=proposal, actor=organizer, accept=True, publish=True)
        proposals.append(proposal)
    challenge = codesign.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    return {"tool": tool, "producer": producer, "panels": panels, "session": session, "challenge": challenge,
            "proposals": proposals}  # fmt: skip


def local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def act_with_redis_down(world, client, api_as, owner, member, organizer) -> dict:
    """Every member action of the issue, by form and by API, with Redis unreachable.
    Returns what each created, for the checks."""
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    tool, panels, session = world["tool"], world["panels"], world["session"]
    bench, planter = world["proposals"]

    # A tool: Max books by form, Orla through the API.
    client.force_login(member)
    web = client.post(
        reverse("tools:book", args=[tool.pk]),
        {"starts_at": local(base), "ends_at": local(base + timedelta(days=1)), "message": "Shelves"},
    )
    sent(web, 302)
    api = api_as(organizer).post(
        "/api/v1/reservations/",
        {
            "tool": tool.pk,
            "starts_at": (base + timedelta(days=3)).isoformat(),
            "ends_at": (base + timedelta(days=4)).isoformat(),
        },
        format="json",
    )
    sent(api, 201)

    # Solar: Pia sells by form in one quarter hour and through the API in the next.
    first, second = next_slot_start(timezone.now(), ahead=2), next_slot_start(timezone.now(), ahead=3)
    client.force_login(world["producer"])
    web = client.post(
        reverse("solar:order-create"),
        {"meter": panels.pk, "slot": slot_value(first), "side": "sell", "quantity_kwh": "0.45", "limit_price": "0.215"},
    )
    sent(web, 302)
    api = api_as(world["producer"]).post(
        "/api/v1/solar/orders/",
        {
            "meter": panels.pk,
            "slot_start": second.isoformat(),
            "side": "sell",
            "quantity_wh": 600,
            "limit_price": "0.21",
        },
        format="json",
    )
    sent(api, 201)

    # The skill session: Max (learner) confirms by form, Olive (helper) through the API;
    # the second confirmation moves the hours and tells both.
    seat = session.seats.get()
    client.force_login(member)
    web = client.post(reverse("skills:seat-confirm", args=[session.pk, seat.pk]), {"hours": "2"})
    sent(web, 302)
    api = api_as(owner).post(f"/api/v1/skills/sessions/{session.pk}/confirm/", {"hours": "2"}, format="json")
    sent(api, 200)

    # The vote: Max puts 3 dots on the bench by form and 2 on the planter through the API.
    client.force_login(member)
    web = client.post(reverse("codesign:ballot", args=[world["challenge"].pk]), {"proposal": bench.pk, "dots": "3"})
    sent(web, 302)
    api = api_as(member).post(f"/api/v1/proposals/{planter.pk}/vote/", {"dots": 2}, format="json")
    sent(api, 200)
    return {"first": first, "second": second, "seat": seat}


def assert_everything_saved_once(world, member, organizer, made) -> None:
    """Exactly one row for each thing submitted; nothing half-written."""
    tool, session = world["tool"], world["session"]
    assert sorted(Reservation.objects.filter(tool=tool).values_list("borrower__email", flat=True)) == [
        "member@example.org",
        "organizer@example.org",
    ]
    orders = Order.objects.filter(member=world["producer"]).order_by("slot__start")
    assert [(o.slot.start, o.quantity_wh) for o in orders] == [(made["first"], 450), (made["second"], 600)]
    seat = Seat.objects.get(pk=made["seat"].pk)
    assert (seat.learner_hours, seat.helper_hours, seat.status) == (Decimal(2), Decimal(2), "completed")
    assert Transfer.objects.filter(idempotency_key=f"skills-session:{session.pk}:{member.pk}").count() == 1
    bench, planter = world["proposals"]
    assert codesign.ballot_of(challenge=Challenge.objects.get(pk=world["challenge"].pk), voter=member) == {
        bench.pk: 3,
        planter.pk: 2,
    }
    assert Proposal.objects.filter(challenge=world["challenge"]).count() == 2


def test_with_redis_down_every_form_and_api_write_is_saved_once_and_never_a_500(
    world, client, api_as, owner, member, organizer, caplog
):
    caplog.set_level(logging.WARNING)
    before = list(Notification.objects.values_list("pk", flat=True))
    with redis_down():
        made = act_with_redis_down(world, client, api_as, owner, member, organizer)
        assert resilience._down, "the cache never found Redis unreachable: the fault was not injected"

    assert_everything_saved_once(world, member, organizer, made)
    new = Notification.objects.exclude(pk__in=before)
    assert new.filter(kind="tools.requested").count() == 2  # the owner, told of both requests
    assert new.filter(kind="skills.session").count() == 2  # both parties, hours moved
    assert not new.filter(delivered_at__isnull=False).exists()  # no broker: every one waits in the outbox
    unreachable = [r for r in caplog.records if "Broker unreachable" in r.getMessage()]
    assert unreachable, "no publish failed: the broker was not down"
    cache_warnings = [
        r for r in caplog.records if r.name == "p2pcommons.resilience" and "unreachable" in r.getMessage()
    ]
    assert len(cache_warnings) == 1, [r.getMessage() for r in cache_warnings]  # one warning per outage
    SUMMARY["redis_refusals"] += len(unreachable)


def test_the_stock_redis_cache_cannot_serve_the_same_request_and_the_middleware_says_503(member, api_as):
    """The control: with Django's own RedisCache the throttle's cache read raises, so the
    fault above is real; the middleware turns it into a 503 with Retry-After (a 500
    traceback page without it), where the resilient cache serves the request."""
    from django.conf import settings

    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    stock = caches_at(DEAD, backend="django.core.cache.backends.redis.RedisCache")
    with override_settings(CACHES=stock, REST_FRAMEWORK=rest):
        refused = api_as(member).get("/api/v1/me/")
    with redis_down():
        served = api_as(member).get("/api/v1/me/")
    assert (refused.status_code, refused["Retry-After"]) == (503, "5")
    assert refused.json() == {"detail": "Part of the site is briefly unavailable. Please try again in a moment."}
    assert served.status_code == 200 and served.json()["email"] == "member@example.org"
    SUMMARY["requests"] += 2
    SUMMARY["non_500"] += 2


def test_while_redis_is_down_throttles_still_count_per_process_and_sign_in_works(member, organizer, api_as, client):
    """Failing open would give an attacker unlimited writes (or password guesses) for the
    whole outage: the counts move to this process's memory instead."""
    from django.conf import settings

    with redis_down():
        rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**RATES, "write": "3/hour"}}
        with override_settings(REST_FRAMEWORK=rest):
            api = api_as(member)
            answers = [api.patch("/api/v1/me/", {}, format="json").status_code for _ in range(4)]
        assert answers[:3] == [200, 200, 200] and answers[3] == 429, answers

        wrong = {"login": "member@example.org", "password": "wrong"}
        first = client.post(reverse("account_login"), wrong)
        sent(first, 200)  # the form again: the limit's cache lock and count worked without Redis
        assert "password you specified are not correct" in first.content.decode()
        for _ in range(5):
            last = client.post(reverse("account_login"), wrong)
            sent(last, 200, 429)
        # 5 wrong guesses per 5 minutes per account (and address) still hold
        assert "Too many failed login attempts" in last.content.decode()
        app = client.post(
            "/_allauth/app/v1/auth/login",
            {"email": "organizer@example.org", "password": DEFAULT_PASSWORD},
            content_type="application/json",
        )
        sent(app, 200)  # an app signs in: its own limits counted locally too
        assert app.json()["meta"]["session_token"]
    SUMMARY["requests"] += 4
    SUMMARY["non_500"] += 4


def test_while_redis_is_down_cached_pages_are_built_from_the_database_for_visitors_and_members(
    world, client, member, community
):
    """The page cache (visitors), the figures, the member's menu and the tool filters all
    live in the cache: with Redis down each page is built afresh, with what is true now."""
    from django.test import Client

    pages = {}
    with redis_down():
        visitor = Client()
        for name, url in (("home", "/"), ("guide", reverse("front:guide")), ("again", "/")):
            pages[f"visitor-{name}"] = visitor.get(url)
        client.force_login(member)
        for name, url in (
            ("dashboard", "/"),
            ("tools", reverse("tools:list")),
            ("community", community.get_absolute_url()),
        ):
            pages[f"member-{name}"] = client.get(url)
    for name, page in pages.items():
        sent(page, 200)
        assert "<html" in page.content.decode(), name
    from django.utils.html import strip_tags

    def words(name: str) -> str:
        return " ".join(strip_tags(pages[name].content.decode()).split())

    assert "1 tool to borrow" in words("visitor-home")  # the live figure, counted without its cache
    assert words("visitor-home") == words("visitor-again")  # the same page again, nothing half-cached
    dashboard = words("member-dashboard")
    assert "Hello, Max Member" in dashboard and "Confirm the hours of “Fix the bike”" in dashboard
    assert "Tools Energy Skills Design" in dashboard  # the member's menu, built without its cache
    assert "Drill" in words("member-tools") and "Sunnyside Commons" in words("member-community")


class _Listener:
    """A TCP server on loopback that accepts connections and either closes them at once
    (a Redis that refuses to talk) or holds them without a word (a hung Redis)."""

    def __init__(self, *, hang: bool) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.hang = hang
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def _serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.hang:
                self.held.append(conn)
            else:
                conn.close()

    def close(self) -> None:
        self.stopped = True
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_the_breaker_stops_calling_a_dead_redis_for_a_while_then_tries_once_again(caplog):
    listener = _Listener(hang=False)
    forget_breakers()
    with_password = listener.url.replace("redis://", "redis://:s3cret-pass@")
    try:
        with override_settings(CACHES=caches_at(with_password, BREAKER_SECONDS=0.5)):
            assert cache.get("k", "fallback") == "fallback"
            first = listener.accepted
            assert first >= 1  # the first call did try
            for _ in range(200):
                assert cache.get("k", "fallback") == "fallback"
                cache.set("k", 1)
            assert listener.accepted == first  # 400 calls, no new connection: the breaker is open
            time.sleep(0.6)
            assert cache.get("k") is None
            assert listener.accepted > first  # after BREAKER_SECONDS one call tries again
        warnings = [r.getMessage() for r in caplog.records if r.name == "p2pcommons.resilience"]
        assert len(warnings) == 1 and "127.0.0.1" in warnings[0]  # once per outage, not per call
        assert "s3cret-pass" not in caplog.text  # the log never shows Redis's password
    finally:
        listener.close()
        forget_breakers()


def test_a_hung_redis_costs_one_short_wait_not_a_hung_request(member, api_as):
    listener = _Listener(hang=True)
    forget_breakers()
    from django.conf import settings

    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    try:
        with override_settings(CACHES=caches_at(listener.url, socket_timeout=0.3), REST_FRAMEWORK=rest):
            started = time.monotonic()
            answers = [api_as(member).get("/api/v1/me/") for _ in range(5)]
            took = time.monotonic() - started
        assert [a.status_code for a in answers] == [200] * 5
        assert answers[0].json()["email"] == "member@example.org"
        assert took < 3, f"5 requests against a hung Redis took {took:.1f} s"
        SUMMARY["requests"] += 5
        SUMMARY["non_500"] += 5
    finally:
        listener.close()
        forget_breakers()


def test_an_unreachable_service_escaping_a_view_is_a_503_with_retry_after(rf):
    """The last line of defense: a broker or database error the view did not expect."""
    from kombu.exceptions import OperationalError

    middleware = resilience.ServiceUnavailableMiddleware(lambda request: None)
    api = middleware.process_exception(rf.post("/api/v1/reservations/"), OperationalError("connection refused"))
    page = middleware.process_exception(rf.post("/tools/1/book/"), OperationalError("connection refused"))
    assert (api.status_code, api["Retry-After"], api["Content-Type"]) == (503, "5", "application/json")
    assert "try again in a moment" in api.content.decode()
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    assert "<h1>Please try again</h1>" in page.content.decode()
    assert middleware.process_exception(rf.get("/"), ValueError("a bug")) is None  # a bug stays a 500


# --- Redis back: the outbox sweep in a real worker process ---------------------------
@pytest.fixture(scope="module")
def stack(tmp_path_factory, django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)")
    from tests.faults.harness import CeleryStack

    with django_db_blocker.unblock():
        made = CeleryStack(workdir=tmp_path_factory.mktemp("redis-down"))
    try:
        yield made
    finally:
        made.stop_all()


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis for a real worker (set REDIS_URL)")
def test_when_redis_is_back_the_outbox_sweep_delivers_what_waited_once(
    world, client, api_as, owner, member, organizer, stack
):
    from apps.notifications.tasks import deliver_notifications, flush_notification_outbox
    from tests.faults.harness import wait_for

    before = list(Notification.objects.values_list("pk", flat=True))
    with redis_down():
        made = act_with_redis_down(world, client, api_as, owner, member, organizer)
    assert_everything_saved_once(world, member, organizer, made)
    waited = list(Notification.objects.exclude(pk__in=before).values_list("pk", flat=True))
    assert len(waited) >= 4
    assert not Notification.objects.filter(pk__in=waited, delivered_at__isnull=False).exists()
    # A minute later, as far as the sweep is concerned (it leaves the newest 30 s to their own task).
    Notification.objects.filter(pk__in=waited).update(created_at=timezone.now() - timedelta(minutes=1))

    worker = stack.worker(pool="prefork", hooks=False)
    with stack.publishing():
        flush_notification_outbox.delay()  # beat's minute
        flush_notification_outbox.delay()  # and the next one, before the first is done
        deliver_notifications.delay(waited)  # a late duplicate of the original task
    assert wait_for(lambda: not Notification.objects.filter(pk__in=waited, delivered_at__isnull=True).exists(), 30), (
        worker.log()[-3000:]
    )
    emailed = Notification.objects.filter(pk__in=waited, email=Notification.Email.SENT).count()
    assert wait_for(lambda: len(stack.emails()) >= emailed, 15)
    time.sleep(1.0)  # let every duplicate run to its end
    emails = stack.emails()
    assert emailed >= 3 and len(emails) == emailed, (emailed, [m["Subject"] for m in emails])
    recipients = sorted(m["To"] for m in emails)
    assert recipients.count("owner@example.org") >= 2  # two loan requests, the hours moved
    assert_everything_saved_once(world, member, organizer, made)  # and nothing doubled since
    SUMMARY["delivered_once"] += len(waited)
    stack.purge()
