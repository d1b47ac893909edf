"""Mutual credit: accounts, transfers and the hash-chained entries that record them.

Per currency the balances of a community sum to zero: every transfer is one double
entry. Transfers and entries are append-only (the model refuses updates and deletes,
and on PostgreSQL a trigger does too); a mistake is undone by a reversing transfer.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from p2pcommons.db import AppendOnlyError
from p2pcommons.db import AppendOnlyModel as BaseAppendOnlyModel
from p2pcommons.humanize import format_amount, format_when_short
from scripts.verify_ledger_export import GENESIS_HASH  # the one definition, shared with the verifier

AMOUNT_DIGITS = {"max_digits": 14, "decimal_places": 2}


class Currency(models.TextChoices):
    HOUR = "HOUR", gettext_lazy("Time credits (hours)")
    CREDIT = "CREDIT", gettext_lazy("Community credits")


class LedgerImmutableError(AppendOnlyError):
    """Raised on any attempt to change or delete a recorded transfer or entry."""


class AppendOnlyModel(BaseAppendOnlyModel):
    """Ledger records: a mistake is undone by a reversing transfer, never an edit."""

    immutable_error = LedgerImmutableError
    immutable_message = "Ledger records are append-only; issue a reversing transfer instead."

    class Meta:
        abstract = True


class Account(models.Model):
    """A member's (or the community's own) balance in one currency of one community.

    ``balance`` is denormalized from the entries and only changed by the transfer
    service, under a row lock; a database check keeps it at or above ``limit``.
    """

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="ledger_accounts")
    currency = models.CharField(max_length=8, choices=Currency.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )
    name = models.CharField(
        max_length=80, blank=True, help_text=gettext_lazy("For community accounts, e.g. 'Common fund'.")
    )
    balance = models.DecimalField(**AMOUNT_DIGITS, default=Decimal("0"))
    limit = models.DecimalField(
        **AMOUNT_DIGITS,
        validators=[MaxValueValidator(Decimal("0"))],
        help_text=gettext_lazy("How far below zero it may go."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A clearing account (apps.ledger.clearing): the community's side of its zero-sum account
    # with a community on another server, named by that community's actor URI. No owner.
    peer = models.CharField(
        max_length=500,
        blank=True,
        help_text=gettext_lazy("For a clearing account: the address of the neighbouring community."),
    )
    peer_name = models.CharField(
        max_length=200, blank=True, help_text=gettext_lazy("For a clearing account: the neighbouring community's name.")
    )

    class Meta:
        ordering = ["community", "currency", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "currency", "owner"],
                condition=Q(owner__isnull=False),
                name="ledger_account_one_per_member_currency",
            ),
            models.UniqueConstraint(
                fields=["community", "currency", "name"],
                condition=Q(owner__isnull=True, peer=""),
                name="ledger_account_community_name_unique",
            ),
            models.UniqueConstraint(
                fields=["community", "currency", "peer"],
                condition=~Q(peer=""),
                name="ledger_account_one_per_peer_currency",
            ),
            models.CheckConstraint(
                condition=Q(peer="") | Q(owner__isnull=True), name="ledger_account_clearing_has_no_owner"
            ),
            models.CheckConstraint(condition=Q(balance__gte=F("limit")), name="ledger_account_within_limit"),
            models.CheckConstraint(condition=Q(limit__lte=0), name="ledger_account_limit_not_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.holder_name} · {self.get_currency_display()} · {self.community}"

    @property
    def is_clearing(self) -> bool:
        """Whether this is a clearing account with a neighbouring community (no member holds it)."""
        return bool(self.peer)

    @property
    def holder_name(self) -> str:
        if self.peer:
            return _("Clearing with %(name)s") % {"name": self.peer_name or urlsplit(self.peer).hostname or self.peer}
        return self.owner.public_name if self.owner_id else (self.name or _("Community"))

    @property
    def available(self) -> Decimal:
        """How much can still be sent before the limit is reached."""
        return self.balance - self.limit


class Chain(models.Model):
    """The head of a community's hash chain. Its row lock serializes appends."""

    community = models.OneToOneField("peers.Community", on_delete=models.PROTECT, related_name="ledger_chain")
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # The Merkle log over the same entries (apps.ledger.log): its name in checkpoints,
    # fixed at the first checkpoint, and the public key that signs them.
    origin = models.CharField(max_length=200, blank=True)
    log_vkey = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"Chain of {self.community} at #{self.last_seq}"


class Transfer(AppendOnlyModel):
    """One movement of credit from one account to another: exactly two entries.

    The idempotency key makes retries harmless: the same key returns this transfer.
    ``fingerprint`` is what the key was used for, so a reuse with other parameters is
    refused instead of silently answered with the wrong transfer.
    """

    class Kind(models.TextChoices):
        GIFT = "gift", gettext_lazy("Gift or direct payment")
        EXCHANGE = "exchange", gettext_lazy("Exchange settlement")
        REVERSAL = "reversal", gettext_lazy("Reversal")

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="ledger_transfers")
    currency = models.CharField(max_length=8, choices=Currency.choices)
    source = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="outgoing")
    target = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="incoming")
    amount = models.DecimalField(**AMOUNT_DIGITS, validators=[MinValueValidator(Decimal("0.01"))])
    kind = models.CharField(max_length=16, choices=Kind.choices)
    memo = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    fingerprint = models.CharField(max_length=64)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    related_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    related_id = models.PositiveBigIntegerField(null=True, blank=True)
    related = GenericForeignKey("related_type", "related_id")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="ledger_transfer_distinct_accounts"),
        ]
        indexes = [models.Index(fields=["related_type", "related_id"])]

    def __str__(self) -> str:
        return f"{format_amount(self.amount, self.currency)} on {format_when_short(self.created_at)}"


class Entry(AppendOnlyModel):
    """One leg of a transfer on one account, and one link of the community's hash chain.

    ``hash = sha256(prev_hash + canonical content)``; the canonical content (see
    ``apps.ledger.chain``) names the transfer's fields too, so changing a transfer,
    an entry or a balance snapshot breaks the chain at that entry.
    """

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField(help_text=gettext_lazy("Position in the community's chain, from 1."))
    amount = models.DecimalField(
        **AMOUNT_DIGITS, help_text=gettext_lazy("Negative for the sender, positive for the receiver.")
    )
    balance_after = models.DecimalField(**AMOUNT_DIGITS)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["community", "seq"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["community", "seq"], name="ledger_entry_seq_unique"),
        ]
        indexes = [models.Index(fields=["account", "-seq"])]

    def __str__(self) -> str:
        return f"Entry {self.seq} of {self.community}"


class LimitChange(AppendOnlyModel):
    """Audit record of an organizer changing an account's credit limit."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="limit_changes")
    old_limit = models.DecimalField(**AMOUNT_DIGITS)
    new_limit = models.DecimalField(**AMOUNT_DIGITS)
    reason = models.CharField(max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        currency = self.account.currency
        return f"{self.account}: {format_amount(self.old_limit, currency)} to {format_amount(self.new_limit, currency)}"


class LogNode(AppendOnlyModel):
    """One perfect subtree of a community's Merkle log (RFC 9162 2.1): it covers the
    entries with seq ``index * 2**level + 1`` to ``(index + 1) * 2**level``. Level 0 holds
    the leaf hashes. Written with the entries, in their transaction; about 2 per entry."""

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "level", "index"], name="ledger_lognode_unique"),
        ]

    def __str__(self) -> str:
        return f"Subtree {self.level}/{self.index} of {self.community_id}"


class Checkpoint(AppendOnlyModel):
    """A signed statement of the log's size and root (a C2SP checkpoint note). All kept."""

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="log_checkpoints")
    number = models.PositiveIntegerField(help_text=gettext_lazy("1 for the community's first checkpoint."))
    size = models.PositiveBigIntegerField(help_text=gettext_lazy("How many entries it covers."))
    root = models.BinaryField(max_length=32)
    note = models.TextField(help_text=gettext_lazy("The signed note, signed by the community's log key."))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["community", "-size"]
        constraints = [
            models.UniqueConstraint(fields=["community", "size"], name="ledger_checkpoint_size_unique"),
            models.UniqueConstraint(fields=["community", "number"], name="ledger_checkpoint_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Checkpoint {self.number} of {self.community} ({self.size} entries)"


class Cosignature(AppendOnlyModel):
    """A witness's signature line on a checkpoint: the witness checked that this checkpoint
    extends every earlier one it signed. Shown with the checkpoint."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness_name = models.CharField(max_length=200)
    key_id = models.PositiveBigIntegerField()
    line = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["checkpoint", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness_name", "key_id"], name="ledger_cosignature_once_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.witness_name} on {self.checkpoint}"


class LogWitness(models.Model):
    """A witness whose co-signatures this community's log accepts and shows: another
    community on this site (``witness``) or one on another server (name and key)."""

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="log_witnesses")
    name = models.CharField(max_length=200, help_text=gettext_lazy("The witness key's name."))
    vkey = models.CharField(max_length=300, help_text=gettext_lazy("The witness's public key."))
    witness = models.ForeignKey("peers.Community", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "log witnesses"
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="ledger_logwitness_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} witnesses {self.community}"


class WitnessedLog(models.Model):
    """A neighbouring community's log that this community witnesses: it fetches the log's
    newest checkpoint, checks it extends the last one it co-signed, and co-signs it."""

    witness = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="witnessed_logs")
    origin = models.CharField(max_length=200, help_text=gettext_lazy("The log's name in its checkpoints."))
    log_vkey = models.CharField(max_length=300, help_text=gettext_lazy("The log's public key."))
    url = models.URLField(
        blank=True,
        help_text=gettext_lazy("Where the log is published (https://...); empty for a community on this site."),
    )
    active = models.BooleanField(default=True)
    last_size = models.PositiveBigIntegerField(null=True, blank=True)
    last_root = models.BinaryField(max_length=32, null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["witness", "origin"], name="ledger_witnessedlog_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.witness} witnesses {self.origin}"


class WitnessView(AppendOnlyModel):
    """A checkpoint a witness checked and co-signed: the witness's memory of the log."""

    witnessed_log = models.ForeignKey(WitnessedLog, on_delete=models.PROTECT, related_name="views")
    size = models.PositiveBigIntegerField()
    root = models.BinaryField(max_length=32)
    note = models.TextField(help_text=gettext_lazy("The checkpoint with the witness's signature added."))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["witnessed_log", "-size"]
        constraints = [
            models.UniqueConstraint(fields=["witnessed_log", "size"], name="ledger_witnessview_size_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.witnessed_log} at {self.size}"


class LogAlarm(AppendOnlyModel):
    """Evidence that a log showed a history that can't be one: two checkpoints of one size
    with different roots (a split view), or one that does not extend an earlier one."""

    class Kind(models.TextChoices):
        SPLIT_VIEW = "split_view", gettext_lazy("Two different ledgers of the same length")
        NOT_EXTENDING = "not_extending", gettext_lazy("A ledger that rewrote its history")

    witnessed_log = models.ForeignKey(WitnessedLog, on_delete=models.PROTECT, related_name="alarms")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    size = models.PositiveBigIntegerField()
    seen_note = models.TextField(help_text=gettext_lazy("The checkpoint seen before."))
    new_note = models.TextField(help_text=gettext_lazy("The checkpoint that contradicts it."))
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["witnessed_log", "kind", "size"], name="ledger_logalarm_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.witnessed_log.origin}"


class ClearingCheck(models.Model):
    """One comparison of a clearing account with the neighbour's side of it
    (``apps.ledger.clearing.clearing_reconcile``): the two balances must be opposite, every
    shared payment on both sides with opposite amounts, and their checkpoint signed by their
    log key. Kept as the history organizers read; ``alerted_at`` says the organizers were told
    (of a new mismatch, or that it matches again)."""

    community = models.ForeignKey("peers.Community", on_delete=models.PROTECT, related_name="clearing_checks")
    peer = models.CharField(max_length=500, help_text=gettext_lazy("The neighbouring community's address."))
    peer_name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=8, choices=Currency.choices)
    checked_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField(help_text=gettext_lazy("Both sides matched."))
    our_balance = models.DecimalField(**AMOUNT_DIGITS)
    their_balance = models.DecimalField(**AMOUNT_DIGITS, null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["community", "currency", "peer", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.peer_name or self.peer} · {self.currency} · {format_when_short(self.checked_at)}"
