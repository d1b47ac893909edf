"""Factories for reviews and trust scores: used by the tests and the demo seed.

``ReviewFactory`` writes a row directly (no rules) for a registered ``exchange``; its
community, domain, window and subject (the other party) come from the registry.
Real reviews go through ``services.review_create``.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.peers.factories import UserFactory

from . import registry
from .models import REVIEW_WINDOW, Review, TrustScore


class ReviewFactory(DjangoModelFactory):
    class Meta:
        model = Review
        exclude = ("exchange", "exchange_type")

    exchange = None  # required: an instance of a registered exchange model
    exchange_type = factory.LazyAttribute(lambda o: registry.exchange_type_of(o.exchange))
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.exchange))
    object_id = factory.LazyAttribute(lambda o: o.exchange.pk)
    community = factory.LazyAttribute(lambda o: o.exchange_type.community_of(o.exchange))
    domain = factory.LazyAttribute(lambda o: o.exchange_type.domain)
    author = factory.LazyAttribute(lambda o: o.exchange_type.parties_of(o.exchange)[0])
    subject = factory.LazyAttribute(
        lambda o: next(p for p in o.exchange_type.parties_of(o.exchange) if p.pk != o.author.pk)
    )
    rating = 4
    comment = factory.Faker("sentence")
    window_closes_at = factory.LazyAttribute(
        lambda o: (o.exchange_type.completed_at_of(o.exchange) or timezone.now()) + REVIEW_WINDOW
    )
    revealed_at = factory.LazyFunction(timezone.now)


class TrustScoreFactory(DjangoModelFactory):
    class Meta:
        model = TrustScore
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    score = Decimal("4.30")
    rating_count = 12
