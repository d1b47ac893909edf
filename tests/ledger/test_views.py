import re
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.ledger import services
from apps.ledger.models import LimitChange, Transfer
from apps.peers.factories import MembershipFactory
from tests.querycount import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db
MINE = reverse("ledger:mine")


def test_my_balance_page_sends_credits_and_shows_the_new_balance(web_as, owner, member, community):
    client = web_as(owner)
    key = client.get(MINE).context["form"].initial["key"]
    response = client.post(
        MINE,
        {
            "community": community.pk,
            "recipient": member.pk,
            "currency": "HOUR",
            "amount": "2",
            "memo": "Soup",
            "key": key,
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Sent 2 hours to Max Member." in html
    assert "-2 hours" in html and "Soup" in html


def test_a_double_submitted_form_sends_once(web_as, owner, member, community):
    client = web_as(owner)
    data = {"community": community.pk, "recipient": member.pk, "currency": "HOUR", "amount": "1", "key": "same"}
    client.post(MINE, data)
    client.post(MINE, data)
    assert Transfer.objects.count() == 1


def test_bad_input_shows_the_form_again_with_messages(web_as, owner, member, community):
    response = web_as(owner).post(
        MINE, {"community": community.pk, "recipient": member.pk, "currency": "HOUR", "amount": "-3", "key": "k"}
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0.01." in response.content.decode()
    assert Transfer.objects.count() == 0


def test_a_limit_break_is_explained_on_the_form(web_as, owner, member, community):
    response = web_as(owner).post(
        MINE, {"community": community.pk, "recipient": member.pk, "currency": "HOUR", "amount": "11", "key": "k"}
    )
    assert "below its limit of -10 hours" in response.content.decode()


def test_the_recipient_list_holds_only_my_communities_members(web_as, owner, member, stranger, community):
    html = web_as(owner).get(MINE).content.decode()
    assert "Max Member" in html and "Sam Stranger" not in html


def test_someone_in_no_community_is_pointed_to_join_one(web_as, stranger):
    assert "Join a community" in web_as(stranger).get(MINE).content.decode()


def test_my_history_query_count_does_not_grow(web_as, owner, member, community):
    client = web_as(member)
    counter = iter(range(1000))
    src = services.account_for(user=owner, community=community, currency="HOUR")
    dst = services.account_for(user=member, community=community, currency="HOUR")

    def add(n):
        for _ in range(n):
            services.transfer_create(source=src, target=dst, amount="0.1", idempotency_key=f"k{next(counter)}")

    assert_queries_do_not_grow(lambda: client.get(MINE), add)


def test_the_community_ledger_shows_the_chain_without_private_data(web_as, owner, member, community):
    services.gift_send(
        sender=owner, recipient=member, community=community, currency="HOUR", amount="1", memo="", idempotency_key="k"
    )
    html = web_as(member).get(reverse("ledger:community", args=["sunnyside"]), {"verify": 1}).content.decode()
    assert "Olive Owner" in html and "Max Member" in html
    assert "All 2 lines checked: nothing has been changed or removed" in html
    assert "owner@example.org" not in html


def test_the_community_ledger_page_query_count_does_not_grow(web_as, owner, member, community):
    client = web_as(member)
    counter = iter(range(1000))

    def add(n):
        for _ in range(n):
            services.gift_send(
                sender=owner,
                recipient=member,
                community=community,
                currency="CREDIT",
                amount="0.1",
                memo="",
                idempotency_key=f"k{next(counter)}",
            )

    assert_queries_do_not_grow(lambda: client.get(reverse("ledger:community", args=["sunnyside"])), add)


def test_my_history_shows_hours_and_credits_apart_each_with_its_unit(web_as, owner, member, community):
    for currency, amount in (("HOUR", "1.5"), ("CREDIT", "3")):
        services.gift_send(
            sender=owner,
            recipient=member,
            community=community,
            currency=currency,
            amount=amount,
            memo=f"Thanks ({currency.lower()})",
            idempotency_key=currency,
        )
    html = web_as(member).get(MINE).content.decode()
    hours = html.index('id="history-hour"')
    credits = html.index('id="history-credit"')
    assert hours < html.index("Thanks (hour)") < credits < html.index("Thanks (credit)")
    assert "+1.50 hours" in html and "balance after: 1.50 hours" in html
    assert "+3 credits" in html and "balance after: 3 credits" in html
    visible = re.sub(r"<[^>]+>", " ", html)
    assert "HOUR" not in visible and "CREDIT" not in visible


def test_my_balance_names_each_unit_instead_of_a_currency_code(web_as, owner, member, community):
    services.gift_send(
        sender=owner, recipient=member, community=community, currency="HOUR", amount="1", memo="", idempotency_key="k"
    )
    html = web_as(owner).get(MINE).content.decode()
    assert "<strong>-1 hour</strong>" in html
    assert "Can still send" in html and "<th" not in html.split('id="send-heading"')[0]


def test_the_community_ledger_explains_the_check_in_plain_words_and_folds_the_technical_part(
    web_as, owner, member, community
):
    services.gift_send(
        sender=owner,
        recipient=member,
        community=community,
        currency="CREDIT",
        amount="2.5",
        memo="",
        idempotency_key="k",
    )
    html = web_as(member).get(reverse("ledger:community", args=["sunnyside"])).content.decode()
    summary = html.index("How to check it yourself")
    details = html[html.rindex("<details", 0, summary) : html.index("</details>", summary)]
    outside = html.replace(details, "")
    assert "How to check it yourself" in details and "verify_ledger_export.py" in details
    assert "verify_ledger_export.py" not in outside and "Hash" not in outside and "hash" not in outside
    assert "+2.50 credits" in html and "-2.50 credits" in html


def test_non_members_are_sent_back_to_the_community_page(web_as, stranger, community):
    response = web_as(stranger).get(reverse("ledger:community", args=["sunnyside"]))
    assert response.status_code == 302 and response["Location"] == "/c/sunnyside/"


def test_the_organizer_reverses_a_transfer_in_the_admin(web_as, owner, member, organizer, community):
    transfer = services.gift_send(
        sender=owner, recipient=member, community=community, currency="HOUR", amount="4", memo="", idempotency_key="k"
    )
    web_as(organizer).post(
        reverse("admin:ledger_transfer_changelist"),
        {"action": "reverse_transfers", "_selected_action": [transfer.pk], "apply": "1", "reason": "Wrong person"},
    )
    reversal = Transfer.objects.get(reverses=transfer)
    assert reversal.created_by == organizer and "Wrong person" in reversal.memo
    assert services.account_for(user=member, community=community, currency="HOUR").balance == 0


def test_the_organizer_changes_a_limit_in_the_admin_with_a_reason(web_as, member, organizer, community):
    account = services.account_for(user=member, community=community, currency="HOUR")
    web_as(organizer).post(
        reverse("admin:ledger_account_changelist"),
        {
            "action": "change_limit",
            "_selected_action": [account.pk],
            "apply": "1",
            "limit": "-25",
            "reason": "Runs the repair café",
        },
    )
    assert LimitChange.objects.get().new_limit == Decimal("-25.00")


def test_an_organizer_sees_no_other_communitys_ledger_in_the_admin(web_as, organizer, other_community):
    a, b = (MembershipFactory(community=other_community, user__profile__display_name=n).user for n in ("Rita", "Rob"))
    services.gift_send(
        sender=a, recipient=b, community=other_community, currency="HOUR", amount="1", memo="", idempotency_key="k"
    )
    client = web_as(organizer)
    for name in ("transfer", "account", "entry"):
        html = client.get(reverse(f"admin:ledger_{name}_changelist")).content.decode()
        assert "Rita" not in html and "Rob" not in html, name
    transfer = Transfer.objects.get()
    assert client.get(reverse("admin:ledger_transfer_change", args=[transfer.pk])).status_code == 302


def test_nobody_edits_ledger_rows_in_the_admin(web_as, owner, member, community):
    from apps.peers.factories import UserFactory

    transfer = services.gift_send(
        sender=owner, recipient=member, community=community, currency="HOUR", amount="1", memo="", idempotency_key="k"
    )
    admin = web_as(UserFactory(is_staff=True, is_superuser=True))
    page = admin.get(reverse("admin:ledger_transfer_change", args=[transfer.pk])).content.decode()
    assert 'name="_save"' not in page
    admin.post(reverse("admin:ledger_transfer_change", args=[transfer.pk]), {"amount": "99"})
    transfer.refresh_from_db()
    assert transfer.amount == Decimal("1.00")
    assert admin.post(reverse("admin:ledger_transfer_delete", args=[transfer.pk]), {"post": "yes"}).status_code == 403


def test_reversing_in_the_admin_asks_for_a_reason_first(web_as, owner, member, organizer, community):
    transfer = services.gift_send(
        sender=owner, recipient=member, community=community, currency="HOUR", amount="4", memo="", idempotency_key="k"
    )
    client = web_as(organizer)
    page = client.post(
        reverse("admin:ledger_transfer_changelist"), {"action": "reverse_transfers", "_selected_action": [transfer.pk]}
    )
    assert "Reverse transfers" in page.content.decode() and 'name="reason"' in page.content.decode()
    assert not Transfer.objects.filter(reverses=transfer).exists()
    empty = client.post(
        reverse("admin:ledger_transfer_changelist"),
        {"action": "reverse_transfers", "_selected_action": [transfer.pk], "apply": "1", "reason": ""},
    )
    assert "This field is required." in empty.content.decode()
    assert not Transfer.objects.filter(reverses=transfer).exists()


def test_an_organizer_cannot_edit_a_balance_or_a_transfer_in_the_admin(web_as, owner, member, organizer, community):
    transfer = services.gift_send(
        sender=owner, recipient=member, community=community, currency="HOUR", amount="1", memo="", idempotency_key="k"
    )
    account = services.account_for(user=member, community=community, currency="HOUR")
    client = web_as(organizer)
    assert 'name="_save"' not in client.get(reverse("admin:ledger_account_change", args=[account.pk])).content.decode()
    client.post(reverse("admin:ledger_account_change", args=[account.pk]), {"balance": "500", "limit": "-1000"})
    account.refresh_from_db()
    assert (account.balance, account.limit) == (Decimal("1.00"), Decimal("-10.00"))
    response = client.post(reverse("admin:ledger_transfer_change", args=[transfer.pk]), {"amount": "99"})
    assert response.status_code == 403


def test_an_organizer_cannot_change_their_own_limit_in_the_admin(web_as, organizer, community):
    account = services.account_for(user=organizer, community=community, currency="HOUR")
    response = web_as(organizer).post(
        reverse("admin:ledger_account_changelist"),
        {
            "action": "change_limit",
            "_selected_action": [account.pk],
            "apply": "1",
            "limit": "-1000",
            "reason": "I deserve it",
        },
        follow=True,
    )
    assert "You can&#x27;t change your own limit: another organizer must." in response.content.decode()
    account.refresh_from_db()
    assert account.limit == Decimal("-10.00") and not LimitChange.objects.exists()


def test_a_limit_below_the_floor_is_refused_in_the_admin(web_as, member, organizer, community):
    account = services.account_for(user=member, community=community, currency="HOUR")
    response = web_as(organizer).post(
        reverse("admin:ledger_account_changelist"),
        {"action": "change_limit", "_selected_action": [account.pk], "apply": "1", "limit": "-41", "reason": "x"},
        follow=True,
    )
    assert "The lowest limit in this community is -40 hours." in response.content.decode()
    account.refresh_from_db()
    assert account.limit == Decimal("-10.00")


def test_the_send_form_never_names_a_recipient_who_is_not_in_the_chosen_community(
    web_as, owner, community, other_community
):
    MembershipFactory(community=other_community, user=owner)
    elsewhere = MembershipFactory(community=other_community, user__profile__display_name="Rita Riverside").user
    response = web_as(owner).post(
        MINE, {"community": community.pk, "recipient": elsewhere.pk, "currency": "HOUR", "amount": "1", "key": "k"}
    )
    html = response.content.decode()
    assert "That recipient is not an active member of Sunnyside Commons." in html
    assert "Rita Riverside is not" not in html and Transfer.objects.count() == 0
