"""Writes to the ledger. ``transfer_create`` is the only way credit moves."""

from __future__ import annotations

import hashlib
import json
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.services import notify
from apps.peers.guards import require_active_member, require_organizer
from apps.peers.models import Community, User
from apps.peers.selectors import active_member
from p2pcommons.enqueue import enqueue_on_commit
from p2pcommons.errors import RuleViolation
from p2pcommons.humanize import format_amount
from p2pcommons.i18n import Amount, Message

from . import log
from .chain import entry_document, link_hash
from .models import Account, Chain, Currency, Entry, LimitChange, Transfer
from .tasks import publish_checkpoint

CENT = Decimal("0.01")
MAX_ID = 2**63 - 1  # the largest id the databases store


def _default_limit(community: Community, currency: str) -> Decimal:
    return community.default_hour_limit if currency == Currency.HOUR else community.default_credit_limit


def account_for(*, user: User, community: Community, currency: str) -> Account:
    """The member's account in that community and currency, opened on first use with the
    community's default limit. The partial unique constraint settles a racing open."""
    if currency not in Currency.values:
        raise ValidationError({"currency": _("Unknown currency %(currency)r.") % {"currency": currency}})
    account, _created = Account.objects.get_or_create(
        community=community,
        currency=currency,
        owner=user,
        defaults={"limit": _default_limit(community, currency)},
    )
    return account


def community_account(*, community: Community, currency: str, name: str = "Common fund") -> Account:
    """A community-held account (e.g. a common fund), opened on first use."""
    account, _created = Account.objects.get_or_create(
        community=community,
        currency=currency,
        owner=None,
        name=name,
        defaults={"limit": _default_limit(community, currency)},
    )
    return account


def _clean_amount(amount: Decimal | str | int) -> Decimal:
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValidationError({"amount": _("Enter an amount such as 1.50.")}) from exc
    if not value.is_finite() or value != value.quantize(CENT, rounding=ROUND_HALF_EVEN):
        raise ValidationError({"amount": _("Use at most two decimals.")})
    if value <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if value >= Decimal("1e10"):
        raise ValidationError({"amount": _("That amount is too large.")})
    return value.quantize(CENT)


def _fingerprint(**params) -> str:
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_member_can_send(account: Account) -> None:
    """Only an active member's account sends (a community account always may): a
    suspended member is told why, someone who left or never joined that they can't."""
    if account.owner_id is None:
        return
    require_active_member(user=account.owner, community_id=account.community_id, doing=_("send credits"))


def transfer_create(
    *,
    source: Account,
    target: Account,
    amount: Decimal | str | int,
    memo: str = "",
    idempotency_key: str,
    kind: str = Transfer.Kind.GIFT,
    related: Model | None = None,
    created_by: User | None = None,
    reverses: Transfer | None = None,
    enforce_membership: bool = True,
) -> Transfer:
    """Move ``amount`` from ``source`` to ``target`` as one atomic double entry.

    Locking: holds SELECT FOR UPDATE on the community's chain head first (appends to
    one chain are serialized, and it is the single first lock, so there is no deadlock),
    then on both accounts in id order. Idempotent: a retry with the same key returns
    the original transfer and writes nothing; the same key with other parameters is a
    RuleViolation; ``transfer.was_created`` tells which happened (decided under the lock,
    so callers can act once, e.g. notify). Refuses to take ``source`` below its limit (and the database's check
    constraint would refuse it too).
    """
    if not idempotency_key or len(idempotency_key) > 100:
        raise ValidationError({"idempotency_key": _("A key of 1 to 100 characters is required.")})
    amount = _clean_amount(amount)
    if len(memo) > 200:
        raise ValidationError({"memo": _("At most 200 characters.")})
    related_type = ContentType.objects.get_for_model(related) if related is not None else None
    fingerprint = _fingerprint(
        source=source.pk,
        target=target.pk,
        amount=f"{amount:.2f}",
        memo=memo,
        kind=kind,
        related=(related_type.pk, related.pk) if related is not None else None,
        reverses=reverses.pk if reverses else None,
    )
    if source.pk == target.pk:
        raise RuleViolation(_("An account can't send credits to itself."), code="same_account")
    if source.community_id != target.community_id or source.currency != target.currency:
        raise RuleViolation(_("Both accounts must be in the same community and currency."), code="mismatch")

    try:
        return _append(
            source=source,
            target=target,
            amount=amount,
            memo=memo,
            idempotency_key=idempotency_key,
            kind=kind,
            fingerprint=fingerprint,
            related_type=related_type,
            related_id=related.pk if related else None,
            created_by=created_by,
            reverses=reverses,
            enforce_membership=enforce_membership,
        )
    except IntegrityError:
        # Only a reversal can collide here (one reversal per transfer): the other
        # uniques (key, seq) are settled under the chain lock before the insert.
        raise RuleViolation(_("This transfer has already been reversed."), code="already_reversed") from None


@transaction.atomic
def _append(
    *,
    source,
    target,
    amount,
    memo,
    idempotency_key,
    kind,
    fingerprint,
    related_type,
    related_id,
    created_by,
    reverses,
    enforce_membership,
) -> Transfer:
    """The locked part of ``transfer_create``; see its docstring."""
    chain = Chain.objects.select_for_update().filter(community_id=source.community_id).first()
    if chain is None:
        Chain.objects.get_or_create(community_id=source.community_id)
        chain = Chain.objects.select_for_update().get(community_id=source.community_id)

    existing = Transfer.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise RuleViolation(
                _("This idempotency key was already used for a different transfer."), code="idempotency_key_reused"
            )
        existing.was_created = False
        return existing

    # The owners come along (the membership check asks about them), unlocked: only the accounts are.
    accounts = Account.objects.select_for_update(of=("self",)).select_related("owner")
    locked = {a.pk: a for a in accounts.filter(pk__in=[source.pk, target.pk]).order_by("pk")}
    src, dst = locked[source.pk], locked[target.pk]
    if enforce_membership:
        _check_member_can_send(src)
    if src.balance - amount < src.limit:
        raise RuleViolation(
            _(
                "That would take the balance to %(balance)s, below its limit of %(limit)s. "
                "At most %(available)s can be sent now."
            )
            % {
                "balance": format_amount(src.balance - amount, src.currency),
                "limit": format_amount(src.limit, src.currency),
                "available": format_amount(src.available, src.currency),
            },
            code="limit_exceeded",
        )

    transfer = Transfer.objects.create(
        community_id=src.community_id,
        currency=src.currency,
        source=src,
        target=dst,
        amount=amount,
        kind=kind,
        memo=memo,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        reverses=reverses,
        related_type=related_type,
        related_id=related_id,
        created_by=created_by,
        created_at=timezone.now(),
    )
    seq, prev = chain.last_seq, chain.last_hash
    documents = []
    for account, delta in ((src, -amount), (dst, amount)):
        account.balance += delta
        seq += 1
        doc = entry_document(
            seq=seq, transfer=transfer, account_id=account.pk, amount=delta, balance_after=account.balance
        )
        digest = link_hash(prev, doc)
        documents.append(doc)
        Entry.objects.create(
            transfer=transfer,
            account=account,
            community_id=src.community_id,
            seq=seq,
            amount=delta,
            balance_after=account.balance,
            prev_hash=prev,
            hash=digest,
        )
        prev = digest
        Account.objects.filter(pk=account.pk).update(balance=account.balance)
    # The same entries as leaves of the Merkle log, in this transaction (apps.ledger.log).
    log.append(community_id=src.community_id, size=chain.last_seq, documents=documents)
    Chain.objects.filter(pk=chain.pk).update(last_seq=seq, last_hash=prev)
    every = settings.LEDGER_CHECKPOINT_EVERY
    if every and seq // every > chain.last_seq // every:
        enqueue_on_commit(publish_checkpoint, src.community_id, waits_for="a signed checkpoint")
    transfer.was_created = True
    return transfer


def gift_recipient(*, community: Community, user_id: int) -> User:
    """The active member of ``community`` with that user id.

    An unknown id, someone who is not (or no longer, or not actively) a member, or an
    id too large for the database: one answer for all, which never names the person,
    so the send form can't be used to learn who is behind an id.
    """
    recipient = active_member(community_id=community.pk, user_id=user_id) if abs(user_id) <= MAX_ID else None
    if recipient is None:
        raise RuleViolation(
            _("That recipient is not an active member of %(community)s.") % {"community": community.name},
            code="recipient_not_member",
        )
    return recipient


@transaction.atomic
def gift_send(
    *, sender: User, recipient: User, community: Community, currency: str, amount, memo: str, idempotency_key: str
) -> Transfer:
    """A member sends credits to another active member of the same community, who is
    notified (in the same transaction: the notification is written if and only if the
    transfer is). Refusals never name the recipient (see ``gift_recipient``)."""
    if sender.pk == recipient.pk:
        raise RuleViolation(_("You can't send credits to yourself."), code="same_account")
    gift_recipient(community=community, user_id=recipient.pk)
    key = f"gift:{sender.pk}:{idempotency_key}"
    transfer = transfer_create(
        source=account_for(user=sender, community=community, currency=currency),
        target=account_for(user=recipient, community=community, currency=currency),
        amount=amount,
        memo=memo,
        idempotency_key=key,
        kind=Transfer.Kind.GIFT,
        created_by=sender,
    )
    if transfer.was_created:
        notify(
            recipients=[recipient],
            kind="ledger.received",
            actor=sender,
            target=transfer,
            text=(
                Message(
                    "{name} sent you {amount}: {memo}",
                    name=sender.public_name,
                    amount=Amount(transfer.amount, transfer.currency),
                    memo=transfer.memo,
                )
                if transfer.memo
                else Message(
                    "{name} sent you {amount}",
                    name=sender.public_name,
                    amount=Amount(transfer.amount, transfer.currency),
                )
            ),
            url=reverse("ledger:mine"),
        )
    return transfer


def transfer_reverse(*, transfer: Transfer, actor: User, reason: str) -> Transfer:
    """Undo a transfer with a reversing one (target -> source) that references it.

    Organizers of the transfer's community only, and never one who is a party to it
    (sender or receiver): another organizer or a superuser must act. Once per transfer
    (a unique constraint), and a reversal can't be reversed. Subject to the usual limits;
    it goes through even when a party has since left the community.
    """
    require_organizer(user=actor, community_id=transfer.community_id, doing=_("reverse transfers"))
    if Account.objects.filter(pk__in=[transfer.source_id, transfer.target_id], owner=actor).exists():
        raise RuleViolation(
            _("You took part in this transfer: another organizer must reverse it."), code="own_transfer"
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the transfer is reversed.")})
    if transfer.kind == Transfer.Kind.REVERSAL:
        raise RuleViolation(_("A reversal can't itself be reversed; make a new transfer instead."), code="is_reversal")
    if Transfer.objects.filter(reverses=transfer).exists():
        raise RuleViolation(_("This transfer has already been reversed."), code="already_reversed")
    return transfer_create(
        source=transfer.target,
        target=transfer.source,
        amount=transfer.amount,
        memo=f"Reversal of #{transfer.pk}: {reason.strip()}"[:200],
        idempotency_key=f"reversal:{transfer.pk}",
        kind=Transfer.Kind.REVERSAL,
        reverses=transfer,
        created_by=actor,
        enforce_membership=False,
    )


def _limit_floor(community: Community, currency: str) -> Decimal:
    return community.hour_limit_floor if currency == Currency.HOUR else community.credit_limit_floor


@transaction.atomic
def account_set_limit(*, account: Account, actor: User, limit: Decimal | str, reason: str) -> Account:
    """Change how far below zero an account may go; organizers only, recorded.

    Nobody changes their own account's limit (another organizer or a superuser must),
    and no limit goes below the community's floor for that currency, which only a
    superuser changes. Holds SELECT FOR UPDATE on the account so a transfer can't slip
    below the new limit between the check and the change.
    """
    require_organizer(user=actor, community_id=account.community_id, doing=_("change limits"))
    if account.owner_id == actor.pk:
        raise RuleViolation(_("You can't change your own limit: another organizer must."), code="own_account")
    try:
        new_limit = Decimal(str(limit)).quantize(CENT)
    except InvalidOperation as exc:
        raise ValidationError({"limit": _("Enter a number such as -20.")}) from exc
    if not new_limit.is_finite():
        raise ValidationError({"limit": _("Enter a number such as -20.")})
    if new_limit > 0:
        raise ValidationError({"limit": _("A limit is zero or below zero.")})
    floor = _limit_floor(account.community, account.currency)
    if new_limit < floor:
        lowest = format_amount(floor, account.currency)
        raise ValidationError({"limit": _("The lowest limit in this community is %(lowest)s.") % {"lowest": lowest}})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the limit changes.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("At most 200 characters.")})
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.balance < new_limit:
        raise RuleViolation(
            _("The balance (%(balance)s) is already below %(limit)s; choose a lower limit.")
            % {"balance": f"{account.balance:.2f}", "limit": f"{new_limit:.2f}"},
            code="limit_above_balance",
        )
    old = account.limit
    if old != new_limit:
        Account.objects.filter(pk=account.pk).update(limit=new_limit)
        LimitChange.objects.create(account=account, old_limit=old, new_limit=new_limit, reason=reason, actor=actor)
        account.limit = new_limit
    return account
