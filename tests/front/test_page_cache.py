"""The guide and the blueprint pages a visitor sees come from the shared cache
(apps/front/page_cache.py): served without rendering, dropped when the live figures
change, per language, with each visitor's own CSRF token, and never to a signed-in member."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from django.test.signals import template_rendered

from apps.peers.factories import CommunityFactory, MembershipFactory
from apps.tools.factories import ToolFactory

pytestmark = pytest.mark.django_db

BLUEPRINT = "/blueprints/tools/"
TOKEN = re.compile(r'"X-CSRFToken": "([A-Za-z0-9]+)"')


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def rendered(client: Client, url: str, **headers) -> tuple[object, list[str]]:
    """The page and the templates rendered to answer it (none when it came from the cache)."""
    names: list[str] = []

    def seen(sender, template, context, **kwargs) -> None:
        names.append(template.name)

    template_rendered.connect(seen)
    try:
        response = client.get(url, **headers)
    finally:
        template_rendered.disconnect(seen)
    assert response.status_code == 200
    return response, names


def without_token(page) -> str:
    """The page's HTML with its CSRF token (htmx's header and every form's) taken out."""
    html = page.content.decode()
    return html.replace(TOKEN.search(html).group(1), "")


@pytest.mark.parametrize("url", ["/guide/", BLUEPRINT])
def test_a_second_visitor_gets_the_page_without_it_being_rendered_again(url):
    first, first_templates = rendered(Client(), url)
    second, second_templates = rendered(Client(), url)

    assert first_templates, "the first visit renders the page"
    assert second_templates == []
    assert without_token(second) == without_token(first)


def test_each_visitor_gets_a_csrf_token_of_their_own_that_their_cookie_accepts():
    rendered(Client(), BLUEPRINT)
    visitor = Client(enforce_csrf_checks=True)
    page, templates = rendered(visitor, BLUEPRINT)
    other, _ = rendered(Client(), BLUEPRINT)

    assert templates == []
    token = TOKEN.search(page.content.decode()).group(1)
    assert token != TOKEN.search(other.content.decode()).group(1)
    assert "@@p2p-csrf-token@@" not in page.content.decode()
    # The language form at the foot of the cached page posts with the visitor's own token.
    switched = visitor.post("/language/", {"language": "nl", "csrfmiddlewaretoken": token, "next": BLUEPRINT})
    assert switched.status_code == 302
    assert visitor.cookies["django_language"].value == "nl"


def test_a_new_tool_drops_the_cached_page_and_the_next_visitor_sees_the_new_figure(
    django_capture_on_commit_callbacks,
):
    community = CommunityFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ToolFactory(community=community)
    before, _ = rendered(Client(), BLUEPRINT)
    assert "1</strong> <span>tool to borrow" in before.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        ToolFactory(community=community)
    after, templates = rendered(Client(), BLUEPRINT)

    assert templates, "the figures changed: the page is rendered again"
    assert "2</strong> <span>tools to borrow" in after.content.decode()


def test_each_language_has_its_own_copy():
    english, _ = rendered(Client(), "/guide/", HTTP_ACCEPT_LANGUAGE="en")
    dutch, templates = rendered(Client(), "/guide/", HTTP_ACCEPT_LANGUAGE="nl")

    assert templates, "the Dutch page is rendered, not the English copy served"
    assert dutch["Content-Language"] == "nl" and english["Content-Language"] == "en"
    assert dutch.content != english.content


@pytest.mark.parametrize("url", ["/guide/", BLUEPRINT])
def test_a_signed_in_member_never_gets_the_visitors_copy(client, url):
    member = MembershipFactory(user__profile__display_name="Mira Member").user
    rendered(Client(), url)  # a visitor fills the cache
    client.force_login(member)

    page, templates = rendered(client, url)

    assert templates, "a member's page is rendered for them"
    assert 'action="/accounts/logout/"' in page.content.decode()
    assert 'action="/accounts/logout/"' not in rendered(Client(), url)[0].content.decode()


def test_a_visitor_with_a_message_waiting_gets_a_fresh_page_that_shows_it():
    visitor = Client()
    rendered(Client(), BLUEPRINT)
    visitor.post("/language/", {"language": "xx", "next": BLUEPRINT})  # refused: a flash message waits

    page, templates = rendered(visitor, BLUEPRINT)

    assert templates
    assert "Choose one of the languages in the list." in page.content.decode()
