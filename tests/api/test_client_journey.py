"""Two neighbors use the API only through the client generated from our schema, against a
live server, as a mobile app would: sign in (allauth's app login), read their profile,
send credits, read the notification. The lead's loan and skill journeys extend this.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from http import HTTPStatus

import pytest

from apps.ledger.models import Transfer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_signed_in_app_reads_the_profile_and_a_bad_token_must_log_in_again(
    live_server, generated_client, community, owner
):
    from p2p_client.api.me import me_retrieve
    from p2p_client.models import Me, MembershipStatusEnum, Problem, RoleEnum

    me = me_retrieve.sync(client=generated_client.signed_in(live_server.url, owner))

    assert isinstance(me, Me)
    assert (me.display_name, me.email) == ("Olive Owner", "owner@example.org")
    [mine] = me.communities
    assert (mine.slug, mine.role, mine.status) == ("sunnyside", RoleEnum.MEMBER, MembershipStatusEnum.ACTIVE)

    refused = me_retrieve.sync_detailed(client=generated_client.client(live_server.url, token="not-a-session"))

    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(refused.parsed, Problem)
    assert refused.headers["WWW-Authenticate"] == "X-Session-Token"


def test_a_neighbor_sends_credits_and_the_other_reads_the_notification(
    live_server, generated_client, community, owner, member
):
    from p2p_client.api.ledger import ledger_accounts_list, ledger_transfers_create
    from p2p_client.api.notifications import notifications_list, notifications_read_create
    from p2p_client.models import (
        CurrencyEnum,
        LedgerTransfersCreateConflict,
        LedgerTransfersCreateConflictCode,
        NotificationKindEnum,
        TransferCreateInput,
    )
    from p2p_client.models import Transfer as TransferModel

    olive = generated_client.signed_in(live_server.url, owner)
    max_ = generated_client.signed_in(live_server.url, member)
    gift = TransferCreateInput(community=community.pk, currency=CurrencyEnum.HOUR, to=member.pk, amount="2.50")

    sent = ledger_transfers_create.sync(client=olive, body=gift, idempotency_key=str(uuid.uuid4()))
    too_much = TransferCreateInput(community=community.pk, currency=CurrencyEnum.HOUR, to=member.pk, amount="50")
    refused = ledger_transfers_create.sync(client=olive, body=too_much, idempotency_key=str(uuid.uuid4()))

    assert isinstance(sent, TransferModel) and sent.target_holder == "Max Member"
    assert isinstance(refused, LedgerTransfersCreateConflict)
    assert refused.code is LedgerTransfersCreateConflictCode.LIMIT_EXCEEDED
    assert Transfer.objects.get().amount == Decimal("2.50")
    balances = {
        name: Decimal(account.balance)
        for name, client in (("olive", olive), ("max", max_))
        for account in ledger_accounts_list.sync(client=client, currency=CurrencyEnum.HOUR).results
    }
    assert balances == {"olive": Decimal("-2.50"), "max": Decimal("2.50")}

    [notice] = notifications_list.sync(client=max_, unread=True).results
    assert notice.kind is NotificationKindEnum.LEDGER_RECEIVED and "Olive Owner" in notice.text
    read = notifications_read_create.sync(client=max_, id=notice.id)
    assert read.is_read
    assert notifications_list.sync(client=max_, unread=True).results == []
