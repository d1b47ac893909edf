"""The moderation audit log after a deletion: entries about the member stay (who acted,
what, when), but their labels and reasons name the pseudonym, not the person; and the
log is still append-only for everything else (on PostgreSQL, the trigger too)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from apps.moderation.erasure import audit_log_pseudonymize
from apps.moderation.models import AuditLogImmutableError, ModerationAction
from apps.moderation.services import member_warn
from apps.peers.factories import DEFAULT_PASSWORD, MembershipFactory, OrganizerMembershipFactory
from apps.privacy.deletion import account_delete

pytestmark = pytest.mark.django_db


@pytest.fixture
def warned(community):
    organizer = OrganizerMembershipFactory(community=community).user
    membership = MembershipFactory(
        community=community, user__email="zeb@example.org", user__profile__display_name="Zebedee Quartermaine"
    )
    entry = member_warn(
        membership=membership, actor=organizer, reason="Zebedee Quartermaine keeps posting the same advert."
    )
    return membership.user, entry


def test_deleting_an_account_rewrites_the_audit_log_entries_that_name_the_member(warned):
    user, entry = warned
    assert "Zebedee" in entry.target_label and "Zebedee" in entry.reason
    erasure = account_delete(user=user, actor=user, password=DEFAULT_PASSWORD)
    entry = ModerationAction.objects.get(pk=entry.pk)
    assert "Zebedee" not in entry.target_label and "Quartermaine" not in entry.reason
    assert erasure.pseudonym in entry.target_label and erasure.pseudonym in entry.reason
    assert entry.subject_id == user.pk and entry.action == ModerationAction.Kind.WARN


def test_the_audit_log_is_still_append_only_outside_a_deletion(warned):
    _user, entry = warned
    with pytest.raises(AuditLogImmutableError):
        ModerationAction.objects.filter(pk=entry.pk).update(reason="changed")


@pytest.mark.postgres
def test_on_postgresql_the_trigger_refuses_changes_but_a_deletions_rewrite(warned):
    user, entry = warned
    # A plain UPDATE in the database is refused, as before.
    with pytest.raises(DatabaseError), transaction.atomic():
        ModerationAction._base_manager.filter(pk=entry.pk).update(reason="changed")
    # Inside the erasure, only labels and reasons may change: not who, what or when.
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL p2pcommons.erasure = 'on'")
        ModerationAction._base_manager.filter(pk=entry.pk).update(action=ModerationAction.Kind.SUSPEND)
    with transaction.atomic():
        assert audit_log_pseudonymize(user, "Former neighbor TEST") == 1
    assert "Former neighbor TEST" in ModerationAction.objects.get(pk=entry.pk).reason
    # The setting was local to that transaction.
    with pytest.raises(DatabaseError), transaction.atomic():
        ModerationAction._base_manager.filter(pk=entry.pk).update(reason="again")
