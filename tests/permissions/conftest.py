"""The module's world and one signed-in client per persona, built once per module inside
a transaction rolled back when the module ends (as tests/test_api_fuzz.py does): each
test runs in a savepoint within it, and each cell in a savepoint of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import Client, TestCase

from . import world as world_module
from .world import PERSONAS, World


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
    try:
        with django_db_blocker.unblock(), TestCase.captureOnCommitCallbacks(execute=True):
            built = world_module.build()
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def clients(world, django_db_blocker) -> dict[str, Client]:
    """Each persona's browser (session cookie; the API takes the same session). A server
    error is an answer to record, not an exception."""
    made = {}
    with django_db_blocker.unblock():
        for persona in PERSONAS:
            client = Client(raise_request_exception=False)
            user = world.people[persona]
            if user is not None:
                client.force_login(user)
            made[persona] = client
    return made


@pytest.fixture(autouse=True)
def no_throttling(settings):
    """Throttles off: one persona makes hundreds of requests here; a 429 says nothing
    about who may do what."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
