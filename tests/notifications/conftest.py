from collections.abc import Iterator

import pytest

from apps.notifications.kinds import KINDS, register_kind

# Stand-in kinds for these tests only: registered around each test of this folder and
# removed after, so the rest of the suite (the API's named enum of kinds, the fuzz test
# that checks answers against it) sees only the project's own kinds.
TEST_KINDS = {"test.now": ("Test: immediate", "immediate"), "test.digest": ("Test: digest", "digest")}


@pytest.fixture(autouse=True)
def test_kinds() -> Iterator[None]:
    added = [key for key in TEST_KINDS if key not in KINDS]
    for key in added:
        label, default = TEST_KINDS[key]
        register_kind(key, label=label, default=default)
    yield
    for key in added:
        KINDS.pop(key, None)


@pytest.fixture
def notify_member(member):
    from apps.notifications.services import notify

    def make(kind="test.now", text="Max, your drill is back", **kw):
        return notify(recipients=[member], kind=kind, text=text, **kw)

    return make
