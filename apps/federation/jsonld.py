"""JSON-LD without the network: pyld with a document loader that serves only the
contexts vendored in ``apps/federation/contexts/`` and refuses every other URL.

    expand_offline(doc)   # pyld's expansion of ``doc``; ContextRefused for a foreign context
    unknown_terms(doc)    # the keys of ``doc`` (any depth) that do not expand to an IRI

A context fetched at run time would let whoever serves it change what our documents
mean, and would make every expansion a request to a third party; so nothing is ever
fetched (``load_document`` raises before any I/O for a URL it does not hold).
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pyld import jsonld

CONTEXTS_DIR = Path(__file__).parent / "contexts"
ACTIVITYSTREAMS = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
VENDORED: dict[str, str] = {
    ACTIVITYSTREAMS: "activitystreams.jsonld",
    SECURITY_V1: "security-v1.jsonld",
}
# The ActivityStreams context is also published under these names (its own "@id" and
# the form without "https"); both are the same document.
ALIASES: dict[str, str] = {
    "https://www.w3.org/ns/activitystreams.jsonld": ACTIVITYSTREAMS,
    "http://www.w3.org/ns/activitystreams": ACTIVITYSTREAMS,
}
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PROBE = "urn:p2pcommons:probe"


class ContextRefused(Exception):
    """A document named a context that is not vendored here (nothing was fetched)."""

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD context not available offline: {url[:200]}")
        self.url = url


@cache
def _document(name: str) -> dict:
    return json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8"))


def load_document(url: str, options: dict | None = None) -> dict:
    """pyld's ``documentLoader``: a vendored context, or ``ContextRefused``. Never any I/O
    beyond reading the vendored file."""
    canonical = ALIASES.get(url, url)
    name = VENDORED.get(canonical)
    if name is None:
        raise ContextRefused(url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": canonical,
        "document": _document(name),
    }


def _options() -> dict:
    return {"documentLoader": load_document}


def _refused(exc: BaseException) -> ContextRefused | None:
    """The ``ContextRefused`` pyld wrapped (its errors chain the cause), if any."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 20:
        if isinstance(current, ContextRefused):
            return current
        details = getattr(current, "details", None)
        cause = getattr(current, "cause", None) or current.__cause__ or current.__context__
        if cause is None and isinstance(details, dict):
            cause = details.get("cause")
        current = cause if isinstance(cause, BaseException) else None
        seen += 1
    return None


def expand_offline(doc: dict) -> list:
    """``doc`` expanded (JSON-LD 1.1, pyld) against the vendored contexts only. Raises
    ``ContextRefused`` when it names any other context, and pyld's ``JsonLdError`` when
    it is not valid JSON-LD."""
    try:
        return jsonld.expand(doc, _options())
    except jsonld.JsonLdError as exc:
        refused = _refused(exc)
        if refused is not None:
            raise refused from exc
        raise


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)  # bounded: the contexts of a remote document are the sender's to choose
def _expands(key: str, contexts_json: str) -> bool:
    """Whether ``key`` expands to a keyword or an absolute IRI (not a blank node: the
    ActivityStreams context sends every undefined term to ``_:``) under the contexts
    given (as JSON, so the answer can be cached)."""
    contexts = json.loads(contexts_json)
    probe = {"@context": contexts, key: "x", _PROBE: "y"}
    try:
        expanded = jsonld.expand(probe, _options())
    except jsonld.JsonLdError as exc:
        if _refused(exc) is not None:
            raise _refused(exc) from exc
        return False
    if not expanded:
        return False
    names = set(expanded[0]) - {_PROBE}
    if not names:
        return False  # dropped: no definition and no @vocab
    return all(
        name.startswith("@") or (bool(_ABSOLUTE_IRI.match(name)) and not name.startswith("_:")) for name in names
    )


def unknown_terms(doc: dict) -> list[str]:
    """Every key of ``doc``, at every depth, that does not expand to an absolute IRI (or
    to a keyword, like ``id`` and ``type``) under the contexts in effect where it stands
    (the top-level ``@context`` plus any nested one). ``@``-keywords are not terms and
    are left out. In the order first met; empty when every term is defined."""
    unknown: list[str] = []

    def walk(node: Any, contexts: list) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, contexts)
            return
        if not isinstance(node, dict):
            return
        if "@context" in node:
            contexts = contexts + _as_list(node["@context"])
        key_contexts = json.dumps(contexts, sort_keys=True)
        for key, value in node.items():
            if key == "@context":
                continue
            if not key.startswith("@") and key not in unknown and not _expands(key, key_contexts):
                unknown.append(key)
            walk(value, contexts)

    walk(doc, [])
    return unknown
