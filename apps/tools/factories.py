"""Factories for tool sharing, used by tests and seed_demo."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.peers.factories import CommunityFactory, UserFactory

from .models import Category, Reservation, Tool


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ToolFactory(DjangoModelFactory):
    class Meta:
        model = Tool

    owner = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)
    category = factory.SubFactory(CategoryFactory)
    title = factory.Sequence(lambda n: f"Cordless drill #{n}")
    description = "18 V, two batteries, a case of bits."
    min_notice_hours = 0


class ReservationFactory(DjangoModelFactory):
    """A reservation written directly (tests that need a state without the journey)."""

    class Meta:
        model = Reservation

    tool = factory.SubFactory(ToolFactory)
    borrower = factory.SubFactory(UserFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(days=1))
    blocked_until = factory.LazyAttribute(lambda o: o.ends_at + timedelta(hours=o.tool.buffer_hours))
