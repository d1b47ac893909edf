"""The installable app in a real browser: the manifest loads with its icons, the service
worker registers for the whole site, and when the server is gone a page shows the
friendly offline page instead of the browser's error."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class _OneRequestPerConnection(QuietWSGIRequestHandler):
    # HTTP/1.0: the server closes each connection after its answer, so once it is stopped
    # no kept-alive connection can still answer the browser.
    protocol_version = "HTTP/1.0"


class StoppableServer(LiveServerThread):
    """Django's live server thread, which this test stops halfway."""

    def _create_server(self, connections_override=None):
        return self.server_class(
            (self.host, self.port),
            _OneRequestPerConnection,
            allow_reuse_address=False,
            connections_override=connections_override,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self.is_alive():
            self.terminate()


def start_server() -> StoppableServer:
    shared = {}
    for conn in connections.all():
        if conn.vendor == "sqlite" and conn.is_in_memory_db():
            conn.inc_thread_sharing()
            shared[conn.alias] = conn
    server = StoppableServer("localhost", StaticFilesHandler, connections_override=shared, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server


def test_the_manifest_loads_the_service_worker_registers_and_the_offline_page_shows(browser):
    server = start_server()  # our own, so the test can stop it
    try:
        context = browser.new_context(base_url=server.url, viewport={"width": 360, "height": 800})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto("/")

        href = page.locator("link[rel=manifest]").get_attribute("href")
        manifest = page.evaluate("href => fetch(href).then(r => r.json())", href)
        assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
        assert manifest["theme_color"] == page.locator("meta[name=theme-color]").get_attribute("content")
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes
        for icon in manifest["icons"]:
            status = page.evaluate(
                "([href, src]) => fetch(new URL(src, new URL(href, location.href)).href).then(r => r.status)",
                [href, icon["src"]],
            )
            assert status == 200, icon
        assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])

        scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == f"{server.url}/"
        kept = page.evaluate(
            "caches.keys().then(names => Promise.all(names.map(n => caches.open(n).then(c => c.keys()))))"
            ".then(lists => lists.flat().map(r => new URL(r.url).pathname))"
        )
        assert "/offline/" in kept
        assert any(path.endswith(".css") for path in kept)

        # A page loads from the server while it is up...
        page.goto("/guide/")
        assert "offline" not in page.title().lower()

        server.stop()
        # ...and when it is gone, the offline page shows (from the phone's cache).
        page.goto("/tools/")
        assert page.get_by_role("heading", level=1).inner_text() == "You are offline"
        assert page.get_by_role("button", name="Try again").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360
        context.close()
    finally:
        server.stop()
        for conn in connections.all():
            if conn.vendor == "sqlite" and conn.is_in_memory_db():
                conn.dec_thread_sharing()


def test_the_service_worker_never_keeps_pages(client):
    body = client.get("/sw.js").content.decode()
    shell = json.loads(body.split("const SHELL = ", 1)[1].split(";", 1)[0])
    assert "/offline/" in shell
    # Only the offline page and static files are kept: no member page is stored on a phone.
    assert all(url == "/offline/" or url.startswith("/static/") for url in shell)
    assert 'request.mode === "navigate"' in body and "fetch(request).catch" in body
