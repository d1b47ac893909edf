"""The neighbouring-communities pages on a phone (360 px wide): nothing wider than the
screen, and axe-core finds no serious or critical problem (as tests/test_phone_layout.py
checks the rest of the site)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.ledger.models import Account, ClearingCheck
from tests.federation.test_pages import exchange, follow, listing, make_federated, remote_group
from tests.test_phone_layout import PHONE, axe_problems, overflow, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def visit(browser, live_server, user, urls: list[str]) -> None:
    context = signed_in(browser, live_server, user, PHONE)
    page = context.new_page()
    layout, problems = [], []
    try:
        for url in urls:
            response = page.goto(url)
            assert response is not None and response.ok, f"{url} answered {response and response.status}"
            if (extra := overflow(page)) > 0:
                layout.append(f"{url}: {extra} px wider than the {PHONE['width']} px screen")
            problems += axe_problems(page)
    finally:
        context.close()
    assert layout == [], "\n".join(layout)
    assert problems == [], "axe-core found serious or critical problems:\n" + "\n".join(problems)


def test_the_organizers_page_and_its_confirmations_fit_a_phone(browser, live_server, community, organizer):
    local, harbour = make_federated(community)
    garden = remote_group("Garden Row with a rather long name for a small screen", "garden", "garden.example")
    follow(local, garden, direction="in", state="pending")
    Account.objects.create(
        community=community, currency="CREDIT", owner=None, peer=harbour.uri, peer_name=harbour.name, limit=-20
    )
    ClearingCheck.objects.create(
        community=community, peer=harbour.uri, currency="CREDIT", ok=False, our_balance=-4, their_balance=3,
        detail={"problems": [{"code": "balance", "ours": "-4", "theirs": "3"}]},
    )  # fmt: skip
    out = local.follows.get(remote=harbour)
    visit(
        browser,
        live_server,
        organizer,
        [
            reverse("federation:community", args=[community.slug]),
            reverse("federation:off", args=[community.slug]),
            reverse("federation:follow-end", args=[community.slug, out.pk]),
        ],
    )


def test_a_members_pages_fit_a_phone(browser, live_server, community, member):
    local, harbour = make_federated(community)
    tool = listing(harbour, name="Extending aluminium ladder, seven metres")
    listing(harbour, kind="skill_offer", name="Bike repair")
    mine = exchange(local, member, tool, status="offered")
    exchange(local, member, listing(harbour, name="Drill"), status="accepted")
    visit(
        browser,
        live_server,
        member,
        [
            reverse("federation:me"),
            reverse("federation:listings"),
            reverse("federation:listing", args=[tool.pk]),
            reverse("federation:exchanges"),
            reverse("federation:exchange-cancel", args=[mine.pk]),
            reverse("tools:list"),
            reverse("skills:directory"),
            reverse("front:search") + "?q=ladder",
        ],
    )
