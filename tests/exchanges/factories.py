"""Factories for the stand-in exchanges, completed yesterday unless told otherwise."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.peers.factories import CommunityFactory, UserFactory

from .models import Exchange, Session


class ExchangeFactory(DjangoModelFactory):
    class Meta:
        model = Exchange

    community = factory.SubFactory(CommunityFactory)
    provider = factory.SubFactory(UserFactory)
    receiver = factory.SubFactory(UserFactory)
    title = "Lent a ladder"
    completed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class SessionFactory(DjangoModelFactory):
    class Meta:
        model = Session

    community = factory.SubFactory(CommunityFactory)
    teacher = factory.SubFactory(UserFactory)
    learner = factory.SubFactory(UserFactory)
    confirmed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
