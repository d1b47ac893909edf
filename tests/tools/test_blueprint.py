"""The Tool Sharing blueprint's loaders (the card's figure, the dashboard, the feed, unified
search, the profile) and the refusal of new listings and requests once a community stops
tool sharing, while the loans agreed before run to their end."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from apps.front.figures import figures
from apps.peers.exchanges import exchange_stop
from apps.peers.factories import CommunityFactory, MembershipFactory
from apps.peers.models import Profile
from apps.tools import services
from apps.tools.blueprint import BLUEPRINT, DEFAULT_RULES
from apps.tools.factories import CategoryFactory, ReservationFactory, ToolFactory
from apps.tools.models import Category, Reservation, Tool, WaitlistEntry
from p2pcommons.errors import RuleViolation
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db

# Wednesday 2 December 2026, 10:00 in Amsterdam: "today" has hours left on either side.
TEN_AM = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
S = Reservation.Status


@pytest.fixture(autouse=True)
def ten_am():
    with time_machine.travel(TEN_AM, tick=True):
        yield


def hours(n: float) -> datetime:
    return timezone.now() + timedelta(hours=n)


def loan(tool, borrower, start: float, end: float, status=S.APPROVED, **kw) -> Reservation:
    return ReservationFactory(
        tool=tool, borrower=borrower, starts_at=hours(start), ends_at=hours(end), status=status, **kw
    )


def place(user, lat: float, lng: float) -> None:
    Profile.objects.filter(user=user).update(approx_latitude=Decimal(str(lat)), approx_longitude=Decimal(str(lng)))


def texts(items) -> list[str]:
    return [item.text for item in items]


# --- the card ---------------------------------------------------------------------------------
def test_the_figure_counts_tools_one_can_borrow_in_communities_using_tool_sharing(tool, owner, community):
    ToolFactory(owner=owner, community=community, status=Tool.Status.PAUSED)
    ToolFactory(owner=owner, community=community, status=Tool.Status.RETIRED)
    hidden = ToolFactory(owner=owner, community=community)
    Tool.objects.filter(pk=hidden.pk).update(is_hidden=True)
    ToolFactory(community=CommunityFactory(exchanges=["skills"]))
    assert BLUEPRINT.figure().value == "1" and BLUEPRINT.figure().label == "tool to borrow"
    ToolFactory(owner=owner, community=community)
    assert BLUEPRINT.figure().value == "2" and BLUEPRINT.figure().label == "tools to borrow"


def test_the_figure_is_written_with_a_thousands_separator(tool):
    Tool.objects.bulk_create(
        [
            Tool(owner=tool.owner, community=tool.community, category=tool.category, title=f"Saw {i}")
            for i in range(1203)
        ]
    )
    assert BLUEPRINT.figure().value == "1,204"


def test_the_cached_figure_changes_when_a_tool_is_listed_or_the_exchange_stops(
    tool, owner, organizer, community, django_capture_on_commit_callbacks
):
    assert figures()["tools"].value == "1"
    with django_capture_on_commit_callbacks(execute=True):
        services.tool_create(owner=owner, community=community, title="Ladder", category=tool.category)
    assert figures()["tools"].value == "2"
    with django_capture_on_commit_callbacks(execute=True):
        exchange_stop(community=community, key="tools", actor=organizer)
    assert figures()["tools"].value == "0"


# --- the dashboard -------------------------------------------------------------------------------
def test_the_owner_is_asked_to_answer_a_request_and_the_borrower_is_not(tool, owner, member, stranger):
    request = services.reservation_request(tool=tool, borrower=member, starts_at=hours(26), ends_at=hours(30))
    [item] = BLUEPRINT.actions(user=owner)
    assert item.text == "Max Member asks to borrow your Cordless drill from Thu 3 Dec, 12:00"
    assert item.url == f"/tools/loans/{request.pk}/" and item.verb == "Approve or decline" and item.kind == "tools"
    assert BLUEPRINT.actions(user=member) == []
    assert BLUEPRINT.actions(user=stranger) == []


def test_a_request_whose_pickup_time_is_long_gone_waits_for_nobody(tool, owner, member):
    loan(tool, member, -13, -1, status=S.REQUESTED)
    assert BLUEPRINT.actions(user=owner) == []


def test_both_sides_see_todays_pickup_and_a_later_one_is_only_upcoming(tool, owner, member):
    today = loan(tool, member, 3, 8)
    later = loan(ToolFactory(owner=owner, community=tool.community, title="Sander"), member, 50, 60)
    assert texts(BLUEPRINT.actions(user=owner)) == ["Max Member picks up your Cordless drill today at 13:00"]
    assert texts(BLUEPRINT.actions(user=member)) == ["Pick up Cordless drill from Olive Owner today at 13:00"]
    assert BLUEPRINT.actions(user=member)[0].url == today.get_absolute_url()
    assert [item.url for item in BLUEPRINT.upcoming(user=member)] == [
        today.get_absolute_url(),
        later.get_absolute_url(),
    ]


def test_returns_due_today_and_overdue_ones_are_actions_for_both(tool, owner, member, organizer):
    loan(tool, member, -30, 4, status=S.PICKED_UP)
    sander = ToolFactory(owner=owner, community=tool.community, title="Sander")
    loan(sander, organizer, -50, -2, status=S.PICKED_UP)
    assert texts(BLUEPRINT.actions(user=owner)) == [
        "Orla Organizer has not returned your Sander yet (due today at 08:00)",
        "Max Member returns your Cordless drill today at 14:00",
    ]
    assert texts(BLUEPRINT.actions(user=member)) == ["Return Cordless drill to Olive Owner today at 14:00"]
    assert texts(BLUEPRINT.actions(user=organizer)) == ["Sander was due back to Olive Owner today at 08:00: return it"]
    assert {item.verb for item in BLUEPRINT.actions(user=owner)} == {"Record the return"}


def test_a_waitlist_window_held_for_me_asks_me_to_book_it(tool, member):
    WaitlistEntry.objects.create(
        tool=tool,
        member=member,
        starts_at=hours(30),
        ends_at=hours(34),
        status=WaitlistEntry.Status.OFFERED,
        offer_expires_at=hours(5),
    )
    [item] = BLUEPRINT.actions(user=member)
    assert item.text == "Cordless drill is free for you from Thu 3 Dec, 16:00: book it before Wed 2 Dec, 15:00"
    assert item.url == "/tools/waitlist/" and item.verb == "Book it"


def test_upcoming_loans_are_mine_soonest_first_and_only_agreed_ones(tool, owner, member, organizer):
    sander = ToolFactory(owner=organizer, community=tool.community, title="Sander")
    loan(tool, member, 72, 80)
    loan(sander, member, 48, 50)
    loan(ToolFactory(owner=owner, community=tool.community), member, 24, 26, status=S.REQUESTED)
    loan(ToolFactory(owner=owner, community=tool.community), member, -48, -40, status=S.RETURNED)
    assert texts(BLUEPRINT.upcoming(user=member)) == [
        "You borrow Sander from Orla Organizer, Fri 4 Dec, 10:00 to Fri 4 Dec, 12:00",
        "You borrow Cordless drill from Olive Owner, Sat 5 Dec, 10:00 to Sat 5 Dec, 18:00",
    ]
    assert texts(BLUEPRINT.upcoming(user=owner)) == [
        "You lend Cordless drill to Max Member, Sat 5 Dec, 10:00 to Sat 5 Dec, 18:00"
    ]


def test_a_tool_out_on_loan_is_upcoming_by_its_return_until_it_is_overdue(tool, owner, member):
    loan(ToolFactory(owner=owner, community=tool.community, title="Sander"), member, -30, -1, status=S.PICKED_UP)
    loan(tool, member, -2, 30, status=S.PICKED_UP)
    assert texts(BLUEPRINT.upcoming(user=member)) == ["Bring Cordless drill back to Olive Owner by Thu 3 Dec, 16:00"]
    assert texts(BLUEPRINT.upcoming(user=owner)) == ["Max Member has your Cordless drill until Thu 3 Dec, 16:00"]


# --- the activity feed ------------------------------------------------------------------------------
def test_the_feed_shows_the_newest_tools_the_member_may_see(tool, owner, member, community, other_community):
    with time_machine.travel(TEN_AM + timedelta(hours=1), tick=False):
        ladder = ToolFactory(owner=owner, community=community, title="Ladder")
    hidden = ToolFactory(owner=owner, community=community, title="Hidden saw")
    Tool.objects.filter(pk=hidden.pk).update(is_hidden=True)
    ToolFactory(owner=owner, community=community, status=Tool.Status.PAUSED)
    foreign = ToolFactory(community=other_community, title="Their drill")
    items = BLUEPRINT.activity(user=member, community_ids=[community.pk, other_community.pk], limit=10)
    assert texts(items) == ["Olive Owner listed Ladder to lend", "Olive Owner listed Cordless drill to lend"]
    assert items[0].url == ladder.get_absolute_url() and items[0].when == ladder.created_at
    assert foreign.get_absolute_url() not in [item.url for item in items]
    assert BLUEPRINT.activity(user=member, community_ids=[community.pk], limit=1)[0].url == ladder.get_absolute_url()


def test_strangers_and_communities_that_stopped_tool_sharing_show_nothing(tool, member, stranger, organizer, community):
    assert BLUEPRINT.activity(user=stranger, community_ids=[community.pk], limit=10) == []
    exchange_stop(community=community, key="tools", actor=organizer)
    assert BLUEPRINT.activity(user=member, community_ids=[community.pk], limit=10) == []


# --- unified search -----------------------------------------------------------------------------------
def test_search_finds_a_word_in_the_title_or_description_and_ranks_the_title_first(tool, owner, member, community):
    ToolFactory(owner=owner, community=community, title="Bit set", description="Fits any cordless driver.")
    ToolFactory(owner=owner, community=community, title="Hammer", description="Heavy.")
    hits = BLUEPRINT.search(user=member, query="cordless", kinds=None, near=None, within_km=None, limit=10)
    assert [hit.title for hit in hits] == ["Cordless drill", "Bit set"]
    assert hits[0].rank > hits[1].rank
    assert hits[0].kind == "tool" and hits[0].kind_label == "Tools" and hits[0].community == "Sunnyside Commons"
    assert hits[0].url == tool.get_absolute_url() and hits[0].snippet == "18 V, two batteries, a case of bits."
    assert hits[0].distance_km is None
    assert [hit.title for hit in BLUEPRINT.search(user=member, query="driver", limit=10)] == ["Bit set"]
    assert [hit.title for hit in BLUEPRINT.search(user=member, query="cordless", limit=1)] == ["Cordless drill"]


def test_search_finds_a_category_and_cuts_long_descriptions(owner, member, community):
    ToolFactory(
        owner=owner,
        community=community,
        title="Loppers",
        description="Long handles. " * 30,
        category=CategoryFactory(slug="garden-t", name="Gardening"),
    )
    [hit] = BLUEPRINT.search(user=member, query="gardening", limit=10)
    assert hit.title == "Loppers" and len(hit.snippet) <= 140 and hit.snippet.endswith("…")


def test_search_leaves_out_hidden_foreign_and_unshared_tools(tool, owner, member, stranger, other_community):
    Tool.objects.filter(pk=tool.pk).update(is_hidden=True)
    ToolFactory(community=other_community, title="Cordless drill of elsewhere")
    assert BLUEPRINT.search(user=member, query="cordless", limit=10) == []
    Tool.objects.filter(pk=tool.pk).update(is_hidden=False)
    assert BLUEPRINT.search(user=stranger, query="cordless", limit=10) == []
    assert len(BLUEPRINT.search(user=member, query="cordless", limit=10)) == 1


def test_search_answers_only_for_its_own_kind(tool, member):
    assert BLUEPRINT.search(user=member, query="drill", kinds=["offer", "challenge"], limit=10) == []
    assert len(BLUEPRINT.search(user=member, query="drill", kinds=["tool"], limit=10)) == 1
    assert len(BLUEPRINT.search(user=member, query="drill", kinds=[], limit=10)) == 1


def test_search_gives_the_distance_and_leaves_out_tools_beyond_it(tool, owner, member, organizer, community):
    far = ToolFactory(owner=organizer, community=community, title="Drill press")
    unknown = MembershipFactory(community=community).user
    ToolFactory(owner=unknown, community=community, title="Drill stand")
    Profile.objects.filter(user=unknown).update(approx_latitude=None, approx_longitude=None)
    place(owner, 52.36, 4.90)
    place(organizer, 52.45, 4.90)  # about 10 km north
    near = (52.37, 4.90)
    hits = {hit.title: hit for hit in BLUEPRINT.search(user=member, query="drill", near=near, limit=10)}
    assert hits["Cordless drill"].distance_km == pytest.approx(1.11, abs=0.05)
    assert hits["Drill press"].distance_km == pytest.approx(8.9, abs=0.1)
    assert hits["Drill stand"].distance_km is None
    close = BLUEPRINT.search(user=member, query="drill", near=near, within_km=3, limit=10)
    assert sorted(hit.title for hit in close) == ["Cordless drill", "Drill stand"]
    assert far.get_absolute_url() not in [hit.url for hit in close]


# --- the profile -----------------------------------------------------------------------------------
def test_history_counts_listed_tools_and_completed_loans_each_way(tool, owner, member):
    ToolFactory(owner=owner, community=tool.community, status=Tool.Status.RETIRED)
    hidden = ToolFactory(owner=owner, community=tool.community)
    Tool.objects.filter(pk=hidden.pk).update(is_hidden=True)
    loan(tool, member, -50, -48, status=S.RETURNED)
    loan(tool, member, -40, -38, status=S.RETURNED)
    loan(tool, member, 20, 22)
    loan(ToolFactory(owner=member, community=tool.community), owner, -30, -28, status=S.RETURNED)
    rows = {row.label: row.value for row in BLUEPRINT.history(subject=owner, viewer=member)}
    assert rows == {"Tools listed": "1", "Tools lent": "2", "Tools borrowed": "1"}
    rows = {row.label: row.value for row in BLUEPRINT.history(subject=member, viewer=owner)}
    assert rows == {"Tools listed": "1", "Tools lent": "1", "Tools borrowed": "2"}


# --- starting it, and its rules -------------------------------------------------------------------------
def test_starting_tool_sharing_gives_a_fresh_site_its_categories_once(owner):
    community = CommunityFactory(exchanges=[])
    Category.objects.all().delete()
    BLUEPRINT.start(community=community, actor=None)
    names = set(Category.objects.values_list("name", flat=True))
    assert {"Power tools", "Garden", "Ladders & access"} <= names
    BLUEPRINT.start(community=community, actor=None)
    assert Category.objects.count() == len(names)


def test_starting_tool_sharing_leaves_a_curated_category_list_alone(tool):
    BLUEPRINT.start(community=tool.community, actor=None)
    assert list(Category.objects.values_list("name", flat=True)) == ["Power tools"]


def test_the_default_rules_say_how_a_loan_stays_fair():
    assert BLUEPRINT.default_rules == DEFAULT_RULES
    for words in ("approved by the tool's owner", "on time", "damage", "no cash"):
        assert words in DEFAULT_RULES


# --- a community that stops tool sharing ---------------------------------------------------------------
def test_a_stopped_exchange_takes_no_new_tool_request_or_waitlist_entry(tool, owner, member, organizer, community):
    loan(tool, organizer, 30, 40)
    exchange_stop(community=community, key="tools", actor=organizer)
    with pytest.raises(RuleViolation) as refused:
        services.tool_create(owner=owner, community=community, title="Ladder", category=tool.category)
    assert refused.value.code == "exchange_off" and "Community Tool Sharing" in str(refused.value)
    with pytest.raises(RuleViolation) as refused:
        services.reservation_request(tool=tool, borrower=member, starts_at=hours(50), ends_at=hours(52))
    assert refused.value.code == "exchange_off"
    with pytest.raises(RuleViolation) as refused:
        services.waitlist_join(tool=tool, member=member, starts_at=hours(31), ends_at=hours(33))
    assert refused.value.code == "exchange_off"
    assert Tool.objects.count() == 1 and Reservation.objects.count() == 1 and not WaitlistEntry.objects.exists()


def test_loans_agreed_before_the_exchange_stopped_run_to_their_end(tool, owner, member, organizer, community):
    asked = services.reservation_request(tool=tool, borrower=member, starts_at=hours(1), ends_at=hours(5))
    exchange_stop(community=community, key="tools", actor=organizer)
    approved = services.reservation_approve(reservation=asked, actor=owner)
    assert BLUEPRINT.actions(user=member)[0].verb == "Record the pickup"
    picked = services.reservation_pickup(reservation=approved, actor=member, now=hours(1))
    returned = services.reservation_return(reservation=picked, actor=owner, now=hours(3))
    assert returned.status == S.RETURNED


# --- query counts --------------------------------------------------------------------------------------
def test_the_dashboard_loaders_run_a_fixed_number_of_queries(tool, owner, member, community):
    def add_rows(n: int) -> None:
        for i in range(n):
            other = ToolFactory(owner=owner, community=community, title=f"Drill {i}")
            loan(other, member, 2, 6)  # a pickup today
            loan(ToolFactory(owner=owner, community=community), member, 30, 32, status=S.REQUESTED)
            loan(ToolFactory(owner=owner, community=community), member, -30, 3, status=S.PICKED_UP)
            WaitlistEntry.objects.create(
                tool=other,
                member=member,
                starts_at=hours(40),
                ends_at=hours(42),
                status=WaitlistEntry.Status.OFFERED,
                offer_expires_at=hours(4),
            )

    assert assert_queries_do_not_grow(lambda: BLUEPRINT.actions(user=member), add_rows, small=1, large=6) == 2
    assert len(BLUEPRINT.actions(user=owner)) == 18
    assert assert_queries_do_not_grow(lambda: BLUEPRINT.actions(user=owner), add_rows, small=0, large=3) == 2
    assert assert_queries_do_not_grow(lambda: BLUEPRINT.upcoming(user=owner), add_rows, small=0, large=3) == 1


def test_the_feed_and_search_run_one_query_whatever_the_rows(owner, member, community):
    def add_rows(n: int) -> None:
        for i in range(n):
            ToolFactory(owner=owner, community=community, title=f"Drill {i}")

    feed = lambda: BLUEPRINT.activity(user=member, community_ids=[community.pk], limit=20)  # noqa: E731
    assert assert_queries_do_not_grow(feed, add_rows, small=1, large=8) == 1
    found = lambda: BLUEPRINT.search(user=member, query="drill", near=(52.3, 4.9), within_km=5, limit=20)  # noqa: E731
    assert assert_queries_do_not_grow(found, add_rows, small=0, large=8) == 1


def test_the_api_and_the_page_tell_a_member_the_community_stopped_tool_sharing(
    api_as, web_as, tool, owner, organizer, community
):
    exchange_stop(community=community, key="tools", actor=organizer)
    body = {"title": "Hedge trimmer", "category": tool.category.slug, "community": community.pk}
    refused = api_as(owner).post("/api/v1/tools/", body, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "exchange_off"
    form = {
        **body,
        "category": tool.category.pk,
        "condition": "good",
        "max_loan_days": "5",
        "min_notice_hours": "2",
        "buffer_hours": "0",
        "auto_approve_min_score": "4.00",
        "auto_approve_min_exchanges": "3",
    }
    page = web_as(owner).post("/tools/new/", form)
    assert page.status_code == 200
    assert "does not use the Community Tool Sharing exchange" in page.content.decode()
    assert Tool.objects.count() == 1


def test_a_community_that_stopped_tool_sharing_offers_no_freed_window(community, owner, member, organizer):
    """A waitlist window freed after the stop is not offered: accepting would be a new loan."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.peers.exchanges import exchange_stop
    from apps.tools import services as tool_services
    from apps.tools.factories import ReservationFactory, ToolFactory
    from apps.tools.models import WaitlistEntry

    tool = ToolFactory(owner=owner, community=community)
    starts = timezone.now() + timedelta(days=3)
    loan = ReservationFactory(tool=tool, starts_at=starts, ends_at=starts + timedelta(days=1))
    entry = WaitlistEntry.objects.create(tool=tool, member=member, starts_at=starts, ends_at=starts + timedelta(days=1))
    exchange_stop(community=community, key="tools", actor=organizer)
    loan.delete()
    assert tool_services.waitlist_offer_next(tool=tool) == []
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING
