import pytest

from apps.notifications.kinds import register_kind

register_kind("test.now", label="Test: immediate", default="immediate")
register_kind("test.digest", label="Test: digest", default="digest")


@pytest.fixture
def notify_member(member):
    from apps.notifications.services import notify

    def make(kind="test.now", text="Max, your drill is back", **kw):
        return notify(recipients=[member], kind=kind, text=text, **kw)

    return make
