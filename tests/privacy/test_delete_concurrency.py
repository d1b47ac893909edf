"""Two deletions of one account at the same moment (a double click, the page and the app):
the user's row lock makes them take turns, so there is one erasure and one pseudonym."""

from __future__ import annotations

import pytest

from apps.peers.factories import DEFAULT_PASSWORD, MembershipFactory
from apps.peers.models import Profile, User
from apps.privacy.deletion import account_delete
from apps.privacy.models import Erasure
from p2pcommons.errors import RuleViolation
from tests.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_deletions_at_once_make_one_erasure(community):
    user = MembershipFactory(community=community, user__email="twice@example.org").user

    def delete():
        fresh = User.objects.get(pk=user.pk)
        return account_delete(user=fresh, actor=fresh, password=DEFAULT_PASSWORD)

    results = run_together(delete, delete)

    done = [r for r in results if isinstance(r, Erasure)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    assert len(done) == 1, results
    assert [r.code for r in refused] == ["already_deleted"]
    erasure = Erasure.objects.get(user=user)
    assert Profile.objects.get(user=user).display_name == erasure.pseudonym


def test_two_members_deleting_at_once_get_different_pseudonyms(community):
    users = [MembershipFactory(community=community).user for _ in range(4)]

    def delete(user):
        return lambda: account_delete(user=user, actor=user)

    results = run_together(*(delete(u) for u in users))

    assert all(isinstance(r, Erasure) for r in results), results
    assert len({r.pseudonym for r in results}) == 4
