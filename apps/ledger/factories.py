"""Factories for the ledger, used by tests and seed_demo."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from apps.peers.factories import CommunityFactory, UserFactory

from .models import Account, Currency


class AccountFactory(DjangoModelFactory):
    """An empty member account with the community's default limit."""

    class Meta:
        model = Account
        django_get_or_create = ("community", "currency", "owner")

    community = factory.SubFactory(CommunityFactory)
    currency = Currency.HOUR
    owner = factory.SubFactory(UserFactory)

    @factory.lazy_attribute
    def limit(self):
        return (
            self.community.default_hour_limit if self.currency == Currency.HOUR else self.community.default_credit_limit
        )
