"""Clearing accounts between communities on different servers (the Community Exchange System's way).

Each pair of federated communities A and B holds, per currency, a clearing account in both
ledgers: A's account for B is always minus B's account for A. When a member of B pays a member
of A, B records member -> its clearing account for A (``clearing_pay_in``) and A records its
clearing account for B -> member (``clearing_pay_out``), both under the same "fed:..." key the
two servers share. Both are ordinary transfers through ``transfer_create``, so they are in each
community's hash chain and Merkle log, and per currency each community's balances still sum to
zero. A's organizers decide how far A's account for B may go below zero (``clearing_set_limit``,
0 until they do): how much A's members may be paid before B's members' payments are settled.

``clearing_statement`` is what a community tells its neighbour about their account;
``clearing_reconcile`` compares the neighbour's statement with ours, keeps the result
(``ClearingCheck``) and tells the organizers when the two sides stop (or start again) to match.
The neighbour's statement is untrusted input: anything malformed is a failed check with a reason.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.peers.guards import require_organizer
from apps.peers.models import Community, User
from apps.peers.selectors import membership_of
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount

from . import checkpoint as notes
from . import log
from .clearing_words import MISMATCH_KIND, _alert, _should_alert, _signature, describe  # noqa: F401  (describe: public)
from .models import Account, ClearingCheck, Currency, Entry, Transfer
from .selectors import clearing_accounts_of  # noqa: F401  (one of this module's names in the contract)
from .services import CENT, account_for, account_set_limit, transfer_create

logger = logging.getLogger(__name__)

FED_PREFIX = "fed:"
"""Keys the two servers share start with it; only such transfers appear in a statement."""

GRACE = timedelta(minutes=15)
"""How long a payment may be on one side only before it counts as missing: the other server
may not have received or processed it yet."""


MAX_STATEMENT_TRANSFERS = 100_000
"""The most payments a neighbour's statement may list; more is refused as malformed."""

MAX_CHECKPOINT_CHARS = 64 * 1024
MAX_AMOUNT = Decimal("1e12")
MAX_SHOWN_PROBLEMS = 50
"""Problems kept in a check's detail for organizers to read (the count is always kept)."""

MAX_WAITING_KEYS = 1000
"""Their payments missing here that are given the grace; any more count as missing at once
(a neighbour can't make us store an unbounded list with every check)."""

MAX_KEPT_SIGNATURES = 1000
"""Problem signatures kept to tell a new mismatch from one already reported."""


# --- Accounts ----------------------------------------------------------------------------------------


def _clean_peer(peer_uri: str) -> str:
    uri = peer_uri.strip() if isinstance(peer_uri, str) else ""
    parts = urlsplit(uri)
    if (
        not uri
        or len(uri) > 500
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or any(c.isspace() or not c.isprintable() for c in uri)
    ):
        raise ValidationError({"peer_uri": _("Give the neighbouring community's address (https://...).")})
    return uri


def _clean_name(peer_name: str) -> str:
    name = " ".join("".join(c if c.isprintable() else " " for c in (peer_name or "")).split())
    return name[:200]


def _check_currency(currency: str) -> None:
    if currency not in Currency.values:
        raise ValidationError({"currency": _("Unknown currency %(currency)r.") % {"currency": currency}})


def _stored_key(community: Community, idempotency_key: str) -> str:
    """The transfer's key in our ledger: the shared "fed:..." key scoped to the community, so two
    communities of this server can clear with each other (keys are unique server-wide)."""
    if not isinstance(idempotency_key, str) or not idempotency_key.startswith(FED_PREFIX):
        raise ValidationError({"idempotency_key": _("A key shared by both servers, starting with fed:, is required.")})
    rest = idempotency_key[len(FED_PREFIX) :]
    stored = f"{FED_PREFIX}{community.pk}:{rest}"
    if not rest or len(stored) > 100 or any(not c.isprintable() for c in rest):
        raise ValidationError({"idempotency_key": _("The shared key is empty or too long.")})
    return stored


def _shared_key(community_id: int, stored: str) -> str | None:
    prefix = f"{FED_PREFIX}{community_id}:"
    return FED_PREFIX + stored[len(prefix) :] if stored.startswith(prefix) else None


def _open(*, community: Community, peer_uri: str, peer_name: str, currency: str) -> tuple[Account, str]:
    """(the clearing account, opened on first use with a limit of 0; the cleaned name given)."""
    peer = _clean_peer(peer_uri)
    _check_currency(currency)
    name = _clean_name(peer_name)
    account, _created = Account.objects.get_or_create(
        community=community,
        currency=currency,
        peer=peer,
        defaults={"owner": None, "name": "", "peer_name": name or urlsplit(peer).hostname, "limit": Decimal("0")},
    )
    return account, name


def _rename(account: Account, name: str) -> None:
    """Keep a new, non-empty name of the neighbour (communities rename). The UPDATE locks the
    account's row: a service that also pays calls it after ``transfer_create``, which takes the
    chain head's lock before any account's (locking the account first could deadlock with a
    payment holding the chain head and waiting for this account)."""
    if name and account.peer_name != name:
        Account.objects.filter(pk=account.pk).update(peer_name=name)
        account.peer_name = name


def clearing_account(*, community: Community, peer_uri: str, peer_name: str, currency: str) -> Account:
    """The community's clearing account with the neighbour ``peer_uri`` in ``currency``, opened on
    first use with a limit of 0 (no credit to a neighbour until organizers give some). A new,
    non-empty ``peer_name`` replaces the one kept. The partial unique constraint on (community,
    currency, peer) settles a racing open."""
    account, name = _open(community=community, peer_uri=peer_uri, peer_name=peer_name, currency=currency)
    _rename(account, name)
    return account


# --- Paying across ------------------------------------------------------------------------------------


@transaction.atomic
def clearing_pay_in(
    *,
    community: Community,
    peer_uri: str,
    peer_name: str,
    member: User,
    amount: Decimal | str,
    currency: str,
    idempotency_key: str,
    memo: str,
    related: Model | None = None,
) -> Transfer:
    """Our member pays a member of the neighbouring community: member -> our clearing account for
    the neighbour (the payer's side). The member must be an active member with enough credit (the
    usual rules of ``transfer_create``). Idempotent on the shared key: a retried delivery pays
    once, the key reused for another payment is refused (``idempotency_key_reused``)."""
    key = _stored_key(community, idempotency_key)
    clearing, name = _open(community=community, peer_uri=peer_uri, peer_name=peer_name, currency=currency)
    transfer = transfer_create(
        source=account_for(user=member, community=community, currency=currency),
        target=clearing,
        amount=amount,
        memo=memo,
        idempotency_key=key,
        kind=Transfer.Kind.EXCHANGE,
        related=related,
    )
    _rename(clearing, name)
    return transfer


@transaction.atomic
def clearing_pay_out(
    *,
    community: Community,
    peer_uri: str,
    peer_name: str,
    member: User,
    amount: Decimal | str,
    currency: str,
    idempotency_key: str,
    memo: str,
    related: Model | None = None,
) -> Transfer:
    """A member of the neighbouring community pays our member: our clearing account for the
    neighbour -> member (the payee's side). Refused with ``clearing_limit`` when the clearing
    account would go below the limit our organizers gave the neighbour; ``transfer_create``
    decides that under its locks (chain head, then both accounts), so two racing payments can't
    together pass it. The member must belong to the community (a suspended member is still paid
    for what they gave). Idempotent on the shared key like ``clearing_pay_in``."""
    key = _stored_key(community, idempotency_key)
    clearing, name = _open(community=community, peer_uri=peer_uri, peer_name=peer_name, currency=currency)
    already_paid = Transfer.objects.filter(idempotency_key=key).exists()
    if not already_paid and membership_of(user=member, community=community) is None:
        raise RuleViolation(
            _("%(name)s is not a member of %(community)s, so can't be paid there.")
            % {"name": member.public_name, "community": community.name},
            code="not_member",
        )
    try:
        transfer = transfer_create(
            source=clearing,
            target=account_for(user=member, community=community, currency=currency),
            amount=amount,
            memo=memo,
            idempotency_key=key,
            kind=Transfer.Kind.EXCHANGE,
            related=related,
        )
    except RuleViolation as exc:
        if exc.code != "limit_exceeded":
            raise
        available = Account.objects.values_list("balance", "limit").get(pk=clearing.pk)
        raise RuleViolation(
            _(
                "Members of %(name)s can't be paid more here for now: our community lets them owe at most "
                "%(limit)s, and this payment would go past it. An organizer can raise the limit."
            )
            % {"name": clearing.peer_name, "limit": format_amount(-available[1], currency)},
            code="clearing_limit",
            data={"available": f"{available[0] - available[1]:.2f}"},
        ) from None
    _rename(clearing, name)
    return transfer


@transaction.atomic
def clearing_set_limit(
    *,
    community: Community,
    peer_uri: str,
    currency: str,
    limit: Decimal | str,
    actor: User,
    peer_name: str = "",
    reason: str = "",
) -> Account:
    """How far the community's clearing account with a neighbour may go below zero: organizers of
    the community only, zero or below, never below the community's floor for the currency, and
    not above the balance already reached (the rules and the ``LimitChange`` record of
    ``account_set_limit``, under its row lock). Opens the account if needed."""
    require_organizer(user=actor, community_id=community.pk, doing=_("change limits"))
    account = clearing_account(community=community, peer_uri=peer_uri, peer_name=peer_name, currency=currency)
    reason = reason.strip() or _("Credit for members of %(name)s") % {"name": account.peer_name}
    return account_set_limit(account=account, actor=actor, limit=limit, reason=reason[:200])


# --- Statements --------------------------------------------------------------------------------------


def _our_side(account: Account | None, community_id: int) -> tuple[Decimal, dict[str, tuple[Decimal, datetime]]]:
    """(balance, shared payments by key: amount as seen from this side, and when) from one read of
    the account's entries, so the two agree. A reversal of a shared payment counts under that
    payment's key: a payment undone (refused by the neighbour, then reversed here) nets to
    nothing and is left out, as the neighbour never recorded it."""
    if account is None:
        return Decimal("0"), {}
    rows = list(
        Entry.objects.filter(account=account)
        .order_by("seq")
        .values(
            "amount",
            "balance_after",
            "transfer__idempotency_key",
            "transfer__created_at",
            "transfer__reverses__idempotency_key",
        )
    )
    shared: dict[str, tuple[Decimal, datetime]] = {}
    for row in rows:
        key = _shared_key(community_id, row["transfer__idempotency_key"])
        if key is None and row["transfer__reverses__idempotency_key"]:
            key = _shared_key(community_id, row["transfer__reverses__idempotency_key"])
        if key is not None:
            amount, first = shared.get(key, (Decimal("0"), row["transfer__created_at"]))
            shared[key] = (amount + row["amount"], first)
    balance = rows[-1]["balance_after"] if rows else Decimal("0")
    return balance, {key: value for key, value in shared.items() if value[0] != 0}


def _newest_checkpoint_note(community: Community) -> str | None:
    latest = log.latest_checkpoint(community)
    return log.signed_note(latest) if latest is not None else None


def clearing_statement(*, community: Community, peer_uri: str, currency: str) -> dict:
    """What the community tells the neighbour ``peer_uri`` about their clearing account, JSON-ready:
    the balance, every shared payment by its key with its amount as seen from this side (plus for
    money in, minus for money out), and the community's newest signed checkpoint (or None).
    Balance and payments come from one read of the account's entries, so they agree."""
    peer = _clean_peer(peer_uri)
    _check_currency(currency)
    account = Account.objects.filter(community=community, currency=currency, peer=peer).first()
    balance, shared = _our_side(account, community.pk)
    return {
        "peer": peer,
        "currency": currency,
        "balance": f"{balance:.2f}",
        "transfers": {key: f"{amount:.2f}" for key, (amount, _at) in shared.items()},
        "as_of": timezone.now().isoformat(),
        "checkpoint": _newest_checkpoint_note(community),
    }


# --- Reconciliation ----------------------------------------------------------------------------------


class _Malformed(Exception):
    """The neighbour's statement can't be read; ``part`` says which part."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


def _amount(value: object, part: str) -> Decimal:
    if not isinstance(value, str) or len(value) > 40:
        raise _Malformed(part)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _Malformed(part) from None
    if not number.is_finite() or abs(number) >= MAX_AMOUNT or number != number.quantize(CENT):
        raise _Malformed(part)
    return number.quantize(CENT)


def _parse_theirs(theirs: object, currency: str) -> tuple[Decimal, dict[str, Decimal], str | None, str]:
    """(balance, amounts by shared key, checkpoint note, as_of) from the neighbour's statement."""
    if not isinstance(theirs, dict):
        raise _Malformed("statement")
    if theirs.get("currency") != currency:
        raise _Malformed("currency")
    balance = _amount(theirs.get("balance"), "balance")
    raw = theirs.get("transfers")
    if not isinstance(raw, dict) or len(raw) > MAX_STATEMENT_TRANSFERS:
        raise _Malformed("transfers")
    transfers: dict[str, Decimal] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key.startswith(FED_PREFIX) or not 4 < len(key) <= 100:
            raise _Malformed("transfers")
        transfers[key] = _amount(value, "transfers")
        if transfers[key] == 0:
            raise _Malformed("transfers")
    note = theirs.get("checkpoint")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_CHECKPOINT_CHARS):
        raise _Malformed("checkpoint")
    as_of = theirs.get("as_of", "")
    if as_of:
        try:
            parsed = datetime.fromisoformat(as_of) if isinstance(as_of, str) and len(as_of) <= 40 else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise _Malformed("as_of")
    return balance, transfers, note, as_of or ""


def _checkpoint_problem(note: str | None, their_log_vkey: str) -> dict | None:
    """A problem when their checkpoint is not signed by their log's key (checked only when both
    are known: a young ledger has no checkpoint yet)."""
    if not note or not their_log_vkey:
        return None
    try:
        verifier = notes.Verifier.from_vkey(their_log_vkey.strip())
    except notes.NoteError:
        return {"code": "checkpoint_key"}
    try:
        notes.open_checkpoint(note, [verifier], origin=verifier.name)
    except notes.NoteError as exc:
        return {"code": "checkpoint", "why": str(exc)[:200]}
    return None


def _compare(
    *,
    our_balance: Decimal,
    mine: dict[str, tuple[Decimal, datetime]],
    their_balance: Decimal,
    theirs: dict[str, Decimal],
    pending_before: dict[str, str],
    now: datetime,
    grace: timedelta,
) -> tuple[list[dict], dict[str, str], int]:
    """(problems, their one-sided keys with when we first saw them, how many wait within the grace)."""
    problems: list[dict] = []
    waiting_ours = waiting_theirs = Decimal("0")
    waiting = 0
    for key, (amount, created_at) in mine.items():
        if key in theirs:
            if theirs[key] != -amount:
                problems.append({"code": "amount", "key": key, "ours": f"{amount:.2f}", "theirs": f"{theirs[key]:.2f}"})
        elif created_at > now - grace:
            waiting_ours += amount
            waiting += 1
        else:
            problems.append({"code": "missing_there", "key": key, "amount": f"{amount:.2f}"})
    pending: dict[str, str] = {}
    only_theirs = [key for key in theirs if key not in mine]
    room = MAX_WAITING_KEYS - sum(1 for key in only_theirs if _when(pending_before.get(key)) is not None)
    for key in only_theirs:
        amount = theirs[key]
        first_seen = _when(pending_before.get(key))
        if first_seen is None and room > 0:
            first_seen, room = now, room - 1
        if first_seen is not None:
            pending[key] = first_seen.isoformat()
        if first_seen is not None and first_seen > now - grace:
            waiting_theirs += amount
            waiting += 1
        else:
            problems.append({"code": "missing_here", "key": key, "amount": f"{amount:.2f}"})
    if (our_balance - waiting_ours) + (their_balance - waiting_theirs) != 0:
        problems.insert(0, {"code": "balance", "ours": f"{our_balance:.2f}", "theirs": f"{their_balance:.2f}"})
    return problems, pending, waiting


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@transaction.atomic
def clearing_reconcile(
    *,
    community: Community,
    peer_uri: str,
    peer_name: str,
    currency: str,
    theirs: dict,
    their_log_vkey: str = "",
    now: datetime | None = None,
    grace: timedelta = GRACE,
) -> ClearingCheck:
    """Compare our clearing account with the neighbour's statement of theirs (``theirs``, as their
    ``clearing_statement`` gave it: untrusted) and keep the result as a ``ClearingCheck``.

    A mismatch is: balances that are not opposite (payments still within ``grace`` on one side
    only left aside), a shared key on one side only for longer than ``grace`` (for their keys:
    since our first check that saw it), one key with amounts that are not opposite, or (when
    ``their_log_vkey`` is given) a checkpoint not signed by their log's key. A malformed statement
    is a failed check with the part that could not be read. The organizers are told of a new
    mismatch once, and once when it matches again. Holds SELECT FOR UPDATE on the clearing
    account: the balance and entries read are one moment's, and checks of one account run one
    at a time (so an alert is sent once)."""
    now = now or timezone.now()
    account = clearing_account(community=community, peer_uri=peer_uri, peer_name=peer_name, currency=currency)
    account = Account.objects.select_for_update().get(pk=account.pk)
    previous = (
        ClearingCheck.objects.filter(community=community, peer=account.peer, currency=currency)
        .order_by("-checked_at", "-id")
        .first()
    )
    before = previous.detail if previous is not None and isinstance(previous.detail, dict) else {}
    pending_before = before.get("pending_theirs") if isinstance(before.get("pending_theirs"), dict) else {}
    detail: dict = {}
    their_balance: Decimal | None = None
    our_balance, mine = _our_side(account, community.pk)
    try:
        their_balance, their_transfers, note, as_of = _parse_theirs(theirs, currency)
    except _Malformed as exc:
        problems = [{"code": "malformed", "part": exc.part}]
        pending = pending_before
        detail["waiting"] = 0
    else:
        problems, pending, waiting = _compare(
            our_balance=our_balance,
            mine=mine,
            their_balance=their_balance,
            theirs=their_transfers,
            pending_before=pending_before,
            now=now,
            grace=grace,
        )
        found = _checkpoint_problem(note, their_log_vkey)
        if found is not None:
            problems.append(found)
        detail.update(waiting=waiting, their_as_of=as_of)
    signatures = sorted({_signature(p) for p in problems})
    detail.update(
        problems=problems[:MAX_SHOWN_PROBLEMS],
        problem_count=len(problems),
        signatures=signatures[:MAX_KEPT_SIGNATURES],
        signatures_cut=len(signatures) > MAX_KEPT_SIGNATURES,
        pending_theirs=pending,
    )
    ok = not problems
    check = ClearingCheck.objects.create(
        community=community,
        peer=account.peer,
        peer_name=account.peer_name,
        currency=currency,
        checked_at=now,
        ok=ok,
        our_balance=our_balance,
        their_balance=their_balance,
        detail=detail,
    )
    if _should_alert(previous, ok=ok, signatures=signatures):
        _alert(check, problems)
    return check
