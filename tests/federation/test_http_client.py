"""The outgoing HTTP client (apps/federation/http.py), against a real HTTP server on 127.0.0.1
running in a thread: the SSRF guards, no redirects, the size cap, the double knock and the errors
a delivery retries on. The server checks signatures with verify_request, as an inbox would."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apps.federation import http as client
from apps.federation.http import RemoteError, fetch_json, post_activity
from apps.federation.httpsig import SignatureRefused, generate_rsa_keypair, verify_request

KEY_ID = "https://hill.example/communities/hillside#main-key"
ACTIVITY = {"type": "Follow", "actor": "https://hill.example/communities/hillside", "object": "https://river.example/c"}


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_rsa_keypair()


class Neighbour(BaseHTTPRequestHandler):
    """A neighbour's server: what it answers depends on the path; it records every request and
    checks its signature like an inbox would."""

    server: NeighbourServer

    def log_message(self, format, *args):  # keep the test output quiet
        return

    def _record(self) -> tuple[dict[str, str], bytes, str]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        try:
            verified = verify_request(
                method=self.command,
                url=f"http://127.0.0.1:{self.server.server_port}{self.path}",
                headers=headers,
                body=body,
                resolve_key=lambda key_id: self.server.public_pem if key_id == KEY_ID else None,
                seen=lambda token: False,
            )
            outcome = verified.style
        except SignatureRefused as refused:
            outcome = f"refused:{refused.reason}"
        self.server.requests.append({"method": self.command, "path": self.path, "headers": headers, "body": body})
        self.server.outcomes.append(outcome)
        return headers, body, outcome

    def _answer(self, status: int, body: bytes = b"", *, content_type="application/activity+json", length=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        _, _, outcome = self._record()
        if self.path == "/actor":
            self._answer(200, json.dumps({"type": "Group", "id": "https://river.example/c"}).encode())
        elif self.path == "/secure-actor":  # authorized fetch: only signed requests are answered
            if outcome.startswith("refused"):
                self._answer(401)
            else:
                self._answer(200, json.dumps({"type": "Group", "signed": outcome}).encode())
        elif self.path == "/cavage-actor":  # authorized fetch on a server that only knows cavage
            if outcome == "cavage":
                self._answer(200, json.dumps({"type": "Group", "signed": outcome}).encode())
            else:
                self._answer(401)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/actor")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big":
            self._answer(200, b'{"padding": "' + b"x" * (client.MAX_BODY + 10) + b'"}')
        elif self.path == "/big-unannounced":
            self.send_response(200)
            self.send_header("Content-Type", "application/activity+json")
            self.end_headers()
            self.wfile.write(b'{"padding": "' + b"x" * (client.MAX_BODY + 10) + b'"}')
            self.close_connection = True
        elif self.path == "/list":
            self._answer(200, b"[1, 2, 3]")
        elif self.path == "/not-json":
            self._answer(200, b"<html>hello</html>", content_type="text/html")
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "application/activity+json")
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
            self.close_connection = True
        elif self.path == "/gone":
            self._answer(410)
        else:
            self._answer(404)

    def do_POST(self):
        _, _, outcome = self._record()
        if self.path == "/inbox":  # a modern inbox: either signature style
            self._answer(202 if not outcome.startswith("refused") else 401)
        elif self.path == "/cavage-inbox":  # Mastodon before RFC 9421: 401 to anything but cavage
            self._answer(202 if outcome == "cavage" else 401)
        elif self.path == "/forbidden-inbox":
            self._answer(403)
        elif self.path == "/broken-inbox":
            self._answer(500)
        elif self.path == "/busy-inbox":
            self._answer(429)
        else:
            self._answer(404)


class NeighbourServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, public_pem: str) -> None:
        super().__init__(("127.0.0.1", 0), Neighbour)
        self.public_pem = public_pem
        self.requests: list[dict] = []
        self.outcomes: list[str] = []


@pytest.fixture
def neighbour(keys):
    server = NeighbourServer(keys[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def loopback_allowed(settings):
    settings.FEDERATION_ALLOW_HTTP = True
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = True


def url(server: NeighbourServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


def failure(call) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        call()
    return caught.value


# --- Where it may connect ---------------------------------------------------------------------------


def test_a_plain_http_address_is_refused_by_default(neighbour, settings):
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
    error = failure(lambda: fetch_json(url(neighbour, "/actor")))
    assert error.reason == "the neighbour's address must start with https://"
    assert error.status is None
    assert neighbour.requests == []


def test_a_loopback_address_is_refused_by_default(neighbour, settings):
    settings.FEDERATION_ALLOW_HTTP = True
    error = failure(lambda: fetch_json(url(neighbour, "/actor")))
    assert "private network" in error.reason
    assert neighbour.requests == []


def test_a_name_that_resolves_to_loopback_is_refused_by_default(neighbour, settings):
    settings.FEDERATION_ALLOW_HTTP = True
    error = failure(lambda: fetch_json(f"http://localhost:{neighbour.server_port}/actor"))
    assert "private network" in error.reason
    assert neighbour.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "10.1.2.3",  # private
        "172.16.0.9",  # private
        "192.168.1.1",  # private
        "169.254.169.254",  # link-local: the cloud metadata service
        "100.64.0.1",  # shared address space (carrier NAT)
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "0.0.0.0",  # unspecified  # noqa: S104 - an address the guard must refuse, not one we bind
        "[::1]",  # IPv6 loopback
        "[fe80::1]",  # IPv6 link-local
        "[fd00::1]",  # IPv6 unique local
        "[::ffff:127.0.0.1]",  # loopback disguised as IPv6
    ],
)
def test_addresses_inside_private_networks_are_refused(host, keys):
    private_pem, _ = keys
    error = failure(
        lambda: post_activity(f"https://{host}/inbox", ACTIVITY, key_id=KEY_ID, private_key_pem=private_pem)
    )
    assert error.reason == "the neighbour's address points into a private network, which is not allowed"


@pytest.mark.parametrize(
    "address",
    ["file:///etc/passwd", "ftp://river.example/x", "https://user:secret@river.example/inbox", "https:///nohost"],
)
def test_addresses_that_are_not_plain_web_addresses_are_refused(address, loopback_allowed):
    assert failure(lambda: fetch_json(address)).status is None


def test_the_check_happens_before_any_connection_and_allows_public_addresses():
    assert client._public("93.184.215.14")
    assert client._public("2606:4700::6810:84e5")
    assert not client._public("127.0.0.1")
    assert not client._public("::ffff:10.0.0.1")


# --- Fetching ---------------------------------------------------------------------------------------


def test_fetch_json_returns_the_object_and_asks_for_activitypub(neighbour, loopback_allowed):
    assert fetch_json(url(neighbour, "/actor")) == {"type": "Group", "id": "https://river.example/c"}
    (request,) = neighbour.requests
    assert request["headers"]["Accept"] == "application/activity+json, application/ld+json"
    assert "Signature" not in request["headers"]
    assert neighbour.outcomes == ["refused:missing"]


def test_a_signed_fetch_is_verified_by_the_other_side(neighbour, loopback_allowed, keys):
    private_pem, _ = keys
    document = fetch_json(url(neighbour, "/secure-actor"), key_id=KEY_ID, private_key_pem=private_pem)
    assert document == {"type": "Group", "signed": "rfc9421"}
    assert neighbour.outcomes == ["rfc9421"]


def test_a_signed_fetch_knocks_again_with_cavage_when_refused(neighbour, loopback_allowed, keys):
    private_pem, _ = keys
    document = fetch_json(url(neighbour, "/cavage-actor"), key_id=KEY_ID, private_key_pem=private_pem)
    assert document == {"type": "Group", "signed": "cavage"}
    assert neighbour.outcomes == ["rfc9421", "cavage"]


def test_an_unsigned_fetch_of_a_secure_actor_fails_with_the_status(neighbour, loopback_allowed):
    error = failure(lambda: fetch_json(url(neighbour, "/secure-actor")))
    assert error.status == 401
    assert error.reason == "the neighbour's server answered 401"


def test_a_redirect_is_not_followed(neighbour, loopback_allowed):
    error = failure(lambda: fetch_json(url(neighbour, "/redirect")))
    assert error.status == 302
    assert "redirects are not followed" in error.reason
    assert [request["path"] for request in neighbour.requests] == ["/redirect"]


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_an_answer_over_one_mebibyte_is_refused(neighbour, loopback_allowed, path):
    error = failure(lambda: fetch_json(url(neighbour, path)))
    assert error.reason == "the neighbour's answer is too large"


def test_json_that_is_not_an_object_is_refused(neighbour, loopback_allowed):
    assert failure(lambda: fetch_json(url(neighbour, "/list"))).reason == "the neighbour's answer is not a JSON object"


def test_an_answer_that_is_not_json_is_refused(neighbour, loopback_allowed):
    assert failure(lambda: fetch_json(url(neighbour, "/not-json"))).reason == "the neighbour's answer is not JSON"


def test_a_server_that_trickles_is_cut_off_at_the_deadline(neighbour, loopback_allowed, monkeypatch):
    monkeypatch.setattr(client, "TIMEOUT", 1.0)
    started = time.monotonic()
    error = failure(lambda: fetch_json(url(neighbour, "/slow")))
    assert error.reason == "the neighbour's server answered too slowly"
    assert time.monotonic() - started < 2.5


def test_a_closed_port_is_a_network_error(loopback_allowed):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = failure(lambda: fetch_json(f"http://127.0.0.1:{port}/actor"))
    assert error.status is None
    assert error.reason.startswith("the neighbour's server could not be reached")


# --- Posting ----------------------------------------------------------------------------------------


def test_an_activity_is_posted_signed_with_rfc9421(neighbour, loopback_allowed, keys):
    private_pem, _ = keys
    assert post_activity(url(neighbour, "/inbox"), ACTIVITY, key_id=KEY_ID, private_key_pem=private_pem) == 202
    (request,) = neighbour.requests
    assert json.loads(request["body"]) == ACTIVITY
    assert request["headers"]["Content-Type"] == "application/activity+json"
    assert neighbour.outcomes == ["rfc9421"]


def test_a_refused_rfc9421_signature_is_followed_by_one_cavage_knock(neighbour, loopback_allowed, keys):
    private_pem, _ = keys
    status = post_activity(url(neighbour, "/cavage-inbox"), ACTIVITY, key_id=KEY_ID, private_key_pem=private_pem)
    assert status == 202
    assert neighbour.outcomes == ["rfc9421", "cavage"]
    first, second = neighbour.requests
    assert "Signature-Input" in first["headers"]
    assert "Signature-Input" not in second["headers"]
    assert second["headers"]["Signature"].startswith(f'keyId="{KEY_ID}",algorithm="rsa-sha256"')
    assert first["body"] == second["body"]


def test_a_forbidden_answer_is_returned_without_a_second_knock(neighbour, loopback_allowed, keys):
    private_pem, _ = keys
    status = post_activity(url(neighbour, "/forbidden-inbox"), ACTIVITY, key_id=KEY_ID, private_key_pem=private_pem)
    assert status == 403
    assert len(neighbour.requests) == 1


def test_a_server_error_raises_so_the_delivery_is_retried(neighbour, loopback_allowed, keys):
    private_pem, _ = keys
    error = failure(
        lambda: post_activity(url(neighbour, "/broken-inbox"), ACTIVITY, key_id=KEY_ID, private_key_pem=private_pem)
    )
    assert error.status == 500
    assert error.reason == "the neighbour's server answered 500; it will be tried again"


def test_too_many_requests_raises_so_the_delivery_is_retried(neighbour, loopback_allowed, keys):
    private_pem, _ = keys
    error = failure(
        lambda: post_activity(url(neighbour, "/busy-inbox"), ACTIVITY, key_id=KEY_ID, private_key_pem=private_pem)
    )
    assert error.status == 429


# --- TLS --------------------------------------------------------------------------------------------


def self_signed(address: str) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for an IP address, signed by itself."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "river test")])
    moment = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(minutes=5))
        .not_valid_after(moment + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
def tls_neighbour(keys, tmp_path):
    certificate, key = self_signed("127.0.0.1")
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    server = NeighbourServer(keys[1])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.certificate = certificate
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_an_https_server_with_a_certificate_nobody_vouches_for_is_refused(tls_neighbour, settings):
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
    error = failure(lambda: fetch_json(f"https://127.0.0.1:{tls_neighbour.server_port}/actor"))
    assert error.reason.startswith("the neighbour's server could not be reached")
    assert tls_neighbour.requests == []


def test_an_https_server_with_a_trusted_certificate_answers(tls_neighbour, settings, monkeypatch):
    """The pinned connection still speaks TLS to the host named in the address (here a test
    authority is trusted in place of the system's)."""
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
    monkeypatch.setattr(
        client, "_tls_context", lambda: ssl.create_default_context(cadata=tls_neighbour.certificate.decode())
    )
    document = fetch_json(f"https://127.0.0.1:{tls_neighbour.server_port}/actor")
    assert document == {"type": "Group", "id": "https://river.example/c"}
