"""JSON-LD offline: pyld is only ever given the vendored ActivityStreams and security
contexts; any other context URL is refused without a single connection, and
``unknown_terms`` names every key, at any depth, that does not expand to an IRI."""

from __future__ import annotations

import json
import socket

import pytest

from apps.federation import jsonld
from apps.federation.jsonld import ContextRefused, expand_offline, load_document, unknown_terms
from apps.federation.vocab import CONTEXT

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test (and is recorded)."""
    attempts: list = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"network access to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))
    return attempts


def test_the_vendored_contexts_are_the_published_documents():
    activitystreams = json.loads((jsonld.CONTEXTS_DIR / "activitystreams.jsonld").read_text(encoding="utf-8"))
    security = json.loads((jsonld.CONTEXTS_DIR / "security-v1.jsonld").read_text(encoding="utf-8"))
    terms = activitystreams["@context"]
    assert terms["as"] == AS and terms["@vocab"] == "_:"
    assert terms["Person"] == "as:Person" and terms["orderedItems"]["@container"] == "@list"
    assert security["@context"]["sec"] == SEC
    assert security["@context"]["publicKeyPem"] == "sec:publicKeyPem"
    readme = (jsonld.CONTEXTS_DIR / "README.md").read_text(encoding="utf-8")
    assert "github.com/w3c/activitystreams" in readme and "github.com/w3c-ccg/security-vocab" in readme


def test_the_loader_serves_the_vendored_contexts_without_the_network(no_network):
    for url in (jsonld.ACTIVITYSTREAMS, jsonld.SECURITY_V1, "https://www.w3.org/ns/activitystreams.jsonld"):
        loaded = load_document(url, {})
        assert "@context" in loaded["document"]
    assert no_network == []


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/context.jsonld",
        "https://w3id.org/security/v2",
        "https://w3id.org/valueflows/ont/vf",
        "http://127.0.0.1:8000/ns",
        "https://www.w3.org/ns/activitystreams/extra",
        "file:///etc/passwd",
    ],
)
def test_a_loader_asked_for_any_other_url_raises_and_connects_nowhere(url, no_network):
    with pytest.raises(ContextRefused):
        load_document(url, {})
    doc = {"@context": [jsonld.ACTIVITYSTREAMS, url], "type": "Note", "name": "hello"}
    with pytest.raises(ContextRefused):
        expand_offline(doc)
    with pytest.raises(ContextRefused):
        unknown_terms(doc)
    assert no_network == []


def test_a_document_expands_offline_with_activitystreams_and_security_terms(no_network):
    doc = {
        "@context": CONTEXT,
        "type": "Person",
        "id": "https://a.example/people/1/",
        "name": "Mia",
        "publicKey": {"id": "https://a.example/people/1/#key", "publicKeyPem": "-----BEGIN PUBLIC KEY-----"},
    }
    [node] = expand_offline(doc)
    assert node["@type"] == [f"{AS}Person"]
    assert node[f"{AS}name"] == [{"@value": "Mia"}]
    assert node[f"{SEC}publicKey"][0][f"{SEC}publicKeyPem"] == [{"@value": "-----BEGIN PUBLIC KEY-----"}]
    assert unknown_terms(doc) == []
    assert no_network == []


def test_unknown_terms_names_every_undefined_key_at_every_depth_but_no_keyword():
    doc = {
        "@context": [jsonld.ACTIVITYSTREAMS],
        "@id": "https://a.example/x",
        "id": "https://a.example/x",
        "type": "Note",
        "name": "ok",
        "colour": "red",  # undefined: AS sends it to a blank node ("_:colour")
        "attachment": [{"type": "Link", "href": "https://a.example/", "weight": 3}],
        "tag": {"deeper": {"deepest": 1}},
    }
    assert unknown_terms(doc) == ["colour", "weight", "deeper", "deepest"]


def test_a_term_defined_by_a_nested_context_is_known_there_only():
    doc = {
        "@context": jsonld.ACTIVITYSTREAMS,
        "type": "Note",
        "object": {"@context": {"colour": "https://example.org/ns#colour"}, "colour": "red"},
        "colour": "blue",
    }
    assert unknown_terms(doc) == ["colour"]
    [node] = expand_offline(doc)
    assert node[f"{AS}object"][0]["https://example.org/ns#colour"] == [{"@value": "red"}]


def test_a_document_without_any_context_has_only_unknown_terms():
    assert unknown_terms({"type": "Note", "name": "x", "@id": "https://a.example/x"}) == ["type", "name"]
