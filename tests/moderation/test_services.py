"""Reports, the automatic hide at the threshold, and what organizers do about them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.moderation import services
from apps.moderation.models import AuditLogImmutableError, Flag, ModerationAction
from apps.notifications.models import Notification
from apps.peers.factories import MembershipFactory, UserFactory
from apps.peers.models import Membership
from apps.reputation.models import Review
from p2pcommons.errors import RuleViolation

pytestmark = pytest.mark.django_db


def visible_to(user, review) -> bool:
    return Review.objects.visible_to(user).filter(pk=review.pk).exists()


# --- reporting -----------------------------------------------------------------------
def test_a_member_reports_a_review(report, owner, review):
    flag = report(owner, review, reason="harassment", text="Insulting")

    assert (flag.reporter, flag.target, flag.community.slug) == (owner, review, "sunnyside")
    assert (flag.status, flag.reason, flag.text) == ("open", "harassment", "Insulting")
    assert flag.target_label == f"review #{review.pk} by Max Member"
    assert flag.target_author == review.author


def test_one_report_below_the_threshold_leaves_the_review_visible(report, owner, stranger, review):
    report(owner, review)

    review.refresh_from_db()
    assert not review.is_hidden
    assert visible_to(stranger, review)


def test_a_review_reported_by_three_members_is_hidden_from_everyone_else(report, neighbors, owner, stranger, review):
    for neighbor in neighbors:
        report(neighbor, review)

    review.refresh_from_db()
    assert review.is_hidden and review.hidden_at is not None
    assert not visible_to(stranger, review)
    assert not visible_to(owner, review)
    assert not visible_to(None, review)


def test_a_hidden_review_stays_visible_to_its_author_and_the_organizers(report, neighbors, member, organizer, review):
    for neighbor in neighbors:
        report(neighbor, review)

    assert visible_to(member, review)
    assert visible_to(organizer, review)
    assert visible_to(UserFactory(is_superuser=True), review)


def test_the_threshold_is_a_community_setting(report, neighbors, review, community):
    community.flag_threshold = 2
    community.save()

    report(neighbors[0], review)
    report(neighbors[1], review)

    review.refresh_from_db()
    assert review.is_hidden


def test_lowering_the_threshold_below_the_open_reports_hides_at_the_next_report(report, neighbors, review, community):
    report(neighbors[0], review)
    report(neighbors[1], review)
    community.flag_threshold = 1
    community.save()
    review.refresh_from_db()
    assert not review.is_hidden  # a setting change does not act by itself

    report(neighbors[2], review)

    review.refresh_from_db()
    assert review.is_hidden


def test_the_organizers_are_notified_once_when_the_threshold_is_reached(
    report, neighbors, organizer, community, review
):
    for neighbor in neighbors:
        report(neighbor, review)
    with pytest.raises(RuleViolation, match="can't see"):  # hidden now: nobody else can report it
        report(MembershipFactory(community=community).user, review)

    flagged = Notification.objects.filter(recipient=organizer, kind="moderation.flagged")
    assert flagged.count() == 1
    assert "3 neighbors in good standing reported a review by Max Member" in flagged.get().text
    assert "/admin/moderation/moderationqueueitem/" in flagged.get().url


def test_the_automatic_hide_is_logged_and_the_author_told(report, neighbors, member, review):
    for neighbor in neighbors:
        report(neighbor, review)

    entry = ModerationAction.objects.get()
    assert (entry.action, entry.actor, entry.subject, entry.target) == ("auto_hide", None, member, review)
    assert Notification.objects.filter(recipient=member, kind="moderation.hidden").exists()


def test_a_member_reports_a_target_only_once_while_the_report_is_open(report, owner, review):
    report(owner, review)

    with pytest.raises(RuleViolation, match="already reported"):
        report(owner, review)
    assert Flag.objects.count() == 1


def test_nobody_reports_their_own_review(report, member, review):
    with pytest.raises(RuleViolation, match="your own review"):
        report(member, review)


def test_a_stranger_cannot_report_in_a_community_they_are_not_in(report, stranger, review):
    with pytest.raises(RuleViolation, match=r"^Join Sunnyside Commons to report anything there\.$") as refused:
        report(stranger, review)
    assert refused.value.code == "not_member"


def test_a_blind_review_cannot_be_reported_by_its_subject(report, owner, community, member):
    from apps.reputation.factories import ReviewFactory
    from tests.exchanges.factories import ExchangeFactory

    blind = ReviewFactory(
        exchange=ExchangeFactory(community=community, provider=member, receiver=owner), revealed_at=None
    )
    with pytest.raises(RuleViolation, match="can't see"):
        report(owner, blind)


def test_an_unknown_reason_is_bad_input(report, owner, review):
    with pytest.raises(ValidationError) as excinfo:
        report(owner, review, reason="boring")
    assert "reason" in excinfo.value.message_dict


def test_a_member_is_reported_in_a_community_both_belong_to(report, owner, member, community):
    flag = report(owner, member, reason="scam", community=community)

    assert (flag.target, flag.target_author, flag.target_label) == (member, member, "member Max Member")


def test_reporting_a_member_needs_the_community(report, owner, member):
    with pytest.raises(ValidationError) as excinfo:
        report(owner, member)
    assert "community" in excinfo.value.message_dict


def test_a_member_cannot_be_reported_in_a_community_they_are_not_in(report, owner, other_community):
    rita = MembershipFactory(community=other_community).user
    MembershipFactory(community=other_community, user=owner)
    sam = UserFactory()

    with pytest.raises(RuleViolation, match="not a member"):
        report(owner, sam, community=other_community)
    assert report(owner, rita, community=other_community).community == other_community


def test_members_reported_three_times_are_not_hidden_but_the_organizers_are_told_once(
    report, neighbors, member, organizer, community
):
    for neighbor in [*neighbors, MembershipFactory(community=community).user]:
        report(neighbor, member, community=community)

    assert Notification.objects.filter(recipient=organizer, kind="moderation.flagged").count() == 1
    assert not ModerationAction.objects.exists()


# --- hide and restore --------------------------------------------------------------
def test_an_organizer_restores_a_hidden_review_and_everyone_sees_it_again(
    report, neighbors, organizer, member, stranger, review
):
    for neighbor in neighbors:
        report(neighbor, review)

    services.content_restore(target=review, actor=organizer, reason="Harsh but fair")

    review.refresh_from_db()
    assert not review.is_hidden and review.hidden_at is None
    assert visible_to(stranger, review)
    assert set(Flag.objects.values_list("status", flat=True)) == {"dismissed"}
    assert Notification.objects.filter(recipient=member, kind="moderation.restored").exists()


def test_after_a_restore_the_reports_are_counted_afresh(report, neighbors, organizer, community, review):
    for neighbor in neighbors:
        report(neighbor, review)
    services.content_restore(target=review, actor=organizer, reason="Fine")

    report(neighbors[0], review)

    review.refresh_from_db()
    assert not review.is_hidden


def test_an_organizer_hides_a_review_and_its_reports_are_upheld(report, owner, organizer, member, review):
    report(owner, review)

    services.content_hide(target=review, actor=organizer, reason="Personal attack")

    review.refresh_from_db()
    assert review.is_hidden
    assert Flag.objects.get().status == "upheld"
    assert "Personal attack" in Notification.objects.get(recipient=member, kind="moderation.hidden").text


def test_a_hidden_review_stops_counting_towards_the_trust_score(organizer, owner, review):
    from apps.reputation.services import trust_recompute

    assert trust_recompute(user=owner).rating_count == 1
    services.content_hide(target=review, actor=organizer, reason="Abusive")

    assert trust_recompute(user=owner).rating_count == 0


def test_only_an_organizer_of_the_community_hides_content(owner, riverside_review, organizer, review):
    with pytest.raises(RuleViolation, match="Only an organizer"):
        services.content_hide(target=review, actor=owner, reason="I dislike it")
    with pytest.raises(RuleViolation, match="Only an organizer"):
        services.content_hide(target=riverside_review, actor=organizer, reason="Not mine to judge")


def test_every_moderation_action_needs_a_reason(organizer, review):
    with pytest.raises(ValidationError):
        services.content_hide(target=review, actor=organizer, reason="  ")
    assert not ModerationAction.objects.exists()


def test_a_member_cannot_be_hidden(organizer, member):
    with pytest.raises(RuleViolation, match="can't be hidden"):
        services.content_hide(target=member, actor=organizer, reason="No")


# --- flags ----------------------------------------------------------------------------
def test_upholding_a_report_hides_the_content(report, owner, organizer, review):
    flag = report(owner, review)

    services.flag_uphold(flag=flag, actor=organizer, reason="Agreed")

    review.refresh_from_db()
    assert review.is_hidden
    assert list(ModerationAction.objects.order_by("pk").values_list("action", flat=True)) == ["uphold", "hide"]


def test_dismissing_a_report_keeps_the_content_visible(report, owner, organizer, review):
    flag = report(owner, review)

    services.flag_dismiss(flag=flag, actor=organizer, reason="Not abusive")

    flag.refresh_from_db()
    review.refresh_from_db()
    assert (flag.status, flag.handled_by, review.is_hidden) == ("dismissed", organizer, False)


def test_a_report_is_handled_once(report, owner, organizer, review):
    flag = report(owner, review)
    services.flag_dismiss(flag=flag, actor=organizer, reason="No")

    with pytest.raises(RuleViolation, match="already dismissed"):
        services.flag_uphold(flag=flag, actor=organizer, reason="Changed my mind")


# --- members --------------------------------------------------------------------------
def test_an_organizer_warns_a_member_who_is_told_why(organizer, member, community):
    services.member_warn(
        membership=Membership.objects.get(user=member), actor=organizer, reason="Please be kinder in reviews"
    )

    note = Notification.objects.get(recipient=member, kind="moderation.warning")
    assert "Please be kinder in reviews" in note.text
    assert ModerationAction.objects.get().action == "warn"


def test_an_organizer_suspends_and_reinstates_a_member(organizer, member):
    membership = Membership.objects.get(user=member)

    services.membership_suspend(membership=membership, actor=organizer, reason="Harassing neighbors")
    membership.refresh_from_db()
    assert (membership.status, membership.status_reason) == ("suspended", "Harassing neighbors")
    assert Notification.objects.filter(recipient=member, kind="moderation.suspended").exists()

    services.membership_reinstate(membership=membership, actor=organizer, reason="Apologised")
    membership.refresh_from_db()
    assert (membership.status, membership.status_reason) == ("active", "")
    assert Notification.objects.filter(recipient=member, kind="moderation.reinstated").exists()


def test_an_organizer_cannot_suspend_another_organizer_but_a_superuser_can(organizer, community):
    other = MembershipFactory(community=community, role="organizer").user
    membership = Membership.objects.get(user=other)

    with pytest.raises(RuleViolation, match="site administrator"):
        services.membership_suspend(membership=membership, actor=organizer, reason="Power struggle")
    services.membership_suspend(membership=membership, actor=UserFactory(is_superuser=True), reason="Abuse")
    assert Membership.objects.get(pk=membership.pk).status == "suspended"


def test_an_organizer_cannot_suspend_members_of_another_community(organizer, other_community):
    rita = MembershipFactory(community=other_community)

    with pytest.raises(RuleViolation, match="Only an organizer"):
        services.membership_suspend(membership=rita, actor=organizer, reason="Not mine")


# --- a suspended member ---------------------------------------------------------------
@pytest.fixture
def suspended(organizer, member):
    membership = Membership.objects.get(user=member)
    services.membership_suspend(membership=membership, actor=organizer, reason="Spamming the ledger")
    return member


def test_a_suspended_member_cannot_write_a_review_and_is_told_why(suspended, owner, community):
    from apps.reputation.services import review_create
    from tests.exchanges.factories import ExchangeFactory

    exchange = ExchangeFactory(community=community, provider=owner, receiver=suspended)
    with pytest.raises(RuleViolation, match=r"suspended, so you can't write reviews there\. Reason: Spamming"):
        review_create(author=suspended, exchange=exchange, rating=5)


def test_a_suspended_member_cannot_report_anything(suspended, owner, report, community):
    with pytest.raises(RuleViolation, match="suspended, so you can't report anything there"):
        report(suspended, owner, community=community)


def test_a_suspended_member_cannot_send_credits(suspended, owner, community):
    from apps.ledger.services import account_for, transfer_create

    source = account_for(user=suspended, community=community, currency="HOUR")
    target = account_for(user=owner, community=community, currency="HOUR")
    with pytest.raises(RuleViolation, match="suspended"):
        transfer_create(source=source, target=target, amount=1, idempotency_key="k1")


def test_a_suspended_member_sees_why_on_the_community_page(suspended, web_as, community):
    html = web_as(suspended).get(community.get_absolute_url()).content.decode()

    assert "Your membership here is suspended" in html
    assert "Reason given by the organizers: Spamming the ledger" in html


# --- the audit log ------------------------------------------------------------------
def test_every_moderation_action_appears_in_the_audit_log(report, neighbors, owner, organizer, member, review):
    membership = Membership.objects.get(user=member)
    for neighbor in neighbors:
        report(neighbor, review)  # auto_hide
    services.content_restore(target=review, actor=organizer, reason="r1")
    services.content_hide(target=review, actor=organizer, reason="r2")
    services.flag_uphold(flag=report(owner, member, community=review.community), actor=organizer, reason="r3")
    services.flag_dismiss(flag=report(neighbors[0], member, community=review.community), actor=organizer, reason="r4")
    services.member_warn(membership=membership, actor=organizer, reason="r5")
    services.membership_suspend(membership=membership, actor=organizer, reason="r6")
    services.membership_reinstate(membership=membership, actor=organizer, reason="r7")

    log = list(ModerationAction.objects.order_by("pk").values_list("action", "reason"))
    assert [action for action, _ in log] == [
        "auto_hide",
        "restore",
        "hide",
        "uphold",
        "dismiss",
        "warn",
        "suspend",
        "reinstate",
    ]
    assert [reason for _, reason in log[1:]] == ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]
    assert set(ModerationAction.objects.values_list("community__slug", flat=True)) == {"sunnyside"}


def test_the_audit_log_cannot_be_edited_or_deleted(organizer, member):
    services.member_warn(membership=Membership.objects.get(user=member), actor=organizer, reason="Careful")
    entry = ModerationAction.objects.get()

    entry.reason = "Nothing happened"
    with pytest.raises(AuditLogImmutableError):
        entry.save()
    with pytest.raises(AuditLogImmutableError):
        entry.delete()
    with pytest.raises(AuditLogImmutableError):
        ModerationAction.objects.update(reason="Nothing happened")
    with pytest.raises(AuditLogImmutableError):
        ModerationAction.objects.all().delete()
    assert ModerationAction.objects.get().reason == "Careful"


@pytest.mark.parametrize("handle", ["flag_uphold", "flag_dismiss"])
def test_a_report_about_content_deleted_since_can_still_be_handled(community, owner, member, organizer, handle):
    from apps.moderation.models import Flag, ModerationAction
    from apps.tools.factories import ToolFactory

    tool = ToolFactory(owner=owner, community=community, title="Rusty saw")
    flag = services.flag_create(reporter=member, target=tool, reason="other", text="Blade is loose")
    tool.delete()
    getattr(services, handle)(flag=Flag.objects.get(pk=flag.pk), actor=organizer, reason="Listing is gone")
    flag.refresh_from_db()
    assert flag.status == ("upheld" if handle == "flag_uphold" else "dismissed")
    entry = ModerationAction.objects.get(flag=flag)
    assert entry.object_id == flag.object_id and entry.target_label == flag.target_label
