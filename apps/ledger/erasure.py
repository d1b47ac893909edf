"""What deleting an account does to the ledger: nothing is changed (found by ``apps.privacy``).

Accounts, transfers and entries are append-only and hash-chained; changing any of them
would break the community's chain. They stay as they are: amounts, balances (a negative
one too: the member is told first and confirms), memos and the chain. The account's owner
is the same user row, which now reads as the member's pseudonym, so every ledger page
and export shows the pseudonym and ``verify_ledger`` still finds every link intact.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.privacy.deletion import register_preview
from apps.privacy.registry import register_eraser

from .models import Account, Transfer


def preview(user) -> dict[str, list[str]]:
    accounts = Account.objects.filter(owner=user)
    if not accounts.exists():
        return {"cancelled": [], "kept": []}
    moved = Transfer.objects.filter(source__owner=user).count() + Transfer.objects.filter(target__owner=user).count()
    return {
        "cancelled": [],
        "kept": [
            _(
                "Your ledger accounts, their balances and your %(n)s transfers, with their notes, under your "
                "pseudonym: the community's ledger must stay complete and verifiable"
            )
            % {"n": moved}
        ],
    }


register_eraser("ledger", order=10)
register_preview("ledger", preview)
