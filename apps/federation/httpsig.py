"""HTTP Message Signatures between servers: RFC 9421 (sent by default) and the older
draft-cavage-http-signatures-12 that most of the fediverse still sends (accepted, and sent on a
second knock).

A server proves who it is by signing with the key its actor publishes. RFC 9421 is the standard;
most of the fediverse sends draft-cavage. ``http.py`` tries RFC 9421, then cavage if refused.

What a verified request guarantees here (``verify_request``), each failure a distinct reason:

- the body is the one signed: a body needs a Content-Digest (RFC 9530) or Digest (RFC 3230)
  header that matches it (``missing`` / ``digest_mismatch``), and the signature must cover it;
- the signature covers the method, the target, the host and the time (``not_covered``), so it
  can't be moved to another request, another server or another moment;
- it was made within five minutes either way (``stale`` / ``future``);
- the key is known (``unknown_key``) and the signature checks out (``bad_signature``);
- it was not seen before (``replayed``): the caller's ``seen`` remembers a token per signature,
  asked only once the signature is verified, so forged requests can't fill the memory.

RFC 9421's signature base and cryptography: the ``http-message-signatures`` package; the policy
(coverage, time, digest, replay) and cavage's signing string: here (the package leaves those).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import http_sf
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from django.utils import timezone
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
)
from http_message_signatures.algorithms import ED25519, RSA_PSS_SHA512, RSA_V1_5_SHA256, HTTPSignatureAlgorithm

from .keys import generate_rsa_keypair, load_private_key
from .wire import _authority, _http_date, _request_target

__all__ = ["SignatureRefused", "Verified", "generate_rsa_keypair", "sign_request", "verify_request"]

MAX_SKEW = timedelta(minutes=5)
"""How far a signature's time may be from ours, either way (clock drift plus delivery time)."""

RFC9421_LABEL = "sig1"
RFC9421_COMPONENTS = ("@method", "@target-uri", "@authority", "date")
"""What we sign (plus ``content-digest`` when there is a body): RFC 9421 section 7.2.1 advises
covering the target and method; ``date`` lets cavage-era servers check freshness too."""

CAVAGE_ALGORITHMS = {"rsa-sha256", "hs2019"}
RFC9421_ALGORITHMS: dict[str, type[HTTPSignatureAlgorithm]] = {
    "rsa-v1_5-sha256": RSA_V1_5_SHA256,
    "rsa-pss-sha512": RSA_PSS_SHA512,
    "ed25519": ED25519,
}
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


class SignatureRefused(Exception):
    """The request's signature is not accepted. ``reason`` (for logs and tests; the other server
    just gets a 401) is one of: missing, malformed, digest_mismatch, stale, future, replayed,
    unknown_key, bad_signature, unsupported, not_covered. ``detail`` says more, for logs only."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Verified:
    """Who signed a request: the key id (the actor's ``publicKey.id``) and the style used."""

    key_id: str
    style: str  # "rfc9421" | "cavage"


# --- Keys -------------------------------------------------------------------------------------------


def _load_public_key(pem: str):
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        raise SignatureRefused("unsupported", "the published key could not be read") from exc
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise SignatureRefused("unsupported", f"keys of type {type(key).__name__} are not accepted")
    return key


# --- Shared pieces ----------------------------------------------------------------------------------


class _Message:
    """The request shape the package reads: method, absolute URL and header fields."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = dict(headers)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lowercased; repeated names are already joined by the caller's mapping."""
    return {name.lower(): value.strip() for name, value in headers.items()}


def _now(now: datetime | None) -> datetime:
    moment = now or timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("now must be timezone-aware")
    return moment


# --- Sending ----------------------------------------------------------------------------------------


def sign_request(
    *,
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    style: str = "rfc9421",
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers that sign this request: Host, Date, a digest of the body (when there is one)
    and the signature. RFC 9421 uses rsa-v1_5-sha256 over ``@method @target-uri @authority date``
    and ``content-digest``; ``style="cavage"`` signs ``(request-target) host date digest`` the
    draft-cavage-12 way, as Mastodon does."""
    method = method.upper()
    moment = _now(now)
    headers = {"Host": _authority(url), "Date": _http_date(moment)}
    key = load_private_key(private_key_pem)
    if style == "rfc9421":
        message = _Message(method, url, headers)
        signer = HTTPMessageSigner(
            signature_algorithm=RSA_V1_5_SHA256,
            key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
        )
        signer.sign(
            message,
            key_id=key_id,
            created=moment,
            label=RFC9421_LABEL,
            covered_component_ids=RFC9421_COMPONENTS,
            body=body,
        )
        return message.headers
    if style == "cavage":
        covered = ["(request-target)", "host", "date"]
        if body is not None:
            headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
            covered.append("digest")
        signing_string = _cavage_signing_string(method, url, _lower(headers), covered, {})
        signature = key.sign(signing_string.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        headers["Signature"] = (
            f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
            f'signature="{base64.b64encode(signature).decode("ascii")}"'
        )
        return headers
    raise ValueError(f"unknown signature style {style!r}")


# --- Receiving: digests -----------------------------------------------------------------------------


def _check_digests(headers: dict[str, str], body: bytes) -> set[str]:
    """The digest headers present, each checked against the body (all must match). A body without
    any digest is refused: a signature over the headers alone says nothing about it."""
    present: set[str] = set()
    if "content-digest" in headers:
        parsed = _parse_dictionary(headers["content-digest"], "Content-Digest")
        known = {name: value for name, (value, _) in parsed.items() if name in _DIGESTS}
        if not known or not all(isinstance(value, bytes) for value in known.values()):
            raise SignatureRefused("malformed", "Content-Digest has no sha-256 or sha-512 digest")
        for name, value in known.items():
            if not hmac.compare_digest(value, _DIGESTS[name](body).digest()):
                raise SignatureRefused("digest_mismatch", "Content-Digest does not match the body")
        present.add("content-digest")
    if "digest" in headers:
        known = {}
        for part in headers["digest"].split(","):
            name, sep, value = part.strip().partition("=")
            if sep and name.lower() in _DIGESTS:
                known[name.lower()] = value.strip()
        if not known:
            raise SignatureRefused("malformed", "Digest has no SHA-256 or SHA-512 digest")
        for name, value in known.items():
            try:
                digest = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise SignatureRefused("malformed", "Digest is not base64") from exc
            if not hmac.compare_digest(digest, _DIGESTS[name](body).digest()):
                raise SignatureRefused("digest_mismatch", "Digest does not match the body")
        present.add("digest")
    if body and not present:
        raise SignatureRefused("missing", "a body came without a digest")
    return present


def _check_time(moment: datetime, now: datetime, what: str) -> None:
    if moment < now - MAX_SKEW:
        raise SignatureRefused("stale", f"{what} is more than five minutes old")
    if moment > now + MAX_SKEW:
        raise SignatureRefused("future", f"{what} is more than five minutes ahead")


def _check_date_header(headers: dict[str, str], now: datetime) -> None:
    try:
        moment = email.utils.parsedate_to_datetime(headers["date"])
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureRefused("malformed", "the Date header is not a date") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    _check_time(moment, now, "the Date header")


# --- Receiving: RFC 9421 ----------------------------------------------------------------------------


class _PolicyVerifier(HTTPMessageVerifier):
    """The package's verifier without its own clock checks: ``verify_request`` applies the time
    policy against its ``now`` (so tests and replayed queues agree) before verifying."""

    def validate_created_and_expires(self, sig_input, max_age=None):
        return None


@dataclass(frozen=True)
class Rfc9421Result:
    """A cryptographically valid RFC 9421 signature: its label, algorithm, signed parameters and
    the covered component values (as the package returns them)."""

    label: str
    algorithm: str
    parameters: dict
    covered_components: dict


def _algorithms_for(key, alg: str | None) -> list[type[HTTPSignatureAlgorithm]]:
    """The algorithms to try for this key: ``alg`` when the signature names one (it must fit the
    key), otherwise what the key type allows (RSA: v1.5 as the fediverse signs, then PSS)."""
    if alg is not None:
        algorithm = RFC9421_ALGORITHMS.get(alg)
        if algorithm is None:
            raise SignatureRefused("unsupported", f"algorithm {alg!r} is not accepted")
        fits = isinstance(key, ed25519.Ed25519PublicKey) == (algorithm is ED25519)
        if not fits:
            raise SignatureRefused("bad_signature", f"algorithm {alg!r} does not fit the key")
        return [algorithm]
    if isinstance(key, ed25519.Ed25519PublicKey):
        return [ED25519]
    return [RSA_V1_5_SHA256, RSA_PSS_SHA512]


def verify_rfc9421_signature(
    *, method: str, url: str, headers: Mapping[str, str], public_key_pem: str, label: str | None = None
) -> Rfc9421Result:
    """Check one RFC 9421 signature cryptographically, with no policy: no clock, coverage, digest
    or replay checks (``verify_request`` adds those). For published test vectors and for tools.

    ``label`` picks a signature when the message carries several; otherwise there must be one.
    Raises SignatureRefused (``missing``, ``malformed``, ``unsupported``, ``bad_signature``)."""
    key = _load_public_key(public_key_pem)
    inputs = _parse_signature_input(_lower(headers))
    if label is None:
        if len(inputs) != 1:
            raise SignatureRefused("malformed", "several signatures and no label chosen")
        label = next(iter(inputs))
    if label not in inputs:
        raise SignatureRefused("missing", f"no signature labelled {label!r}")
    return _verify_label(method=method, url=url, headers=headers, key=key, label=label, key_id=None)


def _parse_dictionary(value: str, what: str) -> dict:
    def refuse_duplicate(key: str, context: str) -> None:
        if context == "dictionary":  # two signatures with one label: which one was checked?
            raise ValueError(f"duplicate label {key!r}")

    try:
        return http_sf.parse(value.encode("ascii"), tltype="dictionary", on_duplicate_key=refuse_duplicate)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise SignatureRefused("malformed", f"{what} is not a structured dictionary") from exc


def _parse_signature_input(headers: dict[str, str]) -> dict[str, tuple[list, dict]]:
    """Signature-Input as {label: ([(component, params)], params)}; Signature must have the same labels."""
    if "signature-input" not in headers or "signature" not in headers:
        raise SignatureRefused("missing", "Signature-Input and Signature are both needed")
    inputs = _parse_dictionary(headers["signature-input"], "Signature-Input")
    signatures = _parse_dictionary(headers["signature"], "Signature")
    if not inputs or set(inputs) != set(signatures):
        raise SignatureRefused("malformed", "Signature-Input and Signature name different signatures")
    for name, (members, _) in inputs.items():
        if not isinstance(members, list) or not isinstance(signatures[name][0], bytes):
            raise SignatureRefused("malformed", f"signature {name!r} is not an inner list with bytes")
    return inputs


def _single_label_headers(headers: Mapping[str, str], label: str) -> dict[str, str]:
    """The headers with only one signature left in Signature-Input and Signature, so the package
    verifies exactly the one our policy looked at (labels are not signed; the choice is ours)."""
    lowered = _lower(headers)
    single = {name: value for name, value in headers.items() if name.lower() not in {"signature", "signature-input"}}
    for name in ("signature-input", "signature"):
        parsed = _parse_dictionary(lowered[name], name)
        single[name] = http_sf.ser({label: parsed[label]})
    return single


def _verify_label(*, method, url, headers, key, label: str, key_id: str | None) -> Rfc9421Result:
    inputs = _parse_signature_input(_lower(headers))
    params = inputs[label][1]
    alg = params.get("alg")
    if alg is not None and not isinstance(alg, str):
        raise SignatureRefused("malformed", "alg is not a string")
    keyid = params.get("keyid")
    if not isinstance(keyid, str) or (key_id is not None and keyid != key_id):
        raise SignatureRefused("malformed", "keyid is missing or not the one checked")
    message = _Message(method.upper(), url, _single_label_headers(headers, label))
    failure: SignatureRefused | None = None
    for algorithm in _algorithms_for(key, alg):
        verifier = _PolicyVerifier(
            signature_algorithm=algorithm,
            key_resolver=MappingKeyResolver(public_keys={keyid: key}, private_keys={}),
        )
        try:
            (result,) = verifier.verify(message, max_age=None)
        except HTTPMessageSignaturesException as exc:
            failure = SignatureRefused("bad_signature", str(exc))
            continue
        return Rfc9421Result(
            label=label,
            algorithm=algorithm.algorithm_id,
            parameters=dict(result.parameters),
            covered_components=dict(result.covered_components),
        )
    assert failure is not None
    raise failure


def _covers_target(names: set[str]) -> bool:
    return bool(names & {"@target-uri", "@request-target"}) or {"@path", "@query"} <= names


@dataclass(frozen=True)
class _Incoming:
    """A request being verified, with what every check needs."""

    method: str
    url: str
    headers: Mapping[str, str]
    lowered: dict[str, str]
    digests: set[str]  # the digest headers present, already checked against the body
    has_body: bool
    now: datetime
    resolve_key: Callable[[str], str | None]

    def key(self, key_id: str):
        pem = self.resolve_key(key_id)
        if not pem:
            raise SignatureRefused("unknown_key", "the key is not known")
        return _load_public_key(pem)


def _rfc9421_policy(incoming: _Incoming) -> tuple[str, bytes]:
    """(key id, signature bytes) of the first signature that passes every check; the first
    signature's refusal when none does."""
    lowered, now = incoming.lowered, incoming.now
    inputs = _parse_signature_input(lowered)
    signatures = _parse_dictionary(lowered["signature"], "Signature")
    first: SignatureRefused | None = None
    for label, (members, params) in inputs.items():
        try:
            names = {str(name) for name, _ in members}
            required_digest = incoming.has_body and not (incoming.digests & names)
            if (
                "@method" not in names
                or not _covers_target(names)
                or not (names & {"@target-uri", "@authority", "host"})
                or not ({"date"} & names or "created" in params)
                or required_digest
            ):
                raise SignatureRefused(
                    "not_covered", "the signature leaves out the method, target, host, time or digest"
                )
            if "created" in params:
                if type(params["created"]) is not int:
                    raise SignatureRefused("malformed", "created is not an integer")
                _check_time(datetime.fromtimestamp(params["created"], tz=UTC), now, "the signature's creation time")
            if "expires" in params:
                if type(params["expires"]) is not int:
                    raise SignatureRefused("malformed", "expires is not an integer")
                if datetime.fromtimestamp(params["expires"], tz=UTC) < now:
                    raise SignatureRefused("stale", "the signature has expired")
            if "date" in names:
                _check_date_header(lowered, now)
            key_id = params.get("keyid")
            if not isinstance(key_id, str) or not key_id:
                raise SignatureRefused("malformed", "the signature names no key")
            _verify_label(
                method=incoming.method,
                url=incoming.url,
                headers=incoming.headers,
                key=incoming.key(key_id),
                label=label,
                key_id=key_id,
            )
            return key_id, signatures[label][0]
        except SignatureRefused as refused:
            first = first or refused
    assert first is not None
    raise first


# --- Receiving: draft-cavage ------------------------------------------------------------------------

_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9.]+))\s*(?:,|$)')


def _parse_cavage(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _CAVAGE_PARAM.match(value, position)
        if match is None or match.end() == position:
            raise SignatureRefused("malformed", "the Signature header is not a cavage signature")
        params[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    for needed in ("keyId", "signature"):
        if not params.get(needed):
            raise SignatureRefused("malformed", f"the Signature header has no {needed}")
    return params


def _cavage_signing_string(
    method: str, url: str, headers: dict[str, str], covered: list[str], params: dict[str, str]
) -> str:
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): {_request_target(method, url)}")
        elif name in {"(created)", "(expires)"}:
            value = params.get(name[1:-1])
            if value is None:
                raise SignatureRefused("malformed", f"{name} is signed but not given")
            lines.append(f"{name}: {value}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureRefused("malformed", f"the signed header {name!r} is not in the request")
    return "\n".join(lines)


def _cavage_verify(key, algorithm: str, signature: bytes, signing_string: bytes) -> None:
    """rsa-sha256: RSA PKCS#1 v1.5 with SHA-256. hs2019 (the algorithm comes from the key): RSA as
    the fediverse signs it (v1.5 SHA-256), else RSA-PSS SHA-512; Ed25519 keys with Ed25519."""
    attempts: list[Callable[[], None]] = []
    if isinstance(key, rsa.RSAPublicKey):
        attempts.append(lambda: key.verify(signature, signing_string, padding.PKCS1v15(), hashes.SHA256()))
        if algorithm == "hs2019":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
            attempts.append(lambda: key.verify(signature, signing_string, pss, hashes.SHA512()))
    elif algorithm == "hs2019":
        attempts.append(lambda: key.verify(signature, signing_string))
    else:
        raise SignatureRefused("bad_signature", "rsa-sha256 with a key that is not RSA")
    for attempt in attempts:
        try:
            attempt()
            return
        except (CryptoInvalidSignature, ValueError):
            continue
    raise SignatureRefused("bad_signature", "the signature does not match")


def _cavage_policy(incoming: _Incoming, value: str) -> tuple[str, bytes]:
    lowered, now = incoming.lowered, incoming.now
    params = _parse_cavage(value)
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in CAVAGE_ALGORITHMS:
        raise SignatureRefused("unsupported", f"algorithm {algorithm!r} is not accepted")
    covered = params.get("headers", "date").lower().split()
    names = set(covered)
    if (
        "(request-target)" not in names
        or "host" not in names
        or not names & {"date", "(created)"}
        or (incoming.has_body and not incoming.digests & names)
    ):
        raise SignatureRefused("not_covered", "the signature leaves out the target, host, time or digest")
    if "(created)" in names:
        try:
            created = datetime.fromtimestamp(int(params["created"]), tz=UTC)
        except (KeyError, ValueError, OverflowError, OSError) as exc:
            raise SignatureRefused("malformed", "created is not a time") from exc
        _check_time(created, now, "the signature's creation time")
    if "expires" in params:
        try:
            expires = datetime.fromtimestamp(float(params["expires"]), tz=UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise SignatureRefused("malformed", "expires is not a time") from exc
        if expires < now:
            raise SignatureRefused("stale", "the signature has expired")
    if "date" in names:
        if "date" not in lowered:
            raise SignatureRefused("malformed", "the signed Date header is not in the request")
        _check_date_header(lowered, now)
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureRefused("malformed", "the signature is not base64") from exc
    signing_string = _cavage_signing_string(incoming.method, incoming.url, lowered, covered, params)
    key_id = params["keyId"]
    _cavage_verify(incoming.key(key_id), algorithm, signature, signing_string.encode("utf-8"))
    return key_id, signature


# --- Receiving: the entry point ---------------------------------------------------------------------


def verify_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    resolve_key: Callable[[str], str | None],
    seen: Callable[[str], bool],
    now: datetime | None = None,
) -> Verified:
    """Who signed this request, or SignatureRefused with the reason (see the module docstring).

    ``url`` is the absolute URL the request was made to, ``headers`` its header fields (any case),
    ``body`` its raw bytes. ``resolve_key(key_id)`` returns the public key PEM or None (it may
    fetch it); ``seen(token)`` records a replay token and says whether it was recorded before."""
    lowered = _lower(headers)
    incoming = _Incoming(
        method=method.upper(),
        url=url,
        headers=headers,
        lowered=lowered,
        digests=_check_digests(lowered, body or b""),
        has_body=bool(body),
        now=_now(now),
        resolve_key=resolve_key,
    )
    if "signature-input" in lowered:
        style = "rfc9421"
        key_id, signature = _rfc9421_policy(incoming)
    else:
        style = "cavage"
        value = lowered.get("signature")
        authorization = lowered.get("authorization", "")
        if value is None and authorization[:10].lower() == "signature ":
            value = authorization[10:]
        if not value:
            raise SignatureRefused("missing", "the request is not signed")
        key_id, signature = _cavage_policy(incoming, value)
    if seen(hashlib.sha256(signature).hexdigest()):
        raise SignatureRefused("replayed", "this signature was already used")
    return Verified(key_id=key_id, style=style)


def django_request_parts(request) -> tuple[str, str, dict[str, str], bytes]:
    """(method, absolute URL, headers, body) of a Django request, for ``verify_request``. The URL
    comes from ``build_absolute_uri``, so the host is the one ALLOWED_HOSTS accepted."""
    return request.method, request.build_absolute_uri(), dict(request.headers), request.body
