"""The only way this server talks to other servers: fetch an ActivityPub document, post an activity.

Why so careful: the addresses come from strangers (a handle typed by an organizer, an actor's
inbox, a key id in a signature). Without guards, a neighbour could make this server fetch its own
admin pages, the cloud's metadata service or a router on the private network (SSRF), hang a
worker, or fill its memory. So:

- https only (plain http where FEDERATION_ALLOW_HTTP says so: development and tests);
- the host is resolved once, every address it resolves to must be a public one (unless
  FEDERATION_ALLOW_PRIVATE_ADDRESSES), and the connection goes to the address that was checked,
  so a second DNS answer (rebinding) can't point it elsewhere; TLS still checks the host name;
- redirects are never followed (a redirect is an answer like any other status);
- one deadline of ``TIMEOUT`` seconds for the whole exchange, answers over ``MAX_BODY`` refused,
  a fetched document must be a JSON object;
- ``RemoteError.reason`` is a plain sentence that never repeats what the other server said
  (organizers may read it).

Outgoing requests are signed (``httpsig.sign_request``): RFC 9421 first, and when the other side
answers 401 or 400, once more the draft-cavage way (the "double knock"), since much of the
fediverse only knows that one.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings

from .httpsig import sign_request

MAX_BODY = 1024 * 1024
"""Largest answer read (1 MiB): an actor, a collection page or an object is a few KiB."""

TIMEOUT = 10.0
"""Seconds for a whole request: resolving, connecting, sending and reading every byte."""

ACCEPT = "application/activity+json, application/ld+json"
CONTENT_TYPE = "application/activity+json"
USER_AGENT = "p2pcommons-federation/1 (+https://p2pcommons.org)"
KNOCK_AGAIN = {400, 401}
"""Answers to an RFC 9421 signature that mean "sign it the other way" (Mastodon answers 401)."""


class RemoteError(Exception):
    """The other server could not be asked, or answered something unusable. ``status`` is its HTTP
    status when it answered at all; ``reason`` is a sentence fit for an organizer's eyes."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


# --- Where we may connect ---------------------------------------------------------------------------


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def _target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an address we may call, or RemoteError."""
    if not isinstance(url, str) or not url.isascii() or any(ch in url for ch in "\r\n\t "):
        raise RemoteError("the neighbour's address is not a valid web address")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and settings.FEDERATION_ALLOW_HTTP):
        raise RemoteError("the neighbour's address must start with https://")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise RemoteError("the neighbour's address is not a valid web address") from None
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise RemoteError("the neighbour's address is not a valid web address")
    return scheme, parts.hostname, port


def _resolve(host: str, port: int) -> str:
    """The address to connect to: the host's first address, after checking all of them."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise RemoteError("the neighbour's server name could not be found") from None
    addresses = [info[4][0] for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not addresses:
        raise RemoteError("the neighbour's server name could not be found")
    if not settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES and not all(_public(address) for address in addresses):
        raise RemoteError("the neighbour's address points into a private network, which is not allowed")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host name would resolve to now."""

    def __init__(self, host: str, *, address: str, **kwargs) -> None:
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS checked against the host name (not the address)."""

    def __init__(self, host: str, *, address: str, **kwargs) -> None:
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's authorities and the host name in the URL."""
    return ssl.create_default_context()


class _PinnedHandler(urllib.request.AbstractHTTPHandler):
    def __init__(self, address: str) -> None:
        super().__init__()
        self._address = address

    def http_open(self, req):
        return self.do_open(partial(_PinnedHTTPConnection, address=self._address), req)

    def https_open(self, req):
        context = _tls_context()
        return self.do_open(partial(_PinnedHTTPSConnection, address=self._address), req, context=context)

    http_request = urllib.request.AbstractHTTPHandler.do_request_
    https_request = urllib.request.AbstractHTTPHandler.do_request_


def _opener(address: str) -> urllib.request.OpenerDirector:
    # No redirect handler: a 3xx is raised as an HTTPError like any other non-2xx status. No proxy
    # handler either (a proxy would resolve the name again), and no file:, ftp: or data: handlers.
    opener = urllib.request.OpenerDirector()
    for handler in (
        _PinnedHandler(address),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


# --- One exchange -----------------------------------------------------------------------------------


def _read(response, deadline: float, *, cap: bool) -> bytes:
    length = response.headers.get("Content-Length")
    if cap and length and length.isdigit() and int(length) > MAX_BODY:
        raise RemoteError("the neighbour's answer is too large", status=response.status)
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise RemoteError("the neighbour's server answered too slowly")
        chunk = response.read1(8192) if hasattr(response, "read1") else response.read(8192)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BODY:
            if cap:
                raise RemoteError("the neighbour's answer is too large", status=response.status)
            break  # an answer to a delivery is not used; stop reading it
        chunks.append(chunk)
    return b"".join(chunks)


def _exchange(
    url: str, *, address: str, method: str, headers: dict[str, str], data: bytes | None, cap: bool
) -> tuple[int, bytes]:
    """(status, body) of one request to the checked ``address``; non-2xx statuses are returned
    too. RemoteError when the server can't be reached, is too slow, or its answer is too large."""
    deadline = time.monotonic() + TIMEOUT
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - http(s) only: _target checks, _opener has no other handlers
    try:
        with _opener(address).open(request, timeout=TIMEOUT) as response:
            return response.status, _read(response, deadline, cap=cap)
    except urllib.error.HTTPError as exc:
        try:
            body = _read(exc, deadline, cap=False) if exc.fp is not None else b""
        except RemoteError:
            body = b""
        finally:
            exc.close()
        return exc.code, body
    except RemoteError:
        raise
    except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, timeouts, TLS, resets
        raise RemoteError(f"the neighbour's server could not be reached ({type(exc).__name__})") from None


def _signed_exchange(
    url: str,
    *,
    method: str,
    headers: dict[str, str],
    data: bytes | None,
    key_id: str | None,
    private_key_pem: str | None,
    cap: bool,
) -> tuple[int, bytes]:
    """One exchange, signed when a key is given: RFC 9421 first, draft-cavage on a second knock.
    The address is checked and resolved once, before anything is signed or sent."""
    _, host, port = _target(url)
    address = _resolve(host, port)
    if not key_id or not private_key_pem:
        return _exchange(url, address=address, method=method, headers=headers, data=data, cap=cap)
    status, body = 0, b""
    for style in ("rfc9421", "cavage"):
        signed = sign_request(
            method=method, url=url, body=data, key_id=key_id, private_key_pem=private_key_pem, style=style
        )
        status, body = _exchange(url, address=address, method=method, headers={**headers, **signed}, data=data, cap=cap)
        if status not in KNOCK_AGAIN:
            break
    return status, body


def fetch_json(url: str, *, key_id: str | None = None, private_key_pem: str | None = None) -> dict:
    """The JSON object at ``url`` (an actor, a collection, an object). Signed when a key is given
    ("authorized fetch", which Mastodon's secure mode requires). RemoteError on anything but a 2xx
    answer holding a JSON object."""
    status, body = _signed_exchange(
        url,
        method="GET",
        headers={"Accept": ACCEPT, "User-Agent": USER_AGENT},
        data=None,
        key_id=key_id,
        private_key_pem=private_key_pem,
        cap=True,
    )
    if 300 <= status < 400:
        raise RemoteError(f"the neighbour's server redirected ({status}); redirects are not followed", status=status)
    if not 200 <= status < 300:
        raise RemoteError(f"the neighbour's server answered {status}", status=status)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RemoteError("the neighbour's answer is not JSON", status=status) from None
    if not isinstance(document, dict):
        raise RemoteError("the neighbour's answer is not a JSON object", status=status)
    return document


def post_activity(url: str, activity: dict, *, key_id: str, private_key_pem: str) -> int:
    """Deliver ``activity`` to an inbox, signed; the status the inbox answered (2xx: taken; 4xx:
    refused, retrying will not help). RemoteError on a network error, 429 or 5xx: the caller
    retries later."""
    data = json.dumps(activity, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    status, _ = _signed_exchange(
        url,
        method="POST",
        headers={"Content-Type": CONTENT_TYPE, "Accept": ACCEPT, "User-Agent": USER_AGENT},
        data=data,
        key_id=key_id,
        private_key_pem=private_key_pem,
        cap=False,
    )
    if status == 429 or status >= 500:
        raise RemoteError(f"the neighbour's server answered {status}; it will be tried again", status=status)
    return status
