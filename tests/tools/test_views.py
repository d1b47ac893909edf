"""The browser pages of tool sharing: what each neighbor sees and may do, with the
database as the judge."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.moderation.models import Flag
from apps.moderation.services import content_hide
from apps.peers.factories import MembershipFactory
from apps.reputation.models import TrustScore
from apps.tools import services
from apps.tools.factories import CategoryFactory, ReservationFactory, ToolFactory
from apps.tools.models import ConditionReport, Reservation, Tool, ToolPhoto, WaitlistEntry
from p2pcommons.humanize import format_when, format_when_short
from tests.querycount import assert_queries_do_not_grow
from tests.tools.images import png_upload

pytestmark = pytest.mark.django_db

LIST = reverse("tools:list")
LOANS = reverse("tools:loans")
REQUESTS = reverse("tools:requests")
WAITLIST = reverse("tools:waitlist")
MINE = reverse("tools:mine")
HTMX = {"HTTP_HX_REQUEST": "true"}


def at(days: float, hours: float = 0):
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return base + timedelta(days=days, hours=hours)


def local(moment) -> str:
    """What a datetime-local input sends: the wall-clock time, no offset."""
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def html(response) -> str:
    return response.content.decode()


def detail(tool) -> str:
    return reverse("tools:detail", args=[tool.pk])


def loan_url(loan, action: str | None = None) -> str:
    if action is None:
        return reverse("tools:loan", args=[loan.pk])
    return reverse("tools:loan-action", args=[loan.pk, action])


@pytest.fixture
def neighbor(community):
    """A member of the same community who is no party to the loans in these tests."""
    return MembershipFactory(community=community, user__profile__display_name="Nina Neighbor").user


# A window starting within the hour (in ``at`` days): its pickup window is open now.
SOON, SOON_END = -2 + 1 / 24, -1


def loan_in(state: str, tool, borrower, start: float = 0, end: float = 1) -> Reservation:
    """A loan walked to ``state`` through the services, as the site would. The pickup is
    recorded at the loan's start and then dated a minute ago (the clock can't travel), so
    that the return can be recorded now."""
    loan = services.reservation_request(tool=tool, borrower=borrower, starts_at=at(start), ends_at=at(end))
    if state in ("approved", "picked_up", "returned"):
        loan = services.reservation_approve(reservation=loan, actor=tool.owner)
    if state in ("picked_up", "returned"):
        loan = services.reservation_pickup(reservation=loan, actor=borrower, now=loan.starts_at)
        Reservation.objects.filter(pk=loan.pk).update(picked_up_at=timezone.now() - timedelta(minutes=1))
        loan.refresh_from_db()
    if state == "returned":
        loan = services.reservation_return(reservation=loan, actor=tool.owner)
    return loan


# --- transitions: who may do what --------------------------------------------------------
# An owner says no to a request by declining it; cancelling is for an approved loan.
STATE_BEFORE = {"approve": "requested", "decline": "requested", "cancel": "approved", "pickup": "approved"}
STATE_BEFORE["return"] = "picked_up"
ALLOWED = {
    "approve": {"owner": "approved"},
    "decline": {"owner": "declined"},
    "cancel": {"owner": "cancelled", "borrower": "cancelled"},
    "pickup": {"owner": "picked_up", "borrower": "picked_up"},
    "return": {"owner": "returned"},
}


@pytest.mark.parametrize("action", ["approve", "decline", "cancel", "pickup", "return"])
@pytest.mark.parametrize("who", ["owner", "borrower", "neighbor", "organizer"])
def test_each_transition_is_made_by_exactly_the_parties_allowed(
    web_as, tool, owner, member, neighbor, organizer, action, who
):
    loan = loan_in(STATE_BEFORE[action], tool, member, SOON, SOON_END)
    people = {"owner": owner, "borrower": member, "neighbor": neighbor, "organizer": organizer}
    before = loan.status
    response = web_as(people[who]).post(loan_url(loan, action), follow=True)
    loan.refresh_from_db()

    if who in ALLOWED[action]:
        assert loan.status == ALLOWED[action][who]
        assert response.status_code == 200
        assert f"Cordless drill: {loan.get_status_display().lower()}." in html(response)
    elif who == "borrower":  # a party, but not the one who decides: a message, nothing changes
        assert loan.status == before
        assert response.status_code == 200
        assert "Only the tool&#x27;s owner can do that." in html(response)
    else:  # not a party: the loan does not exist for them
        assert response.status_code == 404
        assert loan.status == before


def test_an_outsider_gets_a_404_for_every_loan_page_and_action(web_as, tool, member, stranger):
    loan = loan_in("requested", tool, member)
    client = web_as(stranger)
    assert client.get(loan_url(loan)).status_code == 404
    assert client.post(loan_url(loan, "cancel")).status_code == 404
    assert client.post(reverse("tools:loan-condition", args=[loan.pk])).status_code == 404
    loan.refresh_from_db()
    assert loan.status == "requested"


def test_the_borrower_may_cancel_an_approved_loan_and_the_owner_may_record_its_pickup(web_as, tool, member, owner):
    first = loan_in("approved", tool, member, 0, 1)
    second = loan_in("approved", tool, member, SOON, SOON_END)
    web_as(member).post(loan_url(first, "cancel"))
    web_as(owner).post(loan_url(second, "pickup"))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("cancelled", "picked_up")


@pytest.mark.parametrize(
    ("state", "action", "actor"),
    [
        ("requested", "return", "owner"),
        ("requested", "pickup", "borrower"),
        ("approved", "approve", "owner"),
        ("picked_up", "cancel", "borrower"),
        ("returned", "decline", "owner"),
    ],
)
def test_an_illegal_transition_is_explained_and_changes_nothing(web_as, tool, owner, member, state, action, actor):
    loan = loan_in(state, tool, member)
    events = loan.events.count()
    response = web_as(owner if actor == "owner" else member).post(loan_url(loan, action), follow=True)
    loan.refresh_from_db()
    assert loan.status == state
    assert loan.events.count() == events
    assert response.status_code == 200
    assert "can&#x27;t become" in html(response)


def test_an_unknown_action_is_a_404(web_as, tool, owner, member):
    loan = loan_in("requested", tool, member)
    assert web_as(owner).post(loan_url(loan, "teleport")).status_code == 404


def test_a_transition_needs_a_post(web_as, tool, owner, member):
    loan = loan_in("requested", tool, member)
    assert web_as(owner).get(loan_url(loan, "approve")).status_code == 405
    loan.refresh_from_db()
    assert loan.status == "requested"


def test_a_transition_goes_back_to_the_filtered_list_it_came_from(web_as, tool, owner, member):
    loan = loan_in("requested", tool, member)
    back = f"{REQUESTS}?status=requested"
    response = web_as(owner).post(loan_url(loan, "decline"), {"next": back, "note": "Away that week"})
    assert response.status_code == 302 and response["Location"] == back
    assert loan.events.last().note == "Away that week"


def test_a_transition_never_redirects_off_site(web_as, tool, owner, member):
    loan = loan_in("requested", tool, member)
    response = web_as(owner).post(loan_url(loan, "approve"), {"next": "https://evil.example/"})
    assert response["Location"] == loan_url(loan)


# --- booking --------------------------------------------------------------------------------
def book(client, tool, start, end, message="", **headers):
    data = {"starts_at": local(start), "ends_at": local(end), "message": message}
    return client.post(reverse("tools:book", args=[tool.pk]), data, **headers)


def test_a_neighbor_books_a_window_read_in_the_local_timezone(web_as, tool, member):
    response = book(web_as(member), tool, at(0, 3), at(1, 3), "For the shelves")
    assert response.status_code == 302 and response["Location"] == LOANS
    loan = Reservation.objects.get()
    assert (loan.borrower, loan.status, loan.message) == (member, "requested", "For the shelves")
    assert (loan.starts_at, loan.ends_at) == (at(0, 3), at(1, 3))
    page = html(web_as(member).get(LOANS))
    assert "Your request for Cordless drill was sent to Olive Owner." in page
    assert format_when_short(at(0, 3)) in page


def test_an_end_before_the_start_is_shown_on_the_form_with_what_was_typed(web_as, tool, member):
    response = book(web_as(member), tool, at(1), at(0), "Shelves")
    assert response.status_code == 200
    page = html(response)
    assert "The end must be after the start." in page
    assert f'value="{local(at(1))}"' in page and "Shelves</textarea>" in page
    assert 'aria-invalid="true"' in page
    assert not Reservation.objects.exists()


def test_a_start_in_the_past_is_refused_on_the_form(web_as, tool, member):
    tool.min_notice_hours = 3
    tool.save()
    client = web_as(member)
    response = book(client, tool, timezone.now() - timedelta(hours=5), timezone.now() + timedelta(hours=5))
    assert "The start can&#x27;t be in the past." in html(response)
    response = book(client, tool, timezone.now() + timedelta(hours=1), timezone.now() + timedelta(hours=5))
    assert "Olive Owner needs 3 hour(s) notice." in html(response)
    assert not Reservation.objects.exists()


def test_a_time_that_is_not_a_time_is_a_form_error(web_as, tool, member):
    response = web_as(member).post(reverse("tools:book", args=[tool.pk]), {"starts_at": "soon", "ends_at": "later"})
    assert response.status_code == 200
    assert "Enter a valid date/time." in html(response)


def test_a_taken_window_names_the_next_free_one_and_offers_the_waitlist(web_as, tool, member, organizer):
    loan_in("requested", tool, organizer, 0, 1)
    response = book(web_as(member), tool, at(0, 12), at(1, 12))
    page = html(response)
    free = at(1, 2)  # the first loan's end plus the tool's 2-hour buffer
    assert f"It is next available for that long from {format_when(free)}." in page
    assert "Join the waitlist for this window" in page
    assert Reservation.objects.count() == 1


def test_with_htmx_errors_come_back_as_the_form_alone(web_as, tool, member, organizer):
    loan_in("requested", tool, organizer, 0, 1)
    response = book(web_as(member), tool, at(0, 12), at(1, 12), **HTMX)
    page = html(response)
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="booking">') and "<html" not in page
    assert "is already booked then" in page and "Join the waitlist for this window" in page


def test_with_htmx_a_booking_sends_the_browser_to_my_loans(web_as, tool, member):
    response = book(web_as(member), tool, at(0), at(1), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == LOANS
    assert Reservation.objects.get().borrower == member


def test_the_owner_sees_edit_links_instead_of_the_booking_form(web_as, tool, owner, member):
    own = html(web_as(owner).get(detail(tool)))
    assert reverse("tools:edit", args=[tool.pk]) in own and reverse("tools:photos", args=[tool.pk]) in own
    assert "Request to borrow" not in own and "Report this tool listing" not in own
    theirs = html(web_as(member).get(detail(tool)))
    assert "Request to borrow" in theirs and "Report this tool listing" in theirs
    assert reverse("tools:edit", args=[tool.pk]) not in theirs


def test_the_owner_booking_their_own_tool_gets_a_message(web_as, tool, owner):
    assert "You can&#x27;t borrow your own tool." in html(book(web_as(owner), tool, at(0), at(1)))


def test_other_communities_and_hidden_tools_are_404s(web_as, member, owner, organizer, other_community, tool):
    elsewhere = ToolFactory(community=other_community)
    assert web_as(member).get(detail(elsewhere)).status_code == 404
    assert book(web_as(member), elsewhere, at(0), at(1)).status_code == 404
    content_hide(target=tool, actor=organizer, reason="Spam")
    assert web_as(member).get(detail(tool)).status_code == 404
    assert "Hidden by moderation" in html(web_as(owner).get(detail(tool)))


def test_the_tool_page_shows_the_pickup_area_but_never_the_exact_address(web_as, tool, owner, member):
    owner.profile.exact_address = "12 Hidden Lane"
    owner.profile.neighborhood = "Old Harbour"
    owner.profile.save()
    page = html(web_as(member).get(detail(tool)))
    assert "Old Harbour" in page and "12 Hidden Lane" not in page
    assert "Olive Owner" in page and "No reviews yet" in page


# --- the calendar ---------------------------------------------------------------------------
def test_the_calendar_marks_booked_and_partly_booked_days(web_as, tool, member, owner):
    tool.buffer_hours = 0
    tool.save()
    day = timezone.localdate() + timedelta(days=2)
    tz = timezone.get_current_timezone()
    midnight = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()), tz)
    services.reservation_request(
        tool=tool, borrower=member, starts_at=midnight, ends_at=midnight + timedelta(days=1, hours=10)
    )
    page = html(web_as(member).get(detail(tool)))

    def state_of(d) -> str:
        return re.search(rf'<td class="day day-(\w+)"[^>]*data-date="{d.isoformat()}"', page).group(1)

    assert state_of(day) == "busy"
    assert state_of(day + timedelta(days=1)) == "partly"
    assert state_of(day + timedelta(days=2)) == "free"
    assert "00:00 to 10:00</small>" in page


def test_the_calendar_moves_by_week_with_htmx_and_without(web_as, tool, member):
    client = web_as(member)
    partial = client.get(detail(tool), {"week": 1}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="calendar")
    page = html(partial)
    assert page.lstrip().startswith('<section id="calendar"') and "<html" not in page
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday()) + timedelta(weeks=1)
    assert f'data-date="{monday.isoformat()}"' in page and "Earlier week" in page
    full = html(client.get(detail(tool), {"week": 1}))
    assert "<html" in full and f'data-date="{monday.isoformat()}"' in full
    assert client.get(detail(tool), {"week": "soon"}).status_code == 200


# --- browse ---------------------------------------------------------------------------------
def test_browsing_finds_tools_by_a_word_of_the_title(web_as, member, owner, community):
    ToolFactory(owner=owner, community=community, title="Folding ladder")
    ToolFactory(owner=owner, community=community, title="Camping tent")
    page = html(web_as(member).get(LIST, {"q": "ladder"}))
    assert "Folding ladder" in page and "Camping tent" not in page
    assert "1 tool" in page


def test_browsing_filters_by_category_community_and_free_window(web_as, tool, member, organizer, community):
    ToolFactory(community=community, title="Hedge trimmer", category=CategoryFactory(slug="garden", name="Garden"))
    client = web_as(member)
    assert "Cordless drill" not in html(client.get(LIST, {"category": "garden"}))
    assert "Hedge trimmer" in html(client.get(LIST, {"category": "garden", "community": community.pk}))
    loan_in("requested", tool, organizer, 0, 1)
    busy = html(client.get(LIST, {"available_from": local(at(0, 5)), "available_to": local(at(0, 8))}))
    assert "Cordless drill" not in busy and "Hedge trimmer" in busy


def test_browsing_near_me_shows_the_distance(web_as, tool, member, owner):
    member.profile.approx_latitude, member.profile.approx_longitude = Decimal("52.36000"), Decimal("4.90000")
    member.profile.save()
    owner.profile.approx_latitude, owner.profile.approx_longitude = Decimal("52.37000"), Decimal("4.90000")
    owner.profile.save()
    client = web_as(member)
    assert "about 1.1 km away" in html(client.get(LIST, {"radius_km": "2"}))
    assert "No tools match your search." in html(client.get(LIST, {"radius_km": "0.5"}))


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"radius_km": "far"}, "Enter a number."),
        (
            {"available_from": "2030-01-02T10:00", "available_to": "2030-01-01T10:00"},
            "The end must be after the start.",
        ),
        ({"available_from": "2030-01-02T10:00"}, "Give both the start and the end of the window."),
        ({"category": "no-such-thing"}, "Select a valid choice."),
    ],
)
def test_bad_filters_are_form_errors_not_server_errors(web_as, tool, member, params, error):
    response = web_as(member).get(LIST, params)
    assert response.status_code == 200
    assert error in html(response)
    assert "Fix the filters above to see tools." in html(response)


def test_near_me_without_a_location_asks_for_one(web_as, tool, member):
    member.profile.approx_latitude = member.profile.approx_longitude = None
    member.profile.save()
    assert "Set your approximate location on your profile first." in html(web_as(member).get(LIST, {"radius_km": 3}))


def test_the_cards_show_the_first_photo_with_its_alt_text_or_a_placeholder(web_as, tool, owner, member, community):
    services.photo_add(tool=tool, actor=owner, upload=png_upload(), alt_text="Drill in its case")
    ToolFactory(owner=owner, community=community, title="Bare ladder")
    page = html(web_as(member).get(LIST))
    photo = tool.photos.get()
    assert f'src="{photo.thumbnail.url}" alt="Drill in its case"' in page
    assert page.count("No photo yet") == 1


def test_pagination_keeps_the_search(web_as, member, owner, community):
    ToolFactory.create_batch(30, owner=owner, community=community)
    page = html(web_as(member).get(LIST, {"q": "drill"}))
    assert 'href="?q=drill&amp;page=2"' in page
    second = html(web_as(member).get(LIST, {"q": "drill", "page": 2}))
    assert "Page 2 of 2" in second


def test_the_browse_page_query_count_is_the_same_for_1_and_50_tools(web_as, member, community):
    client = web_as(member)
    category = CategoryFactory(slug="power")

    def add(n):
        for _ in range(n):
            lender = MembershipFactory(community=community).user
            TrustScore.objects.create(user=lender, score=Decimal("4.50"), rating_count=2)
            tool = ToolFactory(owner=lender, community=community, category=category)
            services.photo_add(tool=tool, actor=lender, upload=png_upload(size=(40, 30)))

    # session, user, the viewer's profile (for "near me"), the viewer's community ids (once
    # per request), the capped count(*), one page of tools with owners, profiles, trust scores,
    # categories and communities, the page's photos and the unread-notification count; the
    # filter form's fields are cached after the first page (filter_fields.filter_fields_html).
    assert assert_queries_do_not_grow(lambda: client.get(LIST), add, large=50) == 9  # 9: neighbouring communities


def test_empty_states_of_the_browse_page(web_as, member, stranger, community):
    assert "No tools are listed in your communities yet." in html(web_as(member).get(LIST))
    assert "No tools match your search." in html(web_as(member).get(LIST, {"q": "canoe"}))
    assert "You are not in a community yet." in html(web_as(stranger).get(LIST))


def test_the_pages_need_a_login(client, tool):
    for url in (LIST, detail(tool), LOANS, REQUESTS, WAITLIST, MINE, reverse("tools:create")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_nav_links_to_tools_and_my_loans(web_as, member):
    page = html(web_as(member).get("/"))
    assert f'href="{LIST}"' in page and f'href="{LOANS}"' in page


# --- handoff privacy ---------------------------------------------------------------------
@pytest.fixture
def private_owner(owner):
    owner.profile.exact_address = "12 Hidden Lane"
    owner.profile.phone = "+31 6 5555 0101"
    owner.profile.save()
    return owner


@pytest.mark.parametrize(
    ("state", "shown"),
    [("requested", False), ("approved", True), ("picked_up", True), ("returned", False)],
)
def test_the_borrower_sees_the_owners_address_only_while_the_loan_is_approved(
    web_as, tool, private_owner, member, state, shown
):
    loan = loan_in(state, tool, member, SOON, SOON_END)  # starting within the day: the release time has come
    page = html(web_as(member).get(loan_url(loan)))
    assert ("12 Hidden Lane" in page) is shown
    assert ("+31 6 5555 0101" in page) is shown


def test_no_one_else_sees_the_address_of_an_approved_loan(web_as, tool, private_owner, member, neighbor):
    loan = loan_in("approved", tool, member)
    assert web_as(neighbor).get(loan_url(loan)).status_code == 404
    for url in (LIST, detail(tool)):
        assert "12 Hidden Lane" not in html(web_as(neighbor).get(url))


# --- loans pages ----------------------------------------------------------------------------
def test_my_loans_and_requests_show_each_side_its_buttons(web_as, tool, owner, member):
    loan_in("requested", tool, member)
    borrowing = html(web_as(member).get(LOANS))
    assert "Cancel request" in borrowing and ">Approve<" not in borrowing
    lending = html(web_as(owner).get(REQUESTS))
    assert ">Approve<" in lending and ">Decline<" in lending and "Max Member" in lending


def test_an_overdue_loan_is_marked_on_both_lists(web_as, tool, owner, member):
    ReservationFactory(
        tool=tool,
        borrower=member,
        status="picked_up",
        starts_at=timezone.now() - timedelta(days=3),
        ends_at=timezone.now() - timedelta(days=1),
    )
    for person, url in ((member, LOANS), (owner, REQUESTS)):
        page = html(web_as(person).get(url))
        assert "Overdue: due back" in page and "loan-overdue" in page
    assert "Overdue: due back" in html(web_as(owner).get(REQUESTS, {"status": "overdue"}))


def test_the_lists_filter_by_status(web_as, tool, owner, member):
    loan_in("requested", tool, member, 0, 1)
    loan_in("approved", tool, member, 2, 3)
    client = web_as(owner)
    requested = client.get(REQUESTS, {"status": "requested"})
    assert [r.status for r in requested.context["page"].object_list] == ["requested"]
    assert len(client.get(REQUESTS).context["page"].object_list) == 2
    assert "No loans with this status." in html(client.get(REQUESTS, {"status": "returned"}))
    assert len(client.get(REQUESTS, {"status": "bogus"}).context["page"].object_list) == 2


def test_empty_states_of_my_pages(web_as, member):
    client = web_as(member)
    assert "You have not borrowed anything yet." in html(client.get(LOANS))
    assert "Nobody has asked to borrow your tools yet." in html(client.get(REQUESTS))
    assert "You are not waiting for any tool." in html(client.get(WAITLIST))
    assert "You have not listed any tools yet." in html(client.get(MINE))


@pytest.mark.parametrize("url", [LOANS, REQUESTS])
def test_the_loan_lists_query_count_does_not_grow(web_as, tool, owner, member, url):
    client = web_as(owner if url == REQUESTS else member)
    days = iter(range(0, 400, 2))

    def add(n):  # written directly: more open requests than one member may have
        for _ in range(n):
            day = next(days)
            ReservationFactory(tool=tool, borrower=member, starts_at=at(day), ends_at=at(day + 1))

    assert_queries_do_not_grow(lambda: client.get(url), add)


def test_my_tools_and_waitlist_query_counts_do_not_grow(web_as, owner, member, community):
    client = web_as(owner)
    assert_queries_do_not_grow(
        lambda: client.get(MINE), lambda n: ToolFactory.create_batch(n, owner=owner, community=community)
    )

    def wait(n):
        for _ in range(n):
            other = ToolFactory(community=community)
            ReservationFactory(tool=other, borrower=member, starts_at=at(0), ends_at=at(1))
            services.waitlist_join(tool=other, member=owner, starts_at=at(0), ends_at=at(1))

    assert_queries_do_not_grow(lambda: client.get(WAITLIST), wait, large=10)


def test_after_the_return_both_parties_get_a_review_link(web_as, tool, owner, member):
    loan = loan_in("returned", tool, member)
    review = reverse("reputation:review-create", args=["tools.reservation", loan.pk])
    for person in (owner, member):
        assert f'href="{review}"' in html(web_as(person).get(loan_url(loan)))
    earlier = loan_in("approved", tool, member, 3, 4)
    assert "Review this loan" not in html(web_as(member).get(loan_url(earlier)))


def test_the_loan_page_shows_its_timeline(web_as, tool, owner, member):
    loan = loan_in("picked_up", tool, member)
    page = html(web_as(owner).get(loan_url(loan)))
    assert "Requested by Max Member" in page
    assert "Approved by Olive Owner" in page
    assert "Picked up by Max Member" in page


# --- condition reports ------------------------------------------------------------------------
def report(client, loan, **data):
    return client.post(reverse("tools:loan-condition", args=[loan.pk]), data, follow=True)


def test_the_borrower_records_the_condition_at_pickup(web_as, tool, member):
    loan = loan_in("approved", tool, member)
    page = html(web_as(member).get(loan_url(loan)))
    assert "Record the condition" in page and "Report damage" not in page
    response = report(web_as(member), loan, stage="pickup", condition="worn", note="Scratched case")
    assert "The condition is recorded." in html(response)
    saved = ConditionReport.objects.get()
    assert (saved.author, saved.stage, saved.condition, saved.note) == (member, "pickup", "worn", "Scratched case")


def test_the_owner_reports_damage_at_return_and_the_organizers_hear_of_it(web_as, tool, owner, member):
    loan = loan_in("returned", tool, member)
    page = html(web_as(owner).get(loan_url(loan)))
    assert "Report damage to the organizers" in page
    response = report(
        web_as(owner), loan, stage="return", condition="good", note="Chuck is broken", damage="on", photo=png_upload()
    )
    assert "Damage reported to the organizers" in html(response)
    saved = ConditionReport.objects.get()
    assert saved.damage and saved.condition == "damaged" and saved.photo
    assert Flag.objects.get().target_author == member


def test_a_damage_report_without_a_note_keeps_the_form_and_explains(web_as, tool, owner, member):
    loan = loan_in("returned", tool, member)
    response = report(web_as(owner), loan, stage="return", condition="worn", damage="on")
    page = html(response)
    assert "Describe the damage for the organizers." in page
    assert '<option value="worn" selected>' in page
    assert not ConditionReport.objects.exists()


def test_the_borrower_is_not_offered_the_damage_box_and_cannot_send_it(web_as, tool, member):
    loan = loan_in("returned", tool, member)
    assert "Report damage" not in html(web_as(member).get(loan_url(loan)))
    report(web_as(member), loan, stage="return", condition="good", damage="on", note="fine")
    assert not ConditionReport.objects.filter(damage=True).exists()


def test_no_condition_form_before_approval(web_as, tool, member):
    loan = loan_in("requested", tool, member)
    assert "Record the condition" not in html(web_as(member).get(loan_url(loan)))
    response = report(web_as(member), loan, stage="pickup", condition="good")
    assert "There is no condition to record for this loan now." in html(response)
    assert not ConditionReport.objects.exists()


# --- waitlist ---------------------------------------------------------------------------------
def test_a_neighbor_joins_the_waitlist_from_a_conflict_and_books_the_freed_window(web_as, tool, member, organizer):
    taken = loan_in("requested", tool, organizer, 0, 1)
    client = web_as(member)
    conflict = html(book(client, tool, at(0, 6), at(0, 12)))
    window = dict(re.findall(r'<input type="hidden" name="(starts_at|ends_at)" value="([^"]+)"', conflict))
    response = client.post(reverse("tools:waitlist-join", args=[tool.pk]), window, follow=True)
    entry = WaitlistEntry.objects.get()
    assert (entry.member, entry.status, entry.starts_at, entry.ends_at) == (member, "waiting", at(0, 6), at(0, 12))
    assert "You are on the waitlist for Cordless drill" in html(response)

    services.reservation_cancel(reservation=taken, actor=organizer)
    offered = html(client.get(WAITLIST))
    assert "It is available: held for you until" in offered and "Book it" in offered
    response = client.post(reverse("tools:waitlist-accept", args=[entry.pk]), follow=True)
    loan = Reservation.objects.get(borrower=member)
    assert (loan.starts_at, loan.ends_at, loan.status) == (at(0, 6), at(0, 12), "requested")
    entry.refresh_from_db()
    assert entry.status == "booked"
    assert response.redirect_chain[-1][0] == loan_url(loan)


def test_joining_the_waitlist_for_a_free_window_is_refused_with_a_message(web_as, tool, member):
    data = {"starts_at": at(0).isoformat(), "ends_at": at(1).isoformat()}
    response = web_as(member).post(reverse("tools:waitlist-join", args=[tool.pk]), data, follow=True)
    assert "That window is free: request it instead of waiting." in html(response)
    assert not WaitlistEntry.objects.exists()


def test_a_waiting_neighbor_leaves_the_waitlist(web_as, tool, member, organizer):
    loan_in("requested", tool, organizer, 0, 1)
    entry = services.waitlist_join(tool=tool, member=member, starts_at=at(0), ends_at=at(1))
    response = web_as(member).post(reverse("tools:waitlist-withdraw", args=[entry.pk]), follow=True)
    entry.refresh_from_db()
    assert entry.status == "withdrawn"
    assert "You left the waitlist for Cordless drill." in html(response)


def test_someone_elses_waitlist_entry_is_a_404_and_a_closed_offer_a_message(web_as, tool, member, organizer):
    loan_in("requested", tool, organizer, 0, 1)
    entry = services.waitlist_join(tool=tool, member=member, starts_at=at(0), ends_at=at(1))
    assert web_as(organizer).post(reverse("tools:waitlist-accept", args=[entry.pk])).status_code == 404
    response = web_as(member).post(reverse("tools:waitlist-accept", args=[entry.pk]), follow=True)
    assert "This offer is no longer open." in html(response)
    entry.refresh_from_db()
    assert entry.status == "waiting"


# --- my tools ----------------------------------------------------------------------------------
TOOL_FORM = {
    "title": "Orbital sander",
    "description": "With six sanding pads.",
    "condition": "good",
    "usage_rules": "Empty the dust bag.",
    "deposit_note": "",
    "fee_per_day": "",
    "max_loan_days": "5",
    "min_notice_hours": "2",
    "buffer_hours": "1",
    "auto_approve_min_score": "4.00",
    "auto_approve_min_exchanges": "3",
}


def test_a_member_lists_a_tool_and_is_sent_to_add_photos(web_as, owner, community):
    category = CategoryFactory(slug="power", name="Power tools")
    data = {**TOOL_FORM, "community": community.pk, "category": category.pk, "auto_approve": "on"}
    response = web_as(owner).post(reverse("tools:create"), data)
    tool = Tool.objects.get()
    assert response["Location"] == reverse("tools:photos", args=[tool.pk])
    assert (tool.owner, tool.community, tool.title, tool.buffer_hours) == (owner, community, "Orbital sander", 1)
    assert tool.auto_approve and tool.status == "active"


def test_a_bad_listing_is_shown_again_with_what_was_typed(web_as, owner, community):
    category = CategoryFactory(slug="power")
    data = {**TOOL_FORM, "community": community.pk, "category": category.pk, "title": "", "fee_per_day": "0"}
    data["max_loan_days"] = "120"
    response = web_as(owner).post(reverse("tools:create"), data)
    page = html(response)
    assert response.status_code == 200
    assert "This field is required." in page
    assert "Ensure this value is greater than or equal to 0.01." in page
    assert "Ensure this value is less than or equal to 90." in page
    assert "With six sanding pads.</textarea>" in page
    assert not Tool.objects.exists()


def test_the_community_choices_are_my_active_communities(web_as, owner, community, other_community):
    form = web_as(owner).get(reverse("tools:create")).context["form"]
    assert list(form.fields["community"].queryset) == [community]
    data = {**TOOL_FORM, "community": other_community.pk, "category": CategoryFactory().pk}
    response = web_as(owner).post(reverse("tools:create"), data)
    assert "Select a valid choice." in html(response)
    assert not Tool.objects.exists()


def test_without_a_community_the_form_points_to_joining_one(web_as, stranger):
    assert "You can list tools once you are a member of a community." in html(
        web_as(stranger).get(reverse("tools:create"))
    )


def test_the_owner_edits_a_tool_and_others_cannot(web_as, tool, owner, member):
    data = {**TOOL_FORM, "category": tool.category_id, "title": "Drill with hammer mode", "auto_approve": "on"}
    data["auto_approve_min_score"] = "4.50"
    assert web_as(member).get(reverse("tools:edit", args=[tool.pk])).status_code == 404
    assert web_as(member).post(reverse("tools:edit", args=[tool.pk]), data).status_code == 404
    response = web_as(owner).post(reverse("tools:edit", args=[tool.pk]), data)
    assert response["Location"] == detail(tool)
    tool.refresh_from_db()
    assert (tool.title, tool.auto_approve, tool.auto_approve_min_score) == (
        "Drill with hammer mode",
        True,
        Decimal("4.50"),
    )


def test_an_edit_with_a_bad_threshold_keeps_the_listing_as_it_was(web_as, tool, owner):
    data = {**TOOL_FORM, "category": tool.category_id, "title": "Renamed", "auto_approve_min_score": "7"}
    response = web_as(owner).post(reverse("tools:edit", args=[tool.pk]), data)
    assert "Ensure this value is less than or equal to 5.00." in html(response)
    assert "<h1>Edit Cordless drill</h1>" in html(response)
    tool.refresh_from_db()
    assert tool.title == "Cordless drill"


def test_pause_resume_and_retire_after_confirming(web_as, tool, owner, member):
    client = web_as(owner)
    client.post(reverse("tools:pause", args=[tool.pk]))
    tool.refresh_from_db()
    assert tool.status == "paused"
    assert web_as(member).get(LIST).context["page"].object_list == []
    client = web_as(owner)
    client.post(reverse("tools:resume", args=[tool.pk]))
    tool.refresh_from_db()
    assert tool.status == "active"

    confirm = client.get(reverse("tools:retire", args=[tool.pk]))
    assert "Retire Cordless drill?" in html(confirm)
    tool.refresh_from_db()
    assert tool.status == "active"
    response = client.post(reverse("tools:retire", args=[tool.pk]), follow=True)
    tool.refresh_from_db()
    assert tool.status == "retired"
    assert "Cordless drill is retired." in html(response)
    assert "List again" in html(response)


def test_only_the_owner_pauses_or_retires(web_as, tool, member):
    assert web_as(member).post(reverse("tools:pause", args=[tool.pk])).status_code == 404
    assert web_as(member).post(reverse("tools:retire", args=[tool.pk])).status_code == 404
    tool.refresh_from_db()
    assert tool.status == "active"


def test_the_retire_page_warns_of_open_loans(web_as, tool, owner, member):
    loan_in("approved", tool, member)
    assert "1 loan of this tool is still open." in html(web_as(owner).get(reverse("tools:retire", args=[tool.pk])))


def test_my_tools_lists_status_and_waiting_requests(web_as, tool, owner, member):
    loan_in("requested", tool, member)
    services.tool_update(tool=tool, actor=owner, status="paused")
    page = html(web_as(owner).get(MINE))
    assert "Cordless drill" in page and "Paused" in page and "1 request waiting for you" in page
    assert ">Resume<" in page


# --- photos --------------------------------------------------------------------------------------
def test_the_owner_uploads_a_real_png(web_as, tool, owner, member):
    url = reverse("tools:photos", args=[tool.pk])
    response = web_as(owner).post(url, {"image": png_upload(), "alt_text": "Drill on a workbench"}, follow=True)
    photo = ToolPhoto.objects.get()
    assert "The photo is added." in html(response)
    assert (photo.tool, photo.alt_text, photo.width, photo.height) == (tool, "Drill on a workbench", 640, 480)
    assert f'src="{photo.image.url}" alt="Drill on a workbench"' in html(web_as(member).get(detail(tool)))


def test_a_text_file_is_refused_with_a_message(web_as, tool, owner):
    text = SimpleUploadedFile("notes.png", b"not a picture at all", content_type="image/png")
    response = web_as(owner).post(reverse("tools:photos", args=[tool.pk]), {"image": text, "alt_text": "Notes"})
    page = html(response)
    assert response.status_code == 200
    assert "That file is not a picture we can read: use a JPEG, PNG or WebP image." in page
    assert 'value="Notes"' in page
    assert not ToolPhoto.objects.exists()


def test_only_the_owner_manages_photos(web_as, tool, member):
    url = reverse("tools:photos", args=[tool.pk])
    assert web_as(member).get(url).status_code == 404
    assert web_as(member).post(url, {"image": png_upload()}).status_code == 404
    assert not ToolPhoto.objects.exists()


def test_a_photo_is_removed_after_confirming(web_as, tool, owner, member):
    photo = services.photo_add(tool=tool, actor=owner, upload=png_upload())
    url = reverse("tools:photo-remove", args=[tool.pk, photo.pk])
    assert web_as(member).post(url).status_code == 404
    assert "Remove this photo of Cordless drill?" in html(web_as(owner).get(url))
    assert ToolPhoto.objects.exists()
    response = web_as(owner).post(url, follow=True)
    assert "The photo is removed." in html(response)
    assert not ToolPhoto.objects.exists()


def test_the_upload_form_goes_away_at_eight_photos(web_as, tool, owner):
    for _ in range(ToolPhoto.MAX_PER_TOOL):
        services.photo_add(tool=tool, actor=owner, upload=png_upload(size=(16, 12)))
    page = html(web_as(owner).get(reverse("tools:photos", args=[tool.pk])))
    assert "This tool has the most photos a tool can have (8)." in page
    assert 'type="file"' not in page
    response = web_as(owner).post(reverse("tools:photos", args=[tool.pk]), {"image": png_upload()})
    assert "A tool can have at most 8 photos." in html(response)
    assert ToolPhoto.objects.count() == 8
