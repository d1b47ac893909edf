"""The data download in the open vocabulary: actor.json (public profile) and outbox.json
(listings as FEP-0837 Proposals, ledger transfers as ValueFlows economic events, reviews
as Notes) in the zip the member downloads; every term expands offline against the
vendored contexts, and nothing private is in them."""

from __future__ import annotations

import json
import socket
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings

from apps.federation.jsonld import expand_offline, unknown_terms
from apps.federation.vocab import CONTEXT, OM2, VF, parse_proposal
from apps.privacy import export
from apps.privacy.export import export_build, export_request
from apps.privacy.export_jsonld import jsonld_documents
from apps.tools.models import Tool
from tests.privacy import test_export_world
from tests.privacy.test_export_world import OTHER_ADDRESS, OTHER_EMAIL, OTHER_PHONE

world = test_export_world.world  # the fixture: a member with rows in every app

AS = "https://www.w3.org/ns/activitystreams#"


@pytest.fixture
def archive(world) -> zipfile.ZipFile:
    job = export_request(user=world.me)
    assert export_build(job.pk) is True
    job.refresh_from_db()
    return zipfile.ZipFile(export.export_path(job))


@pytest.fixture
def docs(archive) -> tuple[dict, dict]:
    return json.loads(archive.read("actor.json")), json.loads(archive.read("outbox.json"))


@pytest.fixture
def no_network(monkeypatch):
    def refuse(self, address, *args, **kwargs):
        raise AssertionError(f"network access to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))


def _keys(node, found: set[str]) -> set[str]:
    """Every key of an expanded document."""
    if isinstance(node, list):
        for item in node:
            _keys(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            _keys(value, found)
    return found


def _types(node, found: set[str]) -> set[str]:
    if isinstance(node, list):
        for item in node:
            _types(item, found)
    elif isinstance(node, dict):
        found.update(node.get("@type", []) if isinstance(node.get("@type"), list) else [])
        for value in node.values():
            _types(value, found)
    return found


def test_the_zip_holds_an_actor_and_an_outbox_in_the_open_vocabulary(world, archive, docs):
    names = set(archive.namelist())
    assert {"actor.json", "outbox.json"} <= names
    assert "outbox.json" in archive.read("README.txt").decode("utf-8")
    actor, outbox = docs
    assert actor["@context"] == CONTEXT and outbox["@context"] == CONTEXT
    assert actor["type"] == "Person" and actor["name"] == "Mia Member"
    assert actor["id"] == f"{settings.SITE_URL}/people/{world.me.pk}/"
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == len(outbox["orderedItems"])


def test_every_vf_and_as_term_of_a_real_export_expands_offline(docs, no_network):
    for doc in docs:
        assert unknown_terms(doc) == []
        expanded = expand_offline(doc)
        for key in _keys(expanded, set()):
            assert key.startswith(("@", "https://", "http://")), key
    outbox = expand_offline(docs[1])
    types = _types(outbox, set())
    assert {f"{VF}Proposal", f"{VF}Intent", f"{VF}EconomicEvent", f"{AS}Note", f"{AS}OrderedCollection"} <= types
    keys = _keys(outbox, set())
    for term in ("publishes", "reciprocal", "action", "resourceQuantity", "provider", "receiver", "hasPointInTime"):
        assert f"{VF}{term}" in keys, term
    assert f"{OM2}hasUnit" in keys and f"{OM2}hasNumericalValue" in keys
    assert f"{AS}items" in keys and f"{AS}attributedTo" in keys


def test_the_listings_are_proposals_that_read_back(world, docs):
    actor, outbox = docs
    proposals = [item for item in outbox["orderedItems"] if item["type"] == "Proposal"]
    by_kind = {}
    for item in proposals:
        fields = parse_proposal(item)
        assert fields.attributed_to == actor["id"]
        by_kind.setdefault(fields.kind, []).append(fields)
    tool = Tool.objects.get(owner=world.me)
    [tool_fields] = by_kind["tool"]
    assert tool_fields.name == tool.title and tool_fields.category == tool.category.name
    assert tool_fields.id == f"{settings.SITE_URL}/tools/{tool.pk}/"
    assert len(by_kind["skill_offer"]) == 1 and len(by_kind["skill_request"]) == 1
    request = next(i for i in proposals if i["purpose"] == "request")
    assert request["wantedFrom"] and request["wantedUntil"] and request["estimatedHours"]


def test_transfers_are_economic_events_between_public_names(world, docs):
    actor, outbox = docs
    events = [item for item in outbox["orderedItems"] if item["type"] == "EconomicEvent"]
    assert len(events) == 3  # two hour transfers with Otto and the solar payment; not the one between others
    paid = next(e for e in events if e["resourceQuantity"] == {"hasUnit": "HOUR", "hasNumericalValue": "2.00"})
    assert paid["action"] == "transfer"
    assert paid["provider"] == actor["id"] and paid["receiver"] == {"type": "Person", "name": "Otto Other"}
    assert "Bike repair" in paid["summary"]
    got = next(e for e in events if e["resourceQuantity"]["hasNumericalValue"] == "0.50")
    assert got["receiver"] == actor["id"] and got["provider"]["name"] == "Otto Other"
    credit = next(e for e in events if e["resourceQuantity"]["hasUnit"] == "CREDIT")
    assert Decimal(credit["resourceQuantity"]["hasNumericalValue"]) == Decimal("0.10")


def test_reviews_written_are_notes_with_their_rating(world, docs):
    actor, outbox = docs
    [note] = [item for item in outbox["orderedItems"] if item["type"] == "Note"]
    review = world.me.reviews_written.get() if hasattr(world.me, "reviews_written") else None
    assert note["attributedTo"] == actor["id"]
    assert note["reviewOf"] == {"type": "Person", "name": "Otto Other"}
    assert isinstance(note["rating"], int) and 1 <= note["rating"] <= 5
    if review is not None:
        assert note["rating"] == review.rating


def test_nothing_private_is_in_the_open_vocabulary_files(world, archive):
    text = archive.read("actor.json").decode("utf-8") + archive.read("outbox.json").decode("utf-8")
    for secret in ("mia@example.org", "1 My Street", "+31 6 11112222", OTHER_EMAIL, OTHER_ADDRESS, OTHER_PHONE):
        assert secret not in text


def test_a_retired_tool_and_a_hidden_one_are_not_offered_again(world):
    Tool.objects.filter(owner=world.me).update(status=Tool.Status.RETIRED)
    tables, _ = export.collect(world.me)
    outbox = jsonld_documents(user=world.me, tables=tables)["outbox.json"]
    assert not [i for i in outbox["orderedItems"] if i["type"] == "Proposal" and i["publishes"]["action"] == "use"]
    Tool.objects.filter(owner=world.me).update(status=Tool.Status.ACTIVE, is_hidden=True)
    tables, _ = export.collect(world.me)
    outbox = jsonld_documents(user=world.me, tables=tables)["outbox.json"]
    assert not [i for i in outbox["orderedItems"] if i["type"] == "Proposal" and i["publishes"]["action"] == "use"]
