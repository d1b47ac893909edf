"""Single-database helpers for the federation tests: two communities of one server federate
with each other through the real protocol views (signed requests posted with Django's
test client), so every step the two-instance test takes runs here too, fast."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.test import Client, TestCase

from apps.federation.httpsig import sign_request
from apps.federation.models import Delivery, LocalActor


def as_meta(headers: dict[str, str], url: str) -> dict[str, str]:
    """Signed headers as Django test-client keyword arguments (the Host from ``url``)."""
    meta = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in headers.items()
        if k.lower() not in ("content-type", "host")
    }
    meta["HTTP_HOST"] = urlsplit(url).netloc
    return meta


def post_signed(
    client: Client, *, url: str, activity: dict | bytes, local: LocalActor, headers: dict | None = None, **sign
):
    """POST ``activity`` to ``url`` signed with ``local``'s key (``sign``: style=, now=)."""
    body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
    signed = sign_request(
        method="POST", url=url, body=body, key_id=local.key_id, private_key_pem=local.private_key_pem, **sign
    )
    signed.update(headers or {})
    parts = urlsplit(url)
    # Inside a test's transaction nothing commits: run what would run after commit (the
    # inbox task, eager in tests) as the request ends.
    extra = as_meta(signed, url)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            data=body,
            content_type="application/activity+json",
            **extra,
        )


def committed(fn, *args, **kwargs):
    """Call ``fn`` and run its after-commit work (announcements, tasks) as a commit would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


def pump(client: Client, *, rounds: int = 20) -> list[Delivery]:
    """Deliver every waiting delivery through the inbox views (as the other server would
    receive it), again and again until nothing is left; returns what was delivered."""
    delivered: list[Delivery] = []
    for _round in range(rounds):
        waiting = list(Delivery.objects.exclude(state=Delivery.State.SENT).select_related("local").order_by("id"))
        if not waiting:
            return delivered
        for delivery in waiting:
            response = post_signed(client, url=delivery.inbox, activity=delivery.payload, local=delivery.local)
            assert response.status_code == 202, (delivery.kind, response.status_code, response.content)
            Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.SENT)
            delivered.append(delivery)
    raise AssertionError("deliveries kept coming")
