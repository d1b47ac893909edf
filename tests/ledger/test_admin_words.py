"""The ledger in the admin reads like the site: who, to whom, how much, why and when,
with units written out and moments in the site's local format (issue 11, item 17)."""

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from apps.ledger import services
from apps.ledger.models import Account, Entry, LimitChange, Transfer

pytestmark = pytest.mark.django_db


def _transfer(owner, member, community, memo="Soup for the street"):
    return services.gift_send(
        sender=owner,
        recipient=member,
        community=community,
        currency="HOUR",
        amount="1.5",
        memo=memo,
        idempotency_key=memo,
    )


def test_the_transfers_list_shows_when_who_to_whom_amount_and_memo_first(web_as, owner, member, organizer, community):
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        _transfer(owner, member, community)
    html = web_as(organizer).get(reverse("admin:ledger_transfer_changelist")).content.decode()
    headers = re.findall(r'<th scope="col" class="([^"]*)"', html)
    columns = [
        next(c for c in h.split() if c.startswith("column-")).removeprefix("column-")
        for h in headers
        if "action-checkbox" not in h
    ]
    assert columns == ["created_at", "source_holder", "target_holder", "amount_shown", "memo", "kind"]
    # Local time (Amsterdam, UTC+1 in November), as the site writes it; the unit spelled out.
    assert "Tue 24 Nov, 10:00" in html or "Tue 24 Nov 2026, 10:00" in html
    assert "1.50 hours" in html and "Soup for the street" in html
    assert "HOUR" not in re.sub(r"<option[^>]*>.*?</option>|name=\"[^\"]*\"|value=\"[^\"]*\"|\?[^\"]*\"", "", html)


def test_the_change_pages_write_dates_as_the_site_does(web_as, owner, member, organizer, community):
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        transfer = _transfer(owner, member, community)
    html = web_as(organizer).get(reverse("admin:ledger_transfer_change", args=[transfer.pk])).content.decode()
    assert "Tue 24 Nov 2026, 10:00" in html
    assert "Nov. 24, 2026" not in html


def test_ledger_rows_are_named_without_currency_codes(owner, member, organizer, community):
    transfer = _transfer(owner, member, community)
    account = Account.objects.get(owner=owner, community=community, currency="HOUR")
    entry = Entry.objects.filter(transfer=transfer).first()
    services.account_set_limit(account=account, actor=organizer, limit=Decimal("-5"), reason="Helps a lot")
    change = LimitChange.objects.get(account=account)
    names = [str(account), str(Transfer.objects.get(pk=transfer.pk)), str(entry), str(change)]
    for name in names:
        assert "HOUR" not in name and "CREDIT" not in name, name
    assert "Time credits (hours)" in str(account)
    assert str(transfer).startswith("1.50 hours on ")
    assert "-5 hours" in str(change)
