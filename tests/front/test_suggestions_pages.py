"""Suggestions where they help: on the skill request's page (its author only), the
waitlist, the project board and the dashboard tag; the "Dismiss" button; the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory as HttpRequests
from django.urls import reverse
from django.utils import timezone

from apps.codesign.factories import ChallengeFactory, ProjectFactory, ProposalFactory, TaskFactory, VolunteerFactory
from apps.codesign.models import Challenge, Proposal
from apps.front import selectors, suggestions
from apps.front.models import Suggestion
from apps.peers.factories import MembershipFactory, UserFactory
from apps.skills.factories import OfferFactory, RequestFactory, SkillFactory
from apps.tools import services as tool_services
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import Reservation, Tool
from tests.querycount import assert_queries_do_not_grow

WRENCH_REASON = "it may be what your request “Fix a leaking tap” needs."


@pytest.fixture
def plumbing(db):
    return SkillFactory(slug="plumbing", name="Plumbing")


@pytest.fixture
def leaking_tap(member, community, plumbing):
    return RequestFactory(member=member, community=community, title="Fix a leaking tap", skills=[plumbing])


@pytest.fixture
def wrench(owner, community):
    return ToolFactory(owner=owner, community=community, title="Pipe wrench", description="For a leaking tap.")


@pytest.fixture
def suggested(leaking_tap, wrench, member) -> Suggestion:
    suggestions.suggest_for_skill_request(leaking_tap)
    return Suggestion.objects.get(user=member)


def request_page(request) -> str:
    return reverse("skills:request", args=[request.pk])


def dismiss_url(suggestion) -> str:
    return reverse("front:suggestion-dismiss", args=[suggestion.pk])


# --- the skill request's page ---------------------------------------------------------------
def test_the_request_page_shows_its_author_the_suggestion_with_its_reason(web_as, member, suggested, leaking_tap):
    page = web_as(member).get(request_page(leaking_tap)).content.decode()

    assert "Suggestions for you" in page
    assert "Borrow the Pipe wrench" in page
    assert WRENCH_REASON in page
    assert f'action="{dismiss_url(suggested)}"' in page
    assert f'name="next" value="{request_page(leaking_tap)}"' in page


def test_the_request_page_shows_other_neighbors_no_suggestion(web_as, owner, suggested, leaking_tap):
    response = web_as(owner).get(request_page(leaking_tap))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Fix a leaking tap" in page
    assert "Suggestions for you" not in page and WRENCH_REASON not in page


def test_a_tool_hidden_since_drops_out_of_the_page(web_as, member, suggested, leaking_tap, wrench):
    Tool.objects.filter(pk=wrench.pk).update(is_hidden=True)

    page = web_as(member).get(request_page(leaking_tap)).content.decode()

    assert WRENCH_REASON not in page and "Suggestions for you" not in page
    assert selectors.suggestions_for(member) == []


def test_a_closed_request_shows_no_suggestion(member, suggested, leaking_tap):
    leaking_tap.status = leaking_tap.Status.CLOSED
    leaking_tap.save()

    assert selectors.suggestions_about(member, leaking_tap) == []


# --- dismissing -----------------------------------------------------------------------------
def test_dismissing_sets_it_aside_and_goes_back_to_the_page(web_as, member, suggested, leaking_tap):
    client = web_as(member)

    response = client.post(dismiss_url(suggested), {"next": request_page(leaking_tap)})

    assert response.status_code == 302 and response["Location"] == request_page(leaking_tap)
    suggested.refresh_from_db()
    assert suggested.dismissed_at is not None
    page = client.get(request_page(leaking_tap)).content.decode()
    assert WRENCH_REASON not in page
    assert "Dismissed. We will not suggest it again." in page


def test_dismissing_with_a_next_elsewhere_goes_to_the_dashboard(web_as, member, suggested):
    response = web_as(member).post(dismiss_url(suggested), {"next": "https://evil.example.com/"})

    assert response.status_code == 302 and response["Location"] == reverse("front:home")


def test_dismissing_with_htmx_answers_empty_so_the_suggestion_disappears_in_place(web_as, member, suggested):
    response = web_as(member).post(dismiss_url(suggested), HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and response.content == b""
    suggested.refresh_from_db()
    assert suggested.dismissed_at is not None


def test_another_member_cannot_dismiss_it(web_as, owner, suggested):
    response = web_as(owner).post(dismiss_url(suggested), {"next": "/"})

    assert response.status_code == 404
    suggested.refresh_from_db()
    assert suggested.dismissed_at is None


def test_dismissing_needs_a_post_and_a_signed_in_member(client, web_as, member, suggested):
    response = client.post(dismiss_url(suggested))
    assert response.status_code == 302 and "login" in response["Location"]

    assert web_as(member).get(dismiss_url(suggested)).status_code == 405
    suggested.refresh_from_db()
    assert suggested.dismissed_at is None


# --- the waitlist and the project board -----------------------------------------------------
def test_the_waitlist_shows_the_waiting_member_a_neighbor_with_the_skill(web_as, member, owner, community):
    cutter = ToolFactory(owner=owner, community=community, title="Tile cutter")
    start = timezone.now() + timedelta(days=3)
    ReservationFactory(
        tool=cutter, starts_at=start, ends_at=start + timedelta(days=1), status=Reservation.Status.APPROVED
    )
    entry = tool_services.waitlist_join(tool=cutter, member=member, starts_at=start, ends_at=start + timedelta(days=1))
    ana = MembershipFactory(community=community, user__profile__display_name="Ana Tiler").user
    OfferFactory(member=ana, community=community, title="Tiling help", description="I cut tiles.")
    suggestions.suggest_for_unmet_tool(entry)

    page = web_as(member).get(reverse("tools:waitlist")).content.decode()

    assert "Ask Ana Tiler for help" in page
    assert "Nobody can lend you a tile cutter" in page


def test_the_project_board_shows_a_volunteer_the_link_to_book_the_tool(web_as, member, owner, organizer, community):
    challenge = ChallengeFactory(community=community, created_by=organizer, phase=Challenge.Phase.BUILDING)
    project = ProjectFactory(
        proposal=ProposalFactory(challenge=challenge, status=Proposal.Status.ACCEPTED), challenge=challenge
    )
    sander = ToolFactory(owner=owner, community=community, title="Random orbital sander")
    task = TaskFactory(project=project, title="Sand the planks", tool=sander)
    VolunteerFactory(task=task, member=member)
    suggestions.suggest_for_task_tool(task)

    page = web_as(member).get(reverse("codesign:board", args=[challenge.pk])).content.decode()
    assert "Book the random orbital sander for “Sand the planks”" in page
    assert f'href="/tools/{sander.pk}/#booking-heading"' in page

    other = web_as(owner).get(reverse("codesign:board", args=[challenge.pk])).content.decode()
    assert "Book the random orbital sander" not in other


# --- the dashboard's tag --------------------------------------------------------------------
def render_for(user, source: str = "{% suggestions_for_user %}") -> str:
    request = HttpRequests().get("/")
    request.user = user
    return Template("{% load suggestions %}" + source).render(Context({"request": request}))


def test_the_dashboard_tag_lists_the_latest_and_renders_nothing_without_any(member, owner, suggested):
    shown = render_for(member)
    assert "Suggested for you" in shown and WRENCH_REASON in shown

    assert render_for(owner).strip() == ""
    assert render_for(UserFactory()).strip() == ""


def test_the_tag_costs_the_same_queries_however_many_suggestions(member, owner, community, leaking_tap, monkeypatch):
    monkeypatch.setattr(suggestions, "LIMIT", 100)

    def add(n: int) -> None:
        for i in range(n):
            ToolFactory(owner=owner, community=community, title=f"Pipe wrench {i}", description="leaking tap")
            OfferFactory(
                member=owner, community=community, title=f"Plumbing {i}", skills=list(leaking_tap.skills.all())
            )
        suggestions.suggest_for_skill_request(leaking_tap)

    count = assert_queries_do_not_grow(lambda: render_for(member), add, small=1, large=6)
    # The rows; the tools still visible; the offers still open; the requests still open.
    assert count == 4


# --- the admin ------------------------------------------------------------------------------
def test_superusers_read_suggestions_in_the_admin_and_organizers_do_not_see_them(web_as, organizer, suggested):
    changelist = reverse("admin:front_suggestion_changelist")
    boss = UserFactory(is_staff=True, is_superuser=True)
    page = web_as(boss).get(changelist)
    assert page.status_code == 200 and "Borrow the Pipe wrench" in page.content.decode()
    assert web_as(boss).get(reverse("admin:front_suggestion_add")).status_code == 403

    assert web_as(organizer).get(changelist).status_code in (302, 403)


# --- in a real browser, on a phone ------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_suggestion_fits_passes_axe_and_dismisses_in_place(open_as, live_server, member, owner):
    from playwright.sync_api import expect

    from tests.test_phone_layout import axe_problems, overflow

    request = RequestFactory(
        member=member, community=member.memberships.get().community, title="Fix a leaking tap",
        skills=[SkillFactory(slug="plumbing", name="Plumbing")],
    )  # fmt: skip
    ToolFactory(owner=owner, community=request.community, title="Pipe wrench", description="For a leaking tap.")
    suggestions.suggest_for_skill_request(request)
    shown = Suggestion.objects.get(user=member)

    page = open_as(member)
    page.goto(request_page(request))
    item = page.locator(f"#suggestion-{shown.pk}")
    expect(item).to_contain_text(WRENCH_REASON)
    assert overflow(page) <= 0
    assert axe_problems(page) == []

    item.get_by_role("button", name="Dismiss").click()
    expect(item).to_have_count(0)
    shown.refresh_from_db()
    assert shown.dismissed_at is not None
