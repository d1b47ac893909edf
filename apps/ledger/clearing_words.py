"""Clearing checks in plain words: a problem described, and when the organizers are told."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.urls import reverse
from django.utils import timezone

from apps.notifications.services import notify
from apps.peers.selectors import organizers_of
from p2pcommons.i18n import Amount, Message

from .models import ClearingCheck, Currency

logger = logging.getLogger("apps.ledger.clearing")

# The notification organizers get when the two sides stop (or start again) to match.
MISMATCH_KIND = "ledger.clearing_mismatch"


def _signature(problem: dict) -> str:
    return f"{problem['code']}:{problem.get('key') or problem.get('part') or ''}"


def describe(problem: dict, currency: str) -> Message:
    """A problem of a check in plain words, translated when read (admin, notifications)."""
    code = problem.get("code")

    def money(field: str) -> Amount:
        return Amount(problem.get(field) or "0", currency)

    if code == "balance":
        return Message(
            "Our balance with them is {ours} and theirs with us is {theirs}; they should be opposite.",
            ours=money("ours"),
            theirs=money("theirs"),
        )
    if code == "missing_there":
        return Message("A payment of {amount} recorded here is missing on their side.", amount=money("amount"))
    if code == "missing_here":
        return Message("A payment of {amount} recorded on their side is missing here.", amount=money("amount"))
    if code == "amount":
        return Message(
            "A payment recorded here as {ours} is recorded on their side as {theirs}.",
            ours=money("ours"),
            theirs=money("theirs"),
        )
    if code == "checkpoint":
        return Message("Their ledger's signed summary is not signed by their ledger's key.")
    if code == "checkpoint_key":
        return Message("The key we keep for their ledger is not a valid key; an organizer should check it.")
    parts = {
        "currency": Message("it is about another currency"),
        "balance": Message("its balance is not an amount"),
        "transfers": Message("its list of payments is not readable"),
        "checkpoint": Message("its signed summary is not text"),
        "as_of": Message("its date is not a date"),
    }
    return Message(
        "Their statement could not be read: {why}.",
        why=parts.get(problem.get("part", ""), Message("it is not a statement")),
    )


def _currency_words(currency: str) -> Message:
    return Message("time credits") if currency == Currency.HOUR else Message("community credits")


def _should_alert(previous: ClearingCheck | None, *, ok: bool, signatures: list[str]) -> bool:
    """A new mismatch (the first, or a problem the previous failed check did not have), or the
    first match after a mismatch."""
    was_ok = previous is None or previous.ok
    if ok:
        return not was_ok
    if was_ok:
        return True
    before = previous.detail if isinstance(previous.detail, dict) else {}
    if before.get("signatures_cut"):
        known_codes = {s.split(":", 1)[0] for s in before.get("signatures") or []}
        return any(s.split(":", 1)[0] not in known_codes for s in signatures)
    return bool(set(signatures) - set(before.get("signatures") or []))


def _alert(check: ClearingCheck, problems: list[dict]) -> None:
    name, currency = check.peer_name or urlsplit(check.peer).hostname, _currency_words(check.currency)
    if check.ok:
        text = Message(
            "Our clearing account with {name} in {currency} matches their side again.", name=name, currency=currency
        )
    else:
        text = Message(
            "Our clearing account with {name} in {currency} does not match their side. {problem} "
            "Compare both ledgers with their organizers before giving them more credit.",
            name=name,
            currency=currency,
            problem=describe(problems[0], check.currency),
        )
        logger.warning("clearing mismatch with %s in %s: %s", check.peer, check.currency, problems[:5])
    notify(
        recipients=organizers_of(community_id=check.community_id),
        kind=MISMATCH_KIND,
        text=text,
        target=check,
        url=reverse("admin:ledger_clearingcheck_changelist"),
    )
    check.alerted_at = timezone.now()
    ClearingCheck.objects.filter(pk=check.pk).update(alerted_at=check.alerted_at)
