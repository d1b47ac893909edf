"""Shared fixtures: four fixed personas, API clients, and database-kind markers.

Personas (healthchecks style), all in one community ``sunnyside``:
- ``owner``: an active member who owns things in later exchanges;
- ``member``: another active member (the counterparty);
- ``organizer``: an active organizer (staff, scoped admin);
- ``stranger``: a logged-in user who is not a member.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.models import Community, User
from tests.celery_worker import real_worker  # noqa: F401  (a fixture, for every test module)


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"):
        if shutil.which(candidate):
            return candidate
    return None


def pytest_terminal_summary(terminalreporter) -> None:
    """The figures of the reliability tests that ran (tests/reliability.py), at the end of
    the run and in var/reliability.txt."""
    from django.conf import settings

    from tests import reliability

    lines = reliability.lines()
    if not lines:
        return
    terminalreporter.section("reliability figures (docs/reliability.md)")
    for line in lines:
        terminalreporter.write_line(line)
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    (settings.VAR_DIR / "reliability.txt").write_text("\n".join(lines) + "\n")


def pytest_collection_modifyitems(config, items):
    """Skip database-specific tests on the other database, and browser tests only where
    no Chromium is installed (a newcomer's machine). Nothing else is ever skipped."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    on_postgres = "postgresql" in engine
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    skip_sqlite = pytest.mark.skip(reason="SQLite-specific; this run is on PostgreSQL")
    skip_browser = pytest.mark.skip(reason="no Chromium installed (apt-get install chromium)")
    has_chromium = chromium_path() is not None
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "sqlite" in item.keywords and on_postgres:
            item.add_marker(skip_sqlite)
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(skip_browser)


@pytest.fixture
def community(db) -> Community:
    return CommunityFactory(slug="sunnyside", name="Sunnyside Commons")


@pytest.fixture
def other_community(db) -> Community:
    return CommunityFactory(slug="riverside", name="Riverside Neighbors")


@pytest.fixture
def owner(community) -> User:
    return MembershipFactory(
        community=community, user__email="owner@example.org", user__profile__display_name="Olive Owner"
    ).user


@pytest.fixture
def member(community) -> User:
    return MembershipFactory(
        community=community, user__email="member@example.org", user__profile__display_name="Max Member"
    ).user


@pytest.fixture
def organizer(community) -> User:
    return OrganizerMembershipFactory(
        community=community, user__email="organizer@example.org", user__profile__display_name="Orla Organizer"
    ).user


@pytest.fixture
def stranger(db) -> User:
    return UserFactory(email="stranger@example.org", profile__display_name="Sam Stranger")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as():
    """``api_as(user)`` returns an API client logged in as that user (session auth)."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def web_as(client):
    """``web_as(user)`` logs the Django test client in as that user and returns it."""

    def make(user: User):
        client.force_login(user)
        return client

    return make


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete_on_postgres() -> Iterator[None]:
    """After each transactional test (``transaction=True``, live servers) pytest-django
    flushes every table. Django's flush on PostgreSQL is one TRUNCATE of ~150 tables, which
    creates new files for every table and index: about 3 s a test on this machine. A DELETE
    from each table empties the same tables in about 0.15 s (a test leaves a few rows). The
    foreign keys Django creates on PostgreSQL are deferred, so the order does not matter.
    Tables with triggers (the append-only ledger and audit log refuse DELETE) are still
    truncated, together with the tables that refer to them; a flush that resets sequences
    keeps Django's TRUNCATE ... RESTART IDENTITY."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        guarded = _tables_guarded_by_triggers(self.connection, tables)
        # Table names come from Django's introspection, quoted.
        deletes = [f"DELETE FROM {self.quote_name(table)};" for table in tables if table not in guarded]  # noqa: S608
        return deletes + (truncate(self, style, sorted(guarded)) if guarded else [])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


_GUARDED_SQL = """
WITH RECURSIVE guarded(oid) AS (
    SELECT DISTINCT tgrelid FROM pg_trigger WHERE NOT tgisinternal
    UNION
    SELECT c.conrelid FROM pg_constraint c JOIN guarded g ON c.confrelid = g.oid WHERE c.contype = 'f'
)
SELECT relname FROM pg_class WHERE oid IN (SELECT oid FROM guarded)
"""


def _tables_guarded_by_triggers(connection, tables) -> set[str]:
    """The tables with a user trigger (which may refuse DELETE), and every table whose
    foreign keys point at one of them (TRUNCATE must empty those in the same statement)."""
    with connection.cursor() as cursor:
        cursor.execute(_GUARDED_SQL)
        return {name for (name,) in cursor.fetchall()} & set(tables)


@pytest.fixture(autouse=True)
def default_language_and_zone() -> Iterator[None]:
    """Every test starts and ends in English and the site's time zone, whatever language
    a request or a notification put the thread in."""
    from django.utils import timezone, translation

    translation.activate("en")
    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Every test starts with an empty cache: ids are reused after each test's rollback,
    so a cached answer (a ledger verify, a throttle count) could otherwise leak into the
    next test that happens to reuse its key."""
    from django.core.cache import cache

    cache.clear()


# --- real browsers (Playwright + Chromium), for the modules marked ``browser`` ---------
@pytest.fixture(scope="module")
def allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an event loop running in this thread, and Django then
    refuses ORM calls here (SynchronousOnlyOperation), including pytest-django's own
    database flush. This is pytest-django's documented way out, for the module that uses it.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright) -> Iterator:
    """A headless Chromium (Debian's package) for one test module."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_as(browser, live_server) -> Iterator:
    """``open_as(user)``: a browser page at phone width carrying ``user``'s session (the
    sign-in form has its own browser tests), for tests that follow several people."""
    from django.conf import settings
    from django.test import Client

    contexts = []

    def open_as(user):
        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 800})
        context.set_default_timeout(10_000)
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
              "url": live_server.url}]
        )  # fmt: skip
        contexts.append(context)
        return context.new_page()

    yield open_as
    for context in contexts:
        context.close()
