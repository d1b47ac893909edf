"""What the organizers' page shows about clearing with each neighbour: per neighbour and
currency, the balance, the limit (with its form) and the latest reconciliation, read in a
fixed number of queries whatever the number of neighbours or checks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from apps.ledger.clearing import clearing_accounts_of, describe
from apps.ledger.models import ClearingCheck, Currency
from apps.peers.models import Community
from p2pcommons.humanize import format_amount, format_when_short

from ..forms import LimitForm
from ..models import Follow

SHOWN_PROBLEMS = 3


@dataclass
class ClearingRow:
    """One neighbour in one currency, as the organizers read it."""

    peer_uri: str
    peer_name: str
    currency: str
    balance: Decimal
    limit: Decimal
    check: ClearingCheck | None
    form: LimitForm

    @property
    def currency_label(self) -> str:
        return str(Currency(self.currency).label)

    @property
    def standing(self) -> str:
        """The balance in words: a negative clearing balance is what they owe us."""
        if self.balance < 0:
            return _("%(peer)s owes us %(amount)s.") % {
                "peer": self.peer_name,
                "amount": format_amount(-self.balance, self.currency),
            }
        if self.balance > 0:
            return _("We owe %(peer)s %(amount)s.") % {
                "peer": self.peer_name,
                "amount": format_amount(self.balance, self.currency),
            }
        return _("Nobody owes anything.")

    @property
    def allowance(self) -> str:
        if not self.limit:
            return _("They may not owe us anything yet: set how much below.")
        return _("They may owe us up to %(amount)s.") % {"amount": format_amount(-self.limit, self.currency)}

    @property
    def reconciliation(self) -> str:
        """The latest comparison of the two ledgers, in plain words."""
        check = self.check
        if check is None:
            return _("The two ledgers have not been compared yet.")
        when = format_when_short(check.checked_at)
        if check.ok:
            return _("Checked %(when)s: both ledgers agree.") % {"when": when}
        return _("Checked %(when)s: the two ledgers do not match. The organizers of both communities were told.") % {
            "when": when
        }

    @property
    def problems(self) -> list[str]:
        """What the latest check found, in plain words (the first few)."""
        if self.check is None or self.check.ok or not isinstance(self.check.detail, dict):
            return []
        found = self.check.detail.get("problems") or []
        shown = [problem for problem in found if isinstance(problem, dict)][:SHOWN_PROBLEMS]
        return [str(describe(problem, self.currency)) for problem in shown]


def neighbours_to_clear_with(*, community: Community, follows: list[Follow]) -> dict[str, str]:
    """The neighbours (uri -> name) this community may clear with: those it follows or
    that follow it, accepted."""
    return {
        follow.remote.uri: follow.remote.name or follow.remote.handle or follow.remote.host
        for follow in follows
        if follow.state == Follow.State.ACCEPTED
    }


def clearing_rows(*, community: Community, follows: list[Follow], bound: LimitForm | None = None) -> list[ClearingRow]:
    """Every clearing account of the community with its latest check (two queries), plus a
    row at zero for each accepted neighbour and currency that has no account yet, so a
    limit can be set before the first exchange. ``bound`` replaces the form of its row
    (the organizer's input shown again with its errors)."""
    peers = neighbours_to_clear_with(community=community, follows=follows)
    latest = (
        ClearingCheck.objects.filter(community=community, peer=OuterRef("peer"), currency=OuterRef("currency"))
        .order_by("-checked_at", "-id")
        .values("id")[:1]
    )
    accounts = list(clearing_accounts_of(community=community).annotate(latest_check=Subquery(latest)))
    check_ids = [account.latest_check for account in accounts if account.latest_check]
    checks = {check.pk: check for check in ClearingCheck.objects.filter(pk__in=check_ids)} if check_ids else {}
    for account in accounts:
        peers.setdefault(account.peer, account.peer_name or account.peer)
    rows: dict[tuple[str, str], ClearingRow] = {}
    for account in accounts:
        rows[(account.peer, account.currency)] = _row(
            peers,
            account.peer,
            account.currency,
            balance=account.balance,
            limit=account.limit,
            check=checks.get(account.latest_check),
        )
    for uri in peers:
        for currency in Currency.values:
            if (uri, currency) not in rows:
                rows[(uri, currency)] = _row(peers, uri, currency, balance=Decimal("0"), limit=Decimal("0"), check=None)
    if bound is not None and bound.is_bound:
        key = (bound.data.get("peer", ""), bound.data.get("currency", ""))
        if key in rows:
            rows[key].form = bound
    ordered = sorted(rows.values(), key=lambda row: (row.peer_name.casefold(), row.peer_uri, row.currency))
    for number, row in enumerate(ordered, start=1):
        row.form.auto_id = f"limit{number}_%s"  # one form per row: ids stay unique on the page
    return ordered


def _row(peers: dict[str, str], uri: str, currency: str, *, balance, limit, check) -> ClearingRow:
    form = LimitForm(
        peers=peers,
        initial={"peer": uri, "currency": currency, "amount": -limit if limit else Decimal("0")},
    )
    return ClearingRow(
        peer_uri=uri,
        peer_name=peers[uri],
        currency=currency,
        balance=balance,
        limit=limit,
        check=check,
        form=form,
    )
