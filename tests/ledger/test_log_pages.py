"""The pages of the provable ledger: a line's proof page ("proven in checkpoint N"), the links
that lead to it from a member's history and the community ledger, and the ledger's key on the
community page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.ledger import log
from apps.ledger.models import Chain
from tests.ledger.test_log_api import cosign, pay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_auto_checkpoints(settings):
    settings.LEDGER_CHECKPOINT_EVERY = 0


def proof_page(community, seq: int) -> str:
    return reverse("ledger:entry-proof", args=[community.slug, seq])


def test_a_line_in_a_checkpoint_says_so_in_plain_words(web_as, member, owner, community, other_community):
    pay(community, owner, member, 2)
    checkpoint = log.publish_checkpoint(community=community)
    cosign(checkpoint, other_community)
    pay(community, owner, member, 1, start=2)  # after the checkpoint: not in it
    response = web_as(member).get(proof_page(community, 3))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line 3 of the ledger" in html
    assert "This line is proven in checkpoint 1 of Sunnyside Commons's ledger, signed on" in html
    # The witness is named as the neighbour community it is, not by its key's name.
    assert "Co-signed by Riverside Neighbors" in html
    assert "Max Member" in html and "-0.50 hours" in html  # line 3: Max paid Olive back
    chain = Chain.objects.get(community=community)
    assert chain.log_vkey in html and chain.origin in html
    api = reverse("ledger-log-inclusion", kwargs={"community_pk": community.pk})
    download = re.search(r'href="([^"]+)" download="proof.json"', html).group(1).replace("&amp;", "&")
    assert download == f"{api}?seq=3&size=4"
    assert f"python3 scripts/verify_log.py inclusion proof.json --key '{chain.log_vkey}'" in html
    # The download is the proof itself.
    proof = web_as(member).get(download).json()
    assert (proof["seq"], proof["tree_size"]) == (3, 4)
    # The browser check's script is loaded from a file (CSP forbids inline scripts).
    assert "ledger/verify-proof" in html and "<script>" not in html


def test_a_line_not_yet_in_a_checkpoint_waits_for_the_next(web_as, member, owner, community):
    pay(community, owner, member, 1)
    html = web_as(member).get(proof_page(community, 2)).content.decode()
    assert "This line will be in the next checkpoint" in html
    assert 'download="proof.json"' not in html and "verify-proof" not in html
    assert log.log_identity(community)[1] in html  # the key it will be signed with


def test_a_non_member_is_sent_to_the_community_page(web_as, stranger, owner, member, community):
    pay(community, owner, member, 1)
    log.publish_checkpoint(community=community)
    response = web_as(stranger).get(proof_page(community, 1))
    assert response.status_code == 302 and response["Location"] == community.get_absolute_url()


def test_a_visitor_signs_in_first(client, owner, member, community):
    pay(community, owner, member, 1)
    response = client.get(proof_page(community, 1))
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_unknown_line_or_community_is_a_404(web_as, member, owner, community):
    pay(community, owner, member, 1)
    assert web_as(member).get(proof_page(community, 3)).status_code == 404
    assert web_as(member).get("/ledger/c/nowhere/entry/1/").status_code == 404
    assert web_as(member).get("/ledger/c/sunnyside/entry/99999999999999999999/").status_code == 404


def test_my_history_and_the_community_ledger_link_to_each_lines_proof(web_as, member, owner, community):
    pay(community, owner, member, 1)
    client = web_as(member)
    mine = client.get(reverse("ledger:mine")).content.decode()
    assert f'href="{proof_page(community, 2)}"' in mine  # the member's own line: the receiving one
    ledger = client.get(reverse("ledger:community", args=[community.slug])).content.decode()
    assert f'href="{proof_page(community, 1)}"' in ledger and f'href="{proof_page(community, 2)}"' in ledger


def test_the_community_page_shows_the_ledgers_key_once_signed(client, web_as, member, owner, community):
    url = community.get_absolute_url()
    assert "This community's ledger is signed" not in client.get(url).content.decode()
    pay(community, owner, member, 1)
    log.publish_checkpoint(community=community)
    chain = Chain.objects.get(community=community)
    for html in (client.get(url).content.decode(), web_as(member).get(url).content.decode()):  # visitor, member
        assert "This community's ledger is signed" in html
        assert chain.log_vkey in html and chain.origin in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_browser_check_recomputes_the_signed_root_and_catches_a_changed_proof(open_as, owner, member, community):
    """static/ledger/verify-proof.js in headless Chromium at 360 px: the proof of a line matches
    the signed root; the same page fed a proof with one hash changed says it does not."""
    import base64
    import json

    from playwright.sync_api import expect

    from tests.test_phone_layout import axe_problems

    pay(community, owner, member, 3)
    log.publish_checkpoint(community=community)
    page = open_as(member)
    page.goto(proof_page(community, 4))
    page.get_by_text("Check it yourself").click()  # open the details: the key and the command fit the phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert not axe_problems(page)  # no serious or critical WCAG 2.2 A/AA finding
    button = page.get_by_role("button", name="Check it in this browser")
    button.click()
    status = page.locator(".proof-check [role=status]")
    expect(status).to_have_text("It matches: this line is in the signed checkpoint.")

    def tampered(route):
        doc = json.loads(route.fetch().text())
        first = bytearray(base64.b64decode(doc["proof"][0]))
        first[0] ^= 1
        doc["proof"][0] = base64.b64encode(bytes(first)).decode()
        route.fulfill(status=200, content_type="application/json", body=json.dumps(doc))

    page.route("**/inclusion/**", tampered)
    button.click()
    expect(status).to_contain_text("It does not match")

    # The community page's signed-ledger details fit the phone too.
    page.goto(community.get_absolute_url())
    page.get_by_text("This community's ledger is signed").click()
    expect(page.get_by_text(Chain.objects.get(community=community).log_vkey)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
