"""Listings as FEP-0837 Proposals: what we publish for a tool, a skill offer and a skill
request (every term defined, offline), and what we accept from anyone else: the same
shape within our limits, http(s) ids, a fee that is a non-negative decimal, no HTML."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from apps.federation.jsonld import expand_offline, unknown_terms
from apps.federation.vocab import (
    CONTEXT,
    MAX_CONTENT,
    MAX_NAME,
    OM2,
    PUBLIC,
    VF,
    ProposalFields,
    VocabError,
    parse_proposal,
    proposal,
)

WHEN = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
LATER = WHEN + dt.timedelta(days=2)
AS = "https://www.w3.org/ns/activitystreams#"


def make(kind: str = "tool", **overrides) -> dict:
    values = {
        "id": "https://oak.example/tools/7/",
        "attributed_to": "https://oak.example/c/sunnyside",
        "kind": kind,
        "name": "Cordless drill",
        "content": "18 V, two batteries.\n\nPick up after 6 pm.",
        "category": "Power tools",
        "url": "https://oak.example/tools/7/",
        "published": WHEN,
        "updated": LATER,
        "unit": "day" if kind == "tool" else "hour",
        "fee_amount": Decimal("2.50") if kind == "tool" else Decimal("1"),
        "fee_unit": "CREDIT" if kind == "tool" else "HOUR",
        "to": [PUBLIC],
    }
    values.update(overrides)
    return proposal(**values)


def test_a_tool_is_an_offer_to_use_one_per_day_for_credits():
    doc = make("tool")
    assert doc["@context"] == CONTEXT
    assert doc["type"] == "Proposal" and doc["purpose"] == "offer" and doc["unitBased"] is True
    primary = doc["publishes"]
    assert primary["type"] == "Intent" and primary["id"] == "https://oak.example/tools/7/#primary"
    assert primary["action"] == "use"
    assert primary["resourceClassifiedAs"] == "Power tools"
    assert primary["resourceQuantity"] == {"hasUnit": "one", "hasNumericalValue": "1"}
    assert primary["effortQuantity"] == {"hasUnit": "day", "hasNumericalValue": "1"}
    assert doc["reciprocal"] == {
        "type": "Intent",
        "id": "https://oak.example/tools/7/#reciprocal",
        "action": "transfer",
        "resourceQuantity": {"hasUnit": "CREDIT", "hasNumericalValue": "2.50"},
    }
    assert doc["published"] == "2026-11-30T09:15:00Z" and doc["to"] == [PUBLIC]


def test_a_free_tool_publishes_no_reciprocal():
    assert "reciprocal" not in make("tool", fee_amount=None, fee_unit=None)
    assert "reciprocal" not in make("tool", fee_amount=Decimal("0"), fee_unit="CREDIT")


def test_a_skill_offer_is_work_by_the_hour_for_an_hour_and_a_request_is_a_request():
    offer = make("skill_offer", id="https://oak.example/skills/offers/3/", category="Bike repair")
    assert offer["purpose"] == "offer" and offer["publishes"]["action"] == "work"
    assert offer["publishes"]["resourceQuantity"] == {"hasUnit": "hour", "hasNumericalValue": "1"}
    assert offer["reciprocal"]["resourceQuantity"] == {"hasUnit": "HOUR", "hasNumericalValue": "1"}
    request = make("skill_request")
    assert request["purpose"] == "request" and request["publishes"]["action"] == "work"


@pytest.mark.parametrize("kind", ["tool", "skill_offer", "skill_request"])
def test_every_term_of_a_proposal_expands_to_activitystreams_or_valueflows_offline(kind):
    doc = make(kind)
    assert unknown_terms(doc) == []
    [node] = expand_offline(doc)
    assert node["@type"] == [f"{VF}Proposal"]
    primary = node[f"{VF}publishes"][0]
    assert primary["@type"] == [f"{VF}Intent"]
    assert f"{VF}action" in primary and f"{VF}effortQuantity" in primary
    assert primary[f"{VF}resourceQuantity"][0][f"{OM2}hasUnit"]
    assert node[f"{AS}name"] == [{"@value": "Cordless drill"}]
    assert node[f"{AS}attributedTo"] == [{"@id": "https://oak.example/c/sunnyside"}]


@pytest.mark.parametrize("kind", ["tool", "skill_offer", "skill_request"])
def test_what_we_publish_reads_back_as_the_same_fields(kind):
    doc = json.loads(json.dumps(make(kind)))  # as it travels
    fields = parse_proposal(doc)
    assert isinstance(fields, ProposalFields)
    assert fields.kind == kind
    assert fields.id == "https://oak.example/tools/7/" and fields.attributed_to == "https://oak.example/c/sunnyside"
    assert fields.name == "Cordless drill"
    assert fields.content == "18 V, two batteries.\n\nPick up after 6 pm."
    assert fields.category == "Power tools" and fields.url == "https://oak.example/tools/7/"
    assert fields.published == WHEN and fields.updated == LATER
    expected_fee = (Decimal("2.50"), "CREDIT") if kind == "tool" else (Decimal("1.00"), "HOUR")
    assert (fields.fee_amount, fields.fee_unit) == expected_fee
    assert fields.unit == ("day" if kind == "tool" else "hour")


def test_text_with_markup_comes_back_as_the_same_plain_text():
    doc = make(content="Tom & Jerry's <b>drill</b>\nsecond line")
    assert "&amp;" in doc["content"] and "<b>" not in doc["content"]
    assert parse_proposal(doc).content == "Tom & Jerry's <b>drill</b>\nsecond line"


def test_html_in_a_remote_name_and_content_is_stripped():
    doc = make()
    doc["name"] = '<a href="https://evil.example">Drill</a><script>steal()</script>'
    doc["content"] = '<p>Nice <img src=x onerror="steal()"><iframe src="https://evil.example"></iframe>drill</p>'
    fields = parse_proposal(doc)
    assert fields.name == "Drill"
    assert fields.content == "Nice drill"
    assert "<" not in fields.name + fields.content


def test_a_remote_proposal_without_a_fee_is_a_gift():
    doc = make()
    del doc["reciprocal"]
    fields = parse_proposal(doc)
    assert fields.fee_amount is None and fields.fee_unit is None


def test_a_minimal_fep_0837_proposal_from_another_server_is_accepted():
    doc = {
        "@context": CONTEXT,
        "type": "Proposal",
        "id": "https://market.example/proposals/ddde9d6f",
        "purpose": "offer",
        "attributedTo": "https://market.example/users/alice",
        "name": "Help with gardening",
        "published": "2023-06-18T19:22:03.918737Z",
        "publishes": {
            "type": "Intent",
            "id": "https://market.example/proposals/ddde9d6f#primary",
            "action": "deliverService",
            "resourceQuantity": {"hasUnit": "one", "hasNumericalValue": "1"},
        },
        "to": PUBLIC,
    }
    fields = parse_proposal(doc)
    assert fields.kind == "skill_offer" and fields.url == doc["id"] and fields.updated == fields.published
    assert fields.content == "" and fields.category == ""


def broken(**changes) -> dict:
    doc = json.loads(json.dumps(make()))
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return doc


DELETE = object()


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "Note"},
        {"type": DELETE},
        {"id": DELETE},
        {"id": "javascript:alert(1)"},
        {"id": "ftp://oak.example/tools/7/"},
        {"id": "urn:uuid:1234"},
        {"id": "https:///no-host"},
        {"id": "https://oak.example/tools/7/\nHost: evil"},
        {"id": "https://oak.example/" + "a" * 3000},
        {"id": 7},
        {"attributedTo": DELETE},
        {"attributedTo": "mailto:alice@example.org"},
        {"name": DELETE},
        {"name": "<b></b>"},
        {"name": "x" * (MAX_NAME + 1)},
        {"name": ["a list"]},
        {"content": "x" * (MAX_CONTENT + 1)},
        {"content": {"nested": "object"}},
        {"purpose": "sell"},
        {"purpose": DELETE},
        {"publishes": "https://oak.example/tools/7/#primary"},
        {"publishes__type": "Commitment"},
        {"publishes__action": "consume"},
        {"published": DELETE},
        {"published": "yesterday"},
        {"published": "2026-11-30T09:15:00"},  # no time zone
        {"reciprocal": "free"},
        {"reciprocal__action": "use"},
        {"reciprocal__resourceQuantity": DELETE},
        {"reciprocal__resourceQuantity__hasNumericalValue": "-1"},
        {"reciprocal__resourceQuantity__hasNumericalValue": "abc"},
        {"reciprocal__resourceQuantity__hasNumericalValue": "NaN"},
        {"reciprocal__resourceQuantity__hasNumericalValue": "Infinity"},
        {"reciprocal__resourceQuantity__hasNumericalValue": "1e9"},
        {"reciprocal__resourceQuantity__hasNumericalValue": "0.001"},
        {"reciprocal__resourceQuantity__hasNumericalValue": True},
        {"reciprocal__resourceQuantity__hasNumericalValue": None},
        {"reciprocal__resourceQuantity__hasNumericalValue": ["2"]},
        {"reciprocal__resourceQuantity__hasUnit": "<script>"},
        {"reciprocal__resourceQuantity__hasUnit": DELETE},
        {"publishes__effortQuantity": "a day"},
        {"publishes__resourceClassifiedAs": ["c"] * 11},
        {"publishes__resourceClassifiedAs": {"@id": "https://oak.example/c"}},
        {"url": "javascript:alert(1)"},
    ],
)
def test_a_malformed_proposal_is_refused_with_a_reason(changes):
    with pytest.raises(VocabError) as refused:
        parse_proposal(broken(**changes))
    assert refused.value.reason


def test_something_that_is_not_an_object_is_refused():
    for value in (None, [], "Proposal", 3):
        with pytest.raises(VocabError):
            parse_proposal(value)


def test_a_fee_as_a_json_number_is_read_as_a_decimal():
    fields = parse_proposal(broken(reciprocal__resourceQuantity__hasNumericalValue=3))
    assert fields.fee_amount == Decimal("3.00")


def test_the_writer_refuses_an_unknown_kind_or_a_naive_moment():
    with pytest.raises(ValueError):
        make("solar")
    with pytest.raises(ValueError):
        make(published=dt.datetime(2026, 1, 1))  # noqa: DTZ001 - the naive moment is the point
