"""The open vocabulary: listings as FEP-0837 "Federated Marketplace" Proposals
(ActivityStreams 2.0 with the ValueFlows intent terms), both ways.

    doc = proposal(id=..., kind="tool", ...)   # what we publish for a listing
    fields = parse_proposal(doc)              # what we accept from anyone else (VocabError)

A listing is a ``Proposal`` whose primary intent (``publishes``) says what is on offer
or wanted, and whose reciprocal intent (``reciprocal``) what is given in return:

- a tool: purpose ``offer``; ``publishes`` action ``use`` of one (``resourceQuantity``
  1 ``one``) per day (``effortQuantity`` 1 ``day``), classified by its category;
  ``reciprocal`` action ``transfer`` of the fee per day (``CREDIT``), only when it has one;
- a skill offer: purpose ``offer``; ``publishes`` action ``work`` by the hour;
  ``reciprocal`` the time credit, 1 ``HOUR`` per hour;
- a skill request: the same with purpose ``request``.

``unitBased`` is true: the reciprocal is per unit of ``effortQuantity`` (a loan of three
days costs three times the fee). Every term is defined in ``CONTEXT`` (the vendored
ActivityStreams and security contexts, then the ValueFlows, units-of-measure and
p2pcommons terms inline), so a document expands offline (``apps.federation.jsonld``).

Remote documents are untrusted: ``parse_proposal`` accepts only the shape above, within
our field limits, with http(s) identifiers, and strips every HTML tag from the text.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import nh3

from .jsonld import ACTIVITYSTREAMS, SECURITY_V1

VF = "https://w3id.org/valueflows/ont/vf#"
OM2 = "http://www.ontology-of-units-of-measure.org/resource/om-2/"
P2P = "https://p2pcommons.org/ns#"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# The terms FEP-0837 defines (vf: and om2:), the ValueFlows terms our export uses for
# ledger transfers, and our own few (p2p:), for CONTEXT's third element.
TERMS: dict[str, Any] = {
    "vf": VF,
    "om2": OM2,
    "p2p": P2P,
    # FEP-0837 Proposals, Intents, Agreements, Commitments
    "Proposal": "vf:Proposal",
    "Intent": "vf:Intent",
    "Agreement": "vf:Agreement",
    "Commitment": "vf:Commitment",
    "purpose": "vf:purpose",
    "publishes": "vf:publishes",
    "reciprocal": "vf:reciprocal",
    "unitBased": "vf:unitBased",
    "action": "vf:action",
    "resourceConformsTo": {"@id": "vf:resourceConformsTo", "@type": "@id"},
    "resourceClassifiedAs": "vf:resourceClassifiedAs",
    "resourceQuantity": "vf:resourceQuantity",
    "effortQuantity": "vf:effortQuantity",
    "availableQuantity": "vf:availableQuantity",
    "minimumQuantity": "vf:minimumQuantity",
    "hasUnit": "om2:hasUnit",
    "hasNumericalValue": "om2:hasNumericalValue",
    "satisfies": {"@id": "vf:satisfies", "@type": "@id"},
    "stipulates": "vf:stipulates",
    "stipulatesReciprocal": "vf:stipulatesReciprocal",
    # ValueFlows economic events (ledger transfers in the member export)
    "EconomicEvent": "vf:EconomicEvent",
    "provider": {"@id": "vf:provider", "@type": "@id"},
    "receiver": {"@id": "vf:receiver", "@type": "@id"},
    "hasPointInTime": {"@id": "vf:hasPointInTime", "@type": "xsd:dateTime"},
    # p2pcommons: what a listing here has beyond FEP-0837, and reviews
    "neighborhood": "p2p:neighborhood",
    "condition": "p2p:condition",
    "usageRules": "p2p:usageRules",
    "maxLoanDays": {"@id": "p2p:maxLoanDays", "@type": "xsd:integer"},
    "remoteOk": {"@id": "p2p:remoteOk", "@type": "xsd:boolean"},
    "wantedFrom": {"@id": "p2p:wantedFrom", "@type": "xsd:date"},
    "wantedUntil": {"@id": "p2p:wantedUntil", "@type": "xsd:date"},
    "estimatedHours": {"@id": "p2p:estimatedHours", "@type": "xsd:decimal"},
    "rating": {"@id": "p2p:rating", "@type": "xsd:integer"},
    "reviewOf": "p2p:reviewOf",
}
CONTEXT: list = [ACTIVITYSTREAMS, SECURITY_V1, TERMS]

KINDS = ("tool", "skill_offer", "skill_request")
TOOL_CLASS = f"{P2P}Tool"
SKILL_CLASS = f"{P2P}Skill"
# (purpose, primary action) -> kind; "deliverService" is FEP-0837's word for a service.
_KIND_OF = {
    ("offer", "use"): "tool",
    ("offer", "work"): "skill_offer",
    ("offer", "deliverService"): "skill_offer",
    ("request", "work"): "skill_request",
    ("request", "deliverService"): "skill_request",
}

# Our field limits (the longest of the listings' own: tool and skill titles are 120,
# tool descriptions 5000, tool categories 60 and skill names 80).
MAX_IRI = 2048
MAX_NAME = 120
MAX_CONTENT = 5000
MAX_CATEGORY = 80
MAX_CATEGORIES = 10
MAX_FEE = Decimal("1000000")
_UNIT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


class VocabError(ValueError):
    """A remote document is not a listing we accept; ``reason`` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProposalFields:
    """A Proposal, checked and cleaned: plain text (no HTML), aware datetimes."""

    id: str
    attributed_to: str
    kind: str
    name: str
    content: str
    category: str
    url: str
    published: dt.datetime
    updated: dt.datetime
    fee_amount: Decimal | None
    fee_unit: str | None
    unit: str = ""
    categories: tuple[str, ...] = field(default=())


# --- writing ------------------------------------------------------------------------
def _moment(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _quantity(unit: str, value: Decimal | int) -> dict:
    return {"hasUnit": unit, "hasNumericalValue": str(value)}


def text_to_html(text: str) -> str:
    """Plain text as the HTML ``content`` carries: escaped, paragraphs and line breaks kept."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def proposal(
    *,
    id: str,
    attributed_to: str,
    kind: str,
    name: str,
    content: str,
    category: str,
    url: str,
    published: dt.datetime,
    updated: dt.datetime,
    unit: str,
    fee_amount: Decimal | None,
    fee_unit: str | None,
    to: list[str],
) -> dict:
    """The FEP-0837 Proposal of one listing (see the module's docstring for the shape).
    ``unit`` is what the reciprocal is counted per (``day`` for tools, ``hour`` for
    skills); a fee of None or zero publishes no reciprocal (a gift)."""
    if kind not in KINDS:
        raise ValueError(f"unknown listing kind {kind!r}")
    tool = kind == "tool"
    primary = {
        "type": "Intent",
        "id": f"{id}#primary",
        "action": "use" if tool else "work",
        "resourceConformsTo": TOOL_CLASS if tool else SKILL_CLASS,
        "resourceClassifiedAs": category,
        "resourceQuantity": _quantity("one", 1) if tool else _quantity(unit, 1),
        "effortQuantity": _quantity(unit, 1),
    }
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Proposal",
        "id": id,
        "purpose": "request" if kind == "skill_request" else "offer",
        "attributedTo": attributed_to,
        "name": name,
        "content": text_to_html(content),
        "mediaType": "text/html",
        "url": url,
        "published": _moment(published),
        "updated": _moment(updated),
        "publishes": primary,
        "unitBased": True,
        "to": list(to),
    }
    if fee_amount is not None and fee_unit and fee_amount > 0:
        doc["reciprocal"] = {
            "type": "Intent",
            "id": f"{id}#reciprocal",
            "action": "transfer",
            "resourceQuantity": _quantity(fee_unit, fee_amount),
        }
    return doc


# --- reading ------------------------------------------------------------------------
def plain_text(value: Any, *, limit: int, what: str, required: bool = False) -> str:
    """Untrusted text as plain text: every tag removed (scripts with their content),
    entities decoded, paragraphs and line breaks kept, refused past ``limit``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise VocabError(f"{what} is not text")
    if len(value) > limit * 4:  # refused before any parsing: far too long even as HTML
        raise VocabError(f"{what} is too long")
    value = re.sub(r"(?i)<br\s*/?>", "\n", value)
    value = re.sub(r"(?i)</p>\s*<p[^>]*>", "\n\n", value)
    text = html.unescape(nh3.clean(value, tags=set())).strip()
    text = text.replace("\x00", "")
    if len(text) > limit:
        raise VocabError(f"{what} is too long")
    if required and not text:
        raise VocabError(f"{what} is missing")
    return text


def http_iri(value: Any, *, what: str) -> str:
    """An absolute http(s) identifier with a host, or VocabError."""
    if not isinstance(value, str) or not value:
        raise VocabError(f"{what} is missing")
    if len(value) > MAX_IRI or any(c.isspace() or ord(c) < 32 for c in value):
        raise VocabError(f"{what} is not a usable address")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VocabError(f"{what} is not an http(s) address")
    return value


def moment(value: Any, *, what: str) -> dt.datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise VocabError(f"{what} is not a date and time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise VocabError(f"{what} is not a date and time") from None
    if parsed.tzinfo is None:
        raise VocabError(f"{what} has no time zone")
    return parsed


def amount(value: Any, *, what: str) -> Decimal:
    """A non-negative decimal below ``MAX_FEE`` with at most two decimals (JSON numbers
    or strings; never booleans, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or len(str(value)) > 32:
        raise VocabError(f"{what} is not an amount")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise VocabError(f"{what} is not an amount") from None
    if not number.is_finite() or number < 0 or number >= MAX_FEE:
        raise VocabError(f"{what} is not an amount")
    if number != number.quantize(Decimal("0.01")):
        raise VocabError(f"{what} has more than two decimals")
    return number.quantize(Decimal("0.01"))


def _is_type(obj: dict, wanted: str) -> bool:
    kind = obj.get("type")
    return kind == wanted or (isinstance(kind, list) and wanted in kind and len(kind) <= 4)


def _url(value: Any, fallback: str) -> str:
    if value is None:
        return fallback
    if isinstance(value, dict) and _is_type(value, "Link"):
        value = value.get("href")
    if isinstance(value, list) and value:
        return _url(value[0], fallback)
    return http_iri(value, what="url")


def _categories(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if len(values) > MAX_CATEGORIES:
        raise VocabError("too many categories")
    cleaned = []
    for item in values:
        text = plain_text(item, limit=MAX_CATEGORY, what="category")
        if text and text not in cleaned:
            cleaned.append(text)
    return tuple(cleaned)


def _unit(value: Any, *, what: str) -> str:
    if not isinstance(value, str) or not _UNIT.match(value):
        raise VocabError(f"{what} is not a unit")
    return value


def parse_proposal(obj: dict) -> ProposalFields:
    """A remote Proposal as ``ProposalFields``; ``VocabError`` for anything we do not
    accept: not a Proposal, no id/attributedTo/name, identifiers that are not http(s),
    an intent of another shape, a fee that is not a non-negative decimal, text longer
    than our limits. Names, descriptions and categories come back as plain text."""
    if not isinstance(obj, dict):
        raise VocabError("not an object")
    if not _is_type(obj, "Proposal"):
        raise VocabError("not a Proposal")
    proposal_id = http_iri(obj.get("id"), what="id")
    attributed_to = http_iri(obj.get("attributedTo"), what="attributedTo")
    purpose = obj.get("purpose")
    primary = obj.get("publishes")
    if not isinstance(primary, dict) or not _is_type(primary, "Intent"):
        raise VocabError("publishes is not an Intent")
    kind = _KIND_OF.get((purpose, primary.get("action"))) if isinstance(purpose, str) else None
    if kind is None:
        raise VocabError("not a tool, an offer of help or a request for help")
    name = plain_text(obj.get("name"), limit=MAX_NAME, what="name", required=True)
    content = plain_text(obj.get("content"), limit=MAX_CONTENT, what="content")
    categories = _categories(primary.get("resourceClassifiedAs"))
    unit = ""
    effort = primary.get("effortQuantity")
    if effort is not None:
        if not isinstance(effort, dict):
            raise VocabError("effortQuantity is not a quantity")
        unit = _unit(effort.get("hasUnit"), what="effortQuantity")
    published = moment(obj.get("published"), what="published")
    updated = moment(obj["updated"], what="updated") if obj.get("updated") is not None else published
    fee_amount: Decimal | None = None
    fee_unit: str | None = None
    reciprocal = obj.get("reciprocal")
    if reciprocal is not None:
        if not isinstance(reciprocal, dict) or not _is_type(reciprocal, "Intent"):
            raise VocabError("reciprocal is not an Intent")
        if reciprocal.get("action") != "transfer":
            raise VocabError("reciprocal is not a transfer")
        quantity = reciprocal.get("resourceQuantity")
        if not isinstance(quantity, dict):
            raise VocabError("reciprocal has no quantity")
        fee_unit = _unit(quantity.get("hasUnit"), what="fee unit")
        fee_amount = amount(quantity.get("hasNumericalValue"), what="fee")
    return ProposalFields(
        id=proposal_id,
        attributed_to=attributed_to,
        kind=kind,
        name=name,
        content=content,
        category=categories[0] if categories else "",
        url=_url(obj.get("url"), proposal_id),
        published=published,
        updated=updated,
        fee_amount=fee_amount,
        fee_unit=fee_unit,
        unit=unit,
        categories=categories,
    )
