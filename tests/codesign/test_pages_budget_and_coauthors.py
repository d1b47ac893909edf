"""Two forms of the co-design pages: an organizer pays from the budget on the project
board (once per form, never beyond the budget), and a proposal's author names a
co-author who may then edit it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.codesign import services
from apps.codesign.models import Challenge
from apps.ledger.chain import verify_community
from apps.ledger.services import account_set_limit
from tests.solar.conftest import balance

pytestmark = pytest.mark.django_db


@pytest.fixture
def building(challenge, organizer, neighbors) -> Challenge:
    ana, bo, _ = neighbors
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    bench = services.proposal_create(challenge=challenge, author=ana, title="Oak bench", description="Oak.",
                                     cost=Decimal("250"), submit=True)  # fmt: skip
    services.proposal_answer(proposal=bench, actor=organizer, accept=True, publish=True)
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_voting")
    services.vote_set(proposal=bench, voter=bo, dots=2)
    fund = services.fund(challenge=challenge, currency="CREDIT")
    account_set_limit(account=fund, actor=organizer, limit="-300", reason="The courtyard's budget.")
    return services.challenge_step(challenge=challenge, actor=organizer, step="close_voting")


def test_an_organizer_pays_a_neighbor_from_the_budget_once_however_often_the_form_is_sent(
    web_as, organizer, neighbors, community, building
):
    ana = neighbors[0]
    board = web_as(organizer).get(reverse("codesign:board", args=[building.pk])).content.decode()
    assert "Spend from the budget" in board and "300 credits" in board
    key = board.split('name="key" value="')[1].split('"')[0]
    form = {"recipient": ana.pk, "amount": "120.00", "memo": "Oak planks", "key": key}

    first = web_as(organizer).post(reverse("codesign:budget-spend", args=[building.pk]), form, follow=True)
    web_as(organizer).post(reverse("codesign:budget-spend", args=[building.pk]), form, follow=True)

    assert "Ana is paid 120 credits from the budget." in first.content.decode()
    building.refresh_from_db()
    assert building.spent == Decimal("120.00")
    assert balance(ana, community) == Decimal("120.00")
    assert verify_community(community=community).ok


def test_the_budget_is_never_overspent_and_the_form_says_how_much_is_left(web_as, organizer, neighbors, building):
    form = {"recipient": neighbors[1].pk, "amount": "301", "memo": "Too much", "key": "k1"}

    page = web_as(organizer).post(reverse("codesign:budget-spend", args=[building.pk]), form).content.decode()

    assert "Only 300 credits of the budget is left." in page
    building.refresh_from_db()
    assert building.spent == Decimal("0")


def test_a_member_gets_no_budget_form_and_cannot_spend(web_as, neighbors, building):
    ana = neighbors[0]
    board = web_as(ana).get(reverse("codesign:board", args=[building.pk])).content.decode()
    answer = web_as(ana).post(
        reverse("codesign:budget-spend", args=[building.pk]),
        {"recipient": ana.pk, "amount": "10", "memo": "Me", "key": "k2"},
    )

    assert "Spend from the budget" not in board
    assert answer.status_code == 404
    building.refresh_from_db()
    assert building.spent == Decimal("0")


def test_an_author_names_a_co_author_who_may_then_edit_the_design(web_as, organizer, neighbors, challenge):
    ana, bo, _ = neighbors
    challenge = services.challenge_step(challenge=challenge, actor=organizer, step="open_proposals")
    proposal = services.proposal_create(challenge=challenge, author=ana, title="Oak bench", description="Oak.")
    url = reverse("codesign:proposal", args=[proposal.pk])
    assert "Add as co-author" in web_as(ana).get(url).content.decode()

    page = web_as(ana).post(reverse("codesign:proposal-coauthor", args=[proposal.pk]), {"coauthor": bo.pk},
                            follow=True).content.decode()  # fmt: skip
    services.proposal_edit(proposal=proposal, actor=bo, title="Oak bench with a back", description="Oak.")

    assert "Bo is now a co-author and may edit it with you." in page
    proposal.refresh_from_db()
    assert proposal.title == "Oak bench with a back"
    assert "Add as co-author" not in web_as(bo).get(url).content.decode()
    assert web_as(bo).post(reverse("codesign:proposal-coauthor", args=[proposal.pk]), {"coauthor": ana.pk}
                           ).status_code == 404  # fmt: skip
