"""Races settled by the database, run for real with threads on PostgreSQL."""

from __future__ import annotations

import pytest

from apps.peers import services
from apps.peers.factories import OrganizerMembershipFactory
from apps.peers.models import Membership
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_simultaneous_joins_make_one_membership(community, stranger):
    results = run_together(*[lambda: services.community_join(community=community, user=stranger)] * 4)
    assert all(isinstance(r, Membership) for r in results), results
    assert Membership.objects.filter(user=stranger, community=community).count() == 1


def test_two_last_organizers_leaving_at_once_leave_one_behind(community, organizer):
    second = OrganizerMembershipFactory(community=community).user
    results = run_together(
        lambda: services.community_leave(community=community, user=organizer),
        lambda: services.community_leave(community=community, user=second),
    )
    assert sum(isinstance(r, RuleViolation) for r in results) == 1, results
    assert Membership.objects.filter(community=community, role="organizer").count() == 1
