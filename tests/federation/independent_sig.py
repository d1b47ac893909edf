"""An implementation of HTTP signature checking written from the texts (RFC 9421 sections
2 and 3, RFC 9530 for Content-Digest, draft-cavage-http-signatures-12 section 2.3),
sharing no code with ``apps.federation.httpsig``: the end-to-end test checks every
signed request the two instances exchanged with it.

``check(method, url, headers, body, public_pem)`` returns the key id and the style, or
raises ``AssertionError`` saying what does not hold.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def is_signed(headers: dict[str, str]) -> bool:
    lowered = {k.lower() for k in headers}
    return "signature" in lowered or headers.get("authorization", "").lower().startswith("signature ")


def key_id_of(headers: dict[str, str]) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    if "signature-input" in lowered:
        match = re.search(r';keyid="([^"]+)"', lowered["signature-input"])
        assert match, lowered["signature-input"]
        return match.group(1)
    value = lowered.get("signature") or lowered["authorization"][10:]
    return dict(re.findall(r'(\w+)="([^"]*)"', value))["keyId"]


def _check_digest(lowered: dict[str, str], body: bytes) -> None:
    if not body:
        return
    if "content-digest" in lowered:
        for item in lowered["content-digest"].split(","):
            name, _, value = item.strip().partition("=")
            algorithm = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}[name.strip()]
            assert base64.b64decode(value.strip(":")) == algorithm(body).digest(), "Content-Digest does not match"
        return
    assert "digest" in lowered, "a request with a body has no digest"
    name, _, value = lowered["digest"].partition("=")
    algorithm = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}[name.strip().lower()]
    assert base64.b64decode(value) == algorithm(body).digest(), "Digest does not match"


def _rfc9421_value(name: str, method: str, url: str, lowered: dict[str, str]) -> str:
    parts = urlsplit(url)
    authority = parts.hostname + (f":{parts.port}" if parts.port not in (None, 80, 443) else "")
    derived = {
        "@method": method.upper(),
        "@target-uri": url,
        "@authority": authority,
        "@scheme": parts.scheme,
        "@path": parts.path or "/",
        "@query": f"?{parts.query}",
        "@request-target": (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
    }
    if name in derived:
        return derived[name]
    return lowered[name].strip()


def _verify_rsa(public_pem: str, signature: bytes, message: bytes) -> None:
    key = serialization.load_pem_public_key(public_pem.encode())
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())  # raises InvalidSignature


def check(*, method: str, url: str, headers: dict[str, str], body: bytes, public_pem: str) -> tuple[str, str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    _check_digest(lowered, body)
    if "signature-input" in lowered:
        label, _, inner = lowered["signature-input"].partition("=")
        match = re.fullmatch(r"\((.*?)\)(.*)", inner)
        assert match, inner
        names = re.findall(r'"([^"]+)"', match.group(1))
        if body:
            assert "content-digest" in names, "the body's digest is not covered"
        assert "@method" in names and ("@target-uri" in names or "@path" in names), "the target is not covered"
        lines = [f'"{name}": {_rfc9421_value(name, method, url, lowered)}' for name in names]
        lines.append(f'"@signature-params": {inner}')
        sig = re.fullmatch(rf"{re.escape(label)}=:([A-Za-z0-9+/=]+):", lowered["signature"].strip())
        assert sig, lowered["signature"]
        _verify_rsa(public_pem, base64.b64decode(sig.group(1)), "\n".join(lines).encode("ascii"))
        return key_id_of(headers), "rfc9421"
    value = lowered.get("signature") or lowered["authorization"][10:]
    fields = dict(re.findall(r'(\w+)="([^"]*)"', value))
    covered = fields.get("headers", "date").split()
    if body:
        assert "digest" in covered, "the body's digest is not covered"
    parts = urlsplit(url)
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(
                f"(request-target): {method.lower()} {parts.path}" + (f"?{parts.query}" if parts.query else "")
            )
        else:
            lines.append(f"{name}: {lowered[name]}")
    _verify_rsa(public_pem, base64.b64decode(fields["signature"]), "\n".join(lines).encode())
    return fields["keyId"], "cavage"
