"""A member's profile: their trust score, their record in every exchange their communities
use (each blueprint's history, under its title), and the reviews revealed about them;
seen by fellow members only, in a pinned number of queries."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.codesign.factories import ChallengeFactory, ProposalFactory
from apps.codesign.models import Challenge
from apps.peers.blueprints import all_blueprints
from apps.reputation.factories import ReviewFactory, TrustScoreFactory
from apps.skills.factories import OfferFactory
from apps.tools.factories import ReservationFactory, ToolFactory
from apps.tools.models import Reservation
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def lend(owner, borrower, community, title: str = "Cordless drill") -> Reservation:
    """A loan of ``owner``'s tool to ``borrower``, returned yesterday."""
    now = timezone.now()
    return ReservationFactory(
        tool=ToolFactory(owner=owner, community=community, title=title),
        borrower=borrower,
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=2),
        status=Reservation.Status.RETURNED,
        returned_at=now - timedelta(days=1),
    )


@pytest.fixture
def record(owner, member, community):
    """Max lent Olive a drill (she reviewed him, revealed; a second review is still
    hidden), offers a skill and proposed a design."""
    loan = lend(member, owner, community)
    ReviewFactory(exchange=loan, author=owner, subject=member, rating=5, comment="Lovely drill, thanks!")
    ReviewFactory(exchange=lend(member, owner, community, "Sander"), author=owner, comment="Secret", revealed_at=None)
    OfferFactory(member=member, community=community, title="Bike repairs")
    ProposalFactory(
        challenge=ChallengeFactory(community=community, phase=Challenge.Phase.PROPOSALS),
        author=member,
        title="Oak bench",
    )
    TrustScoreFactory(user=member, score="4.60", rating_count=3)
    return loan


def text_of(page: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_fellow_member_sees_the_history_in_every_exchange_under_its_title(owner, member, record, web_as):
    page = web_as(owner).get(reverse("peers:profile", args=[member.pk])).content.decode()
    history = text_of(page.split('id="history-heading"', 1)[1].split("</section>", 1)[0])
    for bp in all_blueprints():
        rows = bp.history(subject=member, viewer=owner)
        assert rows, f"{bp.key} gives no history"
        expected = " ".join([str(bp.title), *(f"{row.label} {row.value}" for row in rows)])
        assert expected in history, f"{bp.title}: {expected!r} not in {history!r}"
    assert "Challenges contributed to 1" in history


def test_the_trust_score_and_revealed_reviews_are_shown_but_not_hidden_ones(owner, member, record, web_as):
    page = text_of(web_as(owner).get(reverse("peers:profile", args=[member.pk])).content.decode())
    assert "4.6 out of 5 from 3 reviews" in page
    assert "Lovely drill, thanks!" in page
    assert "Secret" not in page


def test_a_stranger_gets_not_found(member, stranger, record, web_as):
    assert web_as(stranger).get(reverse("peers:profile", args=[member.pk])).status_code == 404


def test_an_anonymous_visitor_gets_not_found(member, record, client):
    assert client.get(reverse("peers:profile", args=[member.pk])).status_code == 404


def test_a_member_of_another_community_gets_not_found(member, other_community, record, web_as):
    from apps.peers.factories import MembershipFactory

    there = MembershipFactory(community=other_community).user
    assert web_as(there).get(reverse("peers:profile", args=[member.pk])).status_code == 404


def test_an_exchange_the_communities_do_not_use_is_not_in_the_history(web_as):
    from apps.peers.factories import CommunityFactory, MembershipFactory

    quiet = CommunityFactory(slug="quiet", name="Quiet Lane", exchanges=["tools"])
    me, neighbor = MembershipFactory(community=quiet).user, MembershipFactory(community=quiet).user
    page = web_as(me).get(reverse("peers:profile", args=[neighbor.pk])).content.decode()
    assert "Community Tool Sharing" in page
    assert "Micro Solar Exchange" not in page and "Co-Design Mini Projects" not in page


def test_the_profile_keeps_a_pinned_number_of_queries(owner, member, community, web_as):
    client = web_as(owner)
    numbers = count()

    def add_rows(n: int) -> None:
        for _ in range(n):
            i = next(numbers)
            loan = lend(member, owner, community, f"Tool {i}")
            ReviewFactory(exchange=loan, author=owner, subject=member, comment=f"Thanks {i}")
            OfferFactory(member=member, community=community, title=f"Help {i}")
            ProposalFactory(
                challenge=ChallengeFactory(community=community, phase=Challenge.Phase.PROPOSALS), author=member
            )

    def request():
        assert client.get(reverse("peers:profile", args=[member.pk])).status_code == 200

    request()
    queries = assert_queries_do_not_grow(request, add_rows, small=1, large=12)
    # session, user, bell, visibility (2), memberships, exchanges in use, each exchange's history, reviews (2)
    assert queries == 17, queries
