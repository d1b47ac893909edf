"""The installable app's parts, without a browser: manifest, service worker, offline page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"


def test_the_manifest_names_the_app_its_colors_and_icons_that_exist():
    manifest = json.loads((STATIC / "manifest.webmanifest").read_text())
    assert manifest["name"] == "p2pcommons" and manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    for icon in manifest["icons"]:
        assert (STATIC / icon["src"]).is_file(), icon["src"]
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}


def test_every_page_links_the_manifest_and_registers_the_worker(client):
    html = client.get("/").content.decode()
    assert 'rel="manifest"' in html and 'name="theme-color"' in html
    assert "js/sw-register.js" in html


def test_the_service_worker_is_served_from_the_root_with_its_shell(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    shell = json.loads(body.split("const SHELL = ", 1)[1].split(";", 1)[0])
    for url in shell:
        if url.startswith(settings.STATIC_URL):
            assert finders.find(url.removeprefix(settings.STATIC_URL)), url
        else:
            assert client.get(url).status_code == 200, url


def test_the_offline_page_holds_nothing_about_the_member(client, member):
    client.force_login(member)
    html = client.get("/offline/").content.decode()
    assert "You are offline" in html
    assert member.profile.display_name not in html
    assert "csrfmiddlewaretoken" not in html and "My profile" not in html


def test_the_offline_page_speaks_dutch(client):
    html = client.get("/offline/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert 'lang="nl"' in html
    assert "Je bent offline" in html
