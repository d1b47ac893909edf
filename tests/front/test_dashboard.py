"""The member's dashboard (signed-in home): what needs their action in every exchange, with
a link to where it is done, what is coming up, their balances and trust, and what is new
in their communities, respecting moderation and communities; in a pinned number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.codesign.factories import ChallengeFactory, ProposalFactory
from apps.codesign.models import Challenge, Proposal
from apps.front.dashboard import dashboard_for
from apps.ledger import services as ledger
from apps.ledger.models import Currency
from apps.peers.factories import CommunityFactory, MembershipFactory
from apps.peers.models import User
from apps.reputation.models import TrustScore
from apps.skills.factories import SeatFactory, SessionFactory
from apps.skills.models import Session
from apps.solar.factories import MeterFactory, next_slot_start
from apps.solar.models import Meter
from apps.solar.services import order_place
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import Reservation
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db

EXCHANGES = ("tools", "skills", "solar", "codesign")


@dataclass
class Pending:
    """What waits for ``me`` in each exchange: the words each target page shows."""

    me: User
    neighbor: User
    marks: dict[str, str]
    review_url: str


def make_pending(*, me: User, neighbor: User, organizer: User, community, prefix: str = "") -> Pending:
    """One pending action in each exchange for ``me``, created as the exchanges hold them:
    a loan request on my tool to approve, a session a neighbor proposed to me to accept,
    my open sell order for a quarter hour starting within 45 minutes (its gate closes
    soon, but not while the test runs), a challenge in its voting phase I have not voted
    in, and a loan I returned yesterday to review."""
    now = timezone.now()
    tool = ToolFactory(owner=me, community=community, title=f"{prefix}Cordless drill")
    ReservationFactory(tool=tool, borrower=neighbor)
    session = SessionFactory(
        helper=me,
        community=community,
        title=f"{prefix}Fix a bike",
        status=Session.Status.PROPOSED,
        proposed_by=neighbor,
    )
    SeatFactory(session=session, learner=neighbor)
    meter = MeterFactory(owner=me, community=community, name=f"{prefix}Roof panels", kind=Meter.Kind.PRODUCER)
    order_place(
        member=me,
        meter=meter,
        slot_start=next_slot_start(now, ahead=2),
        side="sell",
        quantity_wh=500,
        limit_price="0.20",
    )
    challenge = ChallengeFactory(
        community=community,
        created_by=organizer,
        title=f"{prefix}A bench for the courtyard",
        phase=Challenge.Phase.VOTING,
        ideas_until=now - timedelta(days=2),
        proposals_until=now - timedelta(days=1),
        voting_until=now + timedelta(days=3),
    )
    ProposalFactory(challenge=challenge, author=neighbor, title=f"{prefix}Oak bench", status=Proposal.Status.ACCEPTED)
    borrowed = ReservationFactory(
        tool=ToolFactory(owner=neighbor, community=community, title=f"{prefix}Hedge trimmer"),
        borrower=me,
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=2),
        status=Reservation.Status.RETURNED,
        returned_at=now - timedelta(days=1),
    )
    return Pending(
        me=me,
        neighbor=neighbor,
        marks={
            "tools": f"{prefix}Cordless drill",
            "skills": f"{prefix}Fix a bike",
            "solar": f"{prefix}Roof panels",
            "codesign": f"{prefix}A bench for the courtyard",
        },
        review_url=reverse("reputation:review-create", args=["tools.reservation", borrowed.pk]),
    )


@pytest.fixture
def pending(owner, member, organizer, community) -> Pending:
    return make_pending(me=owner, neighbor=member, organizer=organizer, community=community)


def action_links(html: str) -> list[str]:
    """The buttons' targets in the "Needs your action" section."""
    section = html.split('id="actions-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<a href="([^"]+)" role="button"', section)


def test_the_dashboard_lists_a_pending_action_from_each_exchange(pending, web_as):
    board = dashboard_for(pending.me)
    kinds = {item.kind for item in board.actions}
    assert set(EXCHANGES) <= kinds, f"no action from {set(EXCHANGES) - kinds}"
    html = web_as(pending.me).get("/").content.decode()
    assert "Needs your action" in html
    for item in board.actions:
        assert item.url in html


def test_each_action_links_to_the_page_where_it_is_done(pending, web_as):
    client = web_as(pending.me)
    links = action_links(client.get("/").content.decode())
    by_kind = {kind: [i.url for i in dashboard_for(pending.me).actions if i.kind == kind] for kind in EXCHANGES}
    for kind in EXCHANGES:
        url = by_kind[kind][0]
        assert url in links
        page = client.get(url)
        assert page.status_code == 200, f"{kind}: {url} answered {page.status_code}"
        assert pending.marks[kind] in page.content.decode(), f"{kind}: {url} does not show {pending.marks[kind]!r}"


def test_a_review_to_write_is_an_action_that_opens_the_review_form(pending, web_as):
    client = web_as(pending.me)
    assert pending.review_url in action_links(client.get("/").content.decode())
    form = client.get(pending.review_url)
    assert form.status_code == 200
    assert "Max Member" in form.content.decode()
    assert 'name="rating"' in form.content.decode()


def test_a_reviewed_exchange_is_no_longer_an_action(pending, web_as):
    from apps.reputation.services import review_create

    loan = Reservation.objects.get(borrower=pending.me, status=Reservation.Status.RETURNED)
    review_create(author=pending.me, exchange=loan, rating=5, comment="Sharp and clean.")
    assert pending.review_url not in action_links(web_as(pending.me).get("/").content.decode())


def test_an_exchange_whose_review_window_closed_is_not_an_action(owner, member, community):
    now = timezone.now()
    ReservationFactory(
        tool=ToolFactory(owner=member, community=community, title="Old ladder"),
        borrower=owner,
        starts_at=now - timedelta(days=20),
        ends_at=now - timedelta(days=19),
        status=Reservation.Status.RETURNED,
        returned_at=now - timedelta(days=15),
    )
    assert [i for i in dashboard_for(owner).actions if i.verb == "Write a review"] == []


def test_both_parties_of_a_returned_loan_are_asked_for_a_review(pending):
    lender = [i for i in dashboard_for(pending.neighbor).actions if i.verb == "Write a review"]
    assert [i.url for i in lender] == [pending.review_url]
    assert "Olive Owner" in lender[0].text


def test_balances_in_both_currencies_and_the_trust_score_are_shown(owner, member, community, web_as):
    ledger.gift_send(
        sender=member, recipient=owner, community=community, currency=Currency.HOUR,
        amount="1.50", memo="Thanks", idempotency_key="dash-1",
    )  # fmt: skip
    ledger.gift_send(
        sender=owner, recipient=member, community=community, currency=Currency.CREDIT,
        amount="3", memo="Soup", idempotency_key="dash-2",
    )  # fmt: skip
    TrustScore.objects.create(user=owner, score=Decimal("4.50"), rating_count=2, tools_count=3)
    html = web_as(owner).get("/").content.decode()
    balances = html.split('id="balances-heading"', 1)[1].split("</section>", 1)[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", balances).split())
    assert "Sunnyside Commons 1.50 h -3" in text
    trust = html.split('id="trust-heading"', 1)[1].split("</section>", 1)[0]
    assert "4.5</strong> out of 5, from 2 reviews" in trust
    assert "3 exchanges completed" in trust


def test_a_member_with_no_balance_yet_sees_zero(owner, web_as):
    html = web_as(owner).get("/").content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html.split('<h2 id="balances-heading">', 1)[1]).split())
    assert text.startswith("Your balances Community Time credits Community credits Sunnyside Commons 0 h 0")


def test_the_feed_shows_new_things_of_my_communities_but_not_hidden_or_other_communities(
    owner, member, community, other_community, web_as
):
    ToolFactory(owner=member, community=community, title="Garden shears")
    ToolFactory(owner=member, community=community, title="Hidden saw", is_hidden=True)
    stranger_there = MembershipFactory(community=other_community).user
    ToolFactory(owner=stranger_there, community=other_community, title="Faraway ladder")
    ChallengeFactory(community=other_community, title="A riverside pergola")
    html = web_as(owner).get("/").content.decode()
    feed = html.split('id="feed-heading"', 1)[1]
    assert "Garden shears" in feed
    assert "Hidden saw" not in html
    assert "Faraway ladder" not in html
    assert "A riverside pergola" not in html


def test_another_communitys_pending_things_are_not_mine(owner, member, organizer, community, other_community, web_as):
    there = MembershipFactory(community=other_community).user
    other_org = MembershipFactory(community=other_community, role="organizer").user
    make_pending(me=there, neighbor=MembershipFactory(community=other_community).user, organizer=other_org,
                 community=other_community, prefix="Far ")  # fmt: skip
    html = web_as(owner).get("/").content.decode()
    assert "Far " not in html
    assert "Nothing waits for you" in html


def test_only_the_exchanges_my_communities_use_are_asked(member, web_as):
    quiet = CommunityFactory(slug="quiet", name="Quiet Lane", exchanges=["tools"])
    me = MembershipFactory(community=quiet).user
    assert [bp.key for bp in dashboard_for(me).blueprints] == ["tools"]
    html = web_as(me).get("/").content.decode()
    assert "Community Tool Sharing" in html and "Micro Solar Exchange" not in html


def test_a_member_of_no_community_is_led_to_join_one(stranger, web_as):
    html = web_as(stranger).get("/").content.decode()
    assert "Join a community to start" in html
    assert f'href="{reverse("peers:list")}"' in html
    assert "Needs your action" not in html


def test_times_are_local_and_humanized(pending, web_as):
    html = web_as(pending.me).get("/").content.decode()
    challenge = Challenge.objects.get(title="A bench for the courtyard")
    local = timezone.localtime(challenge.voting_until)
    assert f"{local:%H:%M}" in html
    assert re.search(r"in [23]\sdays", html)  # Django joins a number and its unit with a no-break space


def test_the_search_box_sends_to_unified_search(owner, web_as):
    html = web_as(owner).get("/").content.decode()
    assert f'action="{reverse("front:search")}"' in html


def test_the_dashboard_shows_the_suggestions_made_for_me(owner, member, community, web_as):
    from apps.front.models import Suggestion
    from apps.skills.factories import RequestFactory

    wanted = RequestFactory(member=owner, community=community, title="Fix a leaking tap")
    wrench = ToolFactory(owner=member, community=community, title="Pipe wrench")
    Suggestion.objects.get_or_create(
        user=owner,
        pair=Suggestion.Pair.SKILL_REQUEST_TOOLS,
        source_key=f"skills.request:{wanted.pk}",
        target_key=f"tools.tool:{wrench.pk}",
        defaults={
            "title": "Pipe wrench",
            "reason": "For “Fix a leaking tap”: Max Member lends a pipe wrench.",
            "url": wrench.get_absolute_url(),
        },
    )
    html = web_as(owner).get("/").content.decode()
    assert "Suggested for you" in html
    assert "For “Fix a leaking tap”: Max Member lends a pipe wrench." in html


def test_the_dashboard_keeps_a_pinned_number_of_queries(owner, member, organizer, community, web_as):
    client = web_as(owner)
    numbers = count()
    now = timezone.now()
    meter = MeterFactory(owner=owner, community=community, name="Roof", kind=Meter.Kind.PRODUCER)

    def add_rows(n: int) -> None:
        for _ in range(n):
            i = next(numbers)
            ReservationFactory(tool=ToolFactory(owner=owner, community=community), borrower=member)
            session = SessionFactory(
                helper=owner, community=community, status=Session.Status.PROPOSED, proposed_by=member
            )
            SeatFactory(session=session, learner=member)
            order_place(member=owner, meter=meter, slot_start=next_slot_start(now, ahead=1 + i), side="sell",
                        quantity_wh=100, limit_price="0.20")  # fmt: skip
            ChallengeFactory(
                community=community, created_by=organizer, phase=Challenge.Phase.VOTING,
                ideas_until=now - timedelta(days=2), proposals_until=now - timedelta(days=1),
                voting_until=now + timedelta(days=3),
            )  # fmt: skip
            ReservationFactory(
                tool=ToolFactory(owner=member, community=community), borrower=owner,
                starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=2),
                status=Reservation.Status.RETURNED, returned_at=now - timedelta(days=1),
            )  # fmt: skip

    def request():
        response = client.get("/")
        assert response.status_code == 200

    request()  # the menu and the content types are cached after the first page
    queries = assert_queries_do_not_grow(request, add_rows, small=1, large=12)
    # session, user, notification bell, memberships, exchanges in use, each exchange's loaders
    # (actions, upcoming, activity), reviews to write (one per exchange type, loans with other communities
    # included), balances, trust (4), suggestions
    assert queries == 40, queries
