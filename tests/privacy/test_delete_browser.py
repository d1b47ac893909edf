"""The "Delete my account" pages on a phone (360 px): nothing wider than the screen, no
serious axe-core problem, and the whole way through works with the keyboard's fields."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.ledger.services import gift_send
from apps.peers.factories import DEFAULT_PASSWORD, MembershipFactory
from apps.privacy.models import Erasure
from apps.tools import services as tools
from apps.tools.factories import ToolFactory
from tests.test_phone_layout import PHONE, axe_problems, overflow, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def leaving(community, owner):
    """A member with a loan to call off and a balance below zero."""
    user = MembershipFactory(
        community=community, user__email="leaving@example.org", user__profile__display_name="Lena Leaving"
    ).user
    now = timezone.now()
    tool = ToolFactory(owner=owner, community=community, title="Hedge trimmer")
    tools.reservation_request(
        tool=tool, borrower=user, starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=3)
    )
    gift_send(
        sender=user,
        recipient=owner,
        community=community,
        currency="HOUR",
        amount=Decimal("2"),
        memo="Thanks",
        idempotency_key="t",
    )
    return user


def test_the_delete_pages_fit_a_phone_and_axe_finds_nothing_serious(browser, live_server, leaving):
    context = signed_in(browser, live_server, leaving, PHONE)
    page = context.new_page()
    try:
        page.goto(reverse("account_delete:start"))
        assert overflow(page) <= 0
        assert axe_problems(page) == []
        assert page.get_by_text("Your loan of Hedge trimmer").is_visible()

        page.get_by_label("Type DELETE to confirm").fill("DELETE")
        page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Delete my account for good").click()
        assert page.get_by_role("alert").first.is_visible()  # the balance box was not ticked
        assert not Erasure.objects.exists()

        page.get_by_label("Type DELETE to confirm").fill("DELETE")
        page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
        page.get_by_label("I understand that my balance below zero").check()
        page.get_by_role("button", name="Delete my account for good").click()
        page.get_by_role("heading", name="Your account is deleted").wait_for()
        assert overflow(page) <= 0
        assert axe_problems(page) == []
        assert Erasure.objects.filter(user=leaving).exists()
    finally:
        context.close()
