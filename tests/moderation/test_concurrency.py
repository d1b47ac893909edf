"""On PostgreSQL: the database itself keeps the log append-only, concurrent reports
cross the threshold exactly once, and a member's concurrent reports stop at the cap."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from apps.moderation import services
from apps.moderation.models import Flag, ModerationAction
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory
from apps.peers.models import Membership
from apps.reputation.factories import ReviewFactory
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together
from tests.exchanges.factories import ExchangeFactory

from .conftest import member_in_good_standing

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_the_audit_log(organizer, member):
    services.member_warn(membership=Membership.objects.get(user=member), actor=organizer, reason="Careful")
    table = ModerationAction._meta.db_table

    for sql in (f"UPDATE {table} SET reason = 'Nothing'", f"DELETE FROM {table}"):  # noqa: S608 - constant
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert ModerationAction.objects.get().reason == "Careful"


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_hide_once_and_notify_the_organizers_once(community, owner, member, organizer):
    review = ReviewFactory(exchange=ExchangeFactory(community=community, provider=member, receiver=owner))
    reporters = [member_in_good_standing(community) for _ in range(5)]

    results = run_together(
        *[lambda r=r: services.flag_create(reporter=r, target=review, reason="spam") for r in reporters]
    )

    # The first three (whichever they are) are counted; the review is hidden before the
    # others get the lock, and they can no longer see it to report it.
    assert sum(isinstance(result, Flag) for result in results) == 3
    assert all(isinstance(result, (Flag, RuleViolation)) for result in results)
    review.refresh_from_db()
    assert review.is_hidden
    assert ModerationAction.objects.filter(action="auto_hide").count() == 1
    assert Notification.objects.filter(recipient=organizer, kind="moderation.flagged").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_members_concurrent_reports_stop_at_the_daily_cap(community, owner, monkeypatch):
    monkeypatch.setattr(services, "REPORTS_PER_DAY", 2)
    targets = [MembershipFactory(community=community).user for _ in range(4)]

    results = run_together(
        *[
            lambda t=t: services.flag_create(reporter=owner, target=t, reason="spam", community=community)
            for t in targets
        ]
    )

    assert sum(isinstance(result, Flag) for result in results) == 2
    assert Flag.objects.filter(reporter=owner).count() == 2
