"""The front door for visitors: the home page with the four blueprint cards and their live
figures, the guide, a page per blueprint with "Use this blueprint" (organizers start and
stop an exchange for their community; nobody else can), and the community pages and menu
showing only the exchanges a community uses."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from apps.front.figures import figures
from apps.peers.blueprints import blueprint
from apps.peers.factories import CommunityFactory, MembershipFactory, OrganizerMembershipFactory, UserFactory
from apps.peers.models import CommunityExchange
from apps.tools.factories import ToolFactory
from tests.querycount import assert_queries_do_not_grow, count_queries

pytestmark = pytest.mark.django_db

# The four blueprints as the project brief specifies them, word for word.
CARDS = {
    "tools": (
        "Collaboration",
        "Community Tool Sharing",
        "An organized system for sharing home tools and resources between neighbors.",
        ("DIY", "Shared"),
    ),
    "solar": (
        "Sustainability",
        "Micro Solar Exchange",
        "A simple peer model for sharing extra solar power locally.",
        ("Energy", "Green"),
    ),
    "skills": (
        "Learning",
        "Skill Swap Network",
        "A community-driven way to exchange home, garden, and repair skills.",
        ("Education", "P2P"),
    ),
    "codesign": (
        "Design",
        "Co-Design Mini Projects",
        "Small design challenges people can join to improve a shared space.",
        ("Home", "Creative"),
    ),
}
# The home page for a visitor once the figures are cached: the communities to join, with
# their member counts (one query, whatever the number of communities, tools or trades).
HOME_QUERIES = 1
GUIDE_SECTIONS = ["what", "principles", "technologies", "applications", "benefits", "challenges", "future"]


def text(html: str) -> str:
    """The page's words, tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", str(html)))).strip()


def cards(html: str) -> dict[str, str]:
    """Each blueprint card's HTML on the home page, by the key in its class."""
    found = {}
    for chunk in html.split('<article class="blueprint-card bp-')[1:]:
        key = chunk.split('"', 1)[0]
        found[key] = chunk.split("</article>", 1)[0]
    return found


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def solar_page(client) -> str:
    return client.get(reverse("front:blueprint", args=["solar"])).content.decode()


def test_the_home_page_shows_the_four_blueprint_cards_in_their_words_with_live_figures(client):
    ToolFactory()
    shown = cards(home(client))
    assert list(shown) == ["tools", "solar", "skills", "codesign"]
    live = figures()
    for key, (category, title, description, tags) in CARDS.items():
        words = text(shown[key])
        assert f'<p class="blueprint-category">{category}</p>' in shown[key]
        assert f">{title}</h3>" in shown[key]
        assert description in words
        assert [unescape(tag) for tag in re.findall(r"<li>([^<]+)</li>", shown[key])] == list(tags)
        assert f"{live[key].value} {live[key].label}" in words
    assert "1 tool to borrow" in text(shown["tools"])


def test_each_card_leads_to_its_blueprint_page_and_the_home_page_to_the_guide(client):
    html = home(client)
    for key, chunk in cards(html).items():
        url = reverse("front:blueprint", args=[key])
        assert re.search(rf'<a href="{url}">Explore the blueprint<span class="visually-hidden">', chunk)
        assert client.get(url).status_code == 200
    assert f'<a href="{reverse("front:guide")}">Read the full guide</a>' in html


def test_the_home_page_says_what_this_is_and_asks_visitors_to_join_a_community(client):
    community = CommunityFactory(name="Elm Street Neighbors")
    MembershipFactory.create_batch(3, community=community)
    html = home(client)
    words = text(html)
    assert "What are peer-to-peer projects?" in words
    for principle in ("Decentralization", "Equality and reciprocity", "Transparency and trust", "Autonomy and freedom"):
        assert f"<h3>{principle}</h3>" in html
    assert f'href="{reverse("peers:about-developers")}#ledger-heading"' in html
    assert "Elm Street Neighbors 3 members" in words
    assert f'href="{reverse("peers:list")}"' in html
    assert f'href="{reverse("account_signup")}" role="button"' in html
    assert f'href="{reverse("account_login")}"' in html


def test_the_guide_has_a_table_of_contents_whose_links_reach_its_sections(client):
    html = client.get(reverse("front:guide")).content.decode()
    contents = html.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    anchors = re.findall(r'href="#([a-z-]+)"', contents)
    assert anchors[: len(GUIDE_SECTIONS)] == GUIDE_SECTIONS
    for anchor in anchors:
        assert f'<section id="{anchor}"' in html
    words = text(html)
    assert "hash-chained ledger" in words and "ActivityPub federation planned" in words
    assert "Decentralized identity planned" in words


def test_the_guide_prints_without_the_menu_and_footer():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "front.css").read_text()
    rules = css.split("@media print", 1)[1]
    hidden = rules.split("{", 2)[1]
    assert ".site-header" in hidden and "footer" in hidden


@pytest.mark.parametrize("key", CARDS)
def test_each_blueprint_page_shows_its_words_steps_rules_checklist_and_links(client, key):
    bp = blueprint(key)
    html = client.get(reverse("front:blueprint", args=[key])).content.decode()
    words = text(html)
    category, title, description, tags = CARDS[key]
    assert f"<h1>{title}</h1>" in html and category in words and description in words
    assert all(f"<li>{tag}</li>" in html for tag in tags)
    assert f"{figures()[key].value} {figures()[key].label}" in words
    steps = html.split('<ol class="steps">', 1)[1].split("</ol>", 1)[0]
    assert steps.count("<li>") >= 4 and steps.count('<img src="/static/front/steps/') >= 4
    assert "The rules that keep it fair" in words and "the organizer's checklist" in words
    assert f'href="{reverse(bp.nav_url)}"' in html


def test_an_unknown_blueprint_is_not_found(client, organizer):
    assert client.get("/blueprints/bakery/").status_code == 404
    client.force_login(organizer)
    assert client.get("/blueprints/bakery/use/").status_code == 404
    assert client.post("/blueprints/bakery/use/", {"community": 1}).status_code == 404


def test_a_visitor_is_asked_to_sign_up_or_in_to_use_a_blueprint(client):
    html = solar_page(client)
    use = html.split('id="use"', 1)[1]
    assert f'href="{reverse("account_signup")}"' in use and reverse("account_login") in use
    assert "<form" not in use.split("</section>", 1)[0]


def test_a_member_who_organizes_nothing_is_told_to_ask_an_organizer(client, member):
    client.force_login(member)
    words = text(solar_page(client))
    assert "Ask an organizer of your community" in words
    assert "Stop using it" not in words


def test_a_member_reads_the_rules_of_their_communities_or_the_default_ones(client, member, community):
    CommunityExchange.objects.filter(community=community, key="solar").update(rules="Sell at fair prices, please.")
    elsewhere = CommunityFactory(name="Riverside Neighbors")
    MembershipFactory(community=elsewhere, user=member)
    client.force_login(member)
    words = text(solar_page(client))
    assert "The rules in Sunnyside Commons Sell at fair prices, please." in words
    assert f"The rules in Riverside Neighbors {text(blueprint('solar').default_rules)}" in words


def test_an_organizer_starts_a_blueprint_for_their_community_with_its_default_rules(client):
    community = CommunityFactory(name="Oak Lane", exchanges=["tools", "skills", "codesign"])
    organizer = OrganizerMembershipFactory(community=community).user
    client.force_login(organizer)
    html = solar_page(client)
    assert f'<option value="{community.pk}">Oak Lane</option>' in html
    assert text(blueprint("solar").default_rules) in text(html.split("<textarea", 1)[1].split("</textarea>", 1)[0])
    response = client.post(
        reverse("front:blueprint-use", args=["solar"]),
        {"action": "start", "community": community.pk, "rules": "Sunny days only."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == community.get_absolute_url()
    assert "Oak Lane now uses Micro Solar Exchange." in text(response.content.decode())
    row = CommunityExchange.objects.get(community=community, key="solar")
    assert row.in_use and row.rules == "Sunny days only." and row.started_by == organizer
    assert "Stop using it in Oak Lane" in text(solar_page(client))


def test_an_organizer_changes_the_rules_of_an_exchange_their_community_uses(client, organizer, community):
    client.force_login(organizer)
    html = solar_page(client)
    assert "Change the rules in Sunnyside Commons" in text(html)
    assert f'id="id_rules_{community.pk}_rules"' in html
    response = client.post(
        reverse("front:blueprint-use", args=["solar"]),
        {"action": "start", "community": community.pk, "rules": "Only sell what your roof made."},
        follow=True,
    )
    assert "The rules for Micro Solar Exchange in Sunnyside Commons are saved." in text(response.content.decode())
    row = CommunityExchange.objects.get(community=community, key="solar")
    assert row.in_use and row.rules == "Only sell what your roof made."
    assert "The rules in Sunnyside Commons Only sell what your roof made." in text(solar_page(client))


def test_rules_that_are_too_long_show_the_form_again_and_start_nothing(client):
    community = CommunityFactory(exchanges=["tools"])
    client.force_login(OrganizerMembershipFactory(community=community).user)
    response = client.post(
        reverse("front:blueprint-use", args=["solar"]), {"community": community.pk, "rules": "x" * 5001}
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 5000 characters" in text(response.content.decode())
    assert not CommunityExchange.objects.filter(community=community, key="solar").exists()


def test_a_plain_member_can_neither_start_nor_stop_an_exchange(client, member, community):
    CommunityExchange.objects.filter(community=community, key="solar").delete()
    client.force_login(member)
    url = reverse("front:blueprint-use", args=["solar"])
    response = client.post(url, {"action": "start", "community": community.pk, "rules": ""}, follow=True)
    assert "Only an organizer of this community can choose the community's exchanges." in text(
        response.content.decode()
    )
    assert not CommunityExchange.objects.filter(community=community, key="solar").exists()
    response = client.post(url.replace("solar", "tools"), {"action": "stop", "community": community.pk}, follow=True)
    assert "Only an organizer of this community" in text(response.content.decode())
    assert CommunityExchange.objects.get(community=community, key="tools").in_use


def test_an_organizer_of_another_community_can_neither_start_nor_stop_it_here(client, community):
    elsewhere = CommunityFactory(name="Riverside Neighbors")
    outsider = OrganizerMembershipFactory(community=elsewhere).user
    CommunityExchange.objects.filter(community=community, key="solar").delete()
    client.force_login(outsider)
    url = reverse("front:blueprint-use", args=["solar"])
    client.post(url, {"action": "start", "community": community.pk})
    assert not CommunityExchange.objects.filter(community=community, key="solar").exists()
    client.post(url.replace("solar", "tools"), {"action": "stop", "community": community.pk})
    assert CommunityExchange.objects.get(community=community, key="tools").in_use
    response = client.get(url.replace("solar", "tools") + f"?community={community.pk}", follow=True)
    assert "Only an organizer of this community can choose its exchanges." in text(response.content.decode())
    assert "Stop using Community Tool Sharing in" not in text(response.content.decode())


def test_stopping_asks_for_confirmation_and_then_stops_it(client, organizer, community):
    client.force_login(organizer)
    url = reverse("front:blueprint-use", args=["tools"])
    page = client.get(url + f"?community={community.pk}")
    assert "Stop using Community Tool Sharing in Sunnyside Commons?" in text(page.content.decode())
    assert CommunityExchange.objects.get(community=community, key="tools").in_use
    response = client.post(url, {"action": "stop", "community": community.pk}, follow=True)
    assert response.redirect_chain[-1][0] == community.get_absolute_url()
    assert "Sunnyside Commons no longer uses Community Tool Sharing." in text(response.content.decode())
    assert not CommunityExchange.objects.get(community=community, key="tools").in_use


def test_stopping_an_exchange_the_community_does_not_use_asks_nothing(client, organizer, community):
    CommunityExchange.objects.filter(community=community, key="solar").delete()
    client.force_login(organizer)
    response = client.get(reverse("front:blueprint-use", args=["solar"]) + f"?community={community.pk}", follow=True)
    assert response.redirect_chain[-1][0] == reverse("front:blueprint", args=["solar"])
    assert "Sunnyside Commons does not use Micro Solar Exchange." in text(response.content.decode())


def test_the_home_page_runs_a_pinned_number_of_queries_whatever_its_rows(client):
    figures()  # warm, as after the first visitor

    def add(n):
        for _ in range(n):
            community = CommunityFactory()
            MembershipFactory(community=community)
            ToolFactory(community=community)
        figures()  # the new tools invalidate the figures; the next visitor counts them again

    queries = assert_queries_do_not_grow(lambda: client.get("/"), add, small=1, large=8)
    assert queries == HOME_QUERIES


def test_a_blueprint_page_runs_the_same_queries_however_many_communities_one_organizes(client):
    organizer = UserFactory()
    client.force_login(organizer)
    figures()

    def add(n):
        for i in range(n):
            community = CommunityFactory(exchanges=["solar"] if i % 2 else [])
            OrganizerMembershipFactory(community=community, user=organizer)
        solar_page(client)  # the member's menu is cached from the first page on (apps.front.context)

    assert_queries_do_not_grow(lambda: client.get(reverse("front:blueprint", args=["solar"])), add, small=2, large=10)
    html = solar_page(client)
    # (the footer's language switcher has options of its own)
    assert text(html).count("Stop using it in") == 5 and html.split("<footer", 1)[0].count("<option value=") == 5


def test_a_second_visit_runs_no_figure_queries(client):
    ToolFactory()
    first, first_sql = count_queries(lambda: client.get("/"))
    second, second_sql = count_queries(lambda: client.get("/"))
    assert any("tools_tool" in sql for sql in first_sql)
    assert not any("tools_tool" in sql for sql in second_sql)
    assert second == HOME_QUERIES < first


def test_a_new_tool_changes_the_number_on_the_home_page(client, django_capture_on_commit_callbacks):
    community = CommunityFactory()
    ToolFactory.create_batch(2, community=community)
    assert "2 tools to borrow" in text(cards(home(client))["tools"])
    with django_capture_on_commit_callbacks(execute=True):
        ToolFactory(community=community)
    assert "3 tools to borrow" in text(cards(home(client))["tools"])
    cache.clear()
    assert "3 tools to borrow" in text(cards(home(client))["tools"])


def test_the_community_page_shows_only_the_exchanges_it_uses(client):
    community = CommunityFactory(name="Oak Lane", exchanges=["tools", "skills"])
    member = MembershipFactory(community=community).user
    client.force_login(member)
    html = client.get(community.get_absolute_url()).content.decode()
    section = html.split('id="exchanges-heading"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'href="/blueprints/([a-z]+)/"', section) == ["tools", "skills"]
    assert "Choose this community's exchanges" not in html


def test_organizers_see_every_blueprint_to_choose_from_on_their_community_page(client):
    community = CommunityFactory(name="Oak Lane", exchanges=["tools"])
    client.force_login(OrganizerMembershipFactory(community=community).user)
    html = client.get(community.get_absolute_url()).content.decode()
    choose = html.split("Choose this community's exchanges", 1)[1].split("</details>", 1)[0]
    assert re.findall(r'href="/blueprints/([a-z]+)/#use"', choose) == ["tools", "solar", "skills", "codesign"]
    assert text(choose).count("Not used here") == 3


def test_the_community_list_names_the_exchanges_each_community_uses(client):
    CommunityFactory(name="Oak Lane", exchanges=["solar"])
    html = client.get(reverse("peers:list")).content.decode()
    oak = html.split("Oak Lane", 1)[1].split("</article>", 1)[0]
    assert re.findall(r'href="/blueprints/([a-z]+)/"', oak) == ["solar"]


def menu(client) -> list[str]:
    html = client.get(reverse("peers:list")).content.decode()
    nav = html.split('<nav aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<li><a href="[^"]+">([^<]+)</a></li>', nav)


def test_the_menu_shows_only_the_exchanges_the_members_communities_use(client):
    community = CommunityFactory(name="Oak Lane", exchanges=["tools", "codesign"])
    organizer = OrganizerMembershipFactory(community=community).user
    client.force_login(organizer)
    items = menu(client)
    assert "Tools" in items and "Design" in items
    assert "Energy" not in items and "Skills" not in items
    assert "Search" in items
    client.post(reverse("front:blueprint-use", args=["solar"]), {"community": community.pk, "rules": ""})
    assert "Energy" in menu(client)


def test_the_footer_links_the_guide_for_everyone(client):
    client.force_login(UserFactory())
    html = client.get(reverse("peers:list")).content.decode()
    footer = html.split("<footer", 1)[1]
    assert f'<a href="{reverse("front:guide")}">Guide</a>' in footer
