"""HTTP Message Signatures between servers (apps/federation/httpsig.py).

Every signature we make is checked by an independent implementation written here from the texts:
the RFC 9421 signature base (section 2.5) and the draft-cavage-12 signing string are built by hand
and verified with ``cryptography`` directly; signatures made by hand are accepted by our
verifier; the RFC's own published examples (Appendix B) verify; and each refusal has its reason.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from django.test import RequestFactory

from apps.federation.httpsig import (
    SignatureRefused,
    Verified,
    django_request_parts,
    generate_rsa_keypair,
    sign_request,
    verify_request,
    verify_rfc9421_signature,
)

VECTORS = Path(__file__).parent / "rfc9421"
NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
INBOX = "https://river.example/communities/riverside/inbox"
KEY_ID = "https://hill.example/communities/hillside#main-key"
BODY = b'{"type":"Follow","actor":"https://hill.example/communities/hillside"}'


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def other_keys() -> tuple[str, str]:
    return generate_rsa_keypair()


class Memory:
    """A replay memory like the one the inbox keeps: remembers tokens, says if one came before."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def __call__(self, token: str) -> bool:
        if token in self.tokens:
            return True
        self.tokens.append(token)
        return False


def verify(headers, *, public_pem, body=BODY, method="POST", url=INBOX, now=NOW, seen=None, key_id=KEY_ID):
    return verify_request(
        method=method,
        url=url,
        headers=headers,
        body=body,
        resolve_key=lambda asked: public_pem if asked == key_id else None,
        seen=seen if seen is not None else Memory(),
        now=now,
    )


def refusal(headers, **kwargs) -> str:
    with pytest.raises(SignatureRefused) as caught:
        verify(headers, **kwargs)
    return caught.value.reason


# --- An independent implementation, from the RFC and the draft --------------------------------------


def parse_signature_input(value: str) -> tuple[str, list[tuple[str, dict[str, str]]], dict[str, str], str]:
    """(label, [(component, params)], params, the inner list's text) of a one-signature
    Signature-Input, parsed by hand (RFC 9421 section 4.1, RFC 8941 sections 3.1.1 and 3.1.2)."""
    label, _, inner = value.partition("=")
    match = re.fullmatch(r"\((.*)\)((?:;[a-z*][a-z0-9_.*-]*=(?:\"[^\"]*\"|-?\d+))*)", inner)
    assert match, value
    components = [
        (name, dict(re.findall(r';([a-z]+)="([^"]*)"', extra)))
        for name, extra in re.findall(r'"([^"]+)"((?:;[a-z]+="[^"]*")*)', match.group(1))
    ]
    params = {
        name: quoted or number
        for name, quoted, number in re.findall(r';([a-z]+)=(?:"([^"]*)"|(-?\d+))', match.group(2))
    }
    return label, components, params, inner


def component_value(name: str, params: dict[str, str], method: str, url: str, headers: dict[str, str]) -> str:
    """RFC 9421 section 2.2 derived components, section 2.1 fields (lowercased names, trimmed)."""
    parts = urlsplit(url)
    authority = parts.hostname + (f":{parts.port}" if parts.port not in (None, 443, 80) else "")
    derived = {
        "@method": method,
        "@target-uri": url,
        "@authority": authority,
        "@scheme": parts.scheme,
        "@path": parts.path or "/",
        "@query": f"?{parts.query}",
        "@request-target": (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
    }
    if name == "@query-param":
        return quote(parse_qs(parts.query)[params["name"]][0], safe="")
    if name in derived:
        return derived[name]
    lowered = {key.lower(): value.strip() for key, value in headers.items()}
    return lowered[name]


def signature_base(method: str, url: str, headers: dict[str, str]) -> tuple[bytes, str, dict[str, str]]:
    """(signature base, label, signature params) of a request's one RFC 9421 signature, built by
    hand as section 2.5 says: one line per covered component, then ``"@signature-params"``."""
    label, components, params, inner = parse_signature_input(headers["Signature-Input"])
    lines = []
    for name, component_params in components:
        identifier = f'"{name}"' + "".join(f';{key}="{value}"' for key, value in component_params.items())
        lines.append(f"{identifier}: {component_value(name, component_params, method, url, headers)}")
    lines.append(f'"@signature-params": {inner}')
    return "\n".join(lines).encode("ascii"), label, params


def signature_bytes(signature_header: str, label: str) -> bytes:
    match = re.fullmatch(rf"{re.escape(label)}=:([A-Za-z0-9+/=]+):", signature_header)
    assert match, signature_header
    return base64.b64decode(match.group(1))


def cavage_fields(value: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', value))


def cavage_signing_string(method: str, url: str, headers: dict[str, str], covered: list[str]) -> bytes:
    """draft-cavage-http-signatures-12 section 2.3, by hand."""
    parts = urlsplit(url)
    lowered = {key.lower(): value for key, value in headers.items()}
    lines = []
    for name in covered:
        if name == "(request-target)":
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            lines.append(f"(request-target): {method.lower()} {target}")
        else:
            lines.append(f"{name}: {lowered[name]}")
    return "\n".join(lines).encode("utf-8")


def http_date(moment: datetime) -> str:
    return email.utils.format_datetime(moment, usegmt=True)


def hand_signed_rfc9421(
    private_pem: str,
    *,
    components=("@method", "@target-uri", "@authority", "date", "content-digest"),
    alg: str | None = "rsa-v1_5-sha256",
    body: bytes = BODY,
    key_id: str = KEY_ID,
    created: datetime = NOW,
    date: datetime = NOW,
    url: str = INBOX,
    method: str = "POST",
) -> dict[str, str]:
    """A request signed by this file's own RFC 9421 implementation."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    headers = {"Host": urlsplit(url).hostname, "Date": http_date(date)}
    if body:
        headers["Content-Digest"] = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
    inner = "(" + " ".join(f'"{name}"' for name in components) + f");created={int(created.timestamp())}"
    inner += f';keyid="{key_id}"' + (f';alg="{alg}"' if alg else "")
    headers["Signature-Input"] = f"hand={inner}"
    base, _, _ = signature_base(method, url, headers)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(base)
    elif alg == "rsa-pss-sha512":
        signature = key.sign(base, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512())
    else:
        signature = key.sign(base, padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = "hand=:" + base64.b64encode(signature).decode() + ":"
    return headers


def hand_signed_cavage(
    private_pem: str, *, covered=("(request-target)", "host", "date", "digest"), body: bytes = BODY, date=NOW
) -> dict[str, str]:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    headers = {"Host": "river.example", "Date": http_date(date)}
    if body:
        headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    string = cavage_signing_string("POST", INBOX, headers, list(covered))
    signature = base64.b64encode(key.sign(string, padding.PKCS1v15(), hashes.SHA256())).decode()
    headers["Signature"] = f'keyId="{KEY_ID}",algorithm="hs2019",headers="{" ".join(covered)}",signature="{signature}"'
    return headers


# --- Our signatures, checked by the independent implementation --------------------------------------


def test_our_rfc9421_signature_verifies_against_a_signature_base_built_by_hand(keys):
    private_pem, public_pem = keys
    headers = sign_request(method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, now=NOW)

    base, label, params = signature_base("POST", INBOX, headers)
    public = serialization.load_pem_public_key(public_pem.encode())
    public.verify(signature_bytes(headers["Signature"], label), base, padding.PKCS1v15(), hashes.SHA256())

    assert base.decode().splitlines()[:5] == [
        '"@method": POST',
        f'"@target-uri": {INBOX}',
        '"@authority": river.example',
        f'"date": {http_date(NOW)}',
        '"content-digest": sha-256=:' + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":",
    ]
    assert params == {"created": str(int(NOW.timestamp())), "keyid": KEY_ID, "alg": "rsa-v1_5-sha256"}
    assert headers["Date"] == "Fri, 01 May 2026 12:00:00 GMT"
    assert headers["Host"] == "river.example"


def test_our_rfc9421_signature_of_a_get_covers_no_digest_and_still_verifies(keys):
    private_pem, public_pem = keys
    url = "https://river.example:8443/communities/riverside?page=2"
    headers = sign_request(method="GET", url=url, body=None, key_id=KEY_ID, private_key_pem=private_pem, now=NOW)

    base, label, _ = signature_base("GET", url, headers)
    serialization.load_pem_public_key(public_pem.encode()).verify(
        signature_bytes(headers["Signature"], label), base, padding.PKCS1v15(), hashes.SHA256()
    )
    assert "content-digest" not in base.decode()
    assert '"@authority": river.example:8443' in base.decode()
    assert headers["Host"] == "river.example:8443"


def test_our_cavage_signature_verifies_against_a_signing_string_built_by_hand(keys):
    private_pem, public_pem = keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style="cavage", now=NOW
    )

    fields = cavage_fields(headers["Signature"])
    assert fields["keyId"] == KEY_ID
    assert fields["algorithm"] == "rsa-sha256"
    assert fields["headers"] == "(request-target) host date digest"
    assert headers["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    string = cavage_signing_string("POST", INBOX, headers, fields["headers"].split())
    assert string.decode() == (
        "(request-target): post /communities/riverside/inbox\n"
        "host: river.example\n"
        "date: Fri, 01 May 2026 12:00:00 GMT\n"
        f"digest: {headers['Digest']}"
    )
    serialization.load_pem_public_key(public_pem.encode()).verify(
        base64.b64decode(fields["signature"]), string, padding.PKCS1v15(), hashes.SHA256()
    )


# --- Signatures made by hand, accepted by our verifier ----------------------------------------------


def test_a_hand_made_rfc9421_signature_is_accepted(keys):
    private_pem, public_pem = keys
    assert verify(hand_signed_rfc9421(private_pem), public_pem=public_pem) == Verified(KEY_ID, "rfc9421")


def test_a_hand_made_rfc9421_signature_with_rsa_pss_is_accepted(keys):
    private_pem, public_pem = keys
    headers = hand_signed_rfc9421(private_pem, alg="rsa-pss-sha512")
    assert verify(headers, public_pem=public_pem) == Verified(KEY_ID, "rfc9421")


def test_a_hand_made_rfc9421_signature_with_an_ed25519_key_is_accepted_without_alg():
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    headers = hand_signed_rfc9421(private_pem, alg=None)
    assert verify(headers, public_pem=public_pem) == Verified(KEY_ID, "rfc9421")


def test_a_hand_made_cavage_signature_is_accepted(keys):
    private_pem, public_pem = keys
    assert verify(hand_signed_cavage(private_pem), public_pem=public_pem) == Verified(KEY_ID, "cavage")


def test_a_cavage_signature_in_the_authorization_header_is_accepted(keys):
    private_pem, public_pem = keys
    headers = hand_signed_cavage(private_pem)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert verify(headers, public_pem=public_pem).style == "cavage"


def test_our_own_signatures_round_trip_in_both_styles(keys):
    private_pem, public_pem = keys
    for style in ("rfc9421", "cavage"):
        headers = sign_request(
            method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style=style, now=NOW
        )
        assert verify(headers, public_pem=public_pem) == Verified(KEY_ID, style)


def test_a_request_seen_through_django_verifies_with_its_parts(keys, settings):
    settings.ALLOWED_HOSTS = ["river.example"]
    private_pem, public_pem = keys
    url = "http://river.example/communities/riverside/inbox"
    headers = sign_request(method="POST", url=url, body=BODY, key_id=KEY_ID, private_key_pem=private_pem)
    request = RequestFactory().post(
        "/communities/riverside/inbox", data=BODY, content_type="application/activity+json", headers=headers
    )

    method, absolute, received, body = django_request_parts(request)

    assert (method, absolute, body) == ("POST", url, BODY)
    assert verify_request(
        method=method,
        url=absolute,
        headers=received,
        body=body,
        resolve_key=lambda key_id: public_pem,
        seen=Memory(),
    ) == Verified(KEY_ID, "rfc9421")


# --- RFC 9421 Appendix B: the published examples ----------------------------------------------------


def rfc_request() -> tuple[str, str, dict[str, str], bytes]:
    document = json.loads((VECTORS / "vectors.json").read_text())
    head, _, body = (VECTORS / document["request"]["file"]).read_bytes().partition(b"\r\n\r\n")
    request_line, *lines = head.decode("ascii").split("\r\n")
    method, target, _ = request_line.split(" ")
    headers = dict(line.split(": ", 1) for line in lines)
    return method, "https://" + headers["Host"] + target, headers, body


def rfc_vectors() -> list[dict]:
    return json.loads((VECTORS / "vectors.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", rfc_vectors(), ids=lambda vector: vector["section"])
def test_the_rfc_examples_verify_with_the_package_based_verifier(vector):
    method, url, headers, _ = rfc_request()
    headers = {**headers, "Signature-Input": vector["signature_input"], "Signature": vector["signature"]}
    public_pem = (VECTORS / f"{vector['key']}.pem").read_text()

    result = verify_rfc9421_signature(method=method, url=url, headers=headers, public_key_pem=public_pem)

    assert result.label == vector["label"]
    assert result.algorithm == vector["algorithm"]
    assert result.parameters["keyid"] == vector["key"]


@pytest.mark.parametrize("vector", rfc_vectors(), ids=lambda vector: vector["section"])
def test_the_hand_built_signature_base_matches_the_rfc_and_its_signature_checks(vector):
    method, url, headers, _ = rfc_request()
    headers = {**headers, "Signature-Input": vector["signature_input"], "Signature": vector["signature"]}

    base, label, _ = signature_base(method, url, headers)

    assert base.decode() == "\n".join(vector["signature_base"])
    public = serialization.load_pem_public_key((VECTORS / f"{vector['key']}.pem").read_bytes())
    signature = signature_bytes(vector["signature"], label)
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, base, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512())
    else:
        public.verify(signature, base)


def test_the_rfc_ed25519_example_is_reproduced_byte_for_byte():
    (vector,) = [vector for vector in rfc_vectors() if vector["section"] == "B.2.6"]
    private = serialization.load_pem_private_key((VECTORS / "test-key-ed25519.key").read_bytes(), password=None)
    signature = private.sign("\n".join(vector["signature_base"]).encode("ascii"))
    assert f"{vector['label']}=:{base64.b64encode(signature).decode()}:" == vector["signature"]


def test_the_rfc_request_digest_is_accepted_and_a_changed_example_is_refused():
    (vector,) = [vector for vector in rfc_vectors() if vector["section"] == "B.2.3"]
    method, url, headers, body = rfc_request()
    assert headers["Content-Digest"] == ("sha-512=:" + base64.b64encode(hashlib.sha512(body).digest()).decode() + ":")
    headers = {**headers, "Signature-Input": vector["signature_input"], "Signature": vector["signature"]}
    public_pem = (VECTORS / "test-key-rsa-pss.pem").read_text()
    tampered = {**headers, "Date": "Tue, 20 Apr 2021 02:07:56 GMT"}

    with pytest.raises(SignatureRefused) as caught:
        verify_rfc9421_signature(method=method, url=url, headers=tampered, public_key_pem=public_pem)

    assert caught.value.reason == "bad_signature"


def test_the_rfc_example_passes_the_full_policy_when_its_time_has_come():
    """B.2.3 covers the method, path, query, authority, date and digest, so at the moment it was
    made (created=1618884473) it is accepted by verify_request itself, and refused a day later."""
    (vector,) = [vector for vector in rfc_vectors() if vector["section"] == "B.2.3"]
    method, url, headers, body = rfc_request()
    headers = {**headers, "Signature-Input": vector["signature_input"], "Signature": vector["signature"]}
    public_pem = (VECTORS / "test-key-rsa-pss.pem").read_text()
    made = datetime.fromtimestamp(1618884473, tz=UTC)

    def check(now):
        return verify_request(
            method=method,
            url=url,
            headers=headers,
            body=body,
            resolve_key=lambda key_id: public_pem if key_id == "test-key-rsa-pss" else None,
            seen=Memory(),
            now=now,
        )

    assert check(made) == Verified("test-key-rsa-pss", "rfc9421")
    with pytest.raises(SignatureRefused) as caught:
        check(made + timedelta(days=1))
    assert caught.value.reason == "stale"


# --- Refusals, each with its reason -----------------------------------------------------------------


@pytest.mark.parametrize("style", ["rfc9421", "cavage"])
def test_a_tampered_body_is_refused(keys, style):
    private_pem, public_pem = keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style=style, now=NOW
    )
    assert refusal(headers, public_pem=public_pem, body=BODY.replace(b"Follow", b"Block!")) == "digest_mismatch"


@pytest.mark.parametrize("style", ["rfc9421", "cavage"])
def test_a_tampered_body_with_a_recomputed_digest_is_refused(keys, style):
    private_pem, public_pem = keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style=style, now=NOW
    )
    forged = BODY.replace(b"Follow", b"Block!")
    digest = base64.b64encode(hashlib.sha256(forged).digest()).decode()
    if style == "rfc9421":
        headers["Content-Digest"] = f"sha-256=:{digest}:"
    else:
        headers["Digest"] = f"SHA-256={digest}"
    assert refusal(headers, public_pem=public_pem, body=forged) == "bad_signature"


@pytest.mark.parametrize("style", ["rfc9421", "cavage"])
def test_a_signature_by_another_key_is_refused(keys, other_keys, style):
    private_pem, _ = keys
    _, other_public_pem = other_keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style=style, now=NOW
    )
    assert refusal(headers, public_pem=other_public_pem) == "bad_signature"


@pytest.mark.parametrize("style", ["rfc9421", "cavage"])
def test_the_same_signed_request_twice_is_refused_as_a_replay(keys, style):
    private_pem, public_pem = keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style=style, now=NOW
    )
    memory = Memory()

    assert verify(headers, public_pem=public_pem, seen=memory).key_id == KEY_ID
    assert refusal(headers, public_pem=public_pem, seen=memory) == "replayed"
    assert memory.tokens == [
        hashlib.sha256(
            signature_bytes(headers["Signature"], "sig1")
            if style == "rfc9421"
            else base64.b64decode(cavage_fields(headers["Signature"])["signature"])
        ).hexdigest()
    ]


def test_a_forged_signature_leaves_no_replay_token(keys, other_keys):
    private_pem, _ = keys
    _, other_public_pem = other_keys
    headers = sign_request(method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, now=NOW)
    memory = Memory()
    assert refusal(headers, public_pem=other_public_pem, seen=memory) == "bad_signature"
    assert memory.tokens == []


@pytest.mark.parametrize("style", ["rfc9421", "cavage"])
def test_a_signature_older_than_five_minutes_is_refused_as_stale(keys, style):
    private_pem, public_pem = keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style=style, now=NOW
    )
    assert verify(headers, public_pem=public_pem, now=NOW + timedelta(minutes=4, seconds=59)).style == style
    assert refusal(headers, public_pem=public_pem, now=NOW + timedelta(minutes=5, seconds=1)) == "stale"


@pytest.mark.parametrize("style", ["rfc9421", "cavage"])
def test_a_signature_from_more_than_five_minutes_ahead_is_refused_as_future(keys, style):
    private_pem, public_pem = keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style=style, now=NOW
    )
    assert refusal(headers, public_pem=public_pem, now=NOW - timedelta(minutes=6)) == "future"


def test_an_old_date_header_is_stale_even_with_a_fresh_created(keys):
    private_pem, public_pem = keys
    headers = hand_signed_rfc9421(private_pem, date=NOW - timedelta(minutes=10))
    assert refusal(headers, public_pem=public_pem) == "stale"


@pytest.mark.parametrize("style", ["rfc9421", "cavage"])
def test_a_body_without_a_digest_is_refused(keys, style):
    private_pem, public_pem = keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, style=style, now=NOW
    )
    headers.pop("Content-Digest" if style == "rfc9421" else "Digest")
    assert refusal(headers, public_pem=public_pem) == "missing"


def test_a_body_signed_without_a_digest_is_refused(keys):
    """A signed GET replayed with a body: the signature checks out but does not cover the body."""
    private_pem, public_pem = keys
    headers = sign_request(method="POST", url=INBOX, body=None, key_id=KEY_ID, private_key_pem=private_pem, now=NOW)
    headers["Content-Digest"] = "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":"
    assert refusal(headers, public_pem=public_pem) == "not_covered"


def test_an_rfc9421_signature_not_covering_the_digest_is_refused(keys):
    private_pem, public_pem = keys
    headers = hand_signed_rfc9421(private_pem, components=("@method", "@target-uri", "@authority", "date"))
    assert "Content-Digest" in headers
    assert refusal(headers, public_pem=public_pem) == "not_covered"


def test_a_cavage_signature_not_covering_the_digest_is_refused(keys):
    private_pem, public_pem = keys
    headers = hand_signed_cavage(private_pem, covered=("(request-target)", "host", "date"))
    assert "Digest" in headers
    assert refusal(headers, public_pem=public_pem) == "not_covered"


@pytest.mark.parametrize(
    "components",
    [
        ("@target-uri", "date", "content-digest"),  # no method
        ("@method", "@authority", "date", "content-digest"),  # no target
        ("@method", "@path", "date", "content-digest"),  # no query, no authority
    ],
)
def test_an_rfc9421_signature_leaving_out_method_target_or_host_is_refused(keys, components):
    private_pem, public_pem = keys
    headers = hand_signed_rfc9421(private_pem, components=components)
    assert refusal(headers, public_pem=public_pem) == "not_covered"


def test_an_rfc9421_signature_with_created_but_no_date_is_accepted(keys):
    private_pem, public_pem = keys
    headers = hand_signed_rfc9421(private_pem, components=("@method", "@target-uri", "content-digest"))
    assert verify(headers, public_pem=public_pem).style == "rfc9421"


@pytest.mark.parametrize("covered", [("host", "date"), ("(request-target)", "date"), ("(request-target)", "host")])
def test_a_cavage_signature_leaving_out_target_host_or_date_is_refused(keys, covered):
    private_pem, public_pem = keys
    headers = hand_signed_cavage(private_pem, covered=covered, body=b"")
    headers.pop("Digest", None)
    assert refusal(headers, public_pem=public_pem, body=b"") == "not_covered"


def test_a_signature_moved_to_another_inbox_is_refused(keys):
    private_pem, public_pem = keys
    headers = sign_request(method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, now=NOW)
    other = "https://river.example/communities/meadow/inbox"
    assert refusal(headers, public_pem=public_pem, url=other) == "bad_signature"


def test_an_unknown_key_is_refused(keys):
    private_pem, public_pem = keys
    headers = sign_request(
        method="POST", url=INBOX, body=BODY, key_id="https://elsewhere.example#k", private_key_pem=private_pem, now=NOW
    )
    assert refusal(headers, public_pem=public_pem) == "unknown_key"


def test_an_unsigned_request_is_refused_as_missing(keys):
    _, public_pem = keys
    assert refusal({"Date": http_date(NOW), "Host": "river.example"}, public_pem=public_pem, body=b"") == "missing"


def test_a_cavage_hmac_signature_is_refused_as_unsupported(keys):
    _, public_pem = keys
    headers = {
        "Host": "river.example",
        "Date": http_date(NOW),
        "Signature": f'keyId="{KEY_ID}",algorithm="hmac-sha256",headers="(request-target) host date",signature="AAAA"',
    }
    assert refusal(headers, public_pem=public_pem, body=b"") == "unsupported"


def test_garbage_signature_headers_are_refused_as_malformed(keys):
    _, public_pem = keys
    headers = {"Host": "river.example", "Date": http_date(NOW), "Signature-Input": "((", "Signature": "x"}
    assert refusal(headers, public_pem=public_pem, body=b"") == "malformed"


def test_two_signatures_under_one_label_are_refused_as_malformed(keys):
    private_pem, public_pem = keys
    headers = sign_request(method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, now=NOW)
    weak = '("@authority");created=' + str(int(NOW.timestamp())) + f';keyid="{KEY_ID}"'
    headers["Signature-Input"] = f"sig1={weak}, " + headers["Signature-Input"]
    headers["Signature"] = "sig1=:AAAA:, " + headers["Signature"]
    assert refusal(headers, public_pem=public_pem) == "malformed"


def test_a_request_with_a_second_foreign_signature_is_accepted_by_the_valid_one(keys, other_keys):
    """A proxy may add its own signature under another label; ours still counts, on its own."""
    private_pem, public_pem = keys
    headers = sign_request(method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, now=NOW)
    proxy = sign_request(
        method="POST", url=INBOX, body=BODY, key_id="https://proxy.example#k", private_key_pem=other_keys[0], now=NOW
    )
    headers["Signature-Input"] = proxy["Signature-Input"].replace("sig1=", "proxy=") + ", " + headers["Signature-Input"]
    headers["Signature"] = proxy["Signature"].replace("sig1=", "proxy=") + ", " + headers["Signature"]
    assert verify(headers, public_pem=public_pem) == Verified(KEY_ID, "rfc9421")


def test_a_signature_input_rewritten_to_cover_less_is_refused(keys):
    private_pem, public_pem = keys
    headers = sign_request(method="POST", url=INBOX, body=BODY, key_id=KEY_ID, private_key_pem=private_pem, now=NOW)
    headers["Signature-Input"] = headers["Signature-Input"].replace(' "date"', "")
    headers["Date"] = http_date(NOW - timedelta(days=3))
    assert refusal(headers, public_pem=public_pem) == "bad_signature"
