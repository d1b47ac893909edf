"""Helpers that give a member a real exchange history, for the auto-approve tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.peers.factories import MembershipFactory, UserFactory
from apps.peers.models import User
from apps.tools.factories import ReservationFactory, ToolFactory


def completed_loan(*, lender: User, borrower: User, community, days_ago: int = 10) -> None:
    """A loan from ``lender`` to ``borrower`` returned ``days_ago`` days ago (written directly)."""
    now = timezone.now()
    ReservationFactory(
        tool=ToolFactory(owner=lender, community=community),
        borrower=borrower,
        status="returned",
        starts_at=now - timedelta(days=days_ago + 1),
        ends_at=now - timedelta(days=days_ago),
        picked_up_at=now - timedelta(days=days_ago + 1),
        returned_at=now - timedelta(days=days_ago),
    )


def established_neighbor(community) -> User:
    """A member for two months who completed exchanges with three different people: one
    whose word counts fully in the reputation app's rule."""
    person = MembershipFactory(community=community).user
    User.objects.filter(pk=person.pk).update(date_joined=timezone.now() - timedelta(days=60))
    for n in range(3):
        completed_loan(lender=person, borrower=UserFactory(), community=community, days_ago=20 + n)
    return person


def new_account(community) -> User:
    """A member who joined today and has never exchanged anything (a sock puppet)."""
    return MembershipFactory(community=community).user
