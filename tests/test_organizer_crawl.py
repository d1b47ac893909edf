"""Every internal link works for an organizer and for a neighbor on the demo data.

The crawl starts at the home page and the admin home, follows every same-site link
breadth-first (a few pages per URL shape, so the thousands of filter combinations of the
admin don't make it endless) and collects every page that answers 403 or a server error,
with the page that linked to it.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.core.management import call_command

from apps.peers.models import User

pytestmark = pytest.mark.django_db

MAX_PAGES = 600
PER_SHAPE = 3  # pages per URL shape: any id and any filter of /admin/tools/tool/N/change/ is one shape
SKIP_PREFIXES = ("/static/", "/media/", "/accounts/logout/", "/admin/logout/")
# Links that only do something with POST (GET shows nothing to follow) or leave the page.
SKIP_PATTERNS = (re.compile(r"/delete/$"), re.compile(r"^/admin/jsi18n/"))
DROPPED_PARAMS = {"_changelist_filters", "_popup", "_to_field", "next"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _normalized(base: str, href: str) -> str | None:
    """The same-site URL ``href`` points to with a sorted query, or None to skip it."""
    url = urlsplit(urljoin(base, href))
    if url.scheme not in ("", "http") or url.netloc not in ("", "testserver"):
        return None
    path = url.path
    if not path.startswith("/") or path.startswith(SKIP_PREFIXES) or any(p.search(path) for p in SKIP_PATTERNS):
        return None
    query = sorted((k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k not in DROPPED_PARAMS)
    return path + (f"?{urlencode(query)}" if query else "")


def _shape(url: str) -> str:
    """Ids and query strings aside, which page this is: /admin/tools/tool/N/change/."""
    return re.sub(r"\d+", "N", url.partition("?")[0])


def crawl(client, starts: list[str]) -> tuple[list[str], int]:
    """Breadth-first over internal links; returns the failures and the number of pages seen."""
    queue = deque((url, "(start)") for url in starts)
    seen = set(starts)
    shapes: Counter[str] = Counter()
    failures: list[str] = []
    visited = 0
    while queue and visited < MAX_PAGES:
        url, linked_from = queue.popleft()
        response = client.get(url)
        visited += 1
        if response.status_code == 403 or response.status_code >= 500:
            failures.append(f"{response.status_code} {url} (linked from {linked_from})")
            continue
        if response.status_code in (301, 302):
            target = _normalized(url, response["Location"])
            if target and target not in seen:
                seen.add(target)
                queue.append((target, url))
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        for href in parser.hrefs:
            target = _normalized(url, href)
            if target is None or target in seen:
                continue
            seen.add(target)
            shape = _shape(target)
            if shapes[shape] >= PER_SHAPE:
                continue
            shapes[shape] += 1
            queue.append((target, url))
    return failures, visited


@pytest.fixture
def demo(db):
    call_command("seed_demo", neighbors=10, stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.parametrize(
    ("email", "starts"),
    [("organizer@example.org", ["/", "/admin/"]), ("neighbor01@example.org", ["/"])],
    ids=["organizer", "neighbor"],
)
def test_every_internal_link_opens_for_an_organizer_and_a_neighbor(client, demo, email, starts):
    client.force_login(User.objects.get(email=email))

    failures, visited = crawl(client, starts)

    print(f"{email}: {visited} pages crawled")
    assert visited > 20, "the crawl found almost nothing to visit"
    assert not failures, "Pages that fail:\n" + "\n".join(failures)


def test_an_organizer_can_open_the_category_a_tools_page_links_to_but_not_change_it(web_as, organizer, community):
    from django.urls import reverse

    from apps.tools.factories import ToolFactory

    tool = ToolFactory(community=community, category__name="Garden")
    client = web_as(organizer)
    category_url = reverse("admin:tools_category_change", args=[tool.category.pk])

    assert category_url in client.get(reverse("admin:tools_tool_change", args=[tool.pk])).content.decode()
    page = client.get(category_url)
    assert page.status_code == 200
    assert "Garden" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    client.post(category_url, {"name": "Renamed", "slug": "renamed"})
    tool.category.refresh_from_db()
    assert tool.category.name == "Garden"
