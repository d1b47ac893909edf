"""The data download in the open vocabulary: ActivityStreams 2.0 + ValueFlows JSON-LD,
in the spirit of FEP-6fcd's export container, built from the same tables as data.json.

    docs = jsonld_documents(user=member, tables=tables)   # {"actor.json": {...}, "outbox.json": {...}}

- ``actor.json``: a ``Person`` with the member's public profile only (name, about me,
  neighborhood; never the email, phone or exact address).
- ``outbox.json``: an ``OrderedCollection`` whose ``orderedItems`` are
  - the listings still on offer (tools not retired, skill offers and requests still
    open; none hidden by moderation) as FEP-0837 ``Proposal``s
    (``apps.federation.vocab.proposal``), with the skills, dates and loan terms a
    p2pcommons instance needs to list them again (``p2p:`` terms);
  - every ledger transfer the member was part of as a ValueFlows ``EconomicEvent``
    (action ``transfer``, ``provider`` and ``receiver``: the member's actor, or another
    member by public name only, ``resourceQuantity`` in the currency);
  - the reviews they wrote as ``Note``s (``rating``, ``reviewOf`` by public name).

Every document carries ``apps.federation.vocab.CONTEXT``; every key expands to an IRI
against the vendored contexts, offline (tests/privacy/test_export_jsonld.py). Ids are the
objects' addresses on this instance (``SITE_URL``), so an import elsewhere can tell a file
it has seen from a new one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse

from apps.federation.vocab import CONTEXT, proposal, text_to_html

ACTOR_FILE = "actor.json"
OUTBOX_FILE = "outbox.json"
TOOL_UNIT = "day"
TOOL_FEE_UNIT = "CREDIT"
SKILL_UNIT = "hour"
SKILL_FEE_UNIT = "HOUR"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def actor_iri(user) -> str:
    return absolute(reverse("peers:profile", args=[user.pk]))


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _community_iris(tables: dict[str, list[dict]]) -> dict[int, str]:
    """Community id -> its page's address, for every community the listings, transfers
    and reviews name (one query)."""
    from apps.peers.models import Community

    ids: set[int] = set()
    for name in ("tools", "skill_offers", "skill_requests", "ledger_entries", "reviews_written"):
        ids |= {row["community_id"] for row in tables.get(name, []) if row.get("community_id")}
    return {
        pk: absolute(reverse("peers:community", args=[slug]))
        for pk, slug in Community.objects.filter(pk__in=ids).values_list("pk", "slug")
    }


def _to(community_iri: str | None) -> list[str]:
    return [community_iri] if community_iri else []


def _tool_items(actor: str, tables: dict, communities: dict[int, str]) -> list[dict]:
    items = []
    for row in tables.get("tools", []):
        if row["status"] == "retired" or row.get("is_hidden"):
            continue
        iri = absolute(reverse("tools:detail", args=[row["id"]]))
        fee = Decimal(row["fee_per_day"]) if row.get("fee_per_day") else None
        doc = proposal(
            id=iri,
            attributed_to=actor,
            kind="tool",
            name=row["title"],
            content=row.get("description", ""),
            category=row.get("category") or "",
            url=iri,
            published=_moment(row["created_at"]),
            updated=_moment(row["created_at"]),
            unit=TOOL_UNIT,
            fee_amount=fee,
            fee_unit=TOOL_FEE_UNIT if fee else None,
            to=_to(communities.get(row["community_id"])),
        )
        del doc["@context"]  # the collection's context covers its items
        doc["condition"] = row.get("condition", "")
        doc["usageRules"] = row.get("usage_rules", "")
        doc["maxLoanDays"] = row.get("max_loan_days")
        items.append(doc)
    return items


def _skill_items(actor: str, tables: dict, communities: dict[int, str]) -> list[dict]:
    items = []
    for table, kind, route in (
        ("skill_offers", "skill_offer", "skills:offer"),
        ("skill_requests", "skill_request", "skills:request"),
    ):
        for row in tables.get(table, []):
            if row["status"] != "open" or row.get("is_hidden"):
                continue
            iri = absolute(reverse(route, args=[row["id"]]))
            skills = list(row.get("skills") or [])
            doc = proposal(
                id=iri,
                attributed_to=actor,
                kind=kind,
                name=row["title"],
                content=row.get("description", ""),
                category=skills[0] if skills else "",
                url=iri,
                published=_moment(row["created_at"]),
                updated=_moment(row["updated_at"]),
                unit=SKILL_UNIT,
                fee_amount=Decimal("1"),
                fee_unit=SKILL_FEE_UNIT,
                to=_to(communities.get(row["community_id"])),
            )
            del doc["@context"]
            if len(skills) > 1:
                doc["publishes"]["resourceClassifiedAs"] = skills
            doc["remoteOk"] = bool(row.get("remote_ok"))
            if kind == "skill_request":
                doc["wantedFrom"] = row["wanted_from"]
                doc["wantedUntil"] = row["wanted_until"]
                doc["estimatedHours"] = row["estimated_hours"]
            items.append(doc)
    return items


def _person(name: str) -> dict:
    """Another member, by their public name only (a blank node: no address of theirs)."""
    return {"type": "Person", "name": name or "?"}


def _transfer_items(actor: str, tables: dict, communities: dict[int, str]) -> list[dict]:
    items = []
    seen: set[int] = set()
    for row in tables.get("ledger_entries", []):
        if row["transfer_id"] in seen:
            continue
        seen.add(row["transfer_id"])
        community = communities.get(row["community_id"], absolute("/"))
        amount = Decimal(row["amount"])
        me: Any = actor
        them = _person(row.get("counterparty", ""))
        event = {
            "type": "EconomicEvent",
            "id": f"{community}#transfer-{row['transfer_id']}",
            "action": "transfer",
            "provider": me if amount < 0 else them,
            "receiver": them if amount < 0 else me,
            "resourceQuantity": {"hasUnit": row["currency"], "hasNumericalValue": str(abs(amount))},
            "hasPointInTime": row["created_at"],
            "context": community,
        }
        if row.get("memo"):
            event["summary"] = text_to_html(row["memo"])
        items.append(event)
    return items


def _review_items(actor: str, tables: dict, communities: dict[int, str]) -> list[dict]:
    items = []
    for row in tables.get("reviews_written", []):
        note = {
            "type": "Note",
            "id": f"{actor}#review-{row['id']}",
            "attributedTo": actor,
            "content": text_to_html(row.get("comment", "")),
            "published": row["created_at"],
            "rating": row["rating"],
            "reviewOf": _person(row.get("subject") or ""),
        }
        if row.get("community_id") in communities:
            note["context"] = communities[row["community_id"]]
        items.append(note)
    return items


def jsonld_documents(*, user, tables: dict[str, list[dict]]) -> dict[str, dict]:
    """``actor.json`` and ``outbox.json`` (see the module's docstring) from the
    tables ``apps.privacy.export.collect`` gave for ``user``."""
    actor = actor_iri(user)
    profile = (tables.get("profile") or [{}])[0]
    communities = _community_iris(tables)
    person = {
        "@context": CONTEXT,
        "type": "Person",
        "id": actor,
        "url": actor,
        "name": profile.get("display_name") or user.public_name,
        "summary": text_to_html(profile.get("bio", "")),
        "neighborhood": profile.get("neighborhood", ""),
        "outbox": f"{actor}#outbox",
    }
    items = [
        *_tool_items(actor, tables, communities),
        *_skill_items(actor, tables, communities),
        *_transfer_items(actor, tables, communities),
        *_review_items(actor, tables, communities),
    ]
    outbox = {
        "@context": CONTEXT,
        "type": "OrderedCollection",
        "id": f"{actor}#outbox",
        "attributedTo": actor,
        "totalItems": len(items),
        "orderedItems": items,
    }
    return {ACTOR_FILE: person, OUTBOX_FILE: outbox}
