"""Organizers moderate in the admin, within their own communities only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.moderation import services
from apps.moderation.models import Flag, ModerationAction
from apps.peers.factories import MembershipFactory, UserFactory
from apps.peers.models import Membership
from apps.reputation.factories import ReviewFactory
from tests.exchanges.factories import ExchangeFactory
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db

QUEUE = "admin:moderation_moderationqueueitem_changelist"
FLAGS = "admin:moderation_flag_changelist"
LOG = "admin:moderation_moderationaction_changelist"


@pytest.fixture
def riverside_world(other_community, riverside_review, report):
    """Riverside: its review reported twice, a riverside member warned (so it has a log)."""
    rita, ray = riverside_review.author, riverside_review.subject
    river_organizer = MembershipFactory(community=other_community, role="organizer").user
    reporters = [MembershipFactory(community=other_community).user for _ in range(2)]
    flags = [report(r, riverside_review) for r in reporters]
    services.member_warn(
        membership=Membership.objects.get(user=ray), actor=river_organizer, reason="Riverside business"
    )
    return {"review": riverside_review, "flags": flags, "rita": rita}


@pytest.fixture
def sunnyside_flag(report, owner, review):
    return report(owner, review)


def changelist(client, name: str) -> str:
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def test_the_organizer_sees_only_their_communitys_queue(web_as, organizer, sunnyside_flag, riverside_world):
    html = changelist(web_as(organizer), QUEUE)

    assert sunnyside_flag.target_label in html
    assert riverside_world["flags"][0].target_label not in html


def test_the_organizer_sees_only_their_communitys_reports(web_as, organizer, sunnyside_flag, riverside_world):
    html = changelist(web_as(organizer), FLAGS)

    assert sunnyside_flag.target_label in html
    assert riverside_world["flags"][0].target_label not in html
    assert "Riverside Neighbors" not in html  # not even in the community filter


def test_the_organizer_sees_only_their_communitys_audit_log(web_as, organizer, member, riverside_world):
    services.member_warn(membership=Membership.objects.get(user=member), actor=organizer, reason="Sunny business")

    html = changelist(web_as(organizer), LOG)

    assert "Sunny business" in html
    assert "Riverside business" not in html


@pytest.mark.parametrize("name", ["flag", "moderationqueueitem"])
def test_the_organizer_cannot_open_another_communitys_report_by_url(web_as, organizer, riverside_world, name):
    flag = riverside_world["flags"][0]
    response = web_as(organizer).get(reverse(f"admin:moderation_{name}_change", args=[flag.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:index")  # "doesn't exist"
    assert flag.target_label not in response.content.decode()


def test_the_organizer_cannot_open_another_communitys_log_entry_by_url(web_as, organizer, riverside_world):
    entry = ModerationAction.objects.get(community__slug="riverside")
    response = web_as(organizer).get(reverse("admin:moderation_moderationaction_change", args=[entry.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert "Riverside business" not in response.content.decode()


def test_the_organizer_cannot_open_another_communitys_review_by_url(web_as, organizer, riverside_world):
    review = riverside_world["review"]
    response = web_as(organizer).get(reverse("admin:reputation_review_change", args=[review.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:index")


def test_the_organizer_cannot_act_on_another_communitys_reports(web_as, organizer, sunnyside_flag, riverside_world):
    client = web_as(organizer)
    theirs = riverside_world["flags"]
    client.post(
        reverse(FLAGS),
        {
            "action": "dismiss",
            "_selected_action": [sunnyside_flag.pk, *[f.pk for f in theirs]],
            "apply": "Confirm",
            "reason": "Nothing wrong",
        },
    )

    assert Flag.objects.get(pk=sunnyside_flag.pk).status == "dismissed"
    assert set(Flag.objects.filter(pk__in=[f.pk for f in theirs]).values_list("status", flat=True)) == {"open"}


def test_the_organizer_cannot_hide_another_communitys_content_from_the_queue(web_as, organizer, riverside_world):
    flag = riverside_world["flags"][0]
    web_as(organizer).post(
        reverse(QUEUE),
        {"action": "hide", "_selected_action": [flag.pk], "apply": "Confirm", "reason": "Not mine"},
    )

    riverside_world["review"].refresh_from_db()
    assert not riverside_world["review"].is_hidden
    assert not ModerationAction.objects.filter(action="hide").exists()


def test_the_organizer_cannot_suspend_another_communitys_member(web_as, organizer, riverside_world):
    rita = Membership.objects.get(user=riverside_world["rita"])
    web_as(organizer).post(
        reverse("admin:peers_membership_changelist"),
        {"action": "suspend_members", "_selected_action": [rita.pk], "apply": "Confirm", "reason": "Not mine"},
    )

    assert Membership.objects.get(pk=rita.pk).status == "active"


def test_a_superuser_sees_every_communitys_reports(web_as, sunnyside_flag, riverside_world):
    html = changelist(web_as(UserFactory(is_staff=True, is_superuser=True)), QUEUE)

    assert sunnyside_flag.target_label in html
    assert riverside_world["flags"][0].target_label in html


def test_staff_who_organize_nothing_see_no_moderation(web_as, db):
    client = web_as(UserFactory(is_staff=True))
    for name in (QUEUE, FLAGS, LOG):
        assert client.get(reverse(name)).status_code == 403


def test_the_queue_asks_for_a_reason_before_it_restores(web_as, organizer, report, neighbors, review):
    flags = [report(n, review) for n in neighbors]
    client = web_as(organizer)

    confirm = client.post(reverse(QUEUE), {"action": "restore", "_selected_action": [flags[0].pk]})
    assert confirm.status_code == 200 and 'name="reason"' in confirm.content.decode()
    review.refresh_from_db()
    assert review.is_hidden

    client.post(
        reverse(QUEUE),
        {"action": "restore", "_selected_action": [flags[0].pk], "apply": "Confirm", "reason": "Fair criticism"},
    )
    review.refresh_from_db()
    assert not review.is_hidden
    assert ModerationAction.objects.filter(action="restore", reason="Fair criticism", actor=organizer).exists()


def test_the_queue_shows_most_reported_first_then_oldest(web_as, organizer, report, community, owner, member, review):
    other_review = ReviewFactory(
        exchange=ExchangeFactory(community=community, provider=owner, receiver=member), comment="Fine"
    )
    report(member, other_review)  # older, one report
    report(owner, review)
    report(MembershipFactory(community=community).user, review)  # newer, two reports

    html = changelist(web_as(organizer), QUEUE)

    assert html.index(f"review #{review.pk} by") < html.index(f"review #{other_review.pk} by")


def test_the_queue_dismisses_all_open_reports_of_an_item(web_as, organizer, report, neighbors, review):
    flags = [report(n, review) for n in neighbors[:2]]
    web_as(organizer).post(
        reverse(QUEUE),
        {"action": "dismiss_reports", "_selected_action": [flags[0].pk], "apply": "Confirm", "reason": "Fine"},
    )

    assert set(Flag.objects.values_list("status", flat=True)) == {"dismissed"}
    assert ModerationAction.objects.filter(action="dismiss").count() == 2


def test_the_review_admin_hides_a_review(web_as, organizer, review):
    web_as(organizer).post(
        reverse("admin:reputation_review_changelist"),
        {"action": "hide_content", "_selected_action": [review.pk], "apply": "Confirm", "reason": "Abusive"},
    )

    review.refresh_from_db()
    assert review.is_hidden


def test_the_audit_log_cannot_be_edited_in_the_admin_even_by_a_superuser(web_as, organizer, member):
    services.member_warn(membership=Membership.objects.get(user=member), actor=organizer, reason="Careful")
    entry = ModerationAction.objects.get()
    client = web_as(UserFactory(is_staff=True, is_superuser=True))

    change = client.get(reverse("admin:moderation_moderationaction_change", args=[entry.pk])).content.decode()
    client.post(reverse("admin:moderation_moderationaction_change", args=[entry.pk]), {"reason": "Nothing"})

    assert 'name="_save"' not in change
    assert client.get(reverse("admin:moderation_moderationaction_add")).status_code == 403
    assert client.post(reverse("admin:moderation_moderationaction_delete", args=[entry.pk])).status_code == 403
    assert ModerationAction.objects.get().reason == "Careful"


def test_the_queue_query_count_does_not_grow(web_as, organizer, community, owner):
    client = web_as(organizer)

    def add(n):
        for _ in range(n):
            author = MembershipFactory(community=community).user
            reported = ReviewFactory(exchange=ExchangeFactory(community=community, provider=author, receiver=owner))
            reporter = MembershipFactory(community=community).user  # one member may send 20 reports a day
            services.flag_create(reporter=reporter, target=reported, reason="spam")
            services.flag_create(reporter=reporter, target=author, reason="scam", community=community)

    # Queries: session, user, their display name (header), organized communities (scope), organized communities and
    # their names (community filter), count (filtered), count (total), the user's and
    # their groups' permissions (nav sidebar), one page of items (open counts, authors,
    # communities joined), then the reported reviews and the reported members (one
    # query per kind of target, whatever the number of rows).
    assert assert_queries_do_not_grow(lambda: client.get(reverse(QUEUE)), add) == 13


def test_the_reports_list_query_count_does_not_grow(web_as, organizer, community, owner):
    client = web_as(organizer)

    def add(n):
        for _ in range(n):
            services.flag_create(  # one member may send 20 reports a day: a new reporter each time
                reporter=MembershipFactory(community=community).user, target=owner, reason="scam", community=community
            )

    assert_queries_do_not_grow(lambda: client.get(reverse(FLAGS)), add)


def test_the_audit_log_query_count_does_not_grow(web_as, organizer, community):
    client = web_as(organizer)

    def add(n):
        for _ in range(n):
            membership = MembershipFactory(community=community)
            services.member_warn(membership=membership, actor=organizer, reason="Be kind")

    # Session, user, their display name (header) and organized communities, their groups' permissions (nav sidebar),
    # count(*) and one page of entries with actor, subject and community joined.
    assert assert_queries_do_not_grow(lambda: client.get(reverse(LOG)), add) == 13


def test_the_organizers_notification_links_to_the_item_in_the_queue(web_as, organizer, report, neighbors, review):
    from apps.notifications.models import Notification

    for neighbor in neighbors:
        report(neighbor, review)
    url = Notification.objects.get(recipient=organizer, kind="moderation.flagged").url

    response = web_as(organizer).get(url)

    assert response.status_code == 200
    assert f"review #{review.pk} by Max Member" in response.content.decode()


def test_the_queue_shows_the_reported_tools_title_excerpt_and_a_link_to_it(
    web_as, organizer, report, member, owner, community
):
    from apps.tools.factories import ToolFactory

    tool = ToolFactory(
        owner=owner,
        community=community,
        title="Hedge trimmer",
        description="Petrol trimmer, cash only, call me on 0612",
    )
    report(member, tool, reason="scam")

    html = changelist(web_as(organizer), QUEUE)

    assert f'<a href="{tool.get_absolute_url()}"><strong>Hedge trimmer</strong></a>' in html
    assert "Petrol trimmer, cash only, call me on 0612" in html
    assert f"tool listing #{tool.pk}" not in html.split("<tbody>")[1].split('class="field-reported"')[1]


def test_the_report_page_shows_what_was_reported_and_links_to_it(web_as, organizer, report, neighbors, review):
    flag = report(neighbors[0], review)

    html = web_as(organizer).get(reverse("admin:moderation_flag_change", args=[flag.pk])).content.decode()
    listing = changelist(web_as(organizer), FLAGS)

    profile_of_subject = reverse("peers:profile", args=[review.subject_id])  # where the review is shown
    for page in (html, listing):
        assert f'<a href="{profile_of_subject}"><strong>{review}</strong></a>' in page
        assert "Rude and late, avoid" in page


def test_a_reported_member_is_shown_by_name_with_a_link_to_their_profile(web_as, organizer, report, member, owner):
    owner.profile.bio = "I repair bikes on Saturdays."
    owner.profile.save()
    report(member, owner, reason="scam", community=owner.memberships.get().community)

    html = changelist(web_as(organizer), QUEUE)

    assert f'<a href="{owner.profile.get_absolute_url()}"><strong>{owner.public_name}</strong></a>' in html
    assert "I repair bikes on Saturdays." in html


def test_the_admin_home_shows_the_open_reports_of_the_organizers_communities(
    web_as, organizer, sunnyside_flag, riverside_world, report, neighbors, review
):
    report(neighbors[0], review)  # two open reports in sunnyside, two in riverside

    html = web_as(organizer).get(reverse("admin:index")).content.decode()

    assert f'<a href="{reverse(QUEUE)}"><strong>2 open reports</strong>' in html


def test_the_admin_home_says_when_no_report_is_open(web_as, organizer, riverside_world):
    html = web_as(organizer).get(reverse("admin:index")).content.decode()

    assert "No open reports." in html


def test_the_admin_header_greets_the_organizer_by_name_not_email(web_as, organizer):
    html = web_as(organizer).get(reverse("admin:index")).content.decode()

    header = html.split('id="user-tools"')[1].split("</strong>")[0]
    assert organizer.public_name in header
    assert organizer.email not in html


def test_the_reports_and_the_log_write_dates_as_the_site_does(web_as, organizer, sunnyside_flag, member):
    from p2pcommons.humanize import format_when_short

    services.member_warn(membership=Membership.objects.get(user=member), actor=organizer, reason="Be kind")
    client = web_as(organizer)

    assert format_when_short(sunnyside_flag.created_at) in changelist(client, FLAGS)
    assert format_when_short(ModerationAction.objects.get().created_at) in changelist(client, LOG)
