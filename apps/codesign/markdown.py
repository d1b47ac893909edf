"""Proposals and briefs are written in Markdown and shown as HTML: rendered by
markdown-it-py (CommonMark, raw HTML off) and then sanitized by nh3 (the Rust
``ammonia`` sanitizer), which keeps only the tags and link schemes below. Two layers on
purpose: the renderer never emits raw HTML a writer typed, and the sanitizer removes
whatever else could run (event handlers, ``javascript:`` links, styles) if a renderer
bug ever let it through. Kept libraries rather than our own escaping: both are
maintained and widely used for exactly this.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")
TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "h6", "a", "hr",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}}
SCHEMES = {"http", "https", "mailto"}


def render(text: str) -> SafeString:
    """Safe HTML for ``text``. Headings start at h3 (the page has its h1 and h2); links
    open as written but get ``rel="nofollow noopener noreferrer"``; images are not
    rendered (pictures go through the checked upload instead)."""
    html = _RENDERER.render(text or "")
    for level in (6, 5, 4, 3, 2, 1):  # the page's own headings come first; order kept
        new = min(level + 2, 6)
        html = html.replace(f"<h{level}>", f"<h{new}>").replace(f"</h{level}>", f"</h{new}>")
    cleaned = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitized by nh3 just above
