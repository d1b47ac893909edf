"""Factories for the skill swap, used by tests, the benchmark and seed_demo."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.peers.factories import CommunityFactory, UserFactory

from .models import Offer, Request, Seat, Session, Skill, SkillCategory


class SkillCategoryFactory(DjangoModelFactory):
    class Meta:
        model = SkillCategory
        django_get_or_create = ("slug",)

    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    slug = factory.Sequence(lambda n: f"category-{n}")


class SkillFactory(DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("slug", "community")

    category = factory.SubFactory(SkillCategoryFactory)
    community = None
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    slug = factory.Sequence(lambda n: f"skill-{n}")


class OfferFactory(DjangoModelFactory):
    """An offer written directly (no matching run); tests call the services for that."""

    class Meta:
        model = Offer
        skip_postgeneration_save = True

    member = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)
    title = factory.Sequence(lambda n: f"I can help #{n}")
    travel_km = Decimal("5.0")
    expires_at = factory.LazyFunction(lambda: timezone.now() + Offer.LIFETIME)

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.skills.set(extracted)


class RequestFactory(DjangoModelFactory):
    class Meta:
        model = Request
        skip_postgeneration_save = True

    member = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)
    title = factory.Sequence(lambda n: f"Help wanted #{n}")
    wanted_from = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=1))
    wanted_until = factory.LazyAttribute(lambda o: o.wanted_from + timedelta(days=6))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=10))

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.skills.set(extracted)


class SessionFactory(DjangoModelFactory):
    """A session written directly in any state (tests of later steps)."""

    class Meta:
        model = Session

    helper = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)
    title = "Fix a bike"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    planned_hours = Decimal("2.00")
    place = "The helper's garage"
    proposed_by = factory.SelfAttribute("helper")
    status = Session.Status.SCHEDULED


class SeatFactory(DjangoModelFactory):
    class Meta:
        model = Seat

    session = factory.SubFactory(SessionFactory)
    learner = factory.SubFactory(UserFactory)
