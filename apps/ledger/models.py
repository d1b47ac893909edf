"""Mutual credit: accounts, transfers and the hash-chained entries that record them.

Per currency the balances of a community sum to zero: every transfer is one double
entry. Transfers and entries are append-only (the model refuses updates and deletes,
and on PostgreSQL a trigger does too); a mistake is undone by a reversing transfer.
"""

from __future__ import annotations

from decimal import Decimal

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
                condition=Q(owner__isnull=True),
                name="ledger_account_community_name_unique",
            ),
            models.CheckConstraint(condition=Q(balance__gte=F("limit")), name="ledger_account_within_limit"),
            models.CheckConstraint(condition=Q(limit__lte=0), name="ledger_account_limit_not_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.holder_name} · {self.get_currency_display()} · {self.community}"

    @property
    def holder_name(self) -> str:
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
