"""The front door in Dutch (issue 16): the home page, the guide, a blueprint's page and the
dashboard read in Dutch for a browser that asks for it, and so do a refusal and an API
error; English stays English."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from apps.ledger import services as ledger
from apps.ledger.models import Currency

pytestmark = pytest.mark.django_db

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


@pytest.fixture(autouse=True)
def back_to_english():
    """A Dutch request leaves Dutch active in the thread: the tests after these read English."""
    yield
    translation.deactivate()


def words(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_home_page_reads_in_dutch(client, community):
    page = words(client.get(reverse("front:home"), **NL))
    assert "Deel met je buren" in page
    assert "Vier manieren om te delen, klaar voor gebruik" in page
    assert "Buurten om lid van te worden" in page
    assert "Four ways to share" not in page and "Communities to join" not in page
    assert 'lang="nl"' in client.get(reverse("front:home"), **NL).content.decode()


def test_the_home_page_stays_english_for_an_english_browser(client, community):
    page = words(client.get(reverse("front:home"), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Four ways to share, ready to use" in page
    assert "Vier manieren" not in page


def test_the_guide_and_a_blueprint_page_read_in_dutch(client):
    guide = words(client.get(reverse("front:guide"), **NL))
    assert "Een gids over peer-to-peerprojecten" in guide
    assert "Waarom een hashketen en geen blockchain?" in guide
    assert "A guide to peer-to-peer projects" not in guide
    page = words(client.get(reverse("front:blueprint", args=["tools"]), **NL))
    assert "Zo werkt het hier" in page
    assert "De regels die het eerlijk houden" in page
    assert "How it works here" not in page


def test_the_dashboard_reads_in_dutch_with_dutch_numbers(owner, member, community, web_as):
    ledger.gift_send(
        sender=member, recipient=owner, community=community, currency=Currency.HOUR,
        amount=Decimal("1.50"), memo="Thanks", idempotency_key="dutch-1",
    )  # fmt: skip
    page = words(web_as(owner).get(reverse("front:home"), **NL))
    assert "Hallo, Olive Owner" in page
    assert "Je saldo's Buurt Tijdtegoed Buurtcredits Sunnyside Commons 1,50 u" in page
    assert "Your balances" not in page


def test_a_refusal_on_a_blueprint_page_reads_in_dutch(member, web_as):
    response = web_as(member).post(
        reverse("front:blueprint-use", args=["tools"]), {"community": "999999", "rules": ""}, follow=True, **NL
    )
    page = words(response)
    assert "Kies een van de buurten die je organiseert." in page
    assert "Choose one of the communities you organize." not in page


def test_a_search_error_from_the_api_reads_in_dutch(owner, api_as):
    response = api_as(owner).get("/api/v1/search/", {"q": "   "}, **NL)
    assert response.status_code == 400
    assert response.json()["q"] == ["Typ minstens één woord om naar te zoeken."]


def test_the_sign_in_page_and_the_site_menu_read_in_dutch(client):
    page = words(client.get(reverse("account_login"), **NL))
    assert "Nieuw hier? Meld je eerst aan : het kost maar een minuut." in page
    assert "Naar de inhoud" in page and "Taal" in page
    assert "New here?" not in page and "Skip to content" not in page


def test_a_suggestion_is_written_in_the_language_of_the_member_it_is_for(owner, member, community):
    from apps.front import suggestions
    from apps.front.models import Suggestion
    from apps.skills.factories import RequestFactory, SkillFactory
    from apps.tools.factories import CategoryFactory, ToolFactory

    member.profile.language = "nl"
    member.profile.save(update_fields=["language"])
    plumbing = SkillFactory(slug="plumbing", name="Plumbing")
    ToolFactory(
        owner=owner, community=community, category=CategoryFactory(slug="hand-tools", name="Hand tools"),
        title="Pipe wrench", description="Adjustable; for a leaking tap or a stuck radiator nut.",
    )  # fmt: skip
    request = RequestFactory(member=member, community=community, title="Fix a leaking tap", skills=[plumbing])
    suggestions.suggest_for_skill_request(request)
    [found] = Suggestion.objects.filter(user=member, pair=Suggestion.Pair.SKILL_REQUEST_TOOLS)
    assert found.title == "Pipe wrench lenen"
    assert found.reason == (
        "Olive Owner leent een pipe wrench uit in Sunnyside Commons: "
        "misschien is dat wat je vraag “Fix a leaking tap” nodig heeft."
    )
