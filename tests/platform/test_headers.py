"""Content-Security-Policy and Permissions-Policy on every page; the API docs' own policy."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def test_a_page_allows_scripts_and_styles_from_this_site_only(client):
    csp = directives(client.get("/accounts/login/")["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_a_page_turns_off_camera_microphone_and_payment_and_keeps_location_for_this_site(client):
    policy = client.get("/accounts/login/")["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in policy.split(","))
    assert features["geolocation"] == "(self)"
    assert (features["camera"], features["microphone"], features["payment"]) == ("()", "()", "()")


def test_api_answers_carry_the_headers_too(api_as, member):
    response = api_as(member).get("/api/v1/notifications/")
    assert "Content-Security-Policy" in response and "Permissions-Policy" in response


class Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []
        self.inline = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.sources.append(dict(attrs).get("src"))

    def handle_data(self, data):
        if self.lasttag == "script" and data.strip():
            self.inline = True


def test_the_api_docs_run_only_scripts_from_this_site_and_may_use_inline_styles(client):
    response = client.get("/api/docs/")
    csp = directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in csp["style-src"]
    page = Scripts()
    page.feed(response.content.decode())
    assert page.sources and all(src and src.startswith("/") for src in page.sources)
    assert not page.inline
    start_up = client.get(page.sources[-1])
    assert start_up["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in start_up.content.decode()


def test_the_redoc_page_gets_its_own_policy(client):
    csp = directives(client.get("/api/redoc/")["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert "blob:" in csp["worker-src"]


SCRIPT_WITHOUT_SRC = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style[\s>]", re.IGNORECASE)


def test_no_template_of_the_site_has_inline_script_or_style():
    """What the policy would block: inline <script>, on* handlers, style attributes and
    <style> blocks. Email templates are not pages and may style inline."""
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("apps/*/templates/**/*.html")]
    offenders = []
    for path in templates:
        if "/email/" in path.as_posix():
            continue
        text = path.read_text()
        for pattern in (SCRIPT_WITHOUT_SRC, EVENT_HANDLER, STYLE_ATTRIBUTE, INLINE_STYLE):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0).strip()}" for m in pattern.finditer(text)]
    assert templates
    assert offenders == []


def test_htmx_is_told_not_to_inject_its_indicator_styles(client):
    page = client.get("/accounts/login/").content.decode()
    assert '"includeIndicatorStyles": false' in page
